"""The chat in the shopper's language over the real WebSocket consumer: the storefront's language
(?language=, Django's language cookie, Accept-Language), a switch when the shopper writes in
another shop language, and Japanese answers where the assistant needs no Japanese classifier
(clicked Japanese buttons, an order number and e-mail verification, yes/no, the e-mailed code,
errors). Free-text Japanese intents wait for the Japanese classifier (another change)."""

import re

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core import mail

from bot.models import Conversation
from catalog.models import Order
from support.asgi import application
from tests.bot.test_consumers import cid, frames_until, session

pytestmark = [pytest.mark.django_db(transaction=True)]

HOST = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


async def connect(path="/ws/chat/", headers=()):
    comm = WebsocketCommunicator(application, path, headers=HOST + list(headers))
    connected, _ = await comm.connect(timeout=10)
    assert connected
    await session(comm)
    return comm


async def say(comm, text):
    """Send a message; the assistant's answer (a MESSAGE frame from the bot)."""
    await comm.send_json_to({"type": "message", "text": text, "client_id": cid()})
    while True:
        frame, _ = await frames_until(comm, "message", timeout=30)
        if frame["sender"] == "bot":
            return frame


@database_sync_to_async
def conversation_language():
    return Conversation.objects.get().language


def has_japanese(text):
    return re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) is not None


# --- The storefront's language ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/ws/chat/?language=ja", []),
        ("/ws/chat/", [(b"cookie", f"{settings.LANGUAGE_COOKIE_NAME}=ja".encode())]),
        ("/ws/chat/", [(b"accept-language", b"ja-JP,ja;q=0.9,en;q=0.5")]),
        # The widget's parameter (the page's <html lang>) comes before the browser's preference.
        ("/ws/chat/?language=ja", [(b"accept-language", b"en-GB,en;q=0.9")]),
    ],
    ids=["query", "cookie", "accept-language", "query-beats-header"],
)
async def test_a_japanese_storefront_gets_its_answer_in_japanese(shop_with_kb, path, headers):
    comm = await connect(path, headers)
    try:
        # A clicked Japanese button ("Track my order") needs no classifier to be understood.
        reply = await say(comm, "注文状況を確認")
        assert reply["intent"] == "track_order"
        assert reply["text"].startswith("かしこまりました。ご注文をお調べします。ご注文番号を教えていただけますか？"), reply["text"]
        assert reply["language"] == "ja"
        assert await conversation_language() == "ja"
    finally:
        await comm.disconnect()


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/ws/chat/", []),
        ("/ws/chat/?language=fr", [(b"accept-language", b"de-DE,fr;q=0.9")]),  # not shop languages
        ("/ws/chat/?language=en", [(b"cookie", f"{settings.LANGUAGE_COOKIE_NAME}=ja".encode())]),
    ],
    ids=["nothing", "unsupported", "query-beats-cookie"],
)
async def test_otherwise_the_chat_starts_in_english(shop_with_kb, path, headers):
    comm = await connect(path, headers)
    try:
        reply = await say(comm, "Track my order")
        assert reply["text"].startswith("Sure, I can look up your order. What's your order number?"), reply["text"]
        assert reply["language"] == "en" and await conversation_language() == "en"
    finally:
        await comm.disconnect()


# --- Switching mid-chat --------------------------------------------------------------------------


async def test_a_shopper_who_switches_language_is_answered_in_the_new_one(shop_with_kb):
    comm = await connect("/ws/chat/?language=ja")
    try:
        first = await say(comm, "注文状況を確認")
        assert has_japanese(first["text"]) and first["language"] == "ja"
        # English typed on the Japanese storefront: the answer (and the conversation) is English.
        english = await say(comm, "where is my order 20002? my email is sam.shopper@example.com")
        assert english["language"] == "en" and await conversation_language() == "en"
        assert "Order 20002" in english["text"] and not has_japanese(english["text"]), english["text"]
        # Back to Japanese: the next answer is Japanese again, about the same verified order.
        again = await say(comm, "返金状況を確認")
        assert again["language"] == "ja" and await conversation_language() == "ja"
        assert again["text"].startswith("ご注文 20002 には、まだ返品・返金のお手続きはありません。"), again["text"]
        assert again["quick_replies"] == ["商品を返品"]
    finally:
        await comm.disconnect()


async def test_digits_and_an_email_address_keep_the_conversation_in_japanese(shop_with_kb):
    comm = await connect("/ws/chat/?language=ja")
    try:
        await say(comm, "注文状況を確認")
        ask_email = await say(comm, "20002")
        assert ask_email["text"] == (
            "ありがとうございます！お客様の情報保護のため、ご注文 20002 の際にご登録いただいたメールアドレスを教えてください。"
        )
        tracking = await say(comm, "sam.shopper@example.com")
        assert tracking["language"] == "ja" and await conversation_language() == "ja"
        assert tracking["text"].startswith("ご注文 20002（"), tracking["text"]
        assert "のステータスは「" in tracking["text"] and "年" in tracking["text"] and "月" in tracking["text"]
        assert tracking["cards"][0]["kind"] == "order" and tracking["cards"][0]["number"] == "20002"
    finally:
        await comm.disconnect()


