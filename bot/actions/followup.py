"""After hours: the shopper's e-mail address opens a follow-up ticket at the desk (bot.handoff)."""

from django.utils.translation import gettext

from .. import dialogue
from ..handoff import NO_DESK_TEXT, handoff_port
from .base import handles


@handles(dialogue.CaptureFollowUpEmail)
def capture_followup_email(executor, action: dialogue.CaptureFollowUpEmail, state):
    ticket = handoff_port.capture_followup_email(
        conversation=executor.conversation, email=action.email, client_address=executor.client_address
    )
    if ticket is None:
        executor.reply.say(str(NO_DESK_TEXT))
        return None
    values = {"ticket": ticket.pk, "email": action.email}
    if ticket.confirmation_sent_at is None and not ticket.confirmation_queued:
        text = gettext(
            "Thanks — we've opened ticket #%(ticket)s and will reply to %(email)s as soon as our team is back. We won't "
            "send a confirmation e-mail this time, because too many have gone to that address or from this chat "
            "today — but your ticket is open and a person will answer."
        )
    else:
        text = gettext("Thanks — we've opened ticket #%(ticket)s and will reply to %(email)s as soon as our team is back.")
    executor.reply.say(text % values)
    return None
