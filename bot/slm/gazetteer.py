"""The catalog as a gazetteer for entity extraction (a read: selector style, no writes)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slm.entities import Gazetteer

SHOP_VOCABULARY = Path(__file__).resolve().parent.parent / "data" / "products.yaml"


def catalog_gazetteer() -> Gazetteer | None:
    """Products, colours and sizes of the live catalog; None when its tables are missing or empty."""
    from django.db import DatabaseError, connection

    from catalog.models import Product, Variant

    try:
        if Product._meta.db_table not in connection.introspection.table_names():
            return None
        products = list(Product.objects.filter(is_active=True).values_list("name", "slug"))
        if not products:
            return None
        colours = sorted(set(Variant.objects.exclude(colour="").values_list("colour", flat=True)))
        sizes = sorted(set(Variant.objects.exclude(size="").values_list("size", flat=True)))
    except DatabaseError:
        return None
    return Gazetteer(products=products, colours=colours, sizes=sizes)


def vocabulary_gazetteer() -> Gazetteer:
    """The shop vocabulary in bot/data/products.yaml, for use without a catalog (tests, demos)."""
    data = yaml.safe_load(SHOP_VOCABULARY.read_text(encoding="utf-8"))
    return Gazetteer(
        products=[(p["name"], p["slug"]) for p in data["products"]],
        colours=list(data["colours"]),
        sizes=[str(s) for s in data["sizes"]],
    )
