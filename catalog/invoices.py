"""Printable invoices behind signed links: the chat shares a link only after verification."""

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .models import Order

SALT = "catalog.invoice"


def invoice_url(order: Order) -> str:
    """A link to the order's invoice that works without signing in for INVOICE_LINK_MAX_AGE_SECONDS."""
    token = signing.dumps(order.number, salt=SALT)
    return reverse("catalog:invoice", kwargs={"token": token})


@never_cache  # personal data behind a bearer link: no shared cache keeps a copy
def invoice_view(request, token: str):
    try:
        number = signing.loads(token, salt=SALT, max_age=settings.INVOICE_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        return _refused(request, _("This invoice link has expired. Ask the assistant in the chat for a new one."))
    except signing.BadSignature:
        return _refused(request, _("This invoice link is not valid. Please open the link exactly as you received it."))
    order = Order.objects.filter(number=number).prefetch_related("lines").select_related("shipping_method").first()
    if order is None:
        raise Http404("No such order.")
    return render(request, "invoices/invoice.html", {"order": order, "shop_name": settings.SHOP_NAME})


def _refused(request, message: str):
    return render(request, "invoices/invalid.html", {"message": message, "shop_name": settings.SHOP_NAME}, status=400)
