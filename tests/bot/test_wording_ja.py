"""The assistant's Japanese: fixed texts, order facts, shipping and products rendered under the
conversation's language — Japanese dates (2026年12月3日), Japanese list separators, whole
sentences in the operation's own words, and no English left in them."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from bot import conversations, dialogue, services
from bot.order_facts import _date, invoice_text, refund_text, tracking_text
from catalog import selectors
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory, ShippingMethodFactory, VariantFactory

pytestmark = pytest.mark.django_db

LATIN_WORD = re.compile(r"\b(?!(?:DHL|UPS|RMA|EUR)\b)[A-Za-z]{3,}\b")  # an English word in the text


def _perform(action, *, language="ja", state=None):
    conversation = conversations.conversation_start(language=language)
    executor = services._Executor(conversation=conversation, user=None)
    with translation.override(conversation.language):
        executor.perform(action, state or {"slots": {}})
    return executor.reply


def test_a_new_conversation_takes_the_storefront_language_and_the_shop_default_otherwise():
    assert conversations.conversation_start(language="ja").language == "ja"
    assert conversations.conversation_start(language="fr").language == "en"
    assert conversations.conversation_start().language == "en"


def test_the_greeting_in_japanese_names_the_shop_and_offers_japanese_buttons(settings):
    with translation.override("ja"):
        step = dialogue.step(None, dialogue.Understood(text="こんにちは", intent="greeting", confidence=0.99))
    reply = _perform(step.actions[0])
    assert reply.texts == [
        f"こんにちは！{settings.SHOP_NAME}のアシスタントです。ご注文の配送状況の確認、キャンセルや返品、返金状況の確認のほか、"
        "配送・お支払い・アカウント・商品についてのご質問にお答えします。どのようなご用件でしょうか？"
    ]
    assert reply.quick_replies == ["注文状況を確認", "商品を返品", "配送方法"]


def test_the_operations_own_words_when_the_shopper_declines():
    for action, text in [
        ("cancel", "承知しました。ご注文 10488 のキャンセルは行いません。ほかにお手伝いできることはありますか？"),
        ("return", "承知しました。ご注文 10488 の返品手続きは開始しません。ほかにお手伝いできることはありますか？"),
        ("change_address", "承知しました。ご注文 10488 のお届け先は変更しません。ほかにお手伝いできることはありますか？"),
    ]:
        assert _perform(dialogue.Say("declined", {"action": action, "number": "10488"})).texts == [text]
    english = _perform(dialogue.Say("declined", {"action": "return", "number": "10488"}), language="en")
    assert english.texts == ["Okay, I won't start the return for order 10488. Anything else I can do?"]


def test_counts_and_minutes_in_japanese():
    reply = _perform(dialogue.Say("code_sent", {"email": "s***@example.com", "minutes": 10}))
    assert reply.texts[0].endswith("こちらに入力してください（有効期限：10分間）。")
    assert _perform(dialogue.Say("code_wrong", {"left": 1})).texts[0].endswith("（残り1回）。")


def test_dates_follow_the_language():
    day = date(2026, 12, 3)
    with translation.override("ja"):
        assert _date(day) == "2026年12月3日"
    with translation.override("en"):
        assert _date(day) == "3 Dec 2026"


def test_order_facts_in_japanese_have_japanese_dates_and_no_english_sentences():
    product = ProductFactory(name="Linen Camp Shirt", price=Decimal("59.00"))
    variant = VariantFactory(product=product, colour="Blue", size="M", stock=3)
    now = timezone.now()
    order = OrderFactory(number="31001", shipped=True, carrier="DHL", tracking_number="JD0001",
                         estimated_delivery=(now + timedelta(days=2)).date())
    OrderLineFactory(order=order, variant=variant, quantity=2)
    summary = selectors.order_summary(order=order)
    with translation.override("ja"):
        text = tracking_text(summary)
        invoice = invoice_text(summary)
    expected_eta = f"お届け予定日は{_date_ja(summary['estimated_delivery'])}です。"
    assert text.startswith("ご注文 31001（") and "2点" in text and expected_eta in text, text
    assert "DHLで発送いたしました。" in text and "追跡番号はJD0001です。" in text
    assert invoice.startswith("ご注文 31001 のご請求内容：Linen Camp Shirt（") and "× 2（単価 " in invoice, invoice
    assert "「請求書を開く」" in invoice
    # Shop data stays as the shop wrote it (the product, its variant); the status label is the
    # catalog's own (translated in catalog/locale), so it is left out here.
    for said in (text, invoice):
        said = said.replace("Linen Camp Shirt", "").replace("Blue", "").replace(f"「{summary['status_display'].lower()}」", "")
        assert not LATIN_WORD.search(said), said


def _date_ja(value):
    with translation.override("ja"):
        return _date(value)


def test_a_refund_in_japanese():
    item = {"rma_number": "RMA-1", "status": "refunded", "status_display": "返金済み", "refund_amount": "59.00",
            "currency": "EUR", "refunded_at": "2026-12-03T10:00:00+00:00"}
    with translation.override("ja"):
        text = refund_text(item)
    assert text.startswith("返品 RMA-1：返金済み。2026年12月3日に") and text.endswith("をご利用のお支払い方法へ返金いたしました。")


def test_shipping_and_product_details_in_japanese():
    ShippingMethodFactory(code="express", name="Express", countries=["DE"], price=Decimal("9.90"), free_over=None,
                          min_days=1, max_days=1)
    text = _perform(dialogue.Shipping(intent="delivery_period", country="DE")).texts[0]
    assert text.startswith(text.split("：")[0] + "：\n• Express：") and "1営業日" in text, text
    product = ProductFactory(name="Merino Jumper", slug="merino-jumper", price=Decimal("89.00"), materials="Merino wool")
    for colour, size in [("Grey", "M"), ("Navy", "L")]:
        VariantFactory(product=product, colour=colour, size=size, stock=2)
    details = _perform(dialogue.Products(intent="product_info", query="merino jumper", product="merino-jumper"),
                       state={"slots": {}}).texts[0]
    assert details.startswith("Merino Jumperの価格は") and "素材はMerino woolです。" in details, details
    assert "カラー：Grey、Navy。サイズ：M、L。" in details


@pytest.mark.parametrize(
    "text, subscribe",
    [("メルマガの配信を停止したい", False), ("ニュースレターを解除してください", False), ("ニュースレターに登録したい", True),
     ("please unsubscribe me from the newsletter", False)],
)
def test_unsubscribing_in_japanese_is_never_taken_for_subscribing(text, subscribe):
    understood = dialogue.Understood(text=text, intent="newsletter_subscription", confidence=0.95,
                                     entities=({"type": "email", "value": "a@example.com"},))
    action = dialogue.step(None, understood).actions[0]
    assert isinstance(action, dialogue.Newsletter) and action.subscribe is subscribe


def test_another_order_in_japanese_forgets_the_current_one():
    state = {**dialogue.initial_state(), "slots": {"order_number": "10514"}, "verified": ["10514"], "active_order": "10514"}
    understood = dialogue.Understood(text="別の注文はどこですか", intent="track_order", confidence=0.95)
    step = dialogue.step(state, understood)
    assert [type(a) for a in step.actions] == [dialogue.Say] and step.actions[0].key == "ask_order_number"
