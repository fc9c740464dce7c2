"""`python manage.py classify`: its JSON-lines contract and how it treats bad input."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]


def run(stdin: bytes, *args):
    return subprocess.run(
        [sys.executable, "manage.py", "classify", *args], cwd=ROOT, input=stdin, capture_output=True, timeout=120
    )


def lines(stdout: bytes):
    return [json.loads(line) for line in stdout.decode("utf-8").splitlines()]


def assert_contract(item: dict, text: str):
    assert list(item) == ["text", "intent", "confidence", "top", "entities", "language"]
    assert item["language"] in ("en", "ja")
    assert item["text"] == text
    assert isinstance(item["intent"], str) and 0.0 <= item["confidence"] <= 1.0
    assert len(item["top"]) == 3 and all(isinstance(i, str) and 0.0 <= p <= 1.0 for i, p in item["top"])
    for entity in item["entities"]:
        assert {"type", "value", "start", "end"} <= set(entity)
        assert entity["end"] > entity["start"]


@pytest.mark.django_db
def test_messages_as_arguments_give_one_json_line_each():
    out = StringIO()
    call_command("classify", "where is my order #10234?", "do you ship to Norway?", stdout=out)
    items = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(items) == 2
    assert_contract(items[0], "where is my order #10234?")
    assert items[0]["intent"] == "track_order"
    assert {"type": "order_number", "value": "10234", "start": 18, "end": 24} in items[0]["entities"]
    assert items[1]["intent"] == "delivery_options"
    assert {"type": "country", "value": "NO", "start": 15, "end": 21} in items[1]["entities"]


def test_stdin_one_message_per_line():
    result = run("hi there\nI want a refund for order NW-55120\ncan I pay with klarna\n".encode())
    assert result.returncode == 0, result.stderr
    items = lines(result.stdout)
    assert [i["text"] for i in items] == ["hi there", "I want a refund for order NW-55120", "can I pay with klarna"]
    for item in items:
        assert_contract(item, item["text"])
    assert [i["intent"] for i in items] == ["greeting", "get_refund", "check_payment_methods"]


def test_bad_lines_get_an_error_line_and_the_rest_is_classified():
    stdin = b"where is my parcel\n\n   \n\xff\xfe not utf-8\r\nthank you\n"
    result = run(stdin)
    assert result.returncode == 1
    assert b"3 message(s) could not be classified" in result.stderr
    items = lines(result.stdout)
    assert [i.get("error") for i in items] == [None, "empty message", "empty message", "not valid UTF-8 (byte 0)", None]
    assert [i.get("line") for i in items[1:4]] == [2, 3, 4]
    assert items[3]["text"] == "\ufffd\ufffd not utf-8"
    assert items[4]["intent"] == "thanks"
    assert "Traceback" not in result.stderr.decode()


def test_a_very_long_line_is_classified_from_its_beginning():
    text = "where is my order 10234 " + "blah " * 15000
    result = run(text.encode() + b"\n")
    assert result.returncode == 0
    (item,) = lines(result.stdout)
    assert item["text"] == text.rstrip("\n")
    assert item["intent"] in {"track_order", "out_of_scope"}


def test_a_line_over_the_limit_is_an_error():
    result = run(b"a" * 100_001 + b"\n")
    assert result.returncode == 1
    (item,) = lines(result.stdout)
    assert item["error"].startswith("message too long: 100001 characters")


def test_non_utf8_arguments_are_an_error_not_a_crash():
    result = subprocess.run(
        [sys.executable, "manage.py", "classify", b"caf\xe9".decode("utf-8", "surrogateescape"), "hello"],
        cwd=ROOT, capture_output=True, timeout=120,
    )
    assert result.returncode == 1
    items = lines(result.stdout)
    assert items[0]["error"].startswith("not valid UTF-8") and items[1]["intent"] == "greeting"


def test_empty_stdin_prints_nothing():
    result = run(b"")
    assert (result.returncode, result.stdout) == (0, b"")


@pytest.mark.django_db
def test_a_missing_artifact_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="cannot load the SLM artifact"):
        call_command("classify", "hi", artifact=str(tmp_path))


@pytest.mark.django_db
def test_products_come_from_the_catalog_when_it_has_products():
    from decimal import Decimal

    from catalog.models import Category, Product, Variant

    category = Category.objects.create(name="Shirts", slug="shirts")
    product = Product.objects.create(category=category, name="Linen Camp Shirt", slug="linen-camp-shirt", price=Decimal("59.00"))
    Variant.objects.create(product=product, sku="LCS-SAND-M", size="M", colour="Sand", stock=3)
    out = StringIO()
    call_command("classify", "is the linen shirt in sand available in M?", stdout=out)
    item = json.loads(out.getvalue())
    assert [(e["type"], e["value"]) for e in item["entities"]] == [("product", "linen-camp-shirt"), ("colour", "Sand"), ("size", "M")]
    out = StringIO()
    call_command("classify", "is the linen shirt in sand available in M?", no_catalog=True, stdout=out)
    assert "product" not in [e["type"] for e in json.loads(out.getvalue())["entities"]]
