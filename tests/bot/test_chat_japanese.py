"""The demo scenarios in Japanese free text over the real WebSocket consumer, understood by the
shipped Japanese classifier (no buttons): track, cancel, a return refused and one allowed, a
refund's status and a hand-off. Every answer is asserted to be Japanese and about the right
order; the database says what happened."""

import re

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.utils import translation

from bot.intents import BY_NAME
from bot.models import Conversation
from catalog.models import Order, ReturnRequest
from tests.bot.test_chat_languages import connect, has_japanese, say

pytestmark = [pytest.mark.django_db(transaction=True)]

EMAIL = "sam.shopper@example.com"


def japanese(frame):
    assert frame["language"] == "ja" and has_japanese(frame["text"]), frame["text"]
    return frame["text"]


def label(intent):
    with translation.override("ja"):
        return str(BY_NAME[intent].label)


async def verified(comm, text, number, intents):
    """Ask in free Japanese, give the order number (full-width, as Japanese keyboards type it)
    and the e-mail address; the answer after verification. When the assistant is unsure it asks
    which of a few requests is meant (Japanese buttons): the shopper clicks one of `intents`, the
    first offered, as a shopper would; the clarifying question must offer one of them."""
    asked = await say(comm, text)
    japanese(asked)
    if asked["intent"] not in intents:
        offered = [i for i in intents if label(i) in (asked.get("quick_replies") or [])]
        assert offered, asked
        asked = await say(comm, label(offered[0]))
        japanese(asked)
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    ask_email = await say(comm, f"注文番号は{full_width}です")
    assert number in japanese(ask_email), ask_email["text"]
    return asked, await say(comm, EMAIL)


@pytest.fixture
async def chat(shop_with_kb):
    comm = await connect("/ws/chat/?language=ja")
    yield comm
    await comm.disconnect()


async def test_where_is_my_order(chat):
    asked, answer = await verified(chat, "先週注文した荷物がまだ届かないんですけど、今どこにありますか？", "20002", ["track_order"])
    assert asked["intent"] == "track_order", asked
    text = japanese(answer)
    assert text.startswith("ご注文 20002（"), text
    assert answer["cards"][0]["kind"] == "order" and answer["cards"][0]["number"] == "20002"


async def test_cancel_with_the_emailed_code(chat):
    asked, question = await verified(chat, "すみません、昨日の注文をキャンセルしたいです", "20001", ["cancel_order"])
    assert asked["intent"] == "cancel_order", asked
    assert re.fullmatch(r"ご注文 20001（.+）をキャンセルしますか？", japanese(question)), question["text"]
    japanese(await say(chat, "はい、お願いします"))
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    done = await say(chat, code.translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    assert japanese(done).startswith("ご注文 20001 のキャンセルが完了しました。"), done["text"]
    assert (await database_sync_to_async(Order.objects.get)(number="20001")).status == Order.Status.CANCELLED


async def test_a_return_inside_the_window_is_started(chat):
    asked, offer = await verified(chat, "届いた服のサイズが合わなかったので返品したいです", "20003", ["return_item", "get_refund"])
    assert asked["intent"] in ("return_item", "get_refund"), asked
    japanese(offer)
    assert offer["quick_replies"] == ["はい", "いいえ"], offer
    japanese(await say(chat, "はい"))
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    done = await say(chat, code)
    rma = await database_sync_to_async(lambda: ReturnRequest.objects.filter(order__number="20003").first())()
    assert rma is not None and rma.rma_number in japanese(done), done["text"]


async def test_a_return_outside_the_window_is_refused_and_explained(chat):
    asked, answer = await verified(chat, "２ヶ月前に届いた注文の商品を返品したいです", "20004", ["return_item", "get_refund"])
    assert asked["intent"] in ("return_item", "get_refund"), asked
    text = japanese(answer)
    assert "はい" not in (answer.get("quick_replies") or []), answer
    assert "日" in text, text  # the window, in days
    assert not await database_sync_to_async(ReturnRequest.objects.filter(order__number="20004").exists)()


async def test_refund_status(chat):
    asked, answer = await verified(chat, "返金ってもう処理されてますか？", "20002", ["track_refund"])
    assert asked["intent"] == "track_refund", asked
    assert japanese(answer).startswith("ご注文 20002 には、まだ返品・返金のお手続きはありません。"), answer["text"]


async def test_a_complaint_is_handed_to_a_person(chat):
    from support.models import Escalation

    reply = await say(chat, "対応がひどすぎます。責任者を出してください！")
    assert reply["intent"] in ("complaint", "contact_human_agent"), reply
    japanese(reply)
    escalation = await database_sync_to_async(Escalation.objects.get)()
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=escalation.conversation_id)
    assert conversation.language == "ja" and conversation.status == Conversation.Status.WAITING
