"""Knowledge-base retrieval: relevant passages with links, nothing when nothing is relevant."""

import pytest

from bot.knowledge import knowledge_index_refresh_if_due, knowledge_search
from bot.models import ArticlePassage
from catalog.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def searched(**kwargs):
    """What the chat does: bring the index up to date (when due), then search."""
    knowledge_index_refresh_if_due()
    return knowledge_search(**kwargs)


def test_finds_the_relevant_passage_with_its_article_link(shop_with_kb):
    results = searched(query="can I pay with paypal?", intent="check_payment_methods")
    assert results[0].title == "Payment methods"
    assert "PayPal" in results[0].text
    assert results[0].url == "/help/payment-methods/"


def test_quotes_the_paragraph_that_answers(shop_with_kb):
    results = searched(query="how long until my refund arrives", intent="check_refund_policy")
    assert results and "5 business days" in results[0].text


@pytest.mark.parametrize("query", ["what is the meaning of life", "tell me a joke", "who won the football yesterday"])
def test_nothing_relevant_returns_nothing(shop_with_kb, query):
    assert searched(query=query) == []


def test_unpublished_articles_are_never_quoted(shop_with_kb, django_capture_on_commit_callbacks):
    article = Article.objects.get(slug="payment-methods")
    searched(query="paypal")  # index it
    with django_capture_on_commit_callbacks(execute=True):
        article.is_published = False
        article.save()
    assert all(r.title != "Payment methods" for r in searched(query="can I pay with paypal?"))
    assert not ArticlePassage.objects.filter(article=article).exists()


def test_an_edited_article_is_reindexed_after_commit(shop_with_kb, django_capture_on_commit_callbacks):
    searched(query="paypal")
    article = Article.objects.get(slug="payment-methods")
    with django_capture_on_commit_callbacks(execute=True):
        article.body = "We only accept bank transfer (SEPA) and cash on pickup in Hamburg."
        article.save()
    passages = list(ArticlePassage.objects.filter(article=article).values_list("text", flat=True))
    assert passages == ["We only accept bank transfer (SEPA) and cash on pickup in Hamburg."]
    assert "SEPA" in searched(query="can I pay by bank transfer?", intent="check_payment_methods")[0].text


def test_a_new_article_becomes_searchable(shop_with_kb):
    ArticleFactory(title="Gift wrapping", slug="gift-wrapping", topic=Article.Topic.ORDERS, tags="gift, wrapping",
                   body="Every order can be gift wrapped in recycled paper for EUR 3.50; choose it at checkout.")
    assert searched(query="can you gift wrap my order?")[0].title == "Gift wrapping"


def test_the_search_only_reads_a_new_article_waits_for_the_index_service(shop_with_kb):
    ArticleFactory(title="Gift wrapping", slug="gift-wrapping", topic=Article.Topic.ORDERS, tags="gift, wrapping",
                   body="Every order can be gift wrapped in recycled paper for EUR 3.50; choose it at checkout.")
    assert knowledge_search(query="can you gift wrap my order?") == []  # nothing indexed yet, and it indexes nothing
    assert not ArticlePassage.objects.exists()


# --- Japanese: one index for both languages, the quote in the conversation's language -------------


@pytest.fixture
def japanese_kb(shop_with_kb):
    from catalog.translations import article_translation_save

    article_translation_save(
        article=Article.objects.get(slug="payment-methods"),
        language="ja",
        title="お支払い方法",
        body="Visa、Mastercard、American Express、PayPal、Apple Pay、Klarnaの後払いがご利用いただけます。\n\n"
        "カードへの請求は、ご注文の発送時に行われます。",
    )
    return shop_with_kb


def test_a_japanese_question_finds_the_article_and_quotes_it_in_japanese(japanese_kb):
    results = searched(query="PayPalで支払えますか？", intent="check_payment_methods", language="ja")
    assert results[0].url == "/help/payment-methods/"
    assert results[0].title == "お支払い方法" and results[0].language == "ja"
    assert "PayPal" in results[0].text and "ご利用いただけます" in results[0].text


def test_the_language_defaults_to_the_active_translation_language(japanese_kb):
    from django.utils import translation

    with translation.override("ja"):
        results = searched(query="どんな支払い方法がありますか", intent="check_payment_methods")
    assert results[0].title == "お支払い方法" and results[0].language == "ja"


def test_an_english_question_is_answered_in_english_as_before(japanese_kb):
    results = searched(query="can I pay with paypal?", intent="check_payment_methods", language="en")
    assert results[0].title == "Payment methods" and results[0].language == "en"
    assert "PayPal" in results[0].text and "ご利用" not in results[0].text


def test_an_article_without_the_language_is_quoted_in_english(japanese_kb):
    results = searched(query="返金はいつ届きますか？", intent="check_refund_policy", language="ja")
    assert results[0].url == "/help/returns-and-refunds/"  # found across languages
    assert results[0].language == "en" and "5 business days" in results[0].text


@pytest.mark.parametrize("query", ["人生の意味とは何ですか", "何か面白い話をして", "昨日のサッカーの試合はどっちが勝った？"])
def test_nothing_relevant_in_japanese_returns_nothing(japanese_kb, query):
    assert searched(query=query, language="ja") == []


def test_a_changed_translation_is_reindexed_after_commit(japanese_kb, django_capture_on_commit_callbacks):
    from catalog.translations import article_translation_save

    searched(query="PayPal")
    with django_capture_on_commit_callbacks(execute=True):
        article_translation_save(
            article=Article.objects.get(slug="payment-methods"), language="ja", title="お支払い方法",
            body="銀行振込（SEPA）と、ハンブルクでの店頭受け取り時の現金払いのみ承っております。",
        )
    texts = set(ArticlePassage.objects.filter(article__slug="payment-methods", language="ja").values_list("text", flat=True))
    assert texts == {"銀行振込（SEPA）と、ハンブルクでの店頭受け取り時の現金払いのみ承っております。"}
    assert "SEPA" in searched(query="銀行振込で払えますか？", intent="check_payment_methods", language="ja")[0].text
