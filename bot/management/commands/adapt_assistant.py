"""Fit the assistant to the shop's current catalogue and help centre (bot.adaptation)."""

import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Build the catalogue vocabulary (product kinds, categories and their ancestors, title words, vendors, "
        "options, help-article subjects) into settings.ASSISTANT_DATA_DIR; the chat picks it up without a restart."
    )

    def handle(self, *args, **options):
        from django.db import DatabaseError

        from bot.adaptation import build_vocabulary, write_vocabulary

        started = time.perf_counter()
        try:
            vocabulary = build_vocabulary()
        except DatabaseError as exc:
            raise CommandError(f"cannot read the catalogue (run migrate first?): {exc}") from exc
        if not vocabulary["products"]:
            self.stdout.write(self.style.WARNING("The catalogue has no active products: only help articles are learnt."))
        try:
            path, changed = write_vocabulary(vocabulary)
        except OSError as exc:
            raise CommandError(f"cannot write the assistant data (ASSISTANT_DATA_DIR): {exc}") from exc
        self.stdout.write(
            f"Catalogue vocabulary: {vocabulary['products']} product(s), {len(vocabulary['kinds'])} product kind(s) from "
            f"{len(vocabulary['categories'])} category(ies) and their ancestors, {len(vocabulary['title_words'])} title word(s), "
            f"{len(vocabulary['vendors'])} vendor(s), {len(vocabulary['options'])} option(s), "
            f"{len(vocabulary['articles'])} help article(s)."
        )
        state = "written" if changed else "unchanged"
        self.stdout.write(f"{path}: {state} ({time.perf_counter() - started:.1f} s). The chat re-reads it within seconds.")
