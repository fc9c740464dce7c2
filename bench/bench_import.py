"""How long import_catalog takes for a 10,000-variant Shopify export, into a fresh database.

    .venv/bin/python bench/bench_import.py                  # SQLite (a fresh file under var/)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bench_import.py

Generates the file (2,000 products × 5 variants, three option names, image rows, HTML bodies,
taxonomy paths), migrates a fresh database, then times: the first import (everything created),
the product-search re-index that follows it (embedding every product), and a second import of
the same file (nothing to change). --variants N changes the size. On PostgreSQL the database
named in DATABASE_URL is dropped and created again: give it a bench-only name.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.shopify import SHOPIFY_EXPORT_COLUMNS as HEADER  # noqa: E402 — the repo root is on the path first

KINDS = [
    ("Apparel & Accessories > Clothing > Shirts", "Shirt", "Color", ["Blue", "White", "Black", "Green", "Red"]),
    ("Food, Beverages & Tobacco > Food Items > Protein Powder", "Protein", "Flavour", ["Vanilla", "Chocolate", "Strawberry", "Banana", "Plain"]),
    ("Sporting Goods > Yoga Mats", "Yoga Mat", "Thickness", ["3 mm", "4 mm", "5 mm", "6 mm", "8 mm"]),
    ("Home & Garden > Decor > Candles", "Candle", "Scent", ["Fig", "Cedar", "Amber", "Rose", "Linen"]),
]


def shopify_csv(path: Path, variants: int, per_product: int = 5) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for n in range(variants // per_product):
            category, noun, option, values = KINDS[n % len(KINDS)]
            handle = f"{noun.lower().replace(' ', '-')}-{n:05d}"
            for i in range(per_product):
                row = dict.fromkeys(HEADER, "")
                row.update({
                    "Handle": handle, "Option1 Value": values[i % len(values)], "Option2 Value": ["S", "M", "L"][i % 3],
                    "Option3 Value": f"Batch {i // len(values) + 1}", "Variant SKU": f"{handle.upper()}-{i}",
                    "Variant Inventory Qty": str(rng.randint(0, 40)), "Variant Price": f"{rng.randint(5, 120)}.{rng.choice(['00', '50', '90'])}",
                    "Variant Inventory Tracker": "shopify", "Variant Weight Unit": "g",
                })
                if i == 0:
                    row.update({
                        "Title": f"{noun} No. {n}", "Body (HTML)": f"<p>A {noun.lower()} of the bench shop.</p><ul><li>Made well</li><li>Lasts long</li></ul>",
                        "Vendor": "Bench Co.", "Product Category": category, "Type": noun, "Published": "TRUE", "Status": "active",
                        "Option1 Name": option, "Option2 Name": "Size", "Option3 Name": "Batch",
                        "Image Src": f"https://cdn.shopify.com/s/files/{handle}-1.jpg", "Image Position": "1",
                    })
                out.writerow([row[h] for h in HEADER])
            image = dict.fromkeys(HEADER, "")
            image.update({"Handle": handle, "Image Src": f"https://cdn.shopify.com/s/files/{handle}-2.jpg", "Image Position": "2"})
            out.writerow([image[h] for h in HEADER])


def fresh_database() -> None:
    url = os.environ.get("DATABASE_URL")
    if url:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        path = ROOT / "var" / "bench-import.sqlite3"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        os.environ["SQLITE_PATH"] = str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")
    fresh_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from catalog.imports import catalog_file_read, catalog_import, catalog_imported
    from catalog.models import Product, Variant

    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "products_export.csv"
        shopify_csv(path, args.variants)
        size = path.stat().st_size
        # Time the import alone first: the re-index it triggers is timed on its own below.
        reindexed = []
        catalog_imported.connect(lambda **kw: reindexed.append(kw), dispatch_uid="bench", weak=False)
        from bot import signals

        catalog_imported.disconnect(signals.catalog_changed, dispatch_uid="bot.catalog_imported")
        started = time.perf_counter()
        summary = catalog_import(catalog=catalog_file_read(path))
        first = time.perf_counter() - started
        assert Variant.objects.count() == args.variants, Variant.objects.count()
        started = time.perf_counter()
        from bot.tasks import reindex_products

        searchable = reindex_products()
        reindex = time.perf_counter() - started
        started = time.perf_counter()
        again = catalog_import(catalog=catalog_file_read(path))
        second = time.perf_counter() - started
    print(f"database: {connection.vendor}; file: {args.variants} variants, {Product.objects.count()} products, {size / 1e6:.1f} MB")
    print(f"first import (all new): {first:.1f} s ({summary.changes} changes)")
    print(f"product search re-index after it: {reindex:.1f} s ({searchable} products embedded)")
    print(f"second import (unchanged file): {second:.1f} s ({again.changes} changes)")
    print(f"total, as import_catalog runs it (import + re-index): {first + reindex:.1f} s")


if __name__ == "__main__":
    main()
