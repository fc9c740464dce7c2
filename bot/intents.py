"""The intent registry: one row per intent, and every list of intents in the project derives from it.

A row says what the assistant does with the intent (its ``kind``), the order operation or order
facts a verified order gets, the help-centre topic its knowledge answers prefer, whether it is
small talk (left out of hand-off summaries), and the short label of its quick-reply button.

The labels the model serves are those of the shipped artifact (bot/slm_artifact/labels.json);
tests/bot/test_intents.py proves every one of them has a row here and every model row is one of
them. Rows with ``model=False`` are names the dialogue records in its history (a clarifying
question, an e-mail address given after hours, a one-time code), never a classifier output.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

ARTIFACT_LABELS = Path(__file__).resolve().parent / "slm_artifact" / "labels.json"

# What the assistant does with an intent.
ORDER = "order"  # needs a verified order; then shows facts (`shows`) or prepares an `operation`
KNOWLEDGE = "knowledge"  # a help-centre answer (its `topic` preferred)
PRODUCT = "product"  # searches the catalog
SHIPPING = "shipping"  # the shop's shipping options
CONVERSATION = "conversation"  # handled by the dialogue itself (greetings, yes/no, feedback, hand-off)


@dataclass(frozen=True)
class Intent:
    name: str
    kind: str
    label: object = None  # quick-reply button (lazy, translatable); None = never offered as a button
    operation: str = ""  # ORDER: the order operation it prepares (bot.actions.operations)
    shows: str = ""  # ORDER: the facts it shows instead (dialogue.OrderInfo.what)
    purpose: object = None  # ORDER: the sentence before "What's your order number?" (lazy, translatable)
    topic: str = ""  # KNOWLEDGE: the help-centre topic preferred
    persistent: bool = False  # KNOWLEDGE: asked again right away, it goes to a person
    small_talk: bool = False  # left out of the hand-off summary's list of requests
    says_order_number: bool = False  # training: shoppers often type an order number with it
    model: bool = True  # a label of the classifier (else a name the dialogue records itself)


INTENTS: tuple[Intent, ...] = (
    Intent("track_order", ORDER, _("Track my order"), shows="track", purpose=_("Sure, I can look up your order."), says_order_number=True),
    Intent("cancel_order", ORDER, _("Cancel my order"), operation="cancel", purpose=_("Sure, I can cancel your order."), says_order_number=True),
    Intent("change_order", ORDER, _("Change my order"), operation="change_order", purpose=_("Sure, I can change your order."), says_order_number=True),
    Intent("place_order", PRODUCT, _("Help me order")),
    Intent("delivery_options", SHIPPING, _("Shipping options")),
    Intent("delivery_period", SHIPPING, _("Delivery times"), says_order_number=True),
    Intent("change_shipping_address", ORDER, _("Change my address"), operation="change_address",
           purpose=_("Sure, I can change the delivery address."), says_order_number=True),
    Intent("set_up_shipping_address", KNOWLEDGE, _("Manage saved addresses"), topic="account"),
    Intent("check_refund_policy", KNOWLEDGE, _("Refund policy"), topic="returns"),
    Intent("get_refund", ORDER, _("Get a refund"), operation="return", purpose=_("Sure, I can start your refund."), says_order_number=True),
    Intent("track_refund", ORDER, _("Refund status"), shows="refund", purpose=_("Sure, I can check your refund."), says_order_number=True),
    Intent("return_item", ORDER, _("Return an item"), operation="return", purpose=_("Sure, I can start your return.")),
    Intent("check_payment_methods", KNOWLEDGE, _("Payment methods"), topic="payments"),
    Intent("payment_issue", KNOWLEDGE, _("Payment problem"), topic="payments", persistent=True, says_order_number=True),
    Intent("check_invoice", ORDER, _("See my invoice"), shows="invoice", purpose=_("Sure, I can find your invoice."), says_order_number=True),
    Intent("get_invoice", ORDER, _("Download my invoice"), shows="invoice_link", purpose=_("Sure, I can find your invoice."), says_order_number=True),
    Intent("check_cancellation_fee", KNOWLEDGE, _("Cancellation fee"), topic="orders"),
    Intent("create_account", KNOWLEDGE, _("Create an account"), topic="account"),
    Intent("delete_account", KNOWLEDGE, _("Delete my account"), topic="account"),
    Intent("edit_account", KNOWLEDGE, _("Edit my account"), topic="account"),
    Intent("recover_password", KNOWLEDGE, _("Reset my password"), topic="account"),
    Intent("registration_problems", KNOWLEDGE, _("Sign-up problem"), topic="account", persistent=True),
    Intent("switch_account", KNOWLEDGE, _("Switch account"), topic="account"),
    Intent("contact_customer_service", KNOWLEDGE, _("Contact details"), topic="contact"),
    Intent("contact_human_agent", CONVERSATION, _("Talk to a person")),
    Intent("complaint", CONVERSATION, _("Make a complaint")),
    Intent("review", CONVERSATION, _("Leave feedback")),
    Intent("newsletter_subscription", CONVERSATION, _("Newsletter")),
    Intent("product_availability", PRODUCT, _("Check stock")),
    Intent("product_info", PRODUCT, _("Product details")),
    Intent("product_recommendation", PRODUCT, _("Find a product")),
    Intent("discount_code", KNOWLEDGE, _("Discount codes"), topic="promotions"),
    Intent("greeting", CONVERSATION, small_talk=True),
    Intent("goodbye", CONVERSATION, small_talk=True),
    Intent("thanks", CONVERSATION, small_talk=True),
    Intent("affirm", CONVERSATION, small_talk=True),
    Intent("deny", CONVERSATION, small_talk=True),
    Intent("out_of_scope", CONVERSATION, small_talk=True),
    # Names the dialogue records in its history; the classifier never serves them.
    Intent("followup_email", CONVERSATION, small_talk=True, model=False),
    Intent("verification_code", CONVERSATION, model=False),
    Intent("clarify", CONVERSATION, model=False),
)
BY_NAME: dict[str, Intent] = {row.name: row for row in INTENTS}


def names(**where) -> frozenset[str]:
    """The names of the rows whose fields equal `where` (``names(kind=ORDER)``)."""
    return frozenset(row.name for row in INTENTS if all(getattr(row, k) == v for k, v in where.items()))


def model_intents() -> tuple[str, ...]:
    """The labels an agent may give (training labels): the model's intents, in registry order."""
    return tuple(row.name for row in INTENTS if row.model)


