"""The shipped SLM artifact and the serving API (bot.slm)."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot import slm
from bot.slm import OUT_OF_SCOPE, Understanding, get_classifier, reset_classifier
from bot.slm.entities import Gazetteer
from bot.training.dataset import read_jsonl

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "bot" / "slm_artifact"


@pytest.fixture(autouse=True)
def fresh_classifier():
    reset_classifier()
    yield
    reset_classifier()


def test_the_shipped_artifact_is_complete_and_small():
    for name in ("model.onnx", "tokenizer.json", "labels.json", "config.json", "MODEL_CARD.md", "dev.jsonl", "test.jsonl"):
        assert (SHIPPED / name).exists(), name
    assert (SHIPPED / "model.onnx").stat().st_size <= 30 * 1024 * 1024
    labels = json.loads((SHIPPED / "labels.json").read_text())
    assert len(labels) == len(set(labels)) and "out_of_scope" in labels
    config = json.loads((SHIPPED / "config.json").read_text())
    assert 0.0 < config["threshold"] < 1.0 and config["temperature"] > 0


def test_the_shipped_model_is_accurate_on_its_shipped_dev_split():
    classifier = get_classifier()
    dev = read_jsonl(SHIPPED / "dev.jsonl")
    results = classifier.classify_batch([ex.text for ex in dev])
    accuracy = sum(r.intent == ex.intent for r, ex in zip(results, dev)) / len(dev)
    assert len(dev) > 1000
    assert accuracy >= 0.95, accuracy


@pytest.mark.parametrize(
    "text,intent",
    [("where is my order #10234?", "track_order"), ("I want to cancel my order", "cancel_order"),
     ("do you ship to Switzerland", "delivery_options"), ("forgot my password", "recover_password"),
     ("thanks!", "thanks"), ("hello", "greeting"), ("can I speak to a real person", "contact_human_agent")],
)
def test_plain_messages_get_their_intent(text, intent):
    assert get_classifier().classify(text).intent == intent


def test_unrelated_requests_are_acted_on_as_out_of_scope():
    results = get_classifier().classify_batch(["what's the weather in Paris tomorrow", "write me a poem about the sea", "who won the world cup in 2014"])
    assert [r.intent for r in results] == [OUT_OF_SCOPE] * 3


def test_understanding_fields_and_the_classify_json_shape():
    gazetteer = Gazetteer(products=[("Linen Camp Shirt", "linen-camp-shirt")])
    u = get_classifier().classify("do you have the linen shirt in XL?", gazetteer=gazetteer)
    assert isinstance(u, Understanding)
    assert u.raw_intent == u.top[0][0] and u.confidence == pytest.approx(u.top[0][1])
    assert len(u.top) == 3 and u.top[0][1] >= u.top[1][1] >= u.top[2][1]
    assert u.intent in (u.raw_intent, OUT_OF_SCOPE)
    data = u.as_dict()
    assert list(data) == ["text", "intent", "confidence", "top", "entities", "language"]
    assert data["text"] == "do you have the linen shirt in XL?" and data["language"] == "en"
    assert all(isinstance(p, list) and len(p) == 2 for p in data["top"])
    assert {"type": "product", "value": "linen-camp-shirt", "start": 16, "end": 27} in data["entities"]
    assert {"type": "size", "value": "XL", "start": 31, "end": 33} in data["entities"]
    json.dumps(data)
    with pytest.raises(Exception):
        u.intent = "greeting"  # frozen


def test_below_the_threshold_the_bot_acts_on_out_of_scope():
    classifier = get_classifier()
    sure = classifier.classify("where is my order")
    assert sure.intent == sure.raw_intent == "track_order" and sure.confidence >= classifier.threshold
    threshold = classifier.threshold
    classifier.threshold = min(1.0, sure.confidence + 0.01)  # the same sentence, now below the threshold
    try:
        unsure = classifier.classify("where is my order")
    finally:
        classifier.threshold = threshold
    assert (unsure.intent, unsure.raw_intent) == (OUT_OF_SCOPE, "track_order")
    results = classifier.classify_batch(read_jsonl(SHIPPED / "dev.jsonl")[i].text for i in range(200))
    for r in results:
        assert (r.intent == r.raw_intent) == (r.confidence >= classifier.threshold) or r.raw_intent == OUT_OF_SCOPE


def test_batch_and_single_classification_agree():
    classifier = get_classifier()
    texts = ["where is my parcel", "refund please", "do you take paypal", "bye"]
    assert [u.raw_intent for u in classifier.classify_batch(texts)] == [classifier.classify(t).raw_intent for t in texts]


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_messages_are_out_of_scope_with_no_confidence(text):
    u = get_classifier().classify(text)
    assert (u.intent, u.raw_intent, u.confidence, u.top, u.entities) == (OUT_OF_SCOPE, OUT_OF_SCOPE, 0.0, [], [])


def test_very_long_and_odd_messages_are_classified():
    classifier = get_classifier()
    for text in ["where is my order " * 5000, "\x00\x07 control chars", "🙂🙂🙂", "ü" * 3000, "a" * 100000]:
        u = classifier.classify(text)
        assert u.intent in classifier.labels and 0.0 <= u.confidence <= 1.0


def test_non_text_input_is_a_clear_type_error():
    with pytest.raises(TypeError, match="expects text"):
        get_classifier().classify(None)
    with pytest.raises(TypeError):
        get_classifier().classify_batch(["ok", 3])


def test_the_classifier_is_loaded_once_per_process_even_from_many_threads():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_classifier())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1


def test_settings_are_read_at_first_use_not_at_import(settings, tmp_path):
    import shutil

    copy = tmp_path / "artifact"
    shutil.copytree(SHIPPED, copy, ignore=shutil.ignore_patterns("dev.jsonl", "test.jsonl", "report.json"))
    settings.SLM_ARTIFACT_DIR = copy
    settings.SLM_THREADS = 2
    classifier = get_classifier()
    assert classifier.artifact_dir == copy
    assert classifier.session.get_session_options().intra_op_num_threads == 2


def test_a_missing_artifact_is_a_clear_error(settings, tmp_path):
    from bot.slm.classifier import ArtifactError

    settings.SLM_ARTIFACT_DIR = tmp_path / "nothing-here"
    with pytest.raises(ArtifactError, match="cannot load the SLM artifact"):
        get_classifier()


def test_the_serving_path_never_imports_torch_or_transformers():
    code = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")
django.setup()
from bot.slm import get_classifier, get_embedder, extract_entities
from bot.slm.gazetteer import vocabulary_gazetteer
u = get_classifier().classify("where is my order 10234", gazetteer=vocabulary_gazetteer())
v = get_embedder().embed(["linen shirt"])
import bot.slm.classifier, bot.slm.embedder, bot.slm.entities, bot.slm.understanding
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "transformers", "sentence_transformers"})
print(u.intent, v.shape, heavy)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "track_order (1, 384) []"


def test_importing_bot_slm_loads_no_model():
    code = "import bot.slm, sys; print(bot.slm._classifiers == {}, 'onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True False", out.stderr
    assert slm.get_classifier is get_classifier
