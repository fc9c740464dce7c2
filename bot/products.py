"""Semantic product search over the live catalog, with filters (colour, size, price, stock).

Product texts (name, category, description, materials, colours) are embedded with the same
MiniLM embedder as the knowledge base; the matrix is cached per process and rebuilt when any
product changes. Stock always comes from the database at answer time, never from the cache.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation

import numpy as np
from django.db.models import Count, Max, Prefetch, Q
from django.utils import timezone

from catalog.models import Product, Variant
from catalog.money import money_format
from catalog.templatetags.storefront import stock_label  # one wording of stock, storefront and chat

from .search_index import RefreshingIndex

MIN_SCORE = 0.25
INDEX_CHECK_SECONDS = 30.0


def product_text(product: Product) -> str:
    colours = sorted({v.colour for v in product.variants.all() if v.colour})
    parts = [product.name, product.category.name, product.description[:300], product.materials]
    if colours:
        parts.append("Colours: " + ", ".join(colours))
    return ". ".join(p for p in parts if p)


def _load_or_embed():
    """Stored embeddings of active products; products whose text changed are embedded again."""
    from .models import ProductEmbedding
    from .slm.embedder import get_embedder

    products = list(
        Product.objects.filter(is_active=True)
        .select_related("category", "embedding")
        .prefetch_related("variants")
        .order_by("pk")
    )
    if not products:
        return [], np.zeros((0, 384), dtype=np.float32)
    texts = {p.pk: product_text(p) for p in products}
    hashes = {pk: hashlib.sha256(t.encode()).hexdigest() for pk, t in texts.items()}
    stored = {}
    for p in products:
        row = getattr(p, "embedding", None)
        if row is not None and row.text_hash == hashes[p.pk]:
            stored[p.pk] = np.frombuffer(bytes(row.embedding), dtype=np.float32)
    stale = [p.pk for p in products if p.pk not in stored]
    if stale:
        vectors = get_embedder().embed([texts[pk] for pk in stale])
        for pk, vector in zip(stale, vectors):
            stored[pk] = vector.astype(np.float32)
            ProductEmbedding.objects.update_or_create(
                product_id=pk, defaults={"text_hash": hashes[pk], "embedding": stored[pk].tobytes(), "indexed_at": timezone.now()}
            )
    ids = [p.pk for p in products]
    return ids, np.vstack([stored[pk] for pk in ids])


def _catalog_version():
    found = Product.objects.filter(is_active=True).aggregate(n=Count("pk"), last=Max("updated_at"))
    return found["n"], found["last"]


_index = RefreshingIndex(version=_catalog_version, build=_load_or_embed, check_seconds=INDEX_CHECK_SECONDS)


def reset_caches() -> None:
    """Forget the cached matrix (tests flush the database under it)."""
    _index.invalidate()


def _price(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        return None


def product_search(
    *, query: str, colour: str | None = None, size: str | None = None, max_price=None, in_stock: bool = False, limit: int = 3
) -> list[Product]:
    """Active products ranked by meaning; filters narrow on live variant data."""
    ids, matrix = _index.get()
    if not ids:
        return []
    from .slm.embedder import get_embedder

    scores = matrix @ get_embedder().embed([query])[0]
    candidates = [ids[i] for i in np.argsort(-scores) if scores[i] >= MIN_SCORE][:60]
    qs = Product.objects.filter(pk__in=candidates, is_active=True)
    variant_filter = Q()
    if colour:
        variant_filter &= Q(variants__colour__iexact=colour)
    if size:
        variant_filter &= Q(variants__size__iexact=size)
    if in_stock:
        variant_filter &= Q(variants__stock__gt=0)
    if variant_filter:
        qs = qs.filter(variant_filter)
    ceiling = _price(max_price)
    if ceiling is not None:
        qs = qs.filter(price__lte=ceiling)
    # Filter on ids only, then load the few products shown (with their variants): loading all
    # 60 candidates with every variant cost ~20 ms a search.
    matching = set(qs.values_list("pk", flat=True).distinct())
    chosen = [pk for pk in candidates if pk in matching][:limit]
    found = {p.pk: p for p in Product.objects.filter(pk__in=chosen).select_related("category").prefetch_related("variants")}
    return [found[pk] for pk in chosen if pk in found]


def product_get(*, slug: str) -> Product | None:
    return (
        Product.objects.filter(slug=slug, is_active=True)
        .select_related("category")
        .prefetch_related(Prefetch("variants", queryset=Variant.objects.order_by("colour", "size")))
        .first()
    )




def product_card(product: Product, *, colour: str | None = None, size: str | None = None) -> dict:
    variants = [
        v
        for v in product.variants.all()
        if (not colour or v.colour.lower() == colour.lower()) and (not size or v.size.lower() == size.lower())
    ]
    total = sum(v.stock for v in variants)
    return {
        "kind": "product",
        "title": product.name,
        "url": product.get_absolute_url(),
        "image": product.image_url,
        "price": f"{product.price:.2f}",
        "currency": product.currency,
        "price_text": money_format(product.price, product.currency),  # the same string as the texts
        "in_stock": total > 0,
        "stock_label": stock_label(total),
        "variants": [{"label": v.label or "One size", "stock": v.stock} for v in variants][:12],
    }
