"""The storefront: home, categories, products, search and the help centre (server-rendered).

These pages only read, except the newsletter's signed links, which call a service on POST.
The queries here are the page-shaped ones (cards with their price range and stock); the shop
rules and the chat's reads live in catalog/selectors.py, the help centre's in catalog/help.py.
"""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import help, newsletter, selectors, services
from .translations import localize
from .models import Article, Category, Product, ShippingMethod, ShopPolicy, Variant
from .templatetags.storefront import stock_level

PAGE_SIZE = 24
SEARCH_LIMIT = 48
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
SORTS = {
    "featured": (gettext_lazy("Featured"), None),
    "price-asc": (gettext_lazy("Price, low to high"), lambda p: (p.card_price, p.name)),
    "price-desc": (gettext_lazy("Price, high to low"), lambda p: (-p.card_price, p.name)),
    "new": (gettext_lazy("Newest"), lambda p: (-p.created_at.timestamp(), p.name)),
}


def _with_variants(products):
    return products.select_related("category").prefetch_related(
        Prefetch("variants", queryset=Variant.objects.order_by("pk"))
    )


def _as_cards(products) -> list[Product]:
    """Adds what a product card shows: the lowest price, whether prices vary, the stock level."""
    cards = []
    for product in products:
        variants = list(product.variants.all())
        prices = {v.price for v in variants} or {product.price}
        product.card_price = min(prices)
        product.card_price_varies = len(prices) > 1
        product.card_stock = sum(v.stock for v in variants)
        product.card_stock_level = stock_level(product.card_stock) if variants else "out"
        cards.append(product)
    return cards


def _policy() -> ShopPolicy | None:
    # A page view should never write: no get_or_create here.
    return ShopPolicy.objects.filter(pk=1).prefetch_related("non_returnable_categories").first()


def home(request):
    categories = (
        Category.objects.filter(parent__isnull=True)
        .annotate(product_count=Count("products", filter=Q(products__is_active=True)))
        .filter(product_count__gt=0)
        .order_by("pk")
    )
    new_in = localize(_as_cards(_with_variants(Product.objects.filter(is_active=True)).order_by("-created_at", "name")[:8]))
    featured_articles = localize(help.articles_featured())
    categories = localize(categories)
    return render(
        request,
        "catalog/home.html",
        {"categories": categories, "products": new_in, "featured_articles": featured_articles, "policy": _policy()},
    )


def category_detail(request, slug):
    category = localize([get_object_or_404(Category, slug=slug)])[0]
    products = localize(_as_cards(
        _with_variants(
            Product.objects.filter(Q(category=category) | Q(category__parent=category), is_active=True).order_by("name")
        )
    ))
    sort = request.GET.get("sort", "featured")
    if sort not in SORTS:
        sort = "featured"
    key = SORTS[sort][1]
    if key is not None:
        products.sort(key=key)
    else:
        # Featured: what can be bought first, then by name.
        products.sort(key=lambda p: (p.card_stock_level == "out", p.name))
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/category.html",
        {
            "category": category,
            "products": page.object_list,
            "page": page,
            "product_count": len(products),
            "sort": sort,
            "sorts": [(value, label) for value, (label, _) in SORTS.items()],
            "active_category": category.slug,
        },
    )


