"""manage.py adapt_assistant and the serving-time catalogue check (bot.adaptation)."""

import json
from dataclasses import replace
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from bot import adaptation
from bot.services import understand
from bot.slm import get_classifier
from bot.slm.understanding import OUT_OF_SCOPE, Understanding

PRODUCT_QUESTIONS = {"product_availability", "product_info", "product_recommendation"}
# A tiny pet shop: product kinds the model never saw in its shop vocabulary.
TINY_CATALOGUE = """handle,title,description,category,option1_name,option1_value,sku,price,stock,active
snooze-den,Snooze Den,Washable orthopaedic bed.,Animals & Pet Supplies > Pet Supplies > Dog Supplies > Dog Beds,Size,Large,SD-L,79.00,4,yes
snooze-den,,,,Size,Small,SD-S,59.00,2,
zoomie-lead,Zoomie Lead,Reflective lead.,Animals & Pet Supplies > Pet Supplies > Dog Supplies > Dog Leashes,Length,2 m,ZL-2,19.00,10,yes
purrch,Purrch Tower,Sisal scratching tower.,Animals & Pet Supplies > Pet Supplies > Cat Supplies > Cat Furniture,Colour,Grey,PT-G,99.00,1,yes
"""
HELP = """---
title: Do you offer grooming appointments?
topic: contact
tags: grooming appointment, nail clipping
---
We groom dogs in our Leeds shop on Saturdays; book by phone.
"""


@pytest.fixture
def tiny_shop(db, tmp_path, settings):
    csv_path = tmp_path / "products.csv"
    csv_path.write_text(TINY_CATALOGUE, encoding="utf-8")
    help_dir = tmp_path / "help"
    help_dir.mkdir()
    (help_dir / "grooming.md").write_text(HELP, encoding="utf-8")
    call_command("import_catalog", str(csv_path), stdout=StringIO(), stderr=StringIO())
    call_command("import_help", str(help_dir), stdout=StringIO(), stderr=StringIO())
    settings.ASSISTANT_DATA_DIR = tmp_path / "assistant"
    adaptation.reset()
    yield tmp_path
    adaptation.reset()


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def _adapt() -> str:
    out = StringIO()
    call_command("adapt_assistant", stdout=out)
    adaptation.reset()
    return out.getvalue()


def test_adapt_assistant_writes_only_its_data_dir_and_a_second_run_changes_nothing(tiny_shop):
    artifact = Path(settings.SLM_ARTIFACT_DIR)
    artifact_before = _files(artifact)
    shop_files = set(_files(tiny_shop))

    printed = _adapt()
    data_dir = Path(settings.ASSISTANT_DATA_DIR)
    assert "en: 3 product(s)" in printed and "1 help article(s)" in printed
    assert "ja: no translations" in printed  # the default SHOP_LANGUAGES, and nothing translated yet
    assert set(_files(tiny_shop)) - shop_files == {"assistant/catalogue.json"}
    assert _files(artifact) == artifact_before  # the shipped model is never written
    stored = json.loads((data_dir / "catalogue.json").read_text(encoding="utf-8"))
    assert stored["format"] == 2 and set(stored["languages"]) == {"en", "ja"}
    vocabulary = stored["languages"]["en"]
    assert {"dog beds", "dog leashes", "cat furniture"} <= set(vocabulary["kinds"])
    assert vocabulary["categories"]["Dog Beds"][:2] == ["Dog Supplies", "Pet Supplies"]
    assert vocabulary["options"] == {"Colour": ["Grey"], "Length": ["2 m"], "Size": ["Large", "Small"]}
    assert vocabulary["articles"][0]["tags"] == ["grooming appointment", "nail clipping"]

    first = _files(data_dir)
    assert "unchanged" in _adapt()
    assert _files(data_dir) == first


def test_after_adaptation_a_product_kind_it_never_saw_is_a_product_question_and_the_weather_is_not(tiny_shop):
    _adapt()
    assert understand("do you have dog beds?").intent in PRODUCT_QUESTIONS
    assert understand("any cat furniture for a small flat").intent in PRODUCT_QUESTIONS
    assert understand("what's the weather in Paris").intent == OUT_OF_SCOPE
    assert understand("book a flight to Rome").intent == OUT_OF_SCOPE


def _unsure(text: str) -> Understanding:
    # What the model says of a request it cannot place: too unsure, so acted on as out_of_scope.
    top = [(OUT_OF_SCOPE, 0.5), ("complaint", 0.3), ("review", 0.1)]
    return Understanding(text=text, intent=OUT_OF_SCOPE, raw_intent=OUT_OF_SCOPE, confidence=0.5, top=top)


