"""The assistant's turn: understand, decide (bot.dialogue), act through the shop's services.

``assistant_reply`` runs in a worker thread (never on the event loop): it classifies the
shopper's message with the SLM, steps the pure policy, carries out its actions against the
database, the knowledge base and the shop's services, and stores one bot message with every
fact it states taken from what it found.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from django.db import transaction
from django.utils import translation

from . import dialogue, intents, replies
from .actions import Executor, Reply  # noqa: F401 — Reply: the turn's texts, cards and buttons
from .conversations import turn_store
from .handoff import handoff_packet, handoff_port
from .models import Conversation, Message
from .order_facts import invoice_text, order_card, parse_address, refund_text, return_card, return_offer_card, tracking_text  # noqa: F401

logger = logging.getLogger(__name__)

MAX_STEPS = 6


# --- Gazetteer of the live catalog, for entity extraction ----------------------------------

def catalog_gazetteer():
    """The live catalog's gazetteer (bot.slm.gazetteer), cached per process, not built per message."""
    from .slm.gazetteer import cached_catalog_gazetteer

    return cached_catalog_gazetteer()


def reset_caches() -> None:
    from .slm.gazetteer import reset_cached_gazetteer

    reset_cached_gazetteer()


def understand(text: str, *, logged_in: bool = False, language: str | None = None) -> dialogue.Understood:
    """`language`: the conversation's; the message's own script decides first (bot.slm.understand)."""
    from .adaptation import adapt
    from .slm import understand as classify

    result = adapt(classify(text, conversation_language=language, gazetteer=catalog_gazetteer()))
    understood = dialogue.Understood(
        text=text,
        intent=result.intent,
        confidence=float(result.confidence),
        top=tuple((i, float(p)) for i, p in result.top),
        entities=tuple(e.as_dict() for e in result.entities),
        logged_in=logged_in,
    )
    return with_clicked_label(understood)


def with_clicked_label(understood: dialogue.Understood) -> dialogue.Understood:
    """A message that is exactly one of the assistant's buttons (an intent's label in the active
    language, the conversation's) means that intent, whatever the model read: a click in any
    shop language is understood even where the model does not know the language."""
    chosen = intents.label_to_intent(understood.text)
    if chosen is None or chosen not in intents.BY_NAME or not intents.BY_NAME[chosen].model:
        return understood
    top = ((chosen, 1.0),) + tuple(t for t in understood.top if t[0] != chosen)
    return replace(understood, intent=chosen, confidence=1.0, top=top)


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
    # Everything the turn says (texts, buttons, cards, dates, money) is in the conversation's
    # language, which the shopper's message may just have switched (conversations.shopper_message_receive).
    with translation.override(conversation.language):
        return _assistant_turn(
            conversation=conversation, message=message, message_id=message_id, client_address=client_address,
            page_product=page_product,
        )


def _assistant_turn(*, conversation, message, message_id, client_address, page_product) -> Message | None:
    if message is None or message.pk != message_id or message.conversation_id != conversation.pk:
        message = Message.objects.only("pk", "text", "data", "conversation_id", "created_at").get(pk=message_id, conversation=conversation)
    user = conversation.user
    understood = with_page_product(
        understand(message.text, logged_in=bool(user and user.is_authenticated), language=conversation.language), page_product
    )
    executor = Executor(conversation=conversation, user=user, client_address=client_address)
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
        text="\n\n".join(t for t in reply.texts if t) or str(replies.TEXTS["unsure"]),
        intent=understood.intent,
        confidence=understood.confidence,
        data={k: v for k, v in {"quick_replies": reply.quick_replies, "cards": reply.cards, "sources": reply.sources}.items() if v},
    )
    annotation = dict(
        intent=understood.intent,
        confidence=understood.confidence,
        data={"top": [list(t) for t in understood.top], "entities": list(understood.entities)},
    )
    stored = turn_store(
        conversation=conversation,
        message=message,
        annotation=annotation,
        patch={**state, **executor.state_updates},
        reply=bot_fields,
        escalations=executor.escalations,
        after_turn=executor.after_turn,
    )
    shadow_after_reply(message_id=message.pk)
    return stored


def shadow_after_reply(*, message_id: int) -> None:
    """A candidate in shadow reads the message too, once the reply is stored and pushed (a task:
    off this turn's path when a worker runs them; right after the reply in the embedded default)."""
    from .shadow import shadow_active

    if shadow_active():
        from .tasks import shadow_classify

        shadow_classify.delay_on_commit(message_id)


def assistant_failed(*, conversation_id: int) -> None:
    """The assistant broke on a stored message: tell the shopper and hand over to a person."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status == Conversation.Status.AGENT:
            return
        failure = {"action": "assistant", "outcome": "failed", "detail": "exception"}
        packet = handoff_packet(conversation=conversation, state=dialogue._normalise(conversation.state), failure=failure)
        with translation.override(conversation.language):  # what the desk tells the shopper, in their language
            handoff_port.escalate(conversation=conversation, reason="action_failed", context=packet)


_Executor = Executor  # the executor of a turn (bot.actions.base)