def product_detail(request, slug):
    product = localize([get_object_or_404(_with_variants(Product.objects.all()), slug=slug, is_active=True)])[0]
    variants = list(product.variants.all())
    # One table body per colour: the sizes of a colour sit together.
    colours: dict[str, list[Variant]] = {}
    # Options other than colour and size (flavour, weight, …): a column each, in the shop's order.
    option_names = list(dict.fromkeys(name for v in variants for name, _ in v.other_options))
    for variant in variants:
        variant.stock_level = stock_level(variant.stock)
        variant.option_cells = [dict(variant.other_options).get(name, "") for name in option_names]
        colours.setdefault(variant.colour, []).append(variant)
    prices = {v.price for v in variants} or {product.price}
    policy = _policy()
    non_returnable = bool(
        policy and any(c.pk == product.category_id for c in policy.non_returnable_categories.all())
    )
    related = localize(_as_cards(
        _with_variants(Product.objects.filter(category=product.category, is_active=True).exclude(pk=product.pk)).order_by(
            "-created_at"
        )[:4]
    ))
    return render(
        request,
        "catalog/product.html",
        {
            "product": product,
            "variants": variants,
            "colour_groups": list(colours.items()),
            "option_names": option_names,
            "has_colours": any(v.colour for v in variants),
            "has_sizes": any(v.size for v in variants),
            "size_count": len({v.size for v in variants if v.size}),
            # Gift cards come in amounts, not sizes.
            "size_word": "value" if variants and all(v.size[:1] in "€$£" and v.size for v in variants) else "size",
            "prices_vary": len(prices) > 1,
            "min_price": min(prices),
            "total_stock": sum(v.stock for v in variants),
            "non_returnable": non_returnable,
            "policy": policy,
            "shipping_methods": ShippingMethod.objects.filter(is_active=True).order_by("price", "name"),
            "related": related,
            "active_category": product.category.slug,
        },
    )


def _query(request) -> str:
    """The ?q= search words, without the characters no database here stores (NUL, lone
    surrogates; bot.text says the same for chat text): any bytes give a page, never a 500."""
    return _UNSTORABLE.sub("", request.GET.get("q", "")).strip()[:100]


def search(request):
    query = _query(request)
    products = []
    if query:
        found = selectors.product_filter(query=query, limit=SEARCH_LIMIT)
        products = localize(_as_cards(_with_variants(Product.objects.filter(pk__in=[p.pk for p in found])).order_by("name")))
    return render(request, "catalog/search.html", {"query": query, "products": products, "limit": SEARCH_LIMIT})


def article_list(request):
    query = _query(request)
    topics = help.articles_by_topic(query=query)
    localize([article for topic in topics for article in topic["articles"]])
    return render(
        request,
        "catalog/article_list.html",
        {"topics": topics, "query": query, "article_count": sum(len(t["articles"]) for t in topics)},
    )


def article_detail(request, slug):
    article = localize([get_object_or_404(Article, slug=slug, is_published=True)])[0]
    related = localize(help.articles_related(article=article))
    return render(request, "catalog/article.html", {"article": article, "related": related})


# --- The newsletter's signed links ------------------------------------------------------------
# GET only shows a button: mail scanners that open links must not (un)subscribe anyone.


def _newsletter_page(request, step: str, *, email: str = "", status: int = 200):
    return render(request, "catalog/newsletter.html", {"step": step, "email": email}, status=status)


def _newsletter_link(request, token: str, purpose: str):
    """A signed newsletter link: GET asks, POST does it; a bad or expired link gets a 400 page."""
    try:
        email = newsletter.email_from_token(token, purpose=purpose)
    except newsletter.LinkExpired:
        return _newsletter_page(request, "expired", status=400)
    except newsletter.LinkInvalid:
        return _newsletter_page(request, "invalid", status=400)
    ask, done, service = {
        "subscribe": ("confirm", "subscribed", services.newsletter_subscribe),
        "unsubscribe": ("unsubscribe", "unsubscribed", services.newsletter_unsubscribe),
    }[purpose]
    if request.method == "POST":
        service(email=email)
        return _newsletter_page(request, done, email=email)
    return _newsletter_page(request, ask, email=email)


@require_http_methods(["GET", "POST"])
def newsletter_confirm(request, token):
    return _newsletter_link(request, token, "subscribe")


@csrf_exempt  # RFC 8058 one-click: the mail provider POSTs without our cookie; the signed token is the proof
@require_http_methods(["GET", "POST"])
def newsletter_unsubscribe(request, token):
    return _newsletter_link(request, token, "unsubscribe")