@lru_cache(maxsize=1)
def artifact_labels() -> tuple[str, ...]:
    """The labels the shipped model serves (bot/slm_artifact/labels.json)."""
    return tuple(json.loads(ARTIFACT_LABELS.read_text(encoding="utf-8")))


def label(name: str) -> str:
    """The button label of an intent, in the active language."""
    return str(BY_NAME[name].label)


def label_to_intent(text: str) -> str | None:
    """The intent whose button label (in the active language) is `text`, else None: a clicked
    button is read back in whatever language it was offered in."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return next(
        (row.name for row in INTENTS if row.label is not None and unicodedata.normalize("NFKC", str(row.label)).lower() == text), None
    )


ORDER_INTENTS = names(kind=ORDER)
KNOWLEDGE_INTENTS = names(kind=KNOWLEDGE)
PRODUCT_INTENTS = names(kind=PRODUCT)
SHIPPING_INTENTS = names(kind=SHIPPING)
PERSISTENT_INTENTS = names(persistent=True)
SMALL_TALK = names(small_talk=True)
# Lazy strings, tested with "is not None": a lazy string's truth would translate it at import.
INTENT_LABELS = {row.name: row.label for row in INTENTS if row.label is not None}
INTENT_TOPICS = {row.name: row.topic for row in INTENTS if row.topic}
ORDER_PURPOSE = {row.name: row.purpose for row in INTENTS if row.purpose is not None}
