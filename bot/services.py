"""The assistant's turn: understand, decide (bot.dialogue), act through the shop's services.

``assistant_reply`` runs in a worker thread (never on the event loop): it classifies the
shopper's message with the SLM, steps the pure policy, carries out its actions against the
database, the knowledge base and the shop's services, and stores one bot message with every
fact it states taken from what it found.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import formats, timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext, ngettext

from catalog import selectors as shop
from catalog import services as shop_services
from catalog.errors import ShopError
from catalog.invoices import invoice_url
from catalog.models import Order, ShopPolicy
from catalog.money import country_name, money_amount, money_format
from catalog.tasks import send_order_email

from . import dialogue, events, replies, rows, verification
from .conversations import message_annotate, message_store
from .handoff import NO_DESK_TEXT, handoff_announcement, handoff_packet, handoff_port
from .models import Conversation, Message

logger = logging.getLogger(__name__)

MAX_STEPS = 6
RECENT_ORDER_CHOICES = 3  # a signed-in shopper's recent orders offered when the number is asked for


@dataclass
class Reply:
    texts: list = field(default_factory=list)
    quick_replies: list = field(default_factory=list)
    cards: list = field(default_factory=list)
    sources: list = field(default_factory=list)

    def say(self, text: str, quick_replies=()) -> None:
        self.texts.append(replies.without_typed_options(text, quick_replies))
        if quick_replies:
            self.quick_replies = list(quick_replies)


class _Rollback(Exception):
    pass


def _dry_run(fn) -> None:
    """Run a service and roll it back: the shop's own rules decide, nothing is written."""
    try:
        with transaction.atomic():
            fn()
            raise _Rollback
    except _Rollback:
        pass


# --- Gazetteer of the live catalog, for entity extraction ----------------------------------

def catalog_gazetteer():
    """The live catalog's gazetteer (bot.slm.gazetteer), cached per process, not built per message."""
    from .slm.gazetteer import cached_catalog_gazetteer

    return cached_catalog_gazetteer()


def reset_caches() -> None:
    from .slm.gazetteer import reset_cached_gazetteer

    reset_cached_gazetteer()


def understand(text: str, *, logged_in: bool = False) -> dialogue.Understood:
    from .adaptation import adapt
    from .slm import get_classifier

    result = adapt(get_classifier().classify(text, gazetteer=catalog_gazetteer()))
    return dialogue.Understood(
        text=text,
        intent=result.intent,
        confidence=float(result.confidence),
        top=tuple((i, float(p)) for i, p in result.top),
        entities=tuple(e.as_dict() for e in result.entities),
        logged_in=logged_in,
    )


def with_page_product(understood: dialogue.Understood, slug: str | None) -> dialogue.Understood:
    """The message as understood, with the product page it was written on as its product when it
    names none itself (an active product of the shop only)."""
    if not slug or understood.entity("product"):
        return understood
    from catalog.models import Product

    if not Product.objects.filter(slug=slug, is_active=True).exists():
        return understood
    page = {"type": "product", "value": slug, "start": -1, "end": -1, "source": "page"}
    return replace(understood, entities=tuple(understood.entities) + (page,))


# --- The turn --------------------------------------------------------------------------------


