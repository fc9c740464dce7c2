"""The SLM's training data and the training pipeline, end to end on a tiny subset."""

import json
import os
import sys
from pathlib import Path

import pytest
from django.conf import settings

from bot.training import dataset as ds

SHARED = Path(settings.SHARED_DIR)


@pytest.fixture(scope="module")
def shared_dir():
    if not (SHARED / "data" / "bitext" / "bitext_8k_balanced.csv").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must provide the shared training data under SHARED_DIR={SHARED}")
        pytest.skip(f"no shared training data under SHARED_DIR={SHARED}")
    return SHARED


@pytest.fixture(scope="module")
def splits(shared_dir):
    return ds.build_splits(shared_dir=shared_dir, include_agent_labels=False)


def test_bitext_is_deduplicated_across_its_two_files(shared_dir):
    examples = ds.load_bitext(shared_dir)
    keys = [ds.normalise(ex.text) for ex in examples]
    assert len(keys) == len(set(keys))
    assert 12000 < len(examples) < 12689  # 8,175 + 4,514 with the overlap removed


def test_no_group_and_no_sentence_is_in_two_splits(splits):
    train_groups = {ex.group for ex in splits.train}
    assert not train_groups & {ex.group for ex in splits.test}
    assert not train_groups & {ex.group for ex in splits.dev}
    assert not {ex.group for ex in splits.dev} & {ex.group for ex in splits.test}
    test_texts = {ds.normalise(ex.text) for ex in splits.test}
    assert not test_texts & {ds.normalise(ex.text) for ex in splits.dev}


def test_every_intent_is_trained_and_tested(splits):
    assert set(splits.labels) == {ex.intent for ex in splits.train} == {ex.intent for ex in splits.test}
    assert len(splits.labels) == 38


def test_the_shopper_evaluation_set_is_never_trained_on(splits):
    shoppers = ds.load_eval_shoppers()
    shopper = {ds.normalise(ex.text) for ex in shoppers}
    own = {ds.normalise(ex.text) for ex in splits.train + splits.dev if ex.source.startswith("own")}
    public = {ds.normalise(ex.text) for ex in splits.train + splits.dev if not ex.source.startswith("own")}
    # the project's own examples (and their restyled copies) share only short everyday
    # messages with it: "yes", "no thanks", "thx a lot"
    assert all(len(text.split()) <= 3 for text in shopper & own), sorted(shopper & own)
    # a public data set may hold the same everyday sentence by chance, rarely
    assert len(shopper & public) <= 0.02 * len(shopper), sorted(shopper & public)
    assert {ex.intent for ex in shoppers} == set(splits.labels)


def test_clinc_validation_is_kept_for_evaluation_only(shared_dir, splits):
    oos_val, unrelated_val = ds.load_clinc_val(shared_dir)
    val_texts = {ds.normalise(ex.text) for ex in oos_val + unrelated_val}
    assert not val_texts & {ds.normalise(ex.text) for ex in splits.train if ex.source.startswith("clinc")}


def test_splits_are_reproducible(shared_dir, splits):
    again = ds.build_splits(shared_dir=shared_dir, include_agent_labels=False)
    assert again.fingerprint() == splits.fingerprint()


def test_templates_are_filled_and_order_numbers_vary():
    import random

    vocab = ds.load_vocabulary()
    rng = random.Random(1)
    texts = {ds.fill_template("where is my order {order}", rng, vocab) for _ in range(30)}
    assert len(texts) > 20 and not any("{" in t for t in texts)
    assert not any(t.startswith("where is my order order") for t in texts)
    with pytest.raises(ValueError, match="unknown slot"):
        ds.fill_template("{nope}", rng, vocab)


@pytest.mark.django_db
def test_agent_labelled_examples_go_into_training(shared_dir):
    from bot.models import TrainingExample

    assert ds.load_agent_labelled(["track_order"]) == []
    TrainingExample.objects.create(text="oi where's me parcel mate", intent="track_order")
    TrainingExample.objects.create(text="something", intent="not_an_intent")
    splits = ds.build_splits(shared_dir=shared_dir)
    agent = [ex for ex in splits.train if ex.source == "agent"]
    assert {(ex.text, ex.intent) for ex in agent} == {("oi where's me parcel mate", "track_order")}
    assert splits.stats["agent_labelled"] == 1
    assert not any(ex.source == "agent" for ex in splits.dev + splits.test)


