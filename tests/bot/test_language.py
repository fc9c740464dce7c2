import pytest

from bot.language import detect_language


@pytest.mark.parametrize(
    "text, expected",
    [
        ("注文した商品はいつ届きますか？", "ja"),
        ("ｷｬﾝｾﾙしたい", "ja"),
        ("注文のtracking number教えて", "ja"),
        ("キャンセルplease", "ja"),
        ("返品", "ja"),
        ("where is my order 10234", "en"),
        ("ＯＫ", "en"),
        ("10234", None),
        ("👍", None),
        ("", None),
        ("#１２３４５", None),
    ],
)
def test_script_decides_the_language(text, expected):
    assert detect_language(text) == expected


# --- What switches a conversation, and the storefront's language --------------------------------

from django.utils import translation  # noqa: E402

from bot import intents  # noqa: E402
from bot.language import message_language, shop_language, storefront_language, yes_no  # noqa: E402
from bot.text import sentences_join  # noqa: E402


@pytest.mark.parametrize(
    "text, expected",
    [
        ("alex.demo@example.com", None),  # an address typed in a Japanese chat is no switch to English
        ("ａｌｅｘ＠ｅｘａｍｐｌｅ．ｃｏｍ", None),
        ("https://shop.example.com/p/linen-shirt", None),
        ("メールは alex.demo@example.com です", "ja"),
        ("my email is alex.demo@example.com", "en"),
        ("10514", None),
        ("ご注文 10514", "ja"),
    ],
)
def test_what_a_message_switches_the_conversation_to(text, expected):
    assert message_language(text) == expected


def test_only_shop_languages_are_switched_to(settings):
    settings.SHOP_LANGUAGES = ["en"]
    settings.LANGUAGES = [("en", "English")]
    assert message_language("注文はどこですか") is None


@pytest.mark.parametrize(
    "query, cookie, header, expected",
    [
        ("ja", None, None, "ja"),
        ("ja-JP", None, None, "ja"),
        (None, "ja", "en", "ja"),
        (None, None, "fr-CH, fr;q=0.9, ja;q=0.8, en;q=0.5", "ja"),  # the first the shop speaks
        ("en", "ja", "ja", "en"),
        ("fr", "de", "es", "en"),  # none the shop speaks: the default
        (None, None, None, "en"),
        ("x" * 500, None, "ja", "ja"),  # junk is ignored
    ],
)
def test_the_storefront_language_comes_from_query_then_cookie_then_accept_language(query, cookie, header, expected):
    assert storefront_language(query=query, cookie=cookie, accept_language=header) == expected


def test_django_language_codes_name_the_shop_language():
    assert shop_language("en-us") == "en" and shop_language("JA") == "ja" and shop_language("xx") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yes", "yes"), ("Yes please!", "yes"), ("ok", "yes"), ("ｙｅｓ", "yes"),
        ("はい", "yes"), ("はい、お願いします。", "yes"), ("うん", "yes"), ("お願いします", "yes"),
        ("no", "no"), ("No, thanks", "no"), ("いいえ", "no"), ("いや", "no"), ("結構です", "no"), ("いいえ、結構です。", "no"),
        ("はい、でも住所も変えたい", None), ("cancel it", None), ("", None), ("🙂", None),
    ],
)
def test_plain_yes_and_no_in_every_shop_language(text, expected):
    assert yes_no(text) == expected


def test_the_yes_no_buttons_are_read_back_in_their_language():
    from bot import dialogue

    with translation.override("ja"):
        assert (str(dialogue.YES), str(dialogue.NO)) == ("はい", "いいえ")
        assert yes_no(str(dialogue.YES)) == "yes" and yes_no(str(dialogue.NO)) == "no"


def test_every_button_label_has_japanese_and_is_read_back_to_its_intent():
    for row in (row for row in intents.INTENTS if row.label is not None):
        with translation.override("en"):
            english = intents.label(row.name)
        with translation.override("ja"):
            japanese = intents.label(row.name)
            assert japanese != english and detect_language(japanese) == "ja", row.name
            assert intents.label_to_intent(japanese) == row.name
            assert intents.label_to_intent(english) is None  # a label of another language is no click here
        assert intents.label_to_intent(english) == row.name


def test_sentences_are_spaced_in_english_and_not_in_japanese():
    assert sentences_join(["It hasn't shipped yet.", "Expected delivery: 3 Dec 2026."]) == (
        "It hasn't shipped yet. Expected delivery: 3 Dec 2026."
    )
    assert sentences_join(["まだ発送されていません。", "お届け予定日は2026年12月3日です。"]) == (
        "まだ発送されていません。お届け予定日は2026年12月3日です。"
    )
