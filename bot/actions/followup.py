"""After hours: the shopper's e-mail address opens a follow-up ticket at the desk."""

from .. import dialogue
from .base import handles


@handles(dialogue.CaptureFollowUpEmail)
def capture_followup_email(executor, action: dialogue.CaptureFollowUpEmail, state):
    from support.services import followup_email_capture

    ticket = followup_email_capture(
        conversation=executor.conversation, email=action.email, client_address=executor.client_address
    )
    text = f"Thanks — we've opened ticket #{ticket.pk} and will reply to {action.email} as soon as our team is back."
    if ticket.confirmation_sent_at is None and not ticket.confirmation_queued:
        text += (
            " We won't send a confirmation e-mail this time, because too many have gone to that address"
            " or from this chat today — but your ticket is open and a person will answer."
        )
    executor.reply.say(text)
    return None
