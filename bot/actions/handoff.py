"""Hand the conversation to a person: the one place the assistant calls the desk's hand-off (bot.handoff)."""

from .. import dialogue
from ..handoff import handoff_announcement, handoff_packet, handoff_port
from .base import handles


@handles(dialogue.Escalate)
def escalate(executor, action: dialogue.Escalate, state):
    packet = handoff_packet(conversation=executor.conversation, state=state)
    if not executor.reply.texts:
        executor.reply.say(handoff_announcement())
    executor.escalations.append(
        lambda conversation: handoff_port.escalate(conversation=conversation, reason=action.reason, context=packet)
    )
    return None
