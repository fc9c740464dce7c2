"""The shop's domain errors: a rule was broken, and the shopper can be told why.

Every error carries a short machine ``code`` (for the chat, logs and tests) and a ``message``
that a shopper can read: what is not possible, why, and what they can do instead. Views, the
chat and the admin show ``message`` as it is; they never need to rephrase it.
"""


class ShopError(Exception):
    code = "shop_error"
    default_message = "That is not possible right now. Please contact our support team."

    def __init__(self, message: str | None = None, *, code: str | None = None, data: dict | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        # Structured details for callers that want them (e.g. which fields were missing).
        self.data = data or {}
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class OrderNotCancellable(ShopError):
    code = "order_not_cancellable"
    default_message = "This order can no longer be cancelled."


class AddressChangeNotAllowed(ShopError):
    code = "address_change_not_allowed"
    default_message = "The shipping address of this order can no longer be changed."


class InvalidAddress(ShopError):
    code = "invalid_address"
    default_message = "That address is incomplete. Please give the name, street, city, postcode and country."


class ReturnNotAllowed(ShopError):
    code = "return_not_allowed"
    default_message = "This order cannot be returned."


class InvalidReturnQuantity(ShopError):
    code = "invalid_return_quantity"
    default_message = "That quantity cannot be returned."


class InvalidReturnTransition(ShopError):
    """A staff step on a return that its current status does not allow (e.g. refunding twice)."""

    code = "invalid_return_transition"
    default_message = "This return cannot move to that step from its current status."


class InvalidOrderTransition(ShopError):
    """A staff step on an order that its current status does not allow (e.g. delivering before shipping)."""

    code = "invalid_order_transition"
    default_message = "This order cannot move to that step from its current status."


class InvalidEmail(ShopError):
    code = "invalid_email"
    default_message = "That does not look like an e-mail address. Please check it and try again."
