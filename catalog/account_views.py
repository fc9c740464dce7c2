"""Shopper accounts on the storefront, under /account/: sign up, sign in and out, password reset
(django.contrib.auth's views) and "My orders" with its returns and invoices.

An account sees only the orders of its confirmed address (selectors.orders_for_user); another
order's number is a 404, never a "not yours". Writes go through catalog.services.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import accounts, selectors, services
from .errors import ShopError
from .mail_limits import mail_limit_take
from .models import ReturnRequest


class SignUpForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"), max_length=150, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=lazy(password_validators_help_text_html, str)(),  # what AUTH_PASSWORD_VALIDATORS ask for
    )
    password2 = forms.CharField(label=gettext_lazy("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        email, password = data.get("email"), data.get("password1")
        if password and password != data.get("password2"):
            self.add_error("password2", _("The two passwords are not the same."))
        elif password:
            try:
                validate_password(password, get_user_model()(username=email or "", email=email or ""))
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class SignInForm(AuthenticationForm):
    """Django's sign-in form (authenticate() with the request, so django-axes counts failures),
    with the e-mail address as the username."""

    username = forms.CharField(label=gettext_lazy("E-mail address"), max_length=254, widget=forms.TextInput(attrs={"autocomplete": "email", "autofocus": True}))

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


sign_in = auth_views.LoginView.as_view(template_name="account/sign_in.html", authentication_form=SignInForm, redirect_authenticated_user=True)
sign_out = auth_views.LogoutView.as_view(next_page="catalog:home")  # POST only (Django 5)


class ShopperPasswordResetForm(PasswordResetForm):
    """Django's reset form for shopper accounts only (staff passwords are the administrator's to
    set), within the limits on mail to one address (the page never says whether one went out)."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if not user.is_staff)

    def save(self, *args, request=None, **kwargs):
        client = request.META.get("REMOTE_ADDR") if request is not None else None
        if mail_limit_take(kind="password_reset", address=self.cleaned_data["email"], client_address=client):
            super().save(*args, request=request, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ShopperPasswordResetForm
    template_name = "account/password_reset.html"
    email_template_name = "account/password_reset_email.txt"
    subject_template_name = "account/password_reset_subject.txt"
    success_url = reverse_lazy("catalog:password_reset_done")

    def form_valid(self, form):
        # Read when mailing, not at import: the settings may change under tests.
        self.extra_email_context = {"shop_name": settings.SHOP_NAME, "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)}
        return super().form_valid(form)


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="account/password_reset_done.html")
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="account/password_reset_confirm.html", success_url=reverse_lazy("catalog:password_reset_complete")
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(template_name="account/password_reset_complete.html")


@require_http_methods(["GET", "POST"])
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("catalog:my_orders")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_sign_up(
                email=form.cleaned_data["email"], password=form.cleaned_data["password1"], client_address=request.META.get("REMOTE_ADDR")
            )
        except ShopError as error:
            form.add_error("email", error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.info(request, _("Welcome! We have sent a link to %(email)s: open it to confirm the address.") % {"email": user.email})
            return redirect("catalog:my_orders")
    return render(request, "account/sign_up.html", {"form": form})


@require_http_methods(["GET", "POST"])
def verify_email(request, token):
    """The link from the confirmation e-mail: GET asks (mail scanners open links), POST confirms."""
    try:
        user_id, email = accounts.verified_claim(token)
    except accounts.LinkExpired:
        return render(request, "account/verify_email.html", {"step": "expired"}, status=400)
    except accounts.LinkInvalid:
        return render(request, "account/verify_email.html", {"step": "invalid"}, status=400)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return render(request, "account/verify_email.html", {"step": "invalid"}, status=400)
    if request.method == "POST":
        try:
            services.customer_link_account(user=user, email=email)
        except ShopError as error:
            return render(request, "account/verify_email.html", {"step": "refused", "error": error.message}, status=400)
        return render(request, "account/verify_email.html", {"step": "confirmed", "email": email})
    return render(request, "account/verify_email.html", {"step": "confirm", "email": email})


@login_required
@require_POST
def verify_email_resend(request):
    if selectors.account_email_confirmed(user=request.user):
        return redirect("catalog:my_orders")
    if services.account_verification_request(user=request.user, client_address=request.META.get("REMOTE_ADDR")):
        messages.info(request, _("We have sent a new link to %(email)s.") % {"email": request.user.email})
    else:
        messages.error(request, _("We have sent several links to this address already. Please try again tomorrow."))
    return redirect("catalog:my_orders")


@login_required
def my_orders(request):
    confirmed = selectors.account_email_confirmed(user=request.user)
    orders = list(selectors.orders_for_user(user=request.user)) if confirmed else []
    return render(request, "account/my_orders.html", {"orders": orders, "confirmed": confirmed})


def _own_order(request, number: str):
    order = selectors.orders_for_user(user=request.user).filter(number=number).first()
    if order is None:
        raise Http404("No such order in your account.")
    return order


@login_required
def order_detail(request, number):
    order = _own_order(request, number)
    context = {
        "order": order,
        "lines": list(order.lines.order_by("pk")),
        "returns": list(order.returns.prefetch_related("lines__order_line").order_by("-pk")),
        "eligibility": selectors.return_eligibility(order=order),
        "reasons": ReturnRequest.Reason.choices,
    }
    context["returnable"] = [item for item in context["eligibility"] if item.is_returnable]
    return render(request, "account/order_detail.html", context)


@login_required
@require_POST
def order_return_start(request, number):
    """Start a return for the ticked items (all of each one's returnable quantity), by the shop's rules."""
    order = _own_order(request, number)
    try:
        picked = [int(value) for value in request.POST.getlist("line")]
    except ValueError:
        picked = None
    # All of each ticked item that may still go back; a ticked item that may not is passed on
    # as one, so the service refuses it with the shop's reason.
    returnable = {item.line.pk: item.returnable_quantity for item in selectors.return_eligibility(order=order)}
    try:
        if picked is None:
            raise ShopError(_("Please choose the items to return from the list."), code="invalid_return_quantity")
        return_request = services.return_request_create(
            order=order,
            lines=[(line_id, returnable.get(line_id) or 1) for line_id in picked],
            reason=request.POST.get("reason", ""),
            comment=request.POST.get("comment", ""),
            actor="shopper",
        )
    except ShopError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Return %(rma)s started. We have e-mailed you what happens next.") % {"rma": return_request.rma_number}
        )
    return redirect("catalog:my_order", number=order.number)


@login_required
def order_invoice(request, number):
    order = _own_order(request, number)
    return render(request, "invoices/invoice.html", {"order": order, "shop_name": settings.SHOP_NAME})
