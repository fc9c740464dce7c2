"""Fit the assistant to the shop's current catalogue and help centre (bot.adaptation), per language."""

import time

from django.core.management.base import BaseCommand, CommandError


def _summary(language: str, section: dict, source: bool) -> str:
    """What one language's vocabulary holds, in a line."""
    if source:
        return (
            f"{language}: {section['products']} product(s), {len(section['kinds'])} product kind(s) from "
            f"{len(section['categories'])} category(ies) and their ancestors, {len(section['title_words'])} title word(s), "
            f"{len(section['vendors'])} vendor(s), {len(section['options'])} option(s), "
            f"{len(section['articles'])} help article(s)"
        )
    if not (section["products"] or section["categories"] or section["articles"]):
        return f"{language}: no translations (its messages are matched on the original names and vendors only)"
    return (
        f"{language}: {section['products']} product(s) translated, {len(section['kinds'])} product kind(s) from "
        f"{len(section['categories'])} translated category(ies), {len(section['names'])} product name(s) and "
        f"{len(section['title_words'])} name part(s), {len(section['articles'])} help article(s) translated"
    )


class Command(BaseCommand):
    help = (
        "Build the catalogue vocabulary (product kinds, categories and their ancestors, title words, vendors, "
        "options, help-article subjects) of each shop language (settings.SHOP_LANGUAGES; translations for all but "
        "the catalogue's own) into settings.ASSISTANT_DATA_DIR; the chat picks it up without a restart."
    )

    def handle(self, *args, **options):
        from django.db import DatabaseError

        from bot.adaptation import SOURCE_LANGUAGE, build_vocabulary, write_vocabulary

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
        lines = [_summary(language, section, language == SOURCE_LANGUAGE) for language, section in vocabulary["languages"].items()]
        self.stdout.write("Catalogue vocabulary: " + ";\n  ".join(lines) + ".")
        state = "written" if changed else "unchanged"
        self.stdout.write(f"{path}: {state} ({time.perf_counter() - started:.1f} s). The chat re-reads it within seconds.")
