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
