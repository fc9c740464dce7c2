"""The Japanese classifier (bot/slm_artifact_ja) and routing by language (bot.slm)."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from bot import slm
from bot.slm import classifier_language, get_classifier, reset_classifier, understand
from bot.training.dataset import read_jsonl

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_JA = ROOT / "bot" / "slm_artifact_ja"


@pytest.fixture(autouse=True)
def fresh_classifiers():
    reset_classifier()
    yield
    reset_classifier()


@pytest.mark.parametrize(
    "text, conversation, expected",
    [
        ("注文した商品はいつ届きますか？", None, "ja"),
        ("注文した商品はいつ届きますか？", "en", "ja"),  # the message's script first
        ("where is my order?", "ja", "en"),
        ("ｷｬﾝｾﾙしたい", None, "ja"),
        ("１２３４５", "ja", "ja"),  # no letters: the conversation's language
        ("10234", "en", "en"),
        ("👍", None, "en"),  # no letters, no conversation language: the shop's first language
    ],
)
def test_a_message_goes_to_the_classifier_of_its_language(text, conversation, expected):
    assert classifier_language(text, conversation) == expected


def test_with_japanese_first_a_message_without_letters_is_read_as_japanese(settings):
    settings.SHOP_LANGUAGES = ["ja", "en"]
    assert classifier_language("10234") == "ja"
    settings.SHOP_LANGUAGES = ["en"]
    assert classifier_language("10234") == "en"


def test_an_unknown_language_has_no_artifact():
    with pytest.raises(ValueError):
        slm.artifact_dir("fr")


def test_the_shipped_japanese_artifact_is_complete_and_within_its_budget():
    for name in ("model.onnx", "tokenizer.json", "labels.json", "config.json", "MODEL_CARD.md", "dev.jsonl", "test.jsonl", "report.json"):
        assert (SHIPPED_JA / name).exists(), name
    # Issue #15: the shipped artifacts together <= 60 MB: what serving loads (model and tokenizer)
    # of the English classifier, the Japanese classifier and the embedder. Their evaluation
    # splits and reports (dev/test.jsonl, report.json) ship beside them and are not loaded.
    shipped = [ROOT / "bot" / name for name in ("slm_artifact", "slm_artifact_ja", "embedder_artifact")]
    total = sum((folder / name).stat().st_size for folder in shipped for name in ("model.onnx", "tokenizer.json"))
    assert total <= 60 * 1000 * 1000, total
    config = json.loads((SHIPPED_JA / "config.json").read_text())
    assert config["language"] == "ja" and 0.0 < config["threshold"] < 1.0 and config["temperature"] > 0
    english = json.loads((ROOT / "bot" / "slm_artifact" / "labels.json").read_text())
    assert json.loads((SHIPPED_JA / "labels.json").read_text()) == english  # the same intents, the same order


def test_the_japanese_model_is_accurate_on_its_shipped_dev_split():
    classifier = get_classifier("ja")
    dev = read_jsonl(SHIPPED_JA / "dev.jsonl")
    results = classifier.classify_batch([ex.text for ex in dev])
    accuracy = sum(r.intent == ex.intent for r, ex in zip(results, dev)) / len(dev)
    assert len(dev) > 300
    # A floor against regressions at the shipped model's level (dev 0.82); the target
    # (test split >= 0.95) is not reached yet: see bot/slm_artifact_ja/MODEL_CARD.md.
    assert accuracy >= 0.80, accuracy


@pytest.mark.parametrize(
    "text, intent",
    [
        ("注文をキャンセルしたいです", "cancel_order"),
        ("パスワードを忘れてしまいました", "recover_password"),
        ("ありがとうございます！", "thanks"),
        ("返金はいつされますか", "track_refund"),
        ("オペレーターと話したいです", "contact_human_agent"),
    ],
)
def test_clear_japanese_messages_get_their_intent(text, intent):
    u = understand(text)
    assert (u.language, u.intent) == ("ja", intent), u.top


def test_english_messages_still_go_to_the_english_model():
    u = understand("where is my order #10234?")
    assert (u.language, u.intent) == ("en", "track_order")
    assert get_classifier("en").language == "en" and get_classifier("ja").language == "ja"


def test_japanese_understanding_carries_japanese_entities():
    u = understand("注文番号１２３４５をキャンセルしたい")
    assert u.language == "ja"
    assert [(e.type, e.value) for e in u.entities] == [("order_number", "12345")]
    assert u.as_dict()["language"] == "ja"


def test_an_empty_japanese_artifact_folder_is_a_clear_error(tmp_path, settings):
    from bot.slm.classifier import ArtifactError

    settings.SLM_ARTIFACT_DIR_JA = tmp_path
    with pytest.raises(ArtifactError):
        get_classifier("ja")


@pytest.mark.django_db
def test_classify_reports_each_messages_language():
    out = StringIO()
    call_command("classify", "注文をキャンセルしたいです", "where is my order?", "12345", "--language", "ja", "--no-catalog", stdout=out)
    items = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [item["language"] for item in items] == ["ja", "en", "ja"]
    assert items[0]["intent"] == "cancel_order"
