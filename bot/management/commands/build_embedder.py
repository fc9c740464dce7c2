"""python manage.py build_embedder: export the base all-MiniLM-L6-v2 to an ONNX embedder artifact."""

from pathlib import Path

from django.core.management.base import BaseCommand

from bot.slm.embedder import DEFAULT_ARTIFACT_DIR
from bot.training import require_training_stack


class Command(BaseCommand):
    help = "Build the sentence-embedder artifact (int8 if cosine vs sentence-transformers >= 0.98, else fp32). Needs the training stack (bin/setup --train); run once."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(DEFAULT_ARTIFACT_DIR))
        parser.add_argument("--base-model", default="")

    def handle(self, *args, **opts):
        require_training_stack()
        from bot.training.embedder_export import build_embedder_artifact

        config = build_embedder_artifact(Path(opts["output"]), base_model=opts["base_model"], log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"wrote {opts['output']} ({config['precision']})"))
