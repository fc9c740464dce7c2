"""The second shop kept in the repository (catalog/shops/electronics/): files that import as they are."""

import csv
import os
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from catalog.models import Article
from catalog.shopify import SHOPIFY_EXPORT_COLUMNS

SHOP = Path(settings.BASE_DIR) / "catalog" / "shops" / "electronics"
TAXONOMY = Path(settings.SHARED_DIR) / "data" / "product_taxonomy" / "google_product_taxonomy.tsv"

VARIANT_COLUMNS = {
    "Option1 Value", "Option2 Value", "Option3 Value", "Variant SKU", "Variant Grams", "Variant Inventory Tracker",
    "Variant Inventory Qty", "Variant Inventory Policy", "Variant Fulfillment Service", "Variant Price",
    "Variant Compare At Price", "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Variant Image",
    "Variant Weight Unit",
}
IMAGE_COLUMNS = {"Image Src", "Image Position", "Image Alt Text"}


@pytest.fixture(scope="module")
def rows():
    with open(SHOP / "products.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == SHOPIFY_EXPORT_COLUMNS
        return list(reader)


def test_products_csv_has_shopifys_header_and_a_title_on_each_handles_first_row(rows):
    first = {}
    for row in rows:
        assert None not in row, "a row with more cells than the header"
        if row["Handle"] not in first:
            first[row["Handle"]] = row
            assert row["Title"].strip() and row["Option1 Name"] and row["Status"] in {"active", "draft", "archived"}, row["Handle"]
        else:
            # follow-up rows: the next variant, or one more image, and nothing of the product
            filled = {k for k, v in row.items() if v} - {"Handle"}
            assert filled <= VARIANT_COLUMNS or filled <= IMAGE_COLUMNS, (row["Handle"], filled - VARIANT_COLUMNS)
    assert len(first) >= 40


def test_products_csv_variants_are_complete_and_varied(rows):
    variants = [r for r in rows if r["Variant SKU"]]
    assert len(variants) >= 150
    assert len({r["Variant SKU"] for r in variants}) == len(variants)
    assert all(Decimal(r["Variant Price"]) > 0 and r["Option1 Value"] for r in variants)
    assert any(r["Variant Inventory Qty"] == "0" for r in variants)
    assert {r["Status"] for r in rows if r["Title"]} >= {"active", "draft"}
    assert all(r["Image Src"].startswith("https://cdn.example.com/") for r in rows if r["Image Src"])


def test_every_product_category_is_a_taxonomy_path(rows):
    if not TAXONOMY.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must provide the shared data under SHARED_DIR={settings.SHARED_DIR}")
        pytest.skip(f"no product taxonomy under SHARED_DIR={settings.SHARED_DIR}")
    paths = {line.split("\t", 1)[0] for line in TAXONOMY.read_text(encoding="utf-8").splitlines()}
    assert {r["Product Category"] for r in rows if r["Title"]} <= paths


def test_every_help_article_has_front_matter_with_a_title_and_a_known_topic():
    articles = sorted((SHOP / "help").glob("*.md"))
    assert len(articles) >= 15
    for path in articles:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("---\n"), path.name
        front, body = text[4:].split("\n---\n", 1)
        meta = yaml.safe_load(front)
        assert isinstance(meta.get("title"), str) and meta["title"].strip(), path.name
        assert meta.get("topic") in Article.Topic.values, (path.name, meta.get("topic"))
        assert body.strip(), path.name
