"""manage.py adapt_assistant and the serving-time catalogue check (bot.adaptation)."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from bot import adaptation
from bot.services import understand
from bot.slm.understanding import OUT_OF_SCOPE, Understanding

PRODUCT_QUESTIONS = {"product_availability", "product_info", "product_recommendation"}
# A tiny pet shop: product kinds the model never saw in its shop vocabulary.
TINY_CATALOGUE = """handle,title,description,category,option1_name,option1_value,sku,price,stock,active
snooze-den,Snooze Den,Washable orthopaedic bed.,Animals & Pet Supplies > Pet Supplies > Dog Supplies > Dog Beds,Size,Large,SD-L,79.00,4,yes
snooze-den,,,,Size,Small,SD-S,59.00,2,
zoomie-lead,Zoomie Lead,Reflective lead.,Animals & Pet Supplies > Pet Supplies > Dog Supplies > Dog Leashes,Length,2 m,ZL-2,19.00,10,yes
purrch,Purrch Tower,Sisal scratching tower.,Animals & Pet Supplies > Pet Supplies > Cat Supplies > Cat Furniture,Colour,Grey,PT-G,99.00,1,yes
"""
HELP = """---
title: Do you offer grooming appointments?
topic: contact
tags: grooming appointment, nail clipping
---
We groom dogs in our Leeds shop on Saturdays; book by phone.
"""


@pytest.fixture
def tiny_shop(db, tmp_path, settings):
    csv_path = tmp_path / "products.csv"
    csv_path.write_text(TINY_CATALOGUE, encoding="utf-8")
    help_dir = tmp_path / "help"
    help_dir.mkdir()
    (help_dir / "grooming.md").write_text(HELP, encoding="utf-8")
    call_command("import_catalog", str(csv_path), stdout=StringIO(), stderr=StringIO())
    call_command("import_help", str(help_dir), stdout=StringIO(), stderr=StringIO())
    settings.ASSISTANT_DATA_DIR = tmp_path / "assistant"
    adaptation.reset()
    yield tmp_path
    adaptation.reset()


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def _adapt() -> str:
    out = StringIO()
    call_command("adapt_assistant", stdout=out)
    adaptation.reset()
    return out.getvalue()


def test_adapt_assistant_writes_only_its_data_dir_and_a_second_run_changes_nothing(tiny_shop):
    artifact = Path(settings.SLM_ARTIFACT_DIR)
    artifact_before = _files(artifact)
    shop_files = set(_files(tiny_shop))

    printed = _adapt()
    data_dir = Path(settings.ASSISTANT_DATA_DIR)
    assert "3 product(s)" in printed and "1 help article(s)" in printed
    assert set(_files(tiny_shop)) - shop_files == {"assistant/catalogue.json"}
    assert _files(artifact) == artifact_before  # the shipped model is never written
    vocabulary = json.loads((data_dir / "catalogue.json").read_text(encoding="utf-8"))
    assert {"dog beds", "dog leashes", "cat furniture"} <= set(vocabulary["kinds"])
    assert vocabulary["categories"]["Dog Beds"][:2] == ["Dog Supplies", "Pet Supplies"]
    assert vocabulary["options"] == {"Colour": ["Grey"], "Length": ["2 m"], "Size": ["Large", "Small"]}
    assert vocabulary["articles"][0]["tags"] == ["grooming appointment", "nail clipping"]

    first = _files(data_dir)
    assert "unchanged" in _adapt()
    assert _files(data_dir) == first


def test_after_adaptation_a_product_kind_it_never_saw_is_a_product_question_and_the_weather_is_not(tiny_shop):
    _adapt()
    assert understand("do you have dog beds?").intent in PRODUCT_QUESTIONS
    assert understand("any cat furniture for a small flat").intent in PRODUCT_QUESTIONS
    assert understand("what's the weather in Paris").intent == OUT_OF_SCOPE
    assert understand("book a flight to Rome").intent == OUT_OF_SCOPE


def _unsure(text: str) -> Understanding:
    # What the model says of a request it cannot place: too unsure, so acted on as out_of_scope.
    top = [(OUT_OF_SCOPE, 0.5), ("complaint", 0.3), ("review", 0.1)]
    return Understanding(text=text, intent=OUT_OF_SCOPE, raw_intent=OUT_OF_SCOPE, confidence=0.5, top=top)


def test_the_check_turns_an_unsure_mention_of_a_shop_product_kind_into_the_question_its_wording_asks(tiny_shop):
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == OUT_OF_SCOPE  # not adapted yet
    _adapt()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == "product_availability"
    assert adaptation.adapt(_unsure("best dog bed for an old labrador")).intent == "product_recommendation"
    assert adaptation.adapt(_unsure("snooze den")).intent == "product_info"
    assert adaptation.adapt(_unsure("can I book nail clipping for my terrier")).intent == "contact_customer_service"
    assert adaptation.adapt(_unsure("what's the weather in Paris")).intent == OUT_OF_SCOPE
    sure = Understanding(text="dog beds", intent="review", raw_intent="review", confidence=0.9, top=[("review", 0.9)])
    assert adaptation.adapt(sure) is sure  # a confident reading is never second-guessed


def test_a_changed_vocabulary_file_is_picked_up_without_a_restart(tiny_shop, settings):
    _adapt()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == "product_availability"
    settings.ASSISTANT_DATA_DIR = tiny_shop / "elsewhere"  # no vocabulary there: nothing to adapt to
    adaptation.reset()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == OUT_OF_SCOPE


def test_singular_and_plural_forms():
    assert adaptation.singular("dog beds") == "dog bed"
    assert adaptation.singular("batteries") == "battery"
    assert adaptation.singular("watches") == "watch"
    assert adaptation.plural("cat tree") == "cat trees"
    assert adaptation.plural("power strip") == "power strips"
    assert adaptation.plural("battery") == "batteries"


def test_an_unwritable_data_dir_is_a_clear_error_and_a_broken_file_adapts_nothing(tiny_shop, settings):
    from django.core.management import CommandError

    blocker = tiny_shop / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    settings.ASSISTANT_DATA_DIR = blocker / "assistant"
    with pytest.raises(CommandError, match="ASSISTANT_DATA_DIR"):
        call_command("adapt_assistant", stdout=StringIO())

    settings.ASSISTANT_DATA_DIR = tiny_shop / "assistant"
    _adapt()
    (tiny_shop / "assistant" / "catalogue.json").write_text("{not json", encoding="utf-8")
    adaptation.reset()
    assert adaptation.adapt(_unsure("do you have dog leashes")).intent == OUT_OF_SCOPE