def assistant_reply(
    *,
    conversation_id: int,
    message_id: int,
    message: Message | None = None,
    conversation: Conversation | None = None,
    client_address: str | None = None,
    page_product: str | None = None,
) -> Message | None:
    """Answer one shopper message. Returns the bot's message, or None when a person has the chat.

    `message` and `conversation` are the stored shopper message and the conversation row (with
    its user) when the caller has just read them (the consumer has): it saves reading them again.
    `client_address` (the socket's peer) counts against the limits on mail to typed addresses.
    `client_address` (bot.clients.client_address) counts failed order checks per address.
    `page_product` is the slug of the product page the shopper wrote from: a message that names
    no product ("do you have this in XL?") is about that product.
    """
    if conversation is None or conversation.pk != conversation_id:
        conversation = Conversation.objects.select_related("user").get(pk=conversation_id)
    if conversation.status in (Conversation.Status.AGENT, Conversation.Status.CLOSED):
        return None  # the bot never talks over a person
    if message is None or message.pk != message_id or message.conversation_id != conversation.pk:
        message = Message.objects.only("pk", "text", "data", "conversation_id").get(pk=message_id, conversation=conversation)
    user = conversation.user
    understood = with_page_product(understand(message.text, logged_in=bool(user and user.is_authenticated)), page_product)
    executor = _Executor(conversation=conversation, user=user, client_address=client_address)
    state = conversation.state
    event = understood
    for _ in range(MAX_STEPS):
        result = dialogue.step(state, event)
        state = result.state
        event = None
        for action in result.actions:
            produced = executor.perform(action, state)
            if produced is not None:
                event = produced
        if event is None:
            break
    reply = executor.reply
    bot_fields = dict(
        sender=Message.Sender.BOT,
        text="\n\n".join(t for t in reply.texts if t) or replies.TEXTS["unsure"],
        intent=understood.intent,
        confidence=understood.confidence,
        data={k: v for k, v in {"quick_replies": reply.quick_replies, "cards": reply.cards, "sources": reply.sources}.items() if v},
    )
    annotation = dict(
        intent=understood.intent,
        confidence=understood.confidence,
        data={"top": [list(t) for t in understood.top], "entities": list(understood.entities)},
    )
    patch = {**state, **executor.state_updates}
    if connection.vendor == "postgresql" and not executor.escalations:
        bot_message = _turn_finish_in_one_statement(conversation, message, annotation, patch, bot_fields)
        if bot_message is not None:
            for send in executor.after_turn:
                send()
        return bot_message
    with transaction.atomic():
        # One transaction for every write of the turn: one commit, not one per statement.
        message_annotate(message=message, **annotation)
        if not _state_merge(conversation, patch):
            # A person claimed the conversation while the assistant was thinking: stay quiet.
            return None
        bot_message, _ = message_store(conversation=conversation, touch_conversation=False, **bot_fields)
        for escalate in executor.escalations:
            escalate(conversation)
        for send in executor.after_turn:
            send()  # queued to run after the commit, with the state that awaits the code
    return bot_message


def _turn_finish_in_one_statement(conversation, message, annotation: dict, patch: dict, bot_fields: dict) -> Message | None:
    """PostgreSQL: the turn's three writes as one statement, so one round trip and one commit.

    Annotate the shopper's message, merge the state unless a person holds the chat, and store
    the bot's reply only if the merge happened: the same writes, in the same transaction, as the
    general path below it in assistant_reply (which turns with a hand-off take).
    """
    now = timezone.now()
    data = {**message.data, **annotation["data"]}
    bot_id = rows.turn_finish_pg(
        message_id=message.pk,
        annotation={**annotation, "data": data},
        conversation_id=conversation.pk,
        state_patch=patch,
        not_status=Conversation.Status.AGENT,
        reply={**bot_fields, "created_at": now},
    )
    message.intent, message.confidence, message.data = annotation["intent"], annotation["confidence"], data
    if bot_id is None:
        return None  # a person claimed the conversation while the assistant was thinking
    conversation.state = {**(conversation.state or {}), **patch}
    conversation.updated_at = now
    bot_message = rows.as_stored(Message(conversation=conversation, client_id=None, agent=None, created_at=now, **bot_fields), bot_id)
    events.message_created(bot_message)
    return bot_message


