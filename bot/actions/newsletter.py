"""The newsletter: double opt-in to subscribe; unsubscribing only by link, never from the chat."""

from catalog import selectors as shop
from catalog import services as shop_services

from .. import dialogue
from .base import handles


@handles(dialogue.Newsletter)
def newsletter(executor, action: dialogue.Newsletter, state):
    limits = {"conversation_id": executor.conversation.pk, "client_address": executor.client_address}
    if action.subscribe:
        # Double opt-in: only the owner of the address can subscribe it, through the link.
        if shop_services.newsletter_confirmation_request(email=action.email, **limits):
            executor.reply.say(
                f"I've sent a confirmation link to {action.email}. Please check your inbox and open the link "
                "to confirm — you're subscribed once you do."
            )
        else:
            executor.reply.say(
                f"I can't send another confirmation e-mail to {action.email} right now — too many have gone "
                "out today. Please try again tomorrow."
            )
        return dialogue.Outcome(action="newsletter", ok=True)
    text = (
        "Every newsletter we send has an unsubscribe link at the bottom — one click and you're off the list. "
        "For your security I can't unsubscribe an address from the chat."
    )
    proved = shop.proved_email(order_numbers=reversed(state.get("verified") or []), user=executor.user)
    if proved and shop.newsletter_subscribed(email=proved):
        if shop_services.newsletter_unsubscribe_link_request(email=proved, **limits):
            text += f" I've also sent an unsubscribe link to {proved}, the address you confirmed in this chat."
        else:
            text += f" I can't send another e-mail to {proved} today; please use the link in the newsletter."
    elif proved:
        text += f" {proved}, the address you confirmed in this chat, isn't on our newsletter list."
    executor.reply.say(text)
    return dialogue.Outcome(action="newsletter", ok=True)
