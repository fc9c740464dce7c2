"""manage.py import_catalog PATH: bring products in from Shopify's export or the project's CSV."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError


def progress_line(stream):
    """A progress callback that rewrites one line of ``stream`` (no tqdm: it is not served)."""
    last = [0.0]

    def show(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.2:
            return
        last[0] = now
        width = 30
        filled = width * done // max(total, 1)
        stream.write(f"\r{stage:<14} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


class Command(BaseCommand):
    help = (
        "Create or update products and variants from a CSV file: Shopify's product export, or the "
        "project's own format (see the README, 'Bring your shop'). The whole file is checked first; "
        "with any error nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report what would change; write nothing")
        parser.add_argument("--progress", action="store_true", help="show a progress line on stderr even when it is not a terminal")

    def handle(self, *args, path, dry_run, progress, **options):
        from catalog.imports import CatalogFileInvalid, catalog_file_read, catalog_import

        show = progress_line(sys.stderr) if progress or sys.stderr.isatty() else None
        started = time.perf_counter()
        try:
            catalog = catalog_file_read(path, progress=show)
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except CatalogFileInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"{path}: {problem}")
            raise CommandError(f"{len(exc.problems)} problem(s) in {path}; nothing was imported.") from None
        summary = catalog_import(catalog=catalog, dry_run=dry_run, progress=show)
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{path} ({catalog.format} format, {catalog.rows} rows): "
            f"products {summary.products_created} created, {summary.products_updated} updated, "
            f"{summary.products_unchanged} unchanged; variants {summary.variants_created} created, "
            f"{summary.variants_updated} updated, {summary.variants_unchanged} unchanged; "
            f"{summary.categories_created} categories created."
        )
        if summary.variants_not_in_file:
            self.stdout.write(f"{summary.variants_not_in_file} variant(s) of these products are not in the file and were left as they are.")
        self.stdout.write(
            f"{summary.changes} change(s) {verb} made{' (dry run: nothing written)' if dry_run else ''} "
            f"in {time.perf_counter() - started:.1f} s."
        )
