"""The newsletter: double opt-in to subscribe; unsubscribing only by link, never from the chat."""

from django.utils.translation import gettext

from catalog import selectors as shop
from catalog import services as shop_services

from .. import dialogue
from ..text import sentences_join
from .base import handles


@handles(dialogue.Newsletter)
def newsletter(executor, action: dialogue.Newsletter, state):
    limits = {"conversation_id": executor.conversation.pk, "client_address": executor.client_address}
    if action.subscribe:
        # Double opt-in: only the owner of the address can subscribe it, through the link.
        if shop_services.newsletter_confirmation_request(email=action.email, **limits):
            executor.reply.say(
                gettext(
                    "I've sent a confirmation link to %(email)s. Please check your inbox and open the link "
                    "to confirm — you're subscribed once you do."
                ) % {"email": action.email}
            )
        else:
            executor.reply.say(
                gettext(
                    "I can't send another confirmation e-mail to %(email)s right now — too many have gone "
                    "out today. Please try again tomorrow."
                ) % {"email": action.email}
            )
        return dialogue.Outcome(action="newsletter", ok=True)
    texts = [
        gettext(
            "Every newsletter we send has an unsubscribe link at the bottom — one click and you're off the list. "
            "For your security I can't unsubscribe an address from the chat."
        )
    ]
    proved = shop.proved_email(order_numbers=reversed(state.get("verified") or []), user=executor.user)
    if proved and shop.newsletter_subscribed(email=proved):
        if shop_services.newsletter_unsubscribe_link_request(email=proved, **limits):
            texts.append(gettext("I've also sent an unsubscribe link to %(email)s, the address you confirmed in this chat."))
        else:
            texts.append(gettext("I can't send another e-mail to %(email)s today; please use the link in the newsletter."))
    elif proved:
        texts.append(gettext("%(email)s, the address you confirmed in this chat, isn't on our newsletter list."))
    # Whole sentences, each translated on its own; Japanese sentences are not spaced apart.
    executor.reply.say(sentences_join(t % {"email": proved} for t in texts))
    return dialogue.Outcome(action="newsletter", ok=True)
