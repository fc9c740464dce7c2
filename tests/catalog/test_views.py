"""The storefront pages: home, category, product, search and the help centre."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Article, ShopPolicy
from catalog.templatetags.storefront import money, paragraphs, stock_label
from tests.factories import ArticleFactory, CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

WIDGET_MOUNT = '<div id="chat-widget" data-ws-path="/ws/chat/"'  # product pages add data-product


@pytest.fixture
def knitwear():
    return CategoryFactory(name="Knitwear", slug="knitwear", description="Merino and cashmere knits.")


@pytest.fixture
def jumper(knitwear):
    """Navy in three sizes: plenty of M, two of L, none of XL."""
    product = ProductFactory(
        category=knitwear,
        name="Merino Crew-Neck Jumper",
        slug="merino-crew-neck-jumper",
        price=Decimal("89.00"),
        materials="100% extra-fine merino wool",
        attributes={"fit": "Regular fit", "fill power": "none"},
        description="A fine-gauge merino jumper.",
    )
    VariantFactory(product=product, sku="KNI-NAVY-M", colour="Navy", size="M", stock=12)
    VariantFactory(product=product, sku="KNI-NAVY-L", colour="Navy", size="L", stock=2)
    VariantFactory(product=product, sku="KNI-NAVY-XL", colour="Navy", size="XL", stock=0)
    return product


@pytest.fixture
def retired(knitwear):
    product = ProductFactory(category=knitwear, name="Discontinued Cardigan", slug="discontinued-cardigan", is_active=False)
    VariantFactory(product=product, sku="KNI-OLD-M", colour="Grey", size="M", stock=5)
    return product


@pytest.fixture
def article():
    return ArticleFactory(
        title="How do I return an item?",
        slug="how-to-start-a-return",
        topic=Article.Topic.RETURNS,
        tags="returns, RMA",
        body="Start your return within 30 days.\n\n- Germany: free label.\n- EU: free label.\n\nRefunds follow within 5 working days.",
    )


def html(response) -> str:
    return response.content.decode()


# --- Every page ---------------------------------------------------------------------------------


@pytest.fixture
def every_page(jumper, article):
    return [
        reverse("catalog:home"),
        reverse("catalog:category", kwargs={"slug": "knitwear"}),
        reverse("catalog:product", kwargs={"slug": jumper.slug}),
        reverse("catalog:search") + "?q=merino",
        reverse("catalog:articles"),
        reverse("catalog:article", kwargs={"slug": article.slug}),
    ]


def test_every_page_renders_with_landmarks_the_shop_name_and_the_chat_widget(client, every_page):
    for url in every_page:
        response = client.get(url)
        assert response.status_code == 200, url
        page = html(response)
        assert page.count(WIDGET_MOUNT) == 1, url
        assert "chat/widget.css" in page and "chat/widget.js" in page, url
        assert "Northwind &amp; Co." in page, url
        for landmark in ("<header", "<main", "<footer", 'aria-label="Categories"', 'class="skip-link" href="#main"'):
            assert landmark in page, (url, landmark)
        # Every image says what it shows, or is marked decorative with an empty alt.
        for img in re.findall(r"<img\b[^>]*>", page):
            assert re.search(r'\balt="[^"]*"', img), (url, img)


def test_the_not_found_page_is_the_shops_own_and_keeps_the_widget(client, settings, knitwear):
    settings.DEBUG = False
    response = client.get("/c/no-such-category/")
    assert response.status_code == 404
    assert "We couldn't find that page" in html(response)
    assert WIDGET_MOUNT in html(response)


def test_category_navigation_lists_only_categories_with_active_products(client, jumper):
    CategoryFactory(name="Empty Shelf", slug="empty-shelf")
    page = html(client.get(reverse("catalog:home")))
    nav = page.split('aria-label="Categories"', 1)[1].split("</nav>", 1)[0]
    assert "Knitwear" in nav
    assert "Empty Shelf" not in nav


def test_a_page_view_never_creates_the_policy_row(client, jumper):
    assert not ShopPolicy.objects.exists()
    assert client.get(reverse("catalog:product", kwargs={"slug": jumper.slug})).status_code == 200
    assert client.get(reverse("catalog:home")).status_code == 200
    assert not ShopPolicy.objects.exists()


# --- Home and categories ------------------------------------------------------------------------


def test_home_shows_categories_and_new_products_with_prices(client, jumper, retired):
    page = html(client.get(reverse("catalog:home")))
    assert reverse("catalog:category", kwargs={"slug": "knitwear"}) in page
    assert "Merino Crew-Neck Jumper" in page
    assert "€89.00" in page
    assert "Discontinued Cardigan" not in page


def test_home_without_a_catalog_explains_how_to_seed(client):
    page = html(client.get(reverse("catalog:home")))
    assert "seed_demo" in page


def test_category_lists_its_active_products_only(client, jumper, retired):
    other = ProductFactory(name="Oxford Shirt", slug="oxford-shirt")
    VariantFactory(product=other, stock=3)
    response = client.get(reverse("catalog:category", kwargs={"slug": "knitwear"}))
    page = html(response)
    assert response.status_code == 200
    assert "<h1>Knitwear</h1>" in page
    assert "Merino and cashmere knits." in page
    assert jumper.get_absolute_url() in page
    assert "Discontinued Cardigan" not in page
    assert "Oxford Shirt" not in page
    assert "1 product</p>" in page


def test_category_marks_sold_out_products_and_sorts_by_price(client, knitwear, jumper):
    cheap = ProductFactory(category=knitwear, name="Lambswool Beanie", slug="lambswool-beanie", price=Decimal("29.00"))
    VariantFactory(product=cheap, stock=0, colour="Grey", size="One size")
    url = reverse("catalog:category", kwargs={"slug": "knitwear"})

    page = html(client.get(url + "?sort=price-asc"))
    assert page.index("Lambswool Beanie") < page.index("Merino Crew-Neck Jumper")
    cards = {card.split("</h3>")[0].rsplit(">", 1)[1]: card for card in page.split('<article class="product-card">')[1:]}
    assert "Sold out" in cards["Lambswool Beanie"]
    assert "Sold out" not in cards["Merino Crew-Neck Jumper"]
    assert "Almost gone" not in cards["Merino Crew-Neck Jumper"]
    page = html(client.get(url + "?sort=price-desc"))
    assert page.index("Merino Crew-Neck Jumper") < page.index("Lambswool Beanie")
    # Featured puts what can be bought first; a made-up sort falls back to it.
    page = html(client.get(url + "?sort=%3Cscript%3E&page=abc"))
    assert page.index("Merino Crew-Neck Jumper") < page.index("Lambswool Beanie")


def test_unknown_category_is_404(client):
    assert client.get(reverse("catalog:category", kwargs={"slug": "no-such-thing"})).status_code == 404


# --- Product page -------------------------------------------------------------------------------


def test_product_page_shows_price_materials_attributes_and_stock_per_variant(client, jumper):
    page = html(client.get(jumper.get_absolute_url()))
    assert "<h1" in page and "Merino Crew-Neck Jumper" in page
    assert "€89.00" in page
    assert "100% extra-fine merino wool" in page
    assert "Regular fit" in page and "Fill power" in page
    rows = {
        sku: row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for sku in ("KNI-NAVY-M", "KNI-NAVY-L", "KNI-NAVY-XL")
        if sku in row
    }
    assert "In stock" in rows["KNI-NAVY-M"] and ">M<" in rows["KNI-NAVY-M"]
    assert "Only 2 left" in rows["KNI-NAVY-L"]
    assert "Sold out" in rows["KNI-NAVY-XL"]
    assert "Navy" in page


def test_product_page_shows_variant_prices_when_they_differ(client, knitwear):
    product = ProductFactory(category=knitwear, name="Alpaca Throw", slug="alpaca-throw", price=Decimal("99.00"))
    VariantFactory(product=product, sku="THROW-S", colour="Cream", size="130 × 170 cm", stock=4)
    VariantFactory(product=product, sku="THROW-L", colour="Cream", size="150 × 200 cm", stock=4, price_override=Decimal("129.00"))
    page = html(client.get(product.get_absolute_url()))
    assert "From €99.00" in page
    assert "€129.00" in page


def test_product_sold_out_everywhere_says_so(client, knitwear):
    product = ProductFactory(category=knitwear, name="Mohair Cardigan", slug="mohair-cardigan")
    VariantFactory(product=product, sku="MOH-S", colour="Lilac", size="S", stock=0)
    VariantFactory(product=product, sku="MOH-M", colour="Lilac", size="M", stock=0)
    page = html(client.get(product.get_absolute_url()))
    assert "Sold out in every size" in page
    assert "In stock" not in page


def test_non_returnable_products_say_so_and_others_do_not(client, jumper):
    swimwear = CategoryFactory(name="Underwear & Swimwear", slug="underwear-swimwear")
    shorts = ProductFactory(category=swimwear, name="Swim Shorts", slug="swim-shorts")
    VariantFactory(product=shorts, stock=5)
    policy = ShopPolicy.current()
    policy.non_returnable_categories.set([swimwear])

    assert "This item can't be returned" in html(client.get(shorts.get_absolute_url()))
    page = html(client.get(jumper.get_absolute_url()))
    assert "This item can't be returned" not in page
    assert "Return it within 30 days of delivery" in page


def test_inactive_and_unknown_products_are_404(client, retired):
    assert client.get(retired.get_absolute_url()).status_code == 404
    assert client.get(reverse("catalog:product", kwargs={"slug": "no-such-product"})).status_code == 404


# --- Search ---------------------------------------------------------------------------------------


def test_search_finds_active_products_by_word(client, jumper, retired):
    page = html(client.get(reverse("catalog:search"), {"q": "merino"}))
    assert "Merino Crew-Neck Jumper" in page
    page = html(client.get(reverse("catalog:search"), {"q": "cardigan"}))
    assert "Discontinued Cardigan" not in page
    assert "Nothing matches" in page


def test_search_without_a_query_or_with_an_absurd_one_still_renders(client, jumper):
    assert client.get(reverse("catalog:search")).status_code == 200
    response = client.get(reverse("catalog:search"), {"q": "x" * 5000 + "<b>"})
    assert response.status_code == 200
    assert "<b>" not in html(response).split("<main", 1)[1]


@pytest.mark.parametrize("raw", ["%00", "merino%00", "%ED%B3%BF", "%FF%FE", "%C0%80", "%00%00%00" * 40])
def test_search_and_help_answer_any_query_bytes_without_a_server_error(client, jumper, article, raw):
    # PostgreSQL refuses NUL in text; these must give a page (the CI PostgreSQL pass runs this too).
    for name in ("catalog:search", "catalog:articles"):
        response = client.get(f"{reverse(name)}?q={raw}")
        assert response.status_code in (200, 400), (name, raw, response.status_code)
    if raw == "merino%00":
        assert "Merino Crew-Neck Jumper" in html(client.get(f"{reverse('catalog:search')}?q={raw}"))


# --- Help centre --------------------------------------------------------------------------------


def test_help_centre_groups_published_articles_by_topic(client, article):
    ArticleFactory(title="Paying with Klarna", slug="klarna", topic=Article.Topic.PAYMENTS)
    ArticleFactory(title="Secret draft", slug="secret-draft", is_published=False)
    page = html(client.get(reverse("catalog:articles")))
    assert "Returns and refunds" in page and "Payments and invoices" in page
    assert article.get_absolute_url() in page
    assert "Secret draft" not in page


def test_help_centre_counts_one_article_in_the_singular_and_never_doubles_the_shop_names_full_stop(client, article, settings):
    settings.SHOP_NAME = "Northwind & Co."
    page = html(client.get(reverse("catalog:articles"), {"q": "return"}))
    assert "1 article about" in page and "1 articles" not in page
    assert "Co.." not in page


def test_help_centre_search_filters_articles(client, article):
    ArticleFactory(title="Paying with Klarna", slug="klarna", topic=Article.Topic.PAYMENTS, body="Klarna invoice.", tags="")
    page = html(client.get(reverse("catalog:articles"), {"q": "klarna"}))
    assert "Paying with Klarna" in page
    assert "How do I return an item?" not in page
    page = html(client.get(reverse("catalog:articles"), {"q": "nothing-like-this"}))
    assert "No article matches" in page


def test_article_page_renders_paragraphs_and_lists(client, article):
    page = html(client.get(article.get_absolute_url()))
    assert "<h1>How do I return an item?</h1>" in page
    assert "<p>Start your return within 30 days.</p>" in page
    assert "<li>Germany: free label.</li>" in page
    assert "<p>Refunds follow within 5 working days.</p>" in page


def test_unpublished_and_unknown_articles_are_404(client):
    draft = ArticleFactory(slug="draft", is_published=False)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(reverse("catalog:article", kwargs={"slug": "nope"})).status_code == 404


# --- Filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stock", "label"),
    [(0, "Sold out"), (-1, "Sold out"), (1, "Only 1 left"), (2, "Only 2 left"), (3, "Only 3 left"), (4, "In stock"), (250, "In stock")],
)
def test_stock_label(stock, label):
    assert stock_label(stock) == label


def test_money_and_paragraphs_filters():
    assert money(Decimal("1234.5")) == "€1,234.50"
    assert money("9.9", "GBP") == "£9.90"
    # A currency without a symbol in the locale (en-us) is written with its code, as CLDR says.
    assert money(5, "SEK") == "SEK5.00"
    assert money("not a number") == ""
    assert paragraphs("One.\nStill one.\n\n- a\n- b\n\n\n") == [
        {"kind": "paragraph", "text": "One. Still one."},
        {"kind": "list", "items": ["a", "b"]},
    ]
