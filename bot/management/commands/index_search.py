"""Embed the knowledge base and the catalog now, so the first shoppers don't wait for it."""

import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Build (or bring up to date) the knowledge-base and product search indexes."

    def handle(self, *args, **options):
        from bot.knowledge import knowledge_index_refresh
        from bot.products import product_index_refresh

        started = time.perf_counter()
        articles = knowledge_index_refresh()
        products = product_index_refresh()
        self.stdout.write(
            f"Indexed {articles} changed article(s) and {products} changed product(s) "
            f"({time.perf_counter() - started:.1f} s)."
        )