# --- An order change in Japanese: verification, yes/no, the e-mailed code -------------------------


async def test_a_japanese_cancel_with_verification_and_the_emailed_code(shop_with_kb):
    comm = await connect("/ws/chat/?language=ja")
    try:
        asked = await say(comm, "注文をキャンセル")
        assert asked["text"].startswith("かしこまりました。ご注文のキャンセルを承ります。"), asked["text"]
        await say(comm, "20001")
        question = await say(comm, "sam.shopper@example.com")
        assert re.fullmatch(r"ご注文 20001（2点、.+）をキャンセルしますか？", question["text"]), question["text"]
        assert question["quick_replies"] == ["はい", "いいえ"]
        code_sent = await say(comm, "はい")
        assert code_sent["text"].startswith("ご本人確認のため、ご注文のメールアドレス "), code_sent["text"]
        assert "6桁の確認コード" in code_sent["text"] and "分間）。" in code_sent["text"]
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        wrong = await say(comm, "000000" if code != "000000" else "111111")
        assert wrong["text"].startswith("確認コードが正しくありません。") and "残り" in wrong["text"], wrong["text"]
        done = await say(comm, code)
        assert done["text"].startswith("ご注文 20001 のキャンセルが完了しました。"), done["text"]
        order = await database_sync_to_async(Order.objects.get)(number="20001")
        assert order.status == Order.Status.CANCELLED
    finally:
        await comm.disconnect()


async def test_iie_declines_a_japanese_cancel_whatever_the_model_reads(shop_with_kb):
    comm = await connect("/ws/chat/?language=ja")
    try:
        await say(comm, "注文をキャンセル")
        await say(comm, "20001")
        await say(comm, "sam.shopper@example.com")
        declined = await say(comm, "いいえ、結構です。")
        assert declined["text"] == "承知しました。ご注文 20001 のキャンセルは行いません。ほかにお手伝いできることはありますか？"
        order = await database_sync_to_async(Order.objects.get)(number="20001")
        assert order.status != Order.Status.CANCELLED and not mail.outbox
    finally:
        await comm.disconnect()


async def test_a_wrong_order_number_and_email_is_refused_in_japanese(shop_with_kb):
    comm = await connect("/ws/chat/?language=ja")
    try:
        await say(comm, "注文状況を確認")
        await say(comm, "20002")
        refused = await say(comm, "kenji.tanaka@example.jp")
        assert refused["text"].startswith("申し訳ありません。その注文番号とメールアドレスに一致するご注文が見つかりませんでした。")
        assert "（残り4回）" in refused["text"], refused["text"]
    finally:
        await comm.disconnect()


# --- Errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, code, detail",
    [
        ('{"type": "message", "text": "   "}', "empty_text", "メッセージを入力してください。"),
        ("{nope", "bad_json", "このフレームは正しいJSONではありません。"),
        ('{"type": "rating", "score": 9}', "bad_frame", "評価は1から5までの整数で指定してください。"),
    ],
)
async def test_errors_come_in_the_storefronts_language(raw, code, detail):
    comm = await connect("/ws/chat/?language=ja")
    try:
        await comm.send_to(text_data=raw)
        frame, _ = await frames_until(comm, "error")
        assert frame["code"] == code and frame["detail"] == detail
    finally:
        await comm.disconnect()


async def test_errors_follow_the_conversation_after_a_switch(shop_with_kb):
    comm = await connect("/ws/chat/?language=ja")
    try:
        await say(comm, "where is my order?")  # English: the conversation is English now
        await comm.send_to(text_data='{"type": "message", "text": ""}')
        frame, _ = await frames_until(comm, "error")
        assert frame["detail"] == "A message needs some text."
    finally:
        await comm.disconnect()


# --- Hand-off -------------------------------------------------------------------------------------


async def test_a_japanese_hand_off_is_announced_in_japanese(shop_with_kb):
    from support.models import Escalation

    comm = await connect("/ws/chat/?language=ja")
    try:
        reply = await say(comm, "スタッフと話す")  # the "Talk to a person" button
        assert reply["intent"] == "contact_human_agent"
        assert reply["text"] == "このチャットをサポートチームにおつなぎします。これまでのやり取りはすべて担当者に引き継がれます。"
        escalation = await database_sync_to_async(Escalation.objects.get)()
        assert escalation.conversation_id and (await conversation_language()) == "ja"
        # Every message the server stores for the shopper records the language it is written in.
        languages = await database_sync_to_async(
            lambda: {m.data.get("language") for m in escalation.conversation.messages.exclude(sender="shopper")}
        )()
        assert languages == {"ja"}
    finally:
        await comm.disconnect()
