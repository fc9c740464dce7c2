"""The chat on the second shop (catalog/shops/electronics/): imported by its own files, adapted,
then asked a product question and a policy question over the WebSocket."""

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from bot import adaptation
from tests.bot.test_consumers import cid, connect, frames_until, session

pytestmark = [pytest.mark.django_db(transaction=True)]

SHOP = Path(settings.BASE_DIR) / "catalog" / "shops" / "electronics"


@pytest.fixture
def electronics_shop(tmp_path, settings):
    call_command("import_catalog", str(SHOP / "products.csv"), stdout=StringIO(), stderr=StringIO())
    call_command("import_help", str(SHOP / "help"), stdout=StringIO(), stderr=StringIO())
    settings.ASSISTANT_DATA_DIR = tmp_path / "assistant"
    call_command("adapt_assistant", stdout=StringIO())
    adaptation.reset()
    yield
    adaptation.reset()


async def _reply(text: str) -> dict:
    comm = await connect()
    try:
        await session(comm)
        await comm.send_json_to({"type": "message", "text": text, "client_id": cid()})
        reply, _ = await frames_until(comm, "message")
        return reply
    finally:
        await comm.disconnect()


async def test_a_product_of_the_second_shop_is_answered_as_a_product_question(electronics_shop):
    reply = await _reply("do you have usb-c chargers?")
    assert reply["intent"] in {"product_availability", "product_info", "product_recommendation"}, reply


async def test_cash_on_delivery_is_answered_as_a_payment_question_from_the_shops_help(electronics_shop):
    reply = await _reply("do you offer cash on delivery?")
    assert reply["intent"] == "check_payment_methods", reply
    assert "cash on delivery" in reply["text"].lower() or "pay" in reply["text"].lower()