def test_the_check_turns_an_unsure_mention_of_a_shop_product_kind_into_the_question_its_wording_asks(tiny_shop):
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == OUT_OF_SCOPE  # not adapted yet
    _adapt()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == "product_availability"
    assert adaptation.adapt(_unsure("best dog bed for an old labrador")).intent == "product_recommendation"
    assert adaptation.adapt(_unsure("snooze den")).intent == "product_info"
    assert adaptation.adapt(_unsure("can I book nail clipping for my terrier")).intent == "contact_customer_service"
    assert adaptation.adapt(_unsure("what's the weather in Paris")).intent == OUT_OF_SCOPE
    sure = Understanding(text="dog beds", intent="review", raw_intent="review", confidence=0.9, top=[("review", 0.9)])
    assert adaptation.adapt(sure) is sure  # a confident reading is never second-guessed


def _sure_out_of_scope(text: str, probability: float = 0.99) -> Understanding:
    top = [(OUT_OF_SCOPE, probability), ("product_info", (1 - probability) / 2), ("review", (1 - probability) / 4)]
    return Understanding(text=text, intent=OUT_OF_SCOPE, raw_intent=OUT_OF_SCOPE, confidence=probability, top=top)


def test_a_name_the_model_cannot_know_is_enough_but_a_word_it_knows_needs_more_evidence(tiny_shop, settings):
    _adapt()
    # The classifier's own vocabulary has "dog" and "bed" as words, not "snooze" nor "purrch".
    words = adaptation.model_words()
    assert {"dog", "bed", "cat"} <= words and not {"snooze", "purrch"} & words
    # A name of this shop's own the model never saw: a product question however sure it is.
    assert adaptation.adapt(_sure_out_of_scope("is the purrch tower stable with a big cat")).intent == "product_info"
    # Words the model knows, in a message the shop cannot serve, stay out of scope when it is sure ...
    assert adaptation.adapt(_sure_out_of_scope("tell me a funny joke about dog beds")).intent == OUT_OF_SCOPE
    # ... unless the message asks for a product, is a bare mention, or the model is not sure.
    assert adaptation.adapt(_sure_out_of_scope("which dog bed is best for a puppy")).intent == "product_recommendation"
    assert adaptation.adapt(_sure_out_of_scope("dog beds")).intent == "product_info"
    assert adaptation.adapt(_sure_out_of_scope("tell me a funny joke about dog beds", 0.6)).intent != OUT_OF_SCOPE
    settings.ASSISTANT_ADAPT_KNOWN_MAX_OUT_OF_SCOPE = 0.5
    assert adaptation.adapt(_sure_out_of_scope("tell me a funny joke about dog beds", 0.6)).intent == OUT_OF_SCOPE
    # A request for a recommendation that names nothing of the shop is no product question.
    assert adaptation.adapt(_sure_out_of_scope("can you recommend a good restaurant near me")).intent == OUT_OF_SCOPE
    assert adaptation.adapt(_sure_out_of_scope("do you sell gift cards")).intent == "product_availability"


def test_a_changed_vocabulary_file_is_picked_up_without_a_restart(tiny_shop, settings):
    _adapt()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == "product_availability"
    settings.ASSISTANT_DATA_DIR = tiny_shop / "elsewhere"  # no vocabulary there: nothing to adapt to
    adaptation.reset()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == OUT_OF_SCOPE


def test_singular_and_plural_forms():
    assert adaptation.singular("dog beds") == "dog bed"
    assert adaptation.singular("batteries") == "battery"
    assert adaptation.singular("watches") == "watch"
    assert adaptation.plural("cat tree") == "cat trees"
    assert adaptation.plural("power strip") == "power strips"
    assert adaptation.plural("battery") == "batteries"


def test_an_unwritable_data_dir_is_a_clear_error_and_a_broken_file_adapts_nothing(tiny_shop, settings):
    from django.core.management import CommandError

    blocker = tiny_shop / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    settings.ASSISTANT_DATA_DIR = blocker / "assistant"
    with pytest.raises(CommandError, match="ASSISTANT_DATA_DIR"):
        call_command("adapt_assistant", stdout=StringIO())

    settings.ASSISTANT_DATA_DIR = tiny_shop / "assistant"
    _adapt()
    (tiny_shop / "assistant" / "catalogue.json").write_text("{not json", encoding="utf-8")
    adaptation.reset()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == OUT_OF_SCOPE


# --- per language ---------------------------------------------------------------------------


