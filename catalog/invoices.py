"""Printable invoices behind signed links: the chat shares a link only after verification."""

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from .models import Order

SALT = "catalog.invoice"
MAX_AGE = 60 * 60 * 24 * 7  # a shared invoice link works for a week


def invoice_url(order: Order) -> str:
    token = signing.dumps(order.number, salt=SALT)
    return reverse("catalog:invoice", kwargs={"token": token})


def invoice_view(request, token: str):
    try:
        number = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        raise Http404("This invoice link is invalid or has expired.")
    order = Order.objects.filter(number=number).prefetch_related("lines").select_related("shipping_method").first()
    if order is None:
        raise Http404("No such order.")
    return render(request, "invoices/invoice.html", {"order": order, "shop_name": settings.SHOP_NAME})
