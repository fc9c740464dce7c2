"""Hand the conversation to a person: the one place the assistant calls the desk's hand-off."""

from .. import dialogue
from ..models import Message
from .base import handles


@handles(dialogue.Escalate)
def escalate(executor, action: dialogue.Escalate, state):
    context = {
        "intents": state.get("history", [])[-6:],
        "entities": {k: v for k, v in state.get("slots", {}).items() if k != "email"},
        "verified_order": state.get("active_order") if state.get("active_order") in state.get("verified", []) else None,
        "actions": state.get("actions", []),
    }
    if not executor.reply.texts:
        executor.reply.say(
            # True whether or not anyone is online: the desk says what happens next.
            "I'm passing this conversation to our support team. They'll see everything we've written so far."
        )

    def hand_off(conversation):
        # The desk's hand-off (its port, bot/handoff.py, replaces this one call when it lands).
        from support.services import conversation_escalate

        context["last_message"] = (
            conversation.messages.filter(sender=Message.Sender.SHOPPER).order_by("-pk").values_list("text", flat=True).first()
        )
        conversation_escalate(conversation=conversation, reason=action.reason, context=context)

    executor.escalations.append(hand_off)
    return None