def _translate_to_japanese():
    from catalog import translations
    from catalog.models import Article, Category, Product

    names = {
        "Dog Beds": "犬用ベッド",
        "Dog Leashes": "犬用リード",
        "Cat Furniture": "猫用家具・キャットタワー",
        "Pet Supplies": "ペット用品",
        "Animals & Pet Supplies": "動物・ペット用品",
    }
    for category in Category.objects.filter(name__in=names):
        translations.category_translation_save(category=category, language="ja", name=names[category.name])
    translations.product_translation_save(product=Product.objects.get(name="Snooze Den"), language="ja", name="スヌーズデン ドッグベッド")
    translations.product_translation_save(product=Product.objects.get(name="Purrch Tower"), language="ja", name="パーチ タワー")
    translations.article_translation_save(
        article=Article.objects.get(), language="ja", title="トリミングの予約はできますか？", tags="トリミング 予約, 爪切り"
    )


def _unsure_in(text: str, language: str) -> Understanding:
    return replace(_unsure(text), language=language)


def test_japanese_names_are_taken_whole_and_by_their_parts():
    assert adaptation.ja_terms("シャツ・トップス") == ("シャツ・トップス", {"シャツ", "トップス"})
    whole, parts = adaptation.ja_terms("ヘビーウェイト ポケットＴシャツ")
    assert whole == "ヘビーウェイト ポケットtシャツ" and {"ヘビーウェイト", "ポケットtシャツ", "シャツ"} <= parts
    assert "ロング" not in adaptation.ja_terms("ロング ラップカーディガン")[1]  # a generic adjective alone names nothing


def test_english_terms_need_word_boundaries_and_japanese_ones_match_inside_a_sentence():
    pattern = adaptation._alternation({"cat", "シャツ", "取り消し 料金"})
    assert pattern.search("a cat tower") and not pattern.search("which category")
    assert pattern.search("catのおもちゃ")  # an English word next to Japanese is still a word
    assert pattern.search("白いシャツはありますか") and pattern.search("tシャツ")
    assert pattern.search("取り消し料金はかかりますか")  # a space in a Japanese term is optional


def test_adapt_assistant_learns_each_language_from_its_translations(tiny_shop, monkeypatch):
    import bot.slm

    _translate_to_japanese()
    read_by = []
    get_classifier = bot.slm.get_classifier
    monkeypatch.setattr(bot.slm, "get_classifier", lambda language="en": read_by.append(language) or get_classifier(language))

    printed = _adapt()
    assert "en: 3 product(s), " in printed
    assert "ja: 2 product(s) translated, " in printed and "1 help article(s) translated" in printed
    assert read_by == ["en", "ja"]  # each language's article titles by its own classifier
    ja = json.loads((Path(settings.ASSISTANT_DATA_DIR) / "catalogue.json").read_text(encoding="utf-8"))["languages"]["ja"]
    assert {"犬用ベッド", "犬用リード", "猫用家具", "キャットタワー", "ペット用品"} <= set(ja["kinds"])
    assert ja["categories"]["犬用ベッド"][:1] == ["ペット用品"]
    assert "スヌーズデン ドッグベッド" in ja["names"] and {"スヌーズデン", "ドッグベッド"} <= set(ja["title_words"])
    assert ja["articles"][0]["tags"] == ["トリミング 予約", "爪切り"] and ja["articles"][0]["intent"]


def test_a_japanese_message_naming_a_translated_product_kind_becomes_a_product_question_in_japanese(tiny_shop):
    _translate_to_japanese()
    assert adaptation.adapt(_unsure_in("犬用ベッドはありますか", "ja")).intent == OUT_OF_SCOPE  # not adapted yet
    _adapt()
    adapted = adaptation.adapt(_unsure_in("犬用ベッドはありますか", "ja"))
    assert adapted.intent == "product_availability" and adapted.language == "ja"
    assert adaptation.adapt(_unsure_in("老犬に合うドッグベッドのおすすめ", "ja")).intent == "product_recommendation"
    assert adaptation.adapt(_unsure_in("スヌーズデン", "ja")).intent == "product_info"
    assert adaptation.adapt(_unsure_in("Snooze Denは在庫ある？", "ja")).intent == "product_availability"  # the original name
    article_intent = adaptation.adapt(_unsure_in("爪切りをお願いできますか", "ja")).intent
    assert article_intent not in (OUT_OF_SCOPE, *PRODUCT_QUESTIONS)
    assert adaptation.adapt(_unsure_in("明日の天気を教えて", "ja")).intent == OUT_OF_SCOPE
    # The real Japanese classifier throws this away as out_of_scope (unsure between product
    # questions); the shop's word brings it back as the product question the model leaned to.
    assert get_classifier("ja").classify("キャットタワーある？").intent == OUT_OF_SCOPE
    assert understand("キャットタワーある？", language="ja").intent in PRODUCT_QUESTIONS
    assert understand("天気を教えて", language="ja").intent == OUT_OF_SCOPE