def _state_merge(conversation: Conversation, patch: dict) -> bool:
    """Merge the turn's dialogue state into the stored one, unless a person holds the chat.

    Keys the turn did not touch keep what others wrote meanwhile (the desk writes its own).
    Returns False, writing nothing, when the conversation is with an agent. On PostgreSQL this
    is one conditional UPDATE (jsonb ||); elsewhere the row is locked, read and saved.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        updated = rows.json_merge(
            Conversation, conversation.pk, "state", patch, also={"updated_at": now}, exclude={"status": Conversation.Status.AGENT}
        )
        if updated:
            conversation.state = {**(conversation.state or {}), **patch}
            conversation.updated_at = now
        return bool(updated)
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status == Conversation.Status.AGENT:
        return False
    conversation.state = {**(locked.state or {}), **patch}
    conversation.status = locked.status
    conversation.save(update_fields=["state", "updated_at"])
    return True


class _Executor:
    """Carries out the policy's actions; every fact it says comes from the database."""

    def __init__(self, *, conversation: Conversation, user, client_address: str | None = None):
        self.conversation = conversation
        self.user = user
        self.client_address = client_address
        self.reply = Reply()
        self.escalations: list = []
        self.after_turn: list = []  # side effects once the turn is stored (e-mailing a code)
        self.state_updates: dict = {}
        self.verified: dict[str, Order] = {}  # orders verified in this turn, by the number asked for
        self.shop_name = settings.SHOP_NAME

    def perform(self, action, state: dict):
        handler = getattr(self, "_" + type(action).__name__.lower())
        try:
            return handler(action, state)
        except ShopError as error:
            # The shop's rules said no: say why, honestly (the policy may add what to do instead).
            self.reply.say(error.message)
            return dialogue.Outcome(action=type(action).__name__.lower(), ok=False, refused=True, message=error.message)
        except Exception as error:  # noqa: BLE001 — a broken action is handed to a person, not hidden
            logger.exception("assistant action %r failed", action)
            if isinstance(action, dialogue.Escalate):
                raise
            return dialogue.Outcome(action=type(action).__name__.lower(), ok=False, failed=True, message=str(error)[:200])

    # -- plain texts ------------------------------------------------------------------------

    def _say(self, action: dialogue.Say, state):
        quick_replies = action.quick_replies
        if action.key == "ask_order_number" and self.user is not None and self.user.is_authenticated:
            # A signed-in shopper picks one of their own recent orders instead of looking it up.
            recent = shop.orders_for_user(user=self.user).values_list("number", flat=True)[:RECENT_ORDER_CHOICES]
            quick_replies = tuple(f"Order {number}" for number in recent) or quick_replies
        self.reply.say(replies.render(action.key, action.params, shop=self.shop_name), quick_replies)

    # -- orders -------------------------------------------------------------------------------

    def _order(self, number: str) -> Order:
        order = self.verified.get(number)
        if order is not None:  # verified a moment ago in this turn: not read again
            prefetch_related_objects([order], "lines", "returns")
            return order
        return Order.objects.select_related("shipping_method").prefetch_related("lines", "returns").get(number=number)

    def _verifyorder(self, action: dialogue.VerifyOrder, state):
        order, owner, left = None, False, None
        if self.user is not None and self.user.is_authenticated:
            # The signed-in owner proves nothing by guessing: no limits, and no code to change it.
            order = shop.orders_for_user(user=self.user).filter(number=action.number).first()
            owner = order is not None
        if order is None:
            where = dict(email=action.email, number=action.number, address=self.client_address)
            if verification.verification_locked(**where):
                return dialogue.Verified(number=action.number, ok=False, locked=True)
            if action.email:
                order = shop.order_get_verified(number=action.number, email=action.email)
            if order is None:
                left = verification.verification_failed(**where)
        if order is not None:
            self.verified[order.number] = order
        if order is not None and not self.conversation.shopper_email:
            self.conversation.shopper_email = order.email
            Conversation.objects.filter(pk=self.conversation.pk).update(shopper_email=order.email)
        return dialogue.Verified(number=action.number, ok=order is not None, owner=owner, left=left)

    def _code_purpose(self, action) -> str:
        return f"{self.conversation.pk}:{action.number}:{action.action}"

    def _sendcode(self, action: dialogue.SendCode, state):
        order = Order.objects.only("pk", "number", "email").get(number=action.number)
        if not verification.code_send_allowed(number=order.number):
            return dialogue.Outcome(action="send_code", ok=False, refused=True, message="code limit")
        code, kept = verification.code_issue(purpose=self._code_purpose(action))
        minutes = max(1, settings.VERIFY_CODE_TTL_SECONDS // 60)

        data = {"code": code, "action": action.action, "minutes": minutes}
        self.after_turn.append(partial(send_order_email.delay_on_commit, order.pk, "verification_code", data=data))
        return dialogue.Outcome(
            action="send_code", ok=True, params={**kept, "email": verification.mask_email(order.email), "minutes": minutes, "tries": settings.VERIFY_CODE_TRIES}
        )

    def _checkcode(self, action: dialogue.CheckCode, state):
        order = Order.objects.only("pk", "number", "email").get(number=action.number)
        where = dict(email=order.email, number=order.number, address=self.client_address)
        if verification.verification_locked(**where):
            return dialogue.Outcome(action="check_code", ok=False, params={"reason": "locked"})
        if verification.code_expired(expires_at=action.expires_at):
            return dialogue.Outcome(action="check_code", ok=False, params={"reason": "expired"})
        if verification.code_matches(code=action.code, purpose=self._code_purpose(action), digest=action.digest):
            return dialogue.Outcome(action="check_code", ok=True)
        verification.verification_failed(**where, what="wrong code")
        return dialogue.Outcome(action="check_code", ok=False, params={"reason": "wrong"})

    def _orderinfo(self, action: dialogue.OrderInfo, state):
        order = self._order(action.number)
        summary = shop.order_summary(order=order)
        invoice = action.what in ("invoice", "invoice_link")
        self.reply.cards.append(order_card(summary, invoice_url=invoice_url(order) if invoice else None))
        if action.what == "refund":
            refunds = shop.refund_status(order=order)
            if not refunds:
                policy = ShopPolicy.current()
                self.reply.say(
                    f"There is no return or refund on order {order.number} yet. Items can be returned within "
                    f"{policy.return_window_days} days of delivery.",
                    (dialogue.INTENT_LABELS["return_item"],),
                )
            for item in refunds:
                self.reply.say(refund_text(item))
                self.reply.cards.append(return_card(item))
        elif invoice:
            self.reply.say(invoice_text(summary))
        else:
            self.reply.say(tracking_text(summary))
        return dialogue.Outcome(action="order_info", ok=True)

    def _prepare(self, action: dialogue.Prepare, state):
        order = self._order(action.number)
        summary = shop.order_summary(order=order)
        name = f"prepare:{action.action}"
        if action.action == "cancel":
            refusal = shop.order_cancellation_refusal(order=order)
            if refusal:
                self.reply.say(refusal)
                return dialogue.Outcome(action=name, ok=False, refused=True, message=refusal)
            self.reply.cards.append(order_card(summary))
            self.reply.say(
                f"Cancel order {order.number} ({_items(summary)}, {money_format(summary['total'], summary['currency'])})?",
                (dialogue.YES, dialogue.NO),
            )
            return dialogue.Outcome(action=name, ok=True)
        if action.action == "return":
            lines = shop.return_eligibility(order=order)
            eligible = [e for e in lines if e.returnable_quantity > 0]
            if not eligible:
                reasons = sorted({e.reason for e in lines if e.reason})
                message = reasons[0] if reasons else f"Order {order.number} has nothing that can be returned."
                self.reply.say(message)
                return dialogue.Outcome(action=name, ok=False, refused=True, message=message)
            offer = return_offer_card(order, lines)
            kept = " ".join(dict.fromkeys(e["reason"] for e in offer["not_returnable"]))
            self.reply.cards.append(offer)
            self.reply.say(
                f"I can start a return for order {order.number}: {_line_list(offer['items'])}. You'd get "
                f"{money_format(offer['refund_amount'], order.currency)} back once we receive the items."
                + (f" Not included: {kept}" if kept else "")
                + " Shall I start it?",
                (dialogue.YES, dialogue.NO),
            )
            return dialogue.Outcome(action=name, ok=True)
        if action.action == "change_address":
            refusal = shop.order_address_change_refusal(order=order)
            if refusal:
                self.reply.say(refusal)
                return dialogue.Outcome(action=name, ok=False, refused=True, message=refusal)
            text = action.params.get("address_text")
            if not text:
                self.reply.say(
                    f"Order {order.number} hasn't shipped yet, so the address can still be changed. Please send the "
                    "new address in one message: street and number, postcode and city (and the name and country "
                    "if they change)."
                )
                return dialogue.Outcome(action="prepare:change_address_needs_text", ok=True)
            address = parse_address(text, name=order.ship_name, country=order.ship_country)
            if address is None:
                self.reply.say(
                    "Sorry, I couldn't read that as an address. Please send the street and number, postcode and "
                    "city (and the name and country if they change) — for example: Hauptstr. 5, 10115 Berlin, or "
                    "Sam Lee, Hauptstr. 5, 10115 Berlin, Germany."
                )
                return dialogue.Outcome(action="prepare:change_address_needs_text", ok=True)
            try:
                _dry_run(
                    lambda: shop_services.order_change_shipping_address(
                        order=self._order(action.number), address=address, actor="assistant"
                    )
                )
            except ShopError as error:
                self.reply.say(error.message + " Please send the corrected address in one message.")
                return dialogue.Outcome(action="prepare:change_address_needs_text", ok=True)
            pretty = ", ".join(
                x for x in (address["name"], address["line1"], f"{address['postcode']} {address['city']}", address["country"]) if x
            )
            self.reply.say(f"Change the delivery address of order {order.number} to: {pretty}?", (dialogue.YES, dialogue.NO))
            return dialogue.Outcome(action=name, ok=True, params={"address": address})
        if action.action == "change_order":
            if order.status in Order.UNSHIPPED:
                self.reply.say(
                    f"Order {order.number} hasn't shipped yet. I can't change items in the chat, but a person from our "
                    "team can. Shall I connect you?",
                    (dialogue.YES, dialogue.NO),
                )
                return dialogue.Outcome(action="prepare:change_order_handover", ok=True)
            message = (
                f"Order {order.number} is {order.get_status_display().lower()}, so it can't be changed any more. "
                f"You can return items within {ShopPolicy.current().return_window_days} days of delivery."
            )
            self.reply.say(message)
            return dialogue.Outcome(action=name, ok=False, refused=True, message=message)
        raise ValueError(f"unknown change {action.action}")

    def _execute(self, action: dialogue.Execute, state):
        name = f"execute:{action.action}"
        with transaction.atomic():
            order = Order.objects.select_for_update().get(number=action.number)
            if action.action == "cancel":
                shop_services.order_cancel(order=order, actor="assistant", reason="Cancelled by the shopper in chat")
                order.refresh_from_db()
                self.reply.say(
                    f"Done — order {order.number} is cancelled. We've sent you a confirmation e-mail"
                    + (", and any payment will be refunded to your original payment method." if order.paid_at else ".")
                )
            elif action.action == "return":
                rr = shop_services.return_request_create(order=order, lines=None, reason="other", actor="assistant")
                self.reply.say(
                    f"Your return {rr.rma_number} is registered. We've e-mailed you the return instructions; "
                    f"once we receive the items we'll refund {money_format(rr.refund_amount, order.currency)}."
                )
                self.reply.cards.append(return_card(shop.return_summary(return_request=rr, order=order)))
            elif action.action == "change_address":
                shop_services.order_change_shipping_address(order=order, address=action.params["address"], actor="assistant")
                order.refresh_from_db()
                self.reply.say(f"Done — order {order.number} will now go to: {order.shipping_address}.")
            else:
                raise ValueError(f"unknown change {action.action}")
        return dialogue.Outcome(action=name, ok=True)

    # -- knowledge, products, shipping ---------------------------------------------------------

    def _knowledge(self, action: dialogue.Knowledge, state):
        from .knowledge import knowledge_index_refresh_if_due, knowledge_search

        knowledge_index_refresh_if_due()
        passages = knowledge_search(query=action.query, intent=action.intent, limit=2)
        if not passages:
            return dialogue.Outcome(action="knowledge", ok=True, found=False)
        best = passages[0]
        self.reply.say(f"From our help centre — {best.title}:\n{best.text}")
        for p in passages:
            self.reply.sources.append({"title": p.title, "url": p.url})
        return dialogue.Outcome(action="knowledge", ok=True, found=True)

    def _products(self, action: dialogue.Products, state):
        from catalog.options import size_key
        from .products import availability_text, product_card, product_get, product_index_refresh_if_due, product_search

        product = product_get(slug=action.product) if action.product else None
        if product is not None and action.intent in ("product_availability", "product_info"):
            state["slots"]["product"] = product.slug
            if action.intent == "product_availability":
                self.reply.say(availability_text(product, colour=action.colour, size=action.size))
            else:
                sizes = sorted({v.size for v in product.variants.all() if v.size}, key=size_key)
                colours = sorted({v.colour for v in product.variants.all() if v.colour})
                details = [f"{product.name} costs {money_format(product.price, product.currency)}."]
                if product.materials:
                    details.append(f"Material: {product.materials}.")
                if colours:
                    details.append("Colours: " + ", ".join(colours) + ".")
                if sizes:
                    details.append("Sizes: " + ", ".join(sizes) + ".")
                if product.description:
                    details.append(product.description.split("\n")[0][:300])
                self.reply.say(" ".join(details))
            self.reply.cards.append(product_card(product, colour=action.colour, size=action.size))
            return dialogue.Outcome(action="products", ok=True)
        product_index_refresh_if_due()
        found = product_search(
            query=action.query,
            colour=action.colour,
            size=action.size,
            max_price=action.max_price,
            in_stock=action.intent == "product_availability" or bool(action.size),
        )
        if not found:
            return dialogue.Outcome(action="products", ok=True, found=False)
        state["slots"]["product"] = found[0].slug
        if action.intent == "place_order":
            self.reply.say(
                "You can order on the product page: choose colour and size, add it to your bag and check out. "
                "Here is what I found:"
            )
        else:
            self.reply.say("Here is what I found in our shop:")
        for product in found:
            self.reply.cards.append(product_card(product, colour=action.colour, size=action.size))
        return dialogue.Outcome(action="products", ok=True)

    def _shipping(self, action: dialogue.Shipping, state):
        options = shop.shipping_options(country=action.country)
        where = country_name(action.country) if action.country else ""
        if not options:
            if action.country:
                served = sorted({country_name(c) for o in shop.shipping_options() for c in o["countries"]})
                text = gettext("No, we don't ship to %(country)s at the moment") % {"country": where}
                if served:
                    text += gettext(", but we deliver to %(countries)s.") % {"countries": get_text_list(served, gettext("and"))}
                self.reply.say(text + ("" if served else "."))
                return dialogue.Outcome(action="shipping", ok=True)
            return dialogue.Outcome(action="shipping", ok=True, found=False)
        lines = []
        for o in options:
            days = o["max_days"]
            span = f"{o['min_days']}–{o['max_days']}" if o["min_days"] != o["max_days"] else f"{o['min_days']}"
            line = f"{o['name']}: {money_format(o['price'], o['currency'])}, " + ngettext(
                "%(days)s working day", "%(days)s working days", days
            ) % {"days": span}
            if o.get("free_over") is not None:
                line += gettext(", free from %(amount)s") % {"amount": money_format(o["free_over"], o["currency"])}
            if not action.country:
                names = [country_name(c) for c in o["countries"]]
                line += f" ({', '.join(names[:8])}{'…' if len(names) > 8 else ''})"
            lines.append(line)
        if action.intent == "delivery_period":
            head = gettext("Delivery times to %(country)s:") % {"country": where} if where else gettext("Delivery times:")
        else:
            # "Do you ship to Switzerland?" is a yes/no question: the answer starts with the yes.
            head = gettext("Yes, we ship to %(country)s:") % {"country": where} if where else gettext("Our shipping options:")
        self.reply.say(head + "\n" + "\n".join(f"• {line}" for line in lines))
        return dialogue.Outcome(action="shipping", ok=True)

    # -- account-ish -------------------------------------------------------------------------

    def _newsletter(self, action: dialogue.Newsletter, state):
        limits = {"conversation_id": self.conversation.pk, "client_address": self.client_address}
        if action.subscribe:
            # Double opt-in: only the owner of the address can subscribe it, through the link.
            if shop_services.newsletter_confirmation_request(email=action.email, **limits):
                self.reply.say(
                    f"I've sent a confirmation link to {action.email}. Please check your inbox and open the link "
                    "to confirm — you're subscribed once you do."
                )
            else:
                self.reply.say(
                    f"I can't send another confirmation e-mail to {action.email} right now — too many have gone "
                    "out today. Please try again tomorrow."
                )
            return dialogue.Outcome(action="newsletter", ok=True)
        text = (
            "Every newsletter we send has an unsubscribe link at the bottom — one click and you're off the list. "
            "For your security I can't unsubscribe an address from the chat."
        )
        proved = shop.proved_email(order_numbers=reversed(state.get("verified") or []), user=self.user)
        if proved and shop.newsletter_subscribed(email=proved):
            if shop_services.newsletter_unsubscribe_link_request(email=proved, **limits):
                text += f" I've also sent an unsubscribe link to {proved}, the address you confirmed in this chat."
            else:
                text += f" I can't send another e-mail to {proved} today; please use the link in the newsletter."
        elif proved:
            text += f" {proved}, the address you confirmed in this chat, isn't on our newsletter list."
        self.reply.say(text)
        return dialogue.Outcome(action="newsletter", ok=True)

    def _recordfeedback(self, action: dialogue.RecordFeedback, state):
        feedback = list(self.conversation.state.get("feedback", []))[-9:] + [action.text[:1000]]
        self.state_updates["feedback"] = feedback
        return None

    def _capturefollowupemail(self, action: dialogue.CaptureFollowUpEmail, state):
        ticket = handoff_port.capture_followup_email(
            conversation=self.conversation, email=action.email, client_address=self.client_address
        )
        if ticket is None:
            self.reply.say(NO_DESK_TEXT)
            return None
        text = f"Thanks — we've opened ticket #{ticket.pk} and will reply to {action.email} as soon as our team is back."
        if ticket.confirmation_sent_at is None and not ticket.confirmation_queued:
            text += (
                " We won't send a confirmation e-mail this time, because too many have gone to that address"
                " or from this chat today — but your ticket is open and a person will answer."
            )
        self.reply.say(text)
        return None

    def _escalate(self, action: dialogue.Escalate, state):
        packet = handoff_packet(conversation=self.conversation, state=state)
        if not self.reply.texts:
            self.reply.say(handoff_announcement())
        self.escalations.append(
            lambda conversation: handoff_port.escalate(conversation=conversation, reason=action.reason, context=packet)
        )
        return None


# --- Rendering facts -------------------------------------------------------------------------


def _date(value) -> str:
    """A date for shoppers ("3 May 2026") from a date, datetime or ISO string."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return formats.date_format(value, "j M Y")


def _items(summary: dict) -> str:
    count = sum(i["qty"] for i in summary["items"])
    return ngettext("%(count)d item", "%(count)d items", count) % {"count": count}


def order_card(summary: dict, *, invoice_url: str | None = None) -> dict:
    card = {
        "kind": "order",
        "number": summary["number"],
        "status": summary["status"],
        "status_display": summary["status_display"],
        "items": [
            {"name": i["name"], "variant_label": i.get("variant_label", ""), "quantity": i["qty"]}
            for i in summary["items"]
        ],
        "total": str(summary["total"]),
        "currency": summary["currency"],
        "total_text": money_format(summary["total"], summary["currency"]),
        "carrier": summary.get("carrier") or None,
        "tracking_number": summary.get("tracking_number") or None,
        "estimated_delivery": _date(summary.get("estimated_delivery")) or None,
    }
    if invoice_url:
        card["invoice_url"] = invoice_url
    return card


def _line_list(items: list[dict]) -> str:
    return "; ".join(
        f"{i['quantity']} × {i['name']}" + (f" ({i['variant_label']})" if i.get("variant_label") else "") for i in items
    )


def return_offer_card(order: Order, eligibility: list) -> dict:
    """What a return would take back and refund, and each item it can't take with the reason:
    the card's items and refund are exactly those of the offer's sentence."""
    items, kept = [], []
    for e in eligibility:
        line = {"name": e.line.product_name, "variant_label": e.line.variant_label}
        if e.returnable_quantity > 0:
            items.append({**line, "quantity": e.returnable_quantity})
        elif e.reason and e.line.quantity > e.already_returned:  # what's already in a return isn't "kept"
            kept.append({**line, "quantity": e.line.quantity - e.already_returned, "reason": e.reason})
    refund = sum((e.line.unit_price * e.returnable_quantity for e in eligibility), Decimal("0.00"))
    offer = {"rma_number": "", "status": "offer", "status_display": "Not started yet", "refund_amount": money_amount(refund), "currency": order.currency}
    return {**return_card(offer), "order_number": order.number, "items": items, "not_returnable": kept}


def return_card(item: dict) -> dict:
    """A return as a chat card, from its catalog.selectors.return_summary."""
    return {
        "kind": "return",
        "rma_number": item["rma_number"],
        "status": item["status"],
        "status_display": item["status_display"],
        "refund_amount": item["refund_amount"],
        "currency": item["currency"],
        "refund_text": money_format(item["refund_amount"], item["currency"]),
    }


def tracking_text(s: dict) -> str:
    head = f"Order {s['number']} (placed {_date(s['placed_at'])}, {_items(s)}) is {s['status_display'].lower()}."
    status = s["status"]
    if status in ("pending",):
        return head + " We're waiting for the payment to be confirmed."
    if status in ("paid", "processing"):
        eta = f" Expected delivery: {_date(s['estimated_delivery'])}." if s.get("estimated_delivery") else ""
        return head + " It hasn't shipped yet." + eta
    if status == "shipped":
        parts = [head, f"It shipped on {_date(s['shipped_at'])}"]
        if s.get("carrier"):
            parts[-1] += f" with {s['carrier']}"
        parts[-1] += "."
        if s.get("tracking_number"):
            parts.append(f"Tracking number: {s['tracking_number']}.")
        if s.get("estimated_delivery"):
            parts.append(f"Expected delivery: {_date(s['estimated_delivery'])}.")
        return " ".join(parts)
    if status in ("delivered", "partially_returned", "returned"):
        return head + (f" It was delivered on {_date(s['delivered_at'])}." if s.get("delivered_at") else "")
    if status == "cancelled":
        return head
    return head


def refund_text(item: dict) -> str:
    text = f"Return {item['rma_number']}: {item['status_display'].lower()}"
    if item["status"] == "refunded":
        text += f" — {money_format(item['refund_amount'], item['currency'])} was refunded"
        if item.get("refunded_at"):
            text += f" on {_date(item['refunded_at'])}"
        text += " to your original payment method."
    elif item["status"] == "rejected":
        text += "."
    else:
        text += f" — {money_format(item['refund_amount'], item['currency'])} will be refunded once the items are checked."
    return text


def invoice_text(s: dict) -> str:
    lines = "; ".join(
        f"{i['qty']} × {i['name']}" + (f" ({i['variant_label']})" if i.get("variant_label") else "")
        + f" at {money_format(i['unit_price'], s['currency'])}"
        for i in s["items"]
    )
    text = f"Invoice summary for order {s['number']}: {lines}."
    if s.get("shipping_price") is not None:
        text += f" Shipping {money_format(s['shipping_price'], s['currency'])}."
    text += f" Total {money_format(s['total'], s['currency'])}."
    days = max(1, settings.INVOICE_LINK_MAX_AGE_SECONDS // 86400)
    return text + (
        " Open the full invoice with “Open invoice” on the order card (you can print it there); "
        + ngettext("the link works for %(days)d day.", "the link works for %(days)d days.", days) % {"days": days}
    )


# --- Addresses ---------------------------------------------------------------------------------

_POSTCODE_CITY = re.compile(r"^\s*(?P<postcode>[A-Z]{0,2}-?\d{3,5}(?:\s?[A-Z]{2})?)\s+(?P<city>.+?)\s*$", re.I)
_CITY_POSTCODE = re.compile(r"^\s*(?P<city>[^\d]+?)\s+(?P<postcode>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{3,6})\s*$", re.I)


# One line without commas: "Gartenweg 12 10115 Berlin" (street and number, postcode, city).
_STREET_POSTCODE_CITY = re.compile(r"^(?P<street>.*?\d+\s?[a-z]?)\s+(?P<postcode>\d{4,5})\s+(?P<city>[^\d]+?)\s*$", re.I)


def _country_of(part: str) -> str:
    """The country a short part names ("Germany", "DE"), else ""."""
    from .slm.entities import extract_entities

    if len(part.split()) > 3:
        return ""
    return next((e.value for e in extract_entities(part) if e.type == "country"), "")


def parse_address(text: str, *, name: str = "", country: str = "") -> dict | None:
    """Read a new address: "Sam Lee, Gartenweg 12, 10115 Berlin, Germany", the same on lines, or
    shorter ("Gartenweg 12, 10115 Berlin", "Gartenweg 12 10115 Berlin"); a name or country left
    out is ``name`` / ``country`` (the order's own). None when it can't."""
    parts = [p.strip() for p in re.split(r"[,\n;]+", text) if p.strip()]
    if len(parts) > 1 and _country_of(parts[-1]):
        country = _country_of(parts.pop())
    if not parts:
        return None
    match = _POSTCODE_CITY.match(parts[-1]) or _CITY_POSTCODE.match(parts[-1])
    if match:
        parts.pop()
    else:
        match = _STREET_POSTCODE_CITY.match(parts[-1])
        if not match:
            return None
        parts[-1] = match.group("street").strip()
    city = match.group("city").strip()
    words = city.split()
    if len(words) > 1 and _country_of(words[-1]):  # "… 10115 Berlin Germany"
        country, city = _country_of(words[-1]), " ".join(words[:-1])
    if parts and not re.search(r"\d", parts[0]) and len(parts) > 1:
        name = parts.pop(0)
    if not parts or not any(re.search(r"\d", p) for p in parts) or not (name and country and city):
        return None
    return {
        "name": name,
        "line1": parts[0],
        "line2": ", ".join(parts[1:]),
        "postcode": match.group("postcode").strip(),
        "city": city,
        "country": country,
    }


def assistant_failed(*, conversation_id: int) -> None:
    """The assistant broke on a stored message: tell the shopper and hand over to a person."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status == Conversation.Status.AGENT:
            return
        failure = {"action": "assistant", "outcome": "failed", "detail": "exception"}
        packet = handoff_packet(conversation=conversation, state=dialogue._normalise(conversation.state), failure=failure)
        handoff_port.escalate(conversation=conversation, reason="action_failed", context=packet)
