"""The other shops' shopper sets (bot/data/shops/*.yaml): evaluation data, never training data."""

import json
import os
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from bot.training import dataset as ds

ELECTRONICS = ds.SHOPS_DIR / "electronics_shoppers.yaml"
LABELS = json.loads((Path(settings.SLM_ARTIFACT_DIR) / "labels.json").read_text(encoding="utf-8"))
SHARED = Path(settings.SHARED_DIR)


def test_the_electronics_set_has_300_messages_under_known_labels_without_duplicates():
    data = yaml.safe_load(ELECTRONICS.read_text(encoding="utf-8"))
    texts = [text for messages in data.values() for text in messages]
    assert len(texts) >= 300
    assert set(data) <= set(LABELS), sorted(set(data) - set(LABELS))
    assert "out_of_scope" in data
    assert all(isinstance(t, str) and t.strip() for t in texts)
    keys = [ds.normalise(t) for t in texts]
    assert len(keys) == len(set(keys)), sorted(k for k in set(keys) if keys.count(k) > 1)


def _own_training_lines() -> set[str]:
    lines = set()
    for path in sorted((ds.DATA_DIR / "intents").glob("*.yaml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).values():
            lines |= {ds.normalise(str(t)) for t in (block.get("examples") or []) + (block.get("templates") or [])}
    return lines


def test_no_shop_shopper_sentence_is_in_the_projects_own_data():
    shoppers = {ds.normalise(ex.text): ex.text for ex in ds.load_shop_shoppers()}
    assert len(shoppers) >= 300
    assert not [shoppers[k] for k in shoppers.keys() & _own_training_lines()]
    # nor in the other evaluation set, which would count one sentence twice
    assert not [shoppers[k] for k in shoppers.keys() & {ds.normalise(ex.text) for ex in ds.load_eval_shoppers()}]


def test_no_shop_shopper_sentence_is_in_the_public_training_data():
    if not (SHARED / "data" / "bitext" / "bitext_8k_balanced.csv").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must provide the shared training data under SHARED_DIR={SHARED}")
        pytest.skip(f"no shared training data under SHARED_DIR={SHARED}")
    shoppers = {ds.normalise(ex.text): ex.text for ex in ds.load_shop_shoppers()}
    clinc = json.loads((SHARED / "data" / "clinc150" / "clinc150_train_val.json").read_text(encoding="utf-8"))
    public = {ds.normalise(ex.text) for ex in ds.load_bitext(SHARED)}
    public |= {ds.normalise(t) for part in clinc.values() for t, _ in part}
    assert not [shoppers[k] for k in shoppers.keys() & public]
