"""Semantic product search over the live catalog, with filters (colour, size, any other option
such as flavour or storage, price, stock).

Product texts (name, category, description, materials, colours, and the same in each of the
product's translations) are embedded with the same multilingual e5 embedder as the knowledge
base and stored (ProductEmbedding) by the services below; one vector holds every language, so
an English or a Japanese request finds the product. The matrix is cached per process and
rebuilt when any product changes. Stock always comes from the database at answer time, never
from the cache.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation

import numpy as np
from django.db.models import Count, Max, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext

from catalog.models import Product, ProductTranslation, Variant
from catalog.money import money_amount, money_format
from catalog.options import (
    CLOSE,
    FAMILY,
    colour_rank,
    family_name,
    option_value_of,
    pick_variants,
    size_key,
    variants_in_colour,
    variants_in_size,
    variants_with_options,
)
from catalog.selectors import option_values, variant_ids_with_options
from catalog.templatetags.storefront import stock_label  # one wording of stock, storefront and chat
from catalog.translations import language_code, translations_of

from .search_index import RefreshingIndex

# e5's cosines between a request and an unrelated product sit around 0.70-0.75: below this bar a
# product is not worth offering (set on bench/bench_search.py's labelled requests).
MIN_SCORE = 0.76
# How often a process looks for catalog changes (a query; not on every message).
INDEX_CHECK_SECONDS = 30.0


def product_text(product: Product) -> str:
    """What is embedded: the product in its own words, then in each translation's (one line
    per language, name first)."""
    colours = sorted({v.colour for v in product.variants.all() if v.colour})
    parts = [product.name, product.category.name, product.description[:300], product.materials]
    if colours:
        parts.append("Colours: " + ", ".join(colours))
    lines = [". ".join(p for p in parts if p)]
    categories = {t.language: t.name for t in product.category.translations.all()}
    for t in sorted(product.translations.all(), key=lambda t: t.language):
        translated = [t.name or product.name, categories.get(t.language, ""), t.description[:300], t.materials]
        lines.append(". ".join(p for p in translated if p))
    return "\n".join(lines)


def _active_products() -> list[Product]:
    return list(
        Product.objects.filter(is_active=True)
        .select_related("category", "embedding")
        .prefetch_related("variants", "translations", "category__translations")
        .order_by("pk")
    )


def _text_hash(product: Product) -> str:
    """Of the text and of the embedder that made the vector (another embedder's vectors are stale)."""
    from .slm.embedder import artifact_fingerprint

    return hashlib.sha256(f"{artifact_fingerprint()}\n{product_text(product)}".encode()).hexdigest()


def _current_embedding(product: Product) -> np.ndarray | None:
    """The stored vector when it was made from the product's text as it is now, else None."""
    row = getattr(product, "embedding", None)
    if row is None or row.text_hash != _text_hash(product):
        return None
    return np.frombuffer(bytes(row.embedding), dtype=np.float32)


# --- Writes: the stored embeddings ------------------------------------------------------------------


def product_index_refresh() -> int:
    """Embed the active products whose text changed (or that have no embedding yet) and store
    the vectors. Returns how many were embedded."""
    from .models import ProductEmbedding
    from .slm.embedder import get_embedder

    stale = [p for p in _active_products() if _current_embedding(p) is None]
    if stale:
        vectors = get_embedder().passages([product_text(p) for p in stale])
        for product, vector in zip(stale, vectors):
            ProductEmbedding.objects.update_or_create(
                product_id=product.pk,
                defaults={"text_hash": _text_hash(product), "embedding": vector.astype(np.float32).tobytes(), "indexed_at": timezone.now()},
            )
    _index.invalidate()
    return len(stale)


def _catalog_version():
    found = Product.objects.filter(is_active=True).aggregate(n=Count("pk"), last=Max("updated_at"))
    translated = ProductTranslation.objects.aggregate(n=Count("pk"), last=Max("updated_at"))
    return found["n"], found["last"], translated["n"], translated["last"]


_catalog_seen = RefreshingIndex(version=_catalog_version, build=product_index_refresh, check_seconds=INDEX_CHECK_SECONDS)


def product_index_refresh_if_due() -> None:
    """What the chat calls before it searches: ``product_index_refresh`` when the catalog changed
    since this process last looked (it looks every INDEX_CHECK_SECONDS)."""
    _catalog_seen.get()


# --- Reads ---------------------------------------------------------------------------------------


def _index_version():
    from .models import ProductEmbedding

    found = ProductEmbedding.objects.aggregate(n=Count("pk"), last=Max("indexed_at"))
    return _catalog_version(), found["n"], found["last"]


def _index_build():
    """The matrix of the active products' current embeddings (a product without one is left out
    until ``product_index_refresh`` embeds it)."""
    ids, vectors = [], []
    for product in _active_products():
        vector = _current_embedding(product)
        if vector is not None:
            ids.append(product.pk)
            vectors.append(vector)
    return ids, np.vstack(vectors) if vectors else np.zeros((0, 384), dtype=np.float32)


_index = RefreshingIndex(version=_index_version, build=_index_build, check_seconds=INDEX_CHECK_SECONDS)


def reset_caches() -> None:
    """Forget the cached matrix (tests flush the database under it)."""
    _catalog_seen.invalidate()
    _index.invalidate()


def _price(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        return None


def product_search(
    *,
    query: str,
    colour: str | None = None,
    size: str | None = None,
    options=(),
    max_price=None,
    in_stock: bool = False,
    limit: int = 3,
) -> list[Product]:
    """Active products ranked by meaning; filters narrow on live variant data, all of them through
    one and the same variant (``options``: other options as (name, value) pairs, a value written
    any way). Reads only: the embeddings are kept by ``product_index_refresh_if_due``, which the
    chat calls first."""
    ids, matrix = _index.get()
    if not ids:
        return []
    from .slm.embedder import get_embedder

    scores = matrix @ get_embedder().queries([query])[0]
    candidates = [ids[i] for i in np.argsort(-scores) if scores[i] >= MIN_SCORE][:60]
    qs = Product.objects.filter(pk__in=candidates, is_active=True)
    variant_filter = Q()
    if colour:
        variant_filter &= Q(variants__colour__in=option_values("colour", colour))
    if size:
        variant_filter &= Q(variants__size__in=option_values("size", size))
    options = [(n, v) for n, v in options or () if v]
    if options:
        variant_filter &= Q(variants__pk__in=variant_ids_with_options(options))
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




def product_card(
    product: Product, *, colour: str | None = None, size: str | None = None, options=(), language: str | None = None
) -> dict:
    """A chat card; its title in ``language`` (default: the active one) where the product has a
    translation. Its variants: the asked ones where the product has them, else all."""
    variants = pick_variants(product.variants.all(), colour=colour, size=size, options=options)
    if options and not variants:
        variants = pick_variants(product.variants.all(), colour=colour, size=size)
    total = sum(v.stock for v in variants)
    return {
        "kind": "product",
        "title": translations_of(Product, [product.pk], language_code(language)).get(product.pk, {}).get("name", product.name),
        "url": product.get_absolute_url(),
        "image": product.image_url,
        "price": money_amount(product.price),
        "currency": product.currency,
        "price_text": money_format(product.price, product.currency),  # the same string as the texts
        "in_stock": total > 0,
        "stock_label": stock_label(total),
        "variants": [{"label": v.label or "One size", "stock": v.stock} for v in variants][:12],
    }


# --- one product's variants against the shopper's colour and size ---------------------------


def _join(words: list[str]) -> str:
    words = [w for w in words if w]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1] if words else ""


def _sizes_of(variants) -> str:
    return _join(sorted({v.size for v in variants if v.size}, key=size_key))


def _by_colour(variants) -> dict[str, list[Variant]]:
    grouped: dict[str, list[Variant]] = {}
    for v in sorted(variants, key=lambda v: (v.colour.lower(), size_key(v.size))):
        grouped.setdefault(v.colour, []).append(v)
    return grouped


def _in_stock_phrase(colour: str, variants, asked_colour: str | None = None) -> str:
    """"Charcoal (a grey) is in stock in S, M and L", from the rows themselves."""
    family = family_name(asked_colour, colour) if asked_colour and colour else None
    name = colour or "it"
    if family and family not in colour.lower():
        name += f" ({'an' if family[0] in 'aeiou' else 'a'} {family})"
    sizes = _sizes_of(variants)
    return f"{name} is in stock" + (f" in {sizes}" if sizes else "")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def nearest_in_stock(product: Product, asked: list[Variant], *, colour: str | None = None, size: str | None = None) -> list[Variant]:
    """In-stock variants nearest to the asked ones: the same colour in other sizes, else the same size in
    the colour's family, the same size in any colour, the family in any size, else anything in stock."""
    others = [v for v in product.variants.all() if v.stock > 0 and v not in asked]
    asked_colours = {v.colour for v in asked if v.colour} or ({colour} if colour else set())

    def ranked(variants, ranks):
        return [v for v in variants if any(colour_rank(c, v.colour) in ranks for c in asked_colours)]

    sized = variants_in_size(others, size)
    for pool in (ranked(others, CLOSE), ranked(sized, (FAMILY,)), sized, ranked(others, (FAMILY,)), others):
        if pool:
            return pool
    return []


def _nearest(product: Product, asked: list[Variant], colour: str | None, size: str | None) -> str:
    near = nearest_in_stock(product, asked, colour=colour, size=size)
    if not near:
        return "Nothing else of it is in stock right now."
    phrases = [_in_stock_phrase(c, vs, colour) for c, vs in list(_by_colour(near).items())[:4]]
    return _capital(_join(phrases)) + "."


def availability_text(product: Product, *, colour: str | None = None, size: str | None = None, options=()) -> str:
    """Whether the asked variant is in stock, every fact from the variant rows; if it isn't, the nearest one that is."""
    options = [(n, v) for n, v in options or () if v]
    if options:
        return options_availability_text(product, options=options, colour=colour, size=size)
    name = product.name
    variants = list(product.variants.all())
    if not variants:
        return f"The {name} has no options on sale right now."
    sized = variants_in_size(variants, size)
    if size and not sized:
        return f"The {name} doesn't come in size {size}; it comes in {_sizes_of(variants)}. " + _nearest(product, [], colour, None)
    exact = variants_in_colour(sized, colour)
    if colour and not exact:
        offered = _join(sorted({v.colour for v in variants if v.colour}))
        family = [v for v in variants_in_colour(sized, colour, (FAMILY,)) if v.stock > 0]
        head = f"The {name} doesn't come in {colour}"
        if family:
            phrases = [_in_stock_phrase(c, vs, colour) for c, vs in _by_colour(family).items()]
            return f"{head}, but {_join(phrases)}."
        return f"{head}; it comes in {offered}. " + _nearest(product, [], colour, size)
    if len(exact) == 1:
        v = exact[0]
        which = " ".join(x for x in (f"in {v.colour}" if v.colour else "", f"size {v.size}" if v.size else "") if x)
        which = which.replace(" size", ", size") if v.colour and v.size else which
        subject = f"The {name}" + (f" {which}" if which else "")
        if v.stock > 0:
            label = stock_label(v.stock)
            return f"Yes — {subject[0].lower() + subject[1:]} is in stock" + (f" (only {v.stock} left)." if label != "In stock" else ".")
        return f"{subject} is sold out. " + _nearest(product, exact, colour, size)
    lines = []
    for c, vs in _by_colour(exact).items():
        parts = [f"{v.size or 'one size'}: {stock_label(v.stock).lower()}" for v in vs]
        lines.append((f"{c} — " if c else "") + ", ".join(parts))
    text = f"The {name}: " + "; ".join(lines) + "."
    if not any(v.stock > 0 for v in exact):
        text += " " + _nearest(product, exact, colour, size)
    return text


# --- one product's variants against the shopper's other options (flavour, weight, storage ...) ---


def _list(words) -> str:
    """"128 GB and 512 GB"; "Chocolate, Strawberry and Vanilla"."""
    words = [w for w in words if w]
    if len(words) < 2:
        return "".join(words)
    return gettext("%(items)s and %(last)s") % {"items": pgettext("list separator", ", ").join(words[:-1]), "last": words[-1]}


def _stock_count(variant) -> str:
    if variant.stock > 0:
        return ngettext("%(count)d in stock", "%(count)d in stock", variant.stock) % {"count": variant.stock}
    return gettext("sold out")


def _rest_label(variant, asked_values: set[str]) -> str:
    """The variant's label without what the shopper asked for: "1 kg" of "Chocolate / 1 kg"."""
    from catalog.options import normalise_option

    values = [str(v) for _, v in variant.options or () if v] or [p for p in (variant.colour, variant.size) if p]
    rest = [v for v in values if normalise_option(v) not in asked_values]
    return " / ".join(rest)


def other_options(variants) -> list[tuple[str, list[str]]]:
    """The options besides colour and size that the variants have, each with its values in shop
    order: [("Flavour", ["Chocolate", "Vanilla"]), ("Weight", ["1 kg", "2.5 kg"])]. Shopify's
    "Title: Default Title" is no option."""
    from catalog.options import IGNORED_OPTION_NAMES, option_kind

    names: dict[str, set[str]] = {}
    for variant in variants:
        for name, value in variant.options or ():
            key = str(name or "").strip().lower()
            if key and value and option_kind(key) is None and key not in IGNORED_OPTION_NAMES:
                names.setdefault(str(name), set()).add(str(value))
    return [(name, sorted(values, key=size_key)) for name, values in names.items()]


def _offered(variants, option_name: str) -> list[str]:
    """The product's values of one option, in shop order ("128 GB" before "512 GB")."""
    values = {option_value_of(v, option_name) for v in variants} - {""}
    return sorted(values, key=size_key)


def _in_shop_order(variants) -> list:
    """By their options in the shop's order, each value as sizes sort ("1 kg" before "2.5 kg")."""
    return sorted(variants, key=lambda v: [size_key(str(x)) for _, x in v.options or ()] or [size_key(v.label)])


def options_availability_text(product: Product, *, options, colour: str | None = None, size: str | None = None) -> str:
    """The variant answer for other options ("Chocolate", "256 GB"), every fact from the variant
    rows: the matching variants with their stock; where one is sold out, what is in stock; where
    the product has no such option value, the values it does come in."""
    from catalog.options import normalise_option

    variants = list(product.variants.all())
    if not variants:
        return gettext("The %(product)s has no options on sale right now.") % {"product": product.name}
    for option_name, value in options:
        if variants_with_options(variants, [(option_name, value)]):
            continue
        offered = _offered(variants, option_name) or sorted({v.label for v in variants if v.label})
        if not offered:
            return gettext("The %(product)s isn't available in %(asked)s.") % {"product": product.name, "asked": value}
        return gettext("The %(product)s isn't available in %(asked)s; it comes in %(offered)s.") % {
            "product": product.name, "asked": value, "offered": _list(offered)
        }
    with_options = variants_with_options(variants, options)
    if not with_options:  # each value on some variant, never together ("Strawberry" only in 1 kg)
        first_name, first_value = options[0]
        asked = " / ".join(v for _, v in options)
        offered = sorted({v.label for v in variants_with_options(variants, [(first_name, first_value)]) if v.label}, key=size_key)
        return gettext("The %(product)s isn't available in %(asked)s; it comes in %(offered)s.") % {
            "product": product.name, "asked": asked, "offered": _list(offered)
        }
    # the product's own spelling of what was asked ("256 GB" for "256gb")
    asked_words = [option_value_of(with_options[0], n) or v for n, v in options]
    matching = pick_variants(with_options, colour=(colour or "").strip(), size=(size or "").strip())
    if not matching:
        asked = " / ".join(asked_words + [w for w in (colour, size) if w])
        offered = sorted({v.label for v in with_options if v.label}, key=size_key)
        return gettext("The %(product)s isn't available in %(asked)s; it comes in %(offered)s.") % {
            "product": product.name, "asked": asked, "offered": _list(offered)
        }
    asked_values = {normalise_option(w) for w in asked_words}
    if len(matching) == 1:
        variant = matching[0]
        values = {"product": product.name, "variant": variant.label or " / ".join(asked_words), "stock": _stock_count(variant)}
        if variant.stock > 0:
            return gettext("Yes — the %(product)s comes in %(variant)s (%(stock)s).") % values
        text = gettext("The %(product)s in %(variant)s is sold out.") % values
    else:
        listed = [f"{_rest_label(v, asked_values) or v.label} ({_stock_count(v)})" for v in _in_shop_order(matching)]
        text = gettext("The %(product)s comes in %(asked)s: %(variants)s.") % {
            "product": product.name, "asked": " / ".join(asked_words), "variants": _list(listed)
        }
        if any(v.stock > 0 for v in matching):
            return text
    others = _in_shop_order([v for v in variants if v.stock > 0 and v not in matching])
    if not others:
        return text + " " + gettext("Nothing else of it is in stock right now.")
    listed = [f"{v.label} ({_stock_count(v)})" for v in others[:6]]
    return text + " " + gettext("In stock: %(variants)s.") % {"variants": _list(listed)}