@pytest.mark.django_db
def test_an_agents_label_trains_the_classifier_of_its_messages_language_only(shared_dir):
    """One deployment, two classifiers: a label of a Japanese message must never train (or judge)
    the English model, whose tokenizer reads Japanese as unknown pieces, and it does train the
    Japanese one. A message of digits alone belongs to its conversation's language."""
    from bot.models import Conversation, TrainingExample
    from bot.training import japanese

    japanese_chat = Conversation.objects.create(language="ja")
    TrainingExample.objects.create(text="where's me parcel mate", intent="track_order")
    TrainingExample.objects.create(text="荷物まだー？", intent="track_order")
    TrainingExample.objects.create(text="１２３４５", intent="track_order", conversation=japanese_chat)
    labels = ds.load_labels(shared_dir)
    assert [ex.text for ex in ds.load_agent_labelled(labels, language="en")] == ["where's me parcel mate"]
    assert sorted(ex.text for ex in ds.load_agent_labelled(labels, language="ja")) == sorted(["荷物まだー？", "１２３４５"])
    assert len(ds.load_agent_labelled(labels)) == 3  # no language: every label (the review queue's view)

    english = ds.build_splits(shared_dir=shared_dir)
    assert {ex.text for ex in english.train if ex.source == "agent"} == {"where's me parcel mate"}
    ja = japanese.build_splits(shared_dir=shared_dir)
    agent = [ex.text for ex in ja.train if ex.source == "agent"]
    assert sorted(agent) == sorted(["荷物まだー？", "１２３４５"] * 2) and ja.stats["agent_labelled"] == 2
    assert not any(ex.source == "agent" for ex in ja.dev + ja.test)
    assert not any(ex.source == "agent" for ex in japanese.build_splits(shared_dir=shared_dir, include_agent_labels=False).train)


@pytest.mark.slow
@pytest.mark.django_db
def test_training_end_to_end_on_a_tiny_subset_gives_a_working_artifact(shared_dir, tmp_path):
    """The whole pipeline (train, export, quantize, calibrate, evaluate) on 12 examples per intent,
    as the shipped model is made: the base encoder's bottom layers, distilled from a teacher artifact."""
    from bot.slm.classifier import IntentClassifier
    from bot.training.trainer import TrainConfig, train

    config = TrainConfig(
        output=tmp_path, shared_dir=shared_dir, epochs=1, max_length=32, max_per_intent=12, threads=2, keep_torch=False,
        layers=2, teacher=str(settings.SLM_ARTIFACT_DIR),
    )
    logged = []
    artifact = train(config, log=logged.append, progress=False)
    assert any(line.startswith("teacher: ") for line in logged), logged
    for name in ("model.onnx", "tokenizer.json", "labels.json", "config.json", "MODEL_CARD.md", "report.json", "dev.jsonl", "test.jsonl"):
        assert (artifact / name).exists(), name
    cfg = json.loads((artifact / "config.json").read_text())
    assert cfg["max_length"] == 32 and cfg["temperature"] > 0 and 0 <= cfg["threshold"] < 1
    assert cfg["layers"] == 2 and cfg["training"]["teacher"] == str(settings.SLM_ARTIFACT_DIR)
    report = json.loads((artifact / "report.json").read_text())
    assert {"test", "clinc_oos_val_recall", "eval_shoppers", "latency_1_thread"} <= set(report)
    assert (artifact / "model.onnx").stat().st_size < 30 * 1024 * 1024

    classifier = IntentClassifier(artifact)
    u = classifier.classify("where is my order #10234")
    assert u.raw_intent in classifier.labels and len(u.top) == 3
    assert u.as_dict()["entities"] == [{"type": "order_number", "value": "10234", "start": 18, "end": 24}]
    # the serving path of the new artifact loads without torch in a fresh process
    import subprocess

    code = f"import sys; from bot.slm.classifier import IntentClassifier; IntentClassifier({str(artifact)!r}).classify('hi'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_the_shipped_common_words_are_what_the_data_gives(shared_dir, tmp_path):
    # bot/data/common_words.txt is generated; regenerating it from the shared data changes nothing.
    target = tmp_path / "common_words.txt"
    ds.write_common_words(shared_dir, target)
    assert target.read_text(encoding="utf-8") == ds.COMMON_WORDS_FILE.read_text(encoding="utf-8")


def test_no_sentence_of_the_independent_shopper_set_is_in_any_split(splits):
    held_out = {ds.normalise(ex.text) for ex in ds.load_eval_shoppers()}
    for part in (splits.train, splits.dev, splits.test):
        assert not [ex.text for ex in part if ds.normalise(ex.text) in held_out]


def test_a_shop_shopper_sentence_is_dropped_from_every_split(shared_dir, splits, tmp_path, monkeypatch):
    # A sentence the project's own data trains on, once written into a shop's shopper set
    # (bot/data/shops/*.yaml), is in no split any more.
    sentence = ds.normalise("do you have it in stock")
    assert any(ds.normalise(ex.text) == sentence for ex in splits.train + splits.dev + splits.test)
    (tmp_path / "some_shop_shoppers.yaml").write_text('product_availability:\n  - "Do you have it in stock?"\n', encoding="utf-8")
    monkeypatch.setattr(ds, "SHOPS_DIR", tmp_path)
    held_out = ds.build_splits(shared_dir=shared_dir, include_agent_labels=False)
    for part in (held_out.train, held_out.dev, held_out.test):
        assert not [ex.text for ex in part if ds.normalise(ex.text) == sentence]
