"""The catalog as a gazetteer for entity extraction (a read: selector style, no writes)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.search_index import RefreshingIndex
from bot.slm.entities import Gazetteer

SHOP_VOCABULARY = Path(__file__).resolve().parent.parent / "data" / "products.yaml"


def catalog_gazetteer() -> Gazetteer | None:
    """Products, colours, sizes and other options (catalog.selectors.catalog_options) of the live
    catalog; None when its tables are missing or empty."""
    from django.db import DatabaseError, connection

    from catalog.models import Product, Variant
    from catalog.selectors import catalog_options

    try:
        if Product._meta.db_table not in connection.introspection.table_names():
            return None
        products = list(Product.objects.filter(is_active=True).values_list("name", "slug"))
        if not products:
            return None
        colours = sorted(set(Variant.objects.exclude(colour="").values_list("colour", flat=True)))
        sizes = sorted(set(Variant.objects.exclude(size="").values_list("size", flat=True)))
        options = catalog_options()
    except DatabaseError:
        return None
    return Gazetteer(products=products, colours=colours, sizes=sizes, options=options)


# The cached gazetteer follows product changes and variants added or removed within CHECK_SECONDS;
# other edits of colours, sizes and options (variants carry no change time) within MAX_AGE_SECONDS.
CHECK_SECONDS = 30.0
MAX_AGE_SECONDS = 300.0


def _catalog_version():
    from django.db import DatabaseError
    from django.db.models import Count, Max

    from catalog.models import Product, Variant

    try:
        found = Product.objects.filter(is_active=True).aggregate(n=Count("pk"), last=Max("updated_at"))
        variants = Variant.objects.aggregate(n=Count("pk"), last=Max("pk"))
    except DatabaseError:  # no tables yet: catalog_gazetteer says None
        return None
    return found["n"], found["last"], variants["n"], variants["last"]


_cached = RefreshingIndex(version=_catalog_version, build=catalog_gazetteer, check_seconds=CHECK_SECONDS, max_age_seconds=MAX_AGE_SECONDS)


def cached_catalog_gazetteer() -> Gazetteer | None:
    """``catalog_gazetteer``, built once and kept per process until the catalog changes."""
    return _cached.get()


def reset_cached_gazetteer() -> None:
    _cached.invalidate()


def vocabulary_gazetteer() -> Gazetteer:
    """The shop vocabulary in bot/data/products.yaml, for use without a catalog (tests, demos)."""
    data = yaml.safe_load(SHOP_VOCABULARY.read_text(encoding="utf-8"))
    return Gazetteer(
        products=[(p["name"], p["slug"]) for p in data["products"]],
        colours=list(data["colours"]),
        sizes=[str(s) for s in data["sizes"]],
    )
