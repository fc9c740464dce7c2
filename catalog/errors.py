"""The shop's domain errors: a rule was broken, and the shopper can be told why.

Every error carries a short machine ``code`` (for the chat, logs and tests) and a ``message``
that a shopper can read: what is not possible, why, and what they can do instead. Views, the
chat and the admin show ``message`` as it is; they never need to rephrase it.

The default messages are lazy translations, read when the error is raised: in the language
active there (the conversation's language in the chat, the page's in a view).
"""

from django.utils.translation import gettext_lazy as _


class ShopError(Exception):
    code = "shop_error"
    default_message = _("That is not possible right now. Please contact our support team.")

    def __init__(self, message: str | None = None, *, code: str | None = None, data: dict | None = None):
        # Read now, in the language active where the rule was broken (a plain str for JSON and logs).
        self.message = str(message or self.default_message)
        if code:
            self.code = code
        # Structured details for callers that want them (e.g. which fields were missing).
        self.data = data or {}
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class OrderNotCancellable(ShopError):
    code = "order_not_cancellable"
    default_message = _("This order can no longer be cancelled.")


class AddressChangeNotAllowed(ShopError):
    code = "address_change_not_allowed"
    default_message = _("The shipping address of this order can no longer be changed.")


class InvalidAddress(ShopError):
    code = "invalid_address"
    default_message = _("That address is incomplete. Please give the name, street, city, postcode and country.")


class ReturnNotAllowed(ShopError):
    code = "return_not_allowed"
    default_message = _("This order cannot be returned.")


class InvalidReturnQuantity(ShopError):
    code = "invalid_return_quantity"
    default_message = _("That quantity cannot be returned.")


class InvalidReturnTransition(ShopError):
    """A staff step on a return that its current status does not allow (e.g. refunding twice)."""

    code = "invalid_return_transition"
    default_message = _("This return cannot move to that step from its current status.")


class InvalidOrderTransition(ShopError):
    """A staff step on an order that its current status does not allow (e.g. delivering before shipping)."""

    code = "invalid_order_transition"
    default_message = _("This order cannot move to that step from its current status.")


class InvalidEmail(ShopError):
    code = "invalid_email"
    default_message = _("That does not look like an e-mail address. Please check it and try again.")
