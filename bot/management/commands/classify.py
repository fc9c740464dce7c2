"""python manage.py classify: one JSON line per message, from arguments or stdin (one per line).

Output per message (the public contract):
    {"text", "intent", "confidence", "top": [[intent, p], ...3], "entities": [...], "language"}
Each message is read by the classifier of its language (bot.slm.classifier_language: its script,
else --language, else the shop's first language); --artifact reads all with one artifact.
A line that cannot be classified (empty, not UTF-8, too long) gets {"text", "line", "error"}
instead, the rest go on, and the command exits with status 1 at the end.
"""

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MAX_MESSAGE_CHARS = 100_000
BATCH = 64


class Command(BaseCommand):
    help = "Classify shopper messages (arguments, or stdin one per line) and print one JSON line each."

    def add_arguments(self, parser):
        parser.add_argument("messages", nargs="*", help="messages to classify; without any, read stdin")
        parser.add_argument("--artifact", default="", help="one artifact folder for every message (default: each message's language's)")
        parser.add_argument("--language", default=None, choices=["en", "ja"],
                            help="the language of messages with no letters (digits, emoji); default the shop's first")
        parser.add_argument("--no-catalog", action="store_true", help="do not use the catalog as product gazetteer")

    def handle(self, *args, **opts):
        from bot.slm import classifier_language, get_classifier
        from bot.slm.classifier import ArtifactError, IntentClassifier

        try:
            if opts["artifact"]:
                one = IntentClassifier(Path(opts["artifact"]), threads=settings.SLM_THREADS)
                classifier = lambda text: one  # noqa: E731
            else:
                get_classifier("en")  # a broken shipped artifact is a clear error before any output
                classifier = lambda text: get_classifier(classifier_language(text, opts["language"]))  # noqa: E731
        except ArtifactError as exc:
            raise CommandError(str(exc)) from exc
        gazetteer = None if opts["no_catalog"] else self._gazetteer()

        if opts["messages"]:
            lines = ((n, self._from_argument(text)) for n, text in enumerate(opts["messages"], start=1))
        else:
            lines = ((n, self._from_bytes(raw)) for n, raw in enumerate(sys.stdin.buffer, start=1))

        errors = 0
        pending: list[tuple[int, str]] = []
        for n, (text, error) in lines:
            if error is None and not text.strip():
                error = "empty message"
            if error is None and len(text) > MAX_MESSAGE_CHARS:
                error = f"message too long: {len(text)} characters, the limit is {MAX_MESSAGE_CHARS}"
            if error is not None:
                self._flush(classifier, pending, gazetteer)
                pending = []
                errors += 1
                self._write({"text": text if len(text) <= 200 else text[:200] + "…", "line": n, "error": error})
                continue
            pending.append((n, text))
            if len(pending) >= BATCH or not opts["messages"]:
                # stdin may be interactive: answer each line as it comes
                self._flush(classifier, pending, gazetteer)
                pending = []
        self._flush(classifier, pending, gazetteer)
        if errors:
            self.stderr.write(f"{errors} message(s) could not be classified")
            sys.exit(1)

    def _flush(self, classifier, pending, gazetteer) -> None:
        """Classify `pending` in batches per classifier, and write the results in input order."""
        from bot.slm.classifier import ArtifactError

        groups: dict[int, tuple[object, list[int]]] = {}
        try:
            for k, (_, text) in enumerate(pending):
                chosen = classifier(text)
                groups.setdefault(id(chosen), (chosen, []))[1].append(k)
        except ArtifactError as exc:
            raise CommandError(str(exc)) from exc
        results = [None] * len(pending)
        for chosen, indices in groups.values():
            for k, understanding in zip(indices, chosen.classify_batch([pending[k][1] for k in indices], gazetteer=gazetteer)):
                results[k] = understanding
        for understanding in results:
            self._write(understanding.as_dict())

    def _write(self, data: dict) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False))
        self.stdout.flush()

    @staticmethod
    def _from_bytes(raw: bytes) -> tuple[str, str | None]:
        raw = raw.rstrip(b"\r\n")
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            return raw.decode("utf-8", errors="replace"), f"not valid UTF-8 (byte {exc.start})"

    @staticmethod
    def _from_argument(text: str) -> tuple[str, str | None]:
        try:
            text.encode("utf-8")  # argv bytes that were not UTF-8 arrive as lone surrogates
            return text, None
        except UnicodeEncodeError as exc:
            return text.encode("utf-8", errors="replace").decode("utf-8"), f"not valid UTF-8 (character {exc.start})"

    @staticmethod
    def _gazetteer():
        from bot.slm.gazetteer import catalog_gazetteer

        return catalog_gazetteer()
