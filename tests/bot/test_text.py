"""bot.text: the text no database here can store."""

import pytest

from bot.text import refusable_text


@pytest.mark.parametrize("text", ["\x00", "a\x00b", "\udcff", "x\ud800", "\udfff y", "\ud83d\ude00"])
def test_nul_and_surrogate_code_points_are_refusable(text):
    # "\ud83d\ude00" as two code points in a Python str cannot be encoded either (json.loads pairs them).
    assert refusable_text(text)


@pytest.mark.parametrize("text", ["", "hello", "Grüße 😀", "\u200b\ufeff\ufffd", "tab\tnew\nline", "\x01\x1f"])
def test_ordinary_unicode_is_not_refusable(text):
    assert not refusable_text(text)
