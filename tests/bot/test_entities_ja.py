"""Entities in Japanese messages: full-width forms read as ASCII with spans in the shopper's own
text, 注文番号 patterns, 円 amounts, Japanese sizes and colours, prefectures and postcodes."""

import pytest

from bot.slm.entities import Gazetteer, extract_entities


def found(text, gazetteer=None, kind=None):
    return [(e.type, e.value) for e in extract_entities(text, gazetteer) if kind is None or e.type == kind]


def spans(text, kind):
    return [text[e.start:e.end] for e in extract_entities(text) if e.type == kind]


@pytest.mark.parametrize(
    "text, number, span",
    [
        ("注文番号１２３４５の荷物はどこ？", "12345", "注文番号１２３４５"),
        ("注文番号：12345です", "12345", "注文番号：12345"),
        ("ご注文番号は 123456 です", "123456", "ご注文番号は 123456"),
        ("注文No.12345をキャンセルしたい", "12345", "注文No.12345"),
        ("注文ＮＯ．１２３４５", "12345", "注文ＮＯ．１２３４５"),
        ("＃１２３４５まだ届きません", "12345", "＃１２３４５"),
        ("12345の荷物まだですか", "12345", "12345"),
    ],
)
def test_order_numbers_as_japanese_shoppers_write_them(text, number, span):
    assert found(text, kind="order_number") == [("order_number", number)]
    assert spans(text, "order_number") == [span]


def test_a_full_width_email_is_read_and_located_in_the_original_text():
    text = "メールアドレスはｔａｎａｋａ．ｙｕｋｉ＠ｇｍａｉｌ．ｃｏｍです"
    assert found(text, kind="email") == [("email", "tanaka.yuki@gmail.com")]
    assert spans(text, "email") == ["ｔａｎａｋａ．ｙｕｋｉ＠ｇｍａｉｌ．ｃｏｍ"]


def test_postcodes_and_prefectures():
    text = "〒150-0001 東京都渋谷区まで何日かかりますか"
    assert found(text, kind="postcode") == [("postcode", "150-0001")]
    assert found(text, kind="prefecture") == [("prefecture", "東京都")]
    assert found("〒１５００００１に送ってください", kind="postcode") == [("postcode", "150-0001")]
    assert found("沖縄にも配送できますか", kind="prefecture") == [("prefecture", "沖縄県")]
    assert found("北海道への送料は？", kind="prefecture") == [("prefecture", "北海道")]


def test_a_phone_number_is_no_postcode_and_no_order_number():
    assert found("電話番号は090-1234-5678です") == []


@pytest.mark.parametrize(
    "text, value",
    [("3,980円のシャツ", "3980.00"), ("￥２，９８０でした", "2980.00"), ("1万円以上で送料無料ですか", "10000.00"),
     ("¥4,400の返金はまだ？", "4400.00"), ("１２，８００円です", "12800.00")],
)
def test_yen_amounts(text, value):
    assert [(e.value, e.currency) for e in extract_entities(text) if e.type == "amount"] == [(value, "JPY")]


@pytest.mark.parametrize(
    "text, size",
    [("黒のＬＬサイズありますか", "XL"), ("Mサイズのシャツ", "M"), ("サイズはＳです", "S"), ("フリーサイズですか", "one size"),
     ("25.5cmのスニーカー", "25.5cm"), ("9号のワンピース", "9号"), ("XLありますか", "XL")],
)
def test_japanese_sizes(text, size):
    assert found(text, kind="size") == [("size", size)]


def test_a_japanese_size_is_the_catalog_label_when_the_catalog_has_it():
    gazetteer = Gazetteer(products=[], colours=[], sizes=["S", "M", "L", "XL"])
    assert found("ＬＬはありますか", gazetteer, kind="size") == [("size", "XL")]


@pytest.mark.parametrize(
    "text, colour",
    [("黒いシャツ", "black"), ("ネイビーのニット", "navy"), ("グレーはありますか", "grey"), ("水色が欲しい", "light blue"),
     ("紺のジャケット", "navy"), ("ベージュのチノパン", "beige")],
)
def test_japanese_colours_are_their_english_family_words(text, colour):
    assert found(text, kind="colour") == [("colour", colour)]


def test_a_japanese_colour_takes_the_catalog_spelling():
    gazetteer = Gazetteer(products=[], colours=["Navy", "Black"], sizes=[])
    assert found("ネイビーのMはありますか", gazetteer, kind="colour") == [("colour", "Navy")]


def test_words_that_only_start_with_a_colour_are_not_colours():
    assert found("赤ちゃん用の服はありますか", kind="colour") == []
    assert found("お茶をこぼしました", kind="colour") == []


def test_japanese_colour_names_join_the_catalog_colour_families():
    from catalog.options import colour_families

    assert "blue" in colour_families("ネイビー")
    assert "grey" in colour_families("チャコール")


def test_english_messages_are_read_as_before():
    assert found("where is order #10234? size M in navy") == [("order_number", "10234"), ("size", "M"), ("colour", "navy")]
    assert found("can i get 49.90 € back") == [("amount", "49.90")]
