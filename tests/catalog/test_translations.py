"""The catalogue and help centre in another language: translation rows, the English fallback,
the storefront's pages, the storefront's searches, and the demo shop's Japanese."""

from decimal import Decimal

import pytest

from catalog import translations
from catalog.help import articles_by_topic
from catalog.models import Article, ArticleTranslation, Product, ProductTranslation
from catalog.selectors import product_filter
from catalog.translations import (
    article_text,
    article_translation_save,
    category_translation_save,
    localize,
    product_translation_save,
)
from tests.factories import ArticleFactory, CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def jumper(db):
    knit = CategoryFactory(name="Knitwear", slug="knitwear")
    product = ProductFactory(
        name="Merino Crew-Neck Jumper", slug="merino-jumper", category=knit, price=Decimal("89.00"),
        description="A fine-gauge merino jumper.", materials="100% merino wool",
    )
    VariantFactory(product=product, colour="Navy", size="M", stock=4, sku="MJ-NV-M")
    category_translation_save(category=knit, language="ja", name="ニット")
    # no materials in Japanese: that field falls back to English
    product_translation_save(product=product, language="ja", name="メリノ クルーネックセーター", description="ハイゲージのメリノセーター。")
    return product


def test_localize_puts_the_languages_text_on_the_instances_with_english_for_blank_fields(jumper):
    product = localize(Product.objects.select_related("category").filter(pk=jumper.pk), "ja")[0]
    assert product.name == "メリノ クルーネックセーター"
    assert product.description == "ハイゲージのメリノセーター。"
    assert product.materials == "100% merino wool"  # not translated: the original
    assert product.category.name == "ニット"  # the category fetched with it, too
    english = localize(Product.objects.filter(pk=jumper.pk), "en")[0]
    assert english.name == "Merino Crew-Neck Jumper"


def test_a_language_without_a_translation_shows_the_original(jumper):
    other = ProductFactory(name="Linen Shirt", slug="linen-shirt")
    found = {p.slug: p.name for p in localize(Product.objects.all(), "ja-JP")}
    assert found == {"merino-jumper": "メリノ クルーネックセーター", "linen-shirt": "Linen Shirt"}
    assert other.name == "Linen Shirt"


def test_a_localized_instance_refuses_to_save_so_the_translation_never_overwrites_the_original(jumper):
    product = localize([Product.objects.get(pk=jumper.pk)], "ja")[0]
    with pytest.raises(ValueError, match="ja"):
        product.save()
    assert Product.objects.get(pk=jumper.pk).name == "Merino Crew-Neck Jumper"


def test_translations_are_only_for_the_shops_other_languages(jumper):
    with pytest.raises(ValueError, match="catalogue's own language"):
        product_translation_save(product=jumper, language="en", name="x")
    with pytest.raises(ValueError, match="not one of the shop's languages"):
        product_translation_save(product=jumper, language="xx", name="x")
    assert ProductTranslation.objects.filter(product=jumper).count() == 1


def test_saving_a_translation_again_updates_the_one_row(jumper):
    product_translation_save(product=jumper, language="ja", name="メリノセーター")
    assert ProductTranslation.objects.get(product=jumper, language="ja").name == "メリノセーター"


def test_the_product_page_shows_the_active_language_and_falls_back_to_english(client, jumper):
    # The storefront's language is the request's (LocaleMiddleware: here Accept-Language).
    page = client.get(jumper.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "メリノ クルーネックセーター" in page and "ハイゲージのメリノセーター。" in page
    assert "100% merino wool" in page and "ニット" in page
    page = client.get(jumper.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Merino Crew-Neck Jumper" in page and "メリノ" not in page


def test_the_help_centre_shows_the_article_in_japanese(client):
    article = ArticleFactory(title="How long will my delivery take?", slug="delivery-times", topic=Article.Topic.SHIPPING,
                             body="Most orders leave within 1-2 working days.")
    untranslated = ArticleFactory(title="Gift cards", slug="gift-cards", topic=Article.Topic.PROMOTIONS, body="Valid for three years.")
    article_translation_save(article=article, language="ja", title="商品はいつ届きますか？", body="ほとんどのご注文は1〜2営業日以内に発送されます。")
    page = client.get(article.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    listing = client.get("/help/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    fallback = client.get(untranslated.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "商品はいつ届きますか？" in page and "1〜2営業日以内" in page
    assert "商品はいつ届きますか？" in listing and "Gift cards" in listing
    assert "Valid for three years." in fallback


def test_the_help_search_and_the_product_search_find_japanese_words(jumper):
    article = ArticleFactory(title="Size guide", slug="size-guide", topic=Article.Topic.PRODUCTS, body="Sizes XS to XL.")
    article_translation_save(article=article, language="ja", title="サイズガイド", body="サイズはXS〜XLです。")
    found = [a.slug for topic in articles_by_topic(query="サイズ") for a in topic["articles"]]
    assert found == ["size-guide"]
    assert [p.slug for p in product_filter(query="メリノ")] == ["merino-jumper"]
    assert [p.slug for p in product_filter(query="ニット")] == ["merino-jumper"]  # by the category's translation
    assert [p.slug for p in product_filter(query="merino")] == ["merino-jumper"]  # English as before


def test_article_text_falls_back_field_by_field():
    article = ArticleFactory(title="Contact us", tags="contact", body="Write to us.")
    ArticleTranslation.objects.create(article=article, language="ja", title="お問い合わせ")
    assert article_text(article, "ja") == {"title": "お問い合わせ", "tags": "contact", "body": "Write to us."}
    assert translations.language_code("ja-JP") == "ja" and translations.language_code("en_US") == "en"