def test_english_is_unchanged_by_japanese_translations(tiny_shop):
    _translate_to_japanese()
    _adapt()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == "product_availability"
    assert adaptation.adapt(_unsure("best dog bed for an old labrador")).intent == "product_recommendation"
    assert adaptation.adapt(_unsure("can I book nail clipping for my terrier")).intent == "contact_customer_service"
    assert adaptation.adapt(_unsure("what's the weather in Paris")).intent == OUT_OF_SCOPE
    assert adaptation.adapt(_unsure("爪切り")).intent == OUT_OF_SCOPE  # an English reading never uses Japanese terms


def test_a_format_1_file_is_read_as_english_and_adapts_no_japanese(tiny_shop):
    path = Path(settings.ASSISTANT_DATA_DIR) / "catalogue.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": 1, "products": 1, "kinds": ["dog beds"], "title_words": [], "vendors": [], "articles": []}))
    adaptation.reset()
    assert adaptation.adapt(_unsure("do you have dog beds")).intent == "product_availability"
    assert adaptation.adapt(_unsure_in("犬用ベッドはありますか", "ja")).intent == OUT_OF_SCOPE
    path.write_text(json.dumps({"format": 99, "languages": {"en": {"kinds": ["dog beds"]}}}))
    adaptation.reset()
    assert adaptation.adapt(_unsure("do you have dog beds")).intent == OUT_OF_SCOPE  # an unknown format: nothing


def test_a_kind_the_model_knows_used_as_a_verb_is_no_product_mention():
    matcher = adaptation.Matcher.from_vocabulary({"kinds": ["watches", "lights"], "title_words": [], "names": [], "vendors": []})
    assert matcher.known_terms is not None and matcher.product_terms is None  # words the classifier knows
    for text in ("whats a good movie to watch tonight", "can you watch my kids", "i'll light a candle", "we watch football"):
        assert not matcher.mentions_product(text), text
    for text in ("do you have a good watch for running", "which watch is best for swimming", "watches",
                 "any watch under 100 dollars", "i want to watch the sunset with a good watch"):
        assert matcher.mentions_product(text, unsure=False), text


def test_an_article_tag_of_one_word_the_model_knows_needs_the_same_further_evidence():
    article = {"title": "Will it work with my phone?", "topic": "products", "intent": "product_info",
               "tags": ["compatible", "android", "works with", "klarna"]}
    matcher = adaptation.Matcher.from_vocabulary({"kinds": [], "title_words": [], "names": [], "vendors": [], "articles": [article]})
    words = adaptation.model_words()
    assert {"android", "compatible"} <= words and "klarna" not in words
    # One known word, in a message the model is sure it cannot serve: not the article's question.
    assert matcher.article_intent("how do i root my android phone", unsure=False) is None
    # The same word when the model is unsure, or alone: the article.
    assert matcher.article_intent("how do i root my android phone", unsure=True) == "product_info"
    assert matcher.article_intent("Android?", unsure=False) == "product_info"
    # A phrase, or a word the model cannot know, names the article however sure the model is.
    assert matcher.article_intent("the cable works with my old laptop i hope", unsure=False) == "product_info"
    assert matcher.article_intent("can i split the payment with klarna over three months", unsure=False) == "product_info"


def test_a_japanese_product_kind_in_a_message_the_model_is_sure_it_cannot_serve_needs_more_evidence(tiny_shop):
    """Japanese kinds (translated category names: 犬用ベッド, キャップ) are everyday nouns; the words
    of the shop's own product names are not. The same two strengths as English words the model
    knows and names it cannot know."""
    _translate_to_japanese()
    _adapt()

    def sure(text, probability=0.99):
        return adaptation.adapt(replace(_sure_out_of_scope(text, probability), language="ja")).intent

    assert sure("犬用ベッドの洗い方の動画を作ってくれませんか") == OUT_OF_SCOPE  # a kind alone, sure: no
    assert sure("犬用ベッドはありますか") == "product_availability"  # ... asked for in its wording
    assert sure("犬用ベッド") == "product_info"  # ... or a bare mention
    assert sure("犬用ベッドの洗い方の動画を作ってくれませんか", 0.6) != OUT_OF_SCOPE  # ... or the model was unsure
    assert sure("スヌーズデンの洗い方の動画を作ってくれませんか") != OUT_OF_SCOPE  # a word of a product's own name
