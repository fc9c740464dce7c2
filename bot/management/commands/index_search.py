"""Embed the knowledge base and the catalog now, so the first shoppers don't wait for it."""

import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Build (or bring up to date) the knowledge-base and product search indexes."

    def handle(self, *args, **options):
        from bot.knowledge import index_missing
        from bot.products import _load_or_embed

        started = time.perf_counter()
        articles = index_missing()
        products, _ = _load_or_embed()
        self.stdout.write(
            f"Indexed {articles} changed article(s); {len(products)} products searchable "
            f"({time.perf_counter() - started:.1f} s)."
        )
