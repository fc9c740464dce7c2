"""The shop-independent training requests (bot.training.open_shop)."""

import os
from collections import Counter
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from bot.training import dataset as ds
from bot.training.open_shop import OPEN_SHOP_FILE, taxonomy_names

SHARED = Path(settings.SHARED_DIR)
DOMAINS = {"electronics", "groceries", "cosmetics", "supplements", "furniture", "sport", "books", "toys", "pets", "fashion"}


@pytest.fixture(scope="module")
def generated():
    if not (SHARED / "data" / "product_taxonomy" / "google_product_taxonomy.tsv").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must provide the shared data under SHARED_DIR={SHARED}")
        pytest.skip(f"no product taxonomy under SHARED_DIR={SHARED}")
    return ds.load_open_shop_examples(SHARED)


def test_every_domain_has_its_own_products_in_the_generated_requests(generated):
    data = yaml.safe_load(OPEN_SHOP_FILE.read_text(encoding="utf-8"))
    assert set(data["domains"]) == DOMAINS
    texts = " | ".join(ex.text.lower() for ex in generated)
    for domain, items in data["domains"].items():
        assert len(items) >= 20, domain
        assert sum(item in texts for item in items) >= 5, domain


def test_product_nouns_come_from_the_open_taxonomy_not_only_from_written_lists(generated):
    data = yaml.safe_load(OPEN_SHOP_FILE.read_text(encoding="utf-8"))
    written = {item for items in data["domains"].values() for item in items}
    taxonomy = [name for name in taxonomy_names(SHARED) if name not in written]
    assert len(taxonomy) > 3000
    texts = " | ".join(ex.text.lower() for ex in generated)
    assert sum(name.rstrip("s") in texts for name in taxonomy) >= 200


def test_policy_questions_of_several_markets_are_covered(generated):
    by_intent = Counter(ex.intent for ex in generated)
    assert min(by_intent[i] for i in ("product_info", "product_availability", "product_recommendation")) >= 150
    payment = " ".join(ex.text.lower() for ex in generated if ex.intent == "check_payment_methods")
    for phrase in ("cash on delivery", "emi", "instalments", "upi", "buy now pay later"):
        assert phrase in payment, phrase
    delivery = " ".join(ex.text.lower() for ex in generated if ex.intent == "delivery_options")
    assert "pincode" in delivery and ("zip" in delivery or "postcode" in delivery)


def test_no_sentence_of_the_shopper_sets_is_generated(generated):
    held_out = {ds.normalise(ex.text) for ex in ds.load_eval_shoppers() + ds.load_shop_shoppers()}
    assert not [ex.text for ex in generated if ds.normalise(ex.text) in held_out]


def test_all_fillings_of_one_template_share_a_group_so_a_split_keeps_a_template_whole(generated):
    groups = Counter(ex.group for ex in generated)
    assert max(groups.values()) > 1
    assert all(ex.group.startswith(f"own:open_shop:{ex.intent}:") for ex in generated)
