"""The shop in Django's admin: catalog, customers, orders, returns, policy and help articles.

Orders and returns change status only through admin actions that call the services, so the
shop's rules, the audit log (OrderEvent) and the shopper's e-mails apply to staff as they do
to the chat. Audit data (events, order lines, return lines) is read-only.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Sum
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .errors import ShopError
from .models import (
    Article,
    Category,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    ReturnLine,
    ReturnRequest,
    ShippingMethod,
    ShopPolicy,
    Variant,
)
from .models import ArticleTranslation, CategoryTranslation, ProductTranslation


def staff_actor(request) -> str:
    return f"staff:{request.user.get_username()}"


def run_for_each(modeladmin, request, queryset, step, done: str) -> None:
    """Apply a service to each selected row; a broken rule is reported, the rest go on."""
    succeeded = 0
    for obj in queryset:
        try:
            step(obj)
        except ShopError as error:
            modeladmin.message_user(request, _("%(object)s: %(error)s") % {"object": obj, "error": error.message}, messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        noun = modeladmin.model._meta.verbose_name if succeeded == 1 else modeladmin.model._meta.verbose_name_plural
        modeladmin.message_user(request, _("%(count)d %(objects)s %(done)s.") % {"count": succeeded, "objects": noun, "done": done}, messages.SUCCESS)


def action_with_form(modeladmin, request, queryset, *, form_class, title: str, submit: str, apply):
    """An admin action that first asks for details (a reason, a tracking number) on its own page.

    ``apply(cleaned_data)`` runs once the form is valid; until then the page is shown again
    with the form's errors.
    """
    count = queryset.count()
    if "apply" in request.POST:
        form = form_class(request.POST, selected=count)
        if form.is_valid():
            apply(form.cleaned_data)
            return HttpResponseRedirect(request.get_full_path())
    else:
        form = form_class(selected=count)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "submit": submit,
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/catalog/action_form.html", context)


class ActionForm(forms.Form):
    def __init__(self, *args, selected: int = 1, **kwargs):
        self.selected = selected
        super().__init__(*args, **kwargs)


class ShipForm(ActionForm):
    carrier = forms.CharField(max_length=60, required=False, help_text=gettext_lazy("Leave empty for the shipping method's carrier."))
    tracking_number = forms.CharField(max_length=60, required=False)
    estimated_delivery = forms.DateField(
        required=False, help_text=gettext_lazy("YYYY-MM-DD. Leave empty for today plus the method's longest delivery time.")
    )

    def clean_tracking_number(self):
        value = self.cleaned_data["tracking_number"].strip()
        if value and self.selected > 1:
            raise forms.ValidationError(_("Each parcel has its own tracking number: ship these orders one at a time."))
        return value


class ReasonForm(ActionForm):
    reason = forms.CharField(max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RejectForm(ActionForm):
    reason = forms.CharField(max_length=300, help_text=gettext_lazy("Shown to the shopper in the e-mail."), widget=forms.Textarea(attrs={"rows": 3}))


class RefundForm(ActionForm):
    amount = forms.DecimalField(
        max_digits=10, decimal_places=2, required=False, min_value=0,
        help_text=gettext_lazy("Leave empty to refund the full amount of each return."),
    )

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and self.selected > 1:
            raise forms.ValidationError(_("A reduced refund can only be given for one return at a time."))
        return amount


class ReturnStartForm(ActionForm):
    reason = forms.ChoiceField(choices=ReturnRequest.Reason.choices, initial=ReturnRequest.Reason.OTHER)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


# --- Catalog ------------------------------------------------------------------------------------


class LanguageChoice:
    """A translation's language: one of the shop's languages other than the catalogue's own."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "language":
            from .translations import SOURCE_LANGUAGE, shop_languages

            choices = [(code, name) for code, name in settings.LANGUAGES if code in shop_languages() and code != SOURCE_LANGUAGE]
            return forms.ChoiceField(choices=choices, label="language")
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class TranslationInline(LanguageChoice, admin.StackedInline):
    """The object's text in the shop's other languages (catalog/translations.py); blank fields
    show the original."""

    extra = 0


class CategoryTranslationInline(TranslationInline):
    model = CategoryTranslation
    fields = ("language", "name", "description")


class ProductTranslationInline(TranslationInline):
    model = ProductTranslation
    fields = ("language", "name", "materials", "description")


class ArticleTranslationInline(TranslationInline):
    model = ArticleTranslation
    fields = ("language", "title", "tags", "body")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent", "product_count")
    list_filter = (("parent", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    inlines = [CategoryTranslationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent").annotate(product_total=Count("products"))

    @admin.display(description=gettext_lazy("products"), ordering="product_total")
    def product_count(self, obj):
        return obj.product_total


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "colour", "size", "options", "price_override", "stock")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "price", "currency", "stock_total", "is_active", "updated_at")
    list_filter = ("is_active", ("category", admin.RelatedOnlyFieldListFilter), "currency")
    search_fields = ("name", "slug", "description", "materials", "variants__sku")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("category",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [VariantInline, ProductTranslationInline]
    actions = ["make_active", "make_inactive"]
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category").annotate(stock_sum=Sum("variants__stock"))

    @admin.display(description=gettext_lazy("stock"), ordering="stock_sum")
    def stock_total(self, obj):
        return obj.stock_sum or 0

    @admin.action(description=gettext_lazy("Show in the shop"))
    def make_active(self, request, queryset):
        updated = queryset.update(is_active=True)
        self.message_user(request, _("%(count)d products are now shown in the shop.") % {"count": updated}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Hide from the shop"))
    def make_inactive(self, request, queryset):
        updated = queryset.update(is_active=False)
        self.message_user(request, _("%(count)d products are now hidden from the shop.") % {"count": updated}, messages.SUCCESS)


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ("sku", "product", "colour", "size", "price", "stock")
    list_filter = ("colour", "size", ("product__category", admin.RelatedOnlyFieldListFilter))
    search_fields = ("sku", "product__name", "colour", "size")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)


# --- Customers and shipping ---------------------------------------------------------------------


class CustomerOrderInline(admin.TabularInline):
    model = Order
    fields = ("number", "status", "total", "currency", "placed_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False
    verbose_name_plural = "orders"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "user", "newsletter", "order_count", "created_at")
    list_filter = ("newsletter", "created_at")
    search_fields = ("email", "name", "user__username")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)
    inlines = [CustomerOrderInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").annotate(order_total=Count("orders"))

    @admin.display(description=gettext_lazy("orders"), ordering="order_total")
    def order_count(self, obj):
        return obj.order_total


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "carrier", "country_list", "price", "free_over", "delivery_time", "is_active")
    list_filter = ("is_active", "carrier")
    search_fields = ("name", "code", "carrier")
    prepopulated_fields = {"code": ("name",)}

    @admin.display(description=gettext_lazy("countries"))
    def country_list(self, obj):
        return ", ".join(obj.countries) if obj.countries else "all"

    @admin.display(description=gettext_lazy("delivery (days)"))
    def delivery_time(self, obj):
        return obj.delivery_days


# --- Orders ---------------------------------------------------------------------------------------


class OrderLineInline(admin.TabularInline):
    """Lines are a record of the sale: entered when staff create an order, read-only after."""

    model = OrderLine
    extra = 0
    fields = ("variant", "product_name", "variant_label", "sku", "category_slug", "unit_price", "quantity", "line_total")
    readonly_fields = ("line_total",)
    autocomplete_fields = ("variant",)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return self.fields
        return self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return obj is None

    @admin.display(description=gettext_lazy("line total"))
    def line_total(self, obj):
        return obj.line_total if obj.pk else "—"


class ReturnRequestInline(admin.TabularInline):
    model = ReturnRequest
    fields = ("rma_number", "status", "reason", "refund_amount", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    """The audit log, shown under orders and returns; nobody edits history."""

    model = OrderEvent
    fields = ("created_at", "type", "actor", "message", "return_request")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "pk")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderAdminForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        address_fields = ("ship_name", "ship_line1", "ship_line2", "ship_city", "ship_postcode", "ship_country")
        if any(f in self.changed_data for f in address_fields) and not any(f in self.errors for f in address_fields):
            method = cleaned.get("shipping_method") or (self.instance.shipping_method if self.instance.pk else None)
            try:
                tidy = services.address_clean(address={f: cleaned.get(f, "") for f in address_fields}, shipping_method=method)
            except ShopError as error:
                raise forms.ValidationError(error.message) from None
            cleaned.update(tidy)
        return cleaned


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderAdminForm
    list_display = ("number", "placed_at", "email", "status_badge", "item_total", "total", "currency", "shipping_method", "ship_country", "tracking_number")
    list_filter = ("status", "shipping_method", "ship_country", "payment_method", "placed_at")
    search_fields = ("number", "email", "ship_name", "customer__name", "customer__email", "tracking_number", "lines__sku", "returns__rma_number")
    date_hierarchy = "placed_at"
    list_select_related = ("shipping_method",)
    autocomplete_fields = ("customer",)
    inlines = [OrderLineInline, ReturnRequestInline, EventInline]
    actions = ["mark_paid", "mark_processing", "mark_shipped", "mark_delivered", "cancel_orders", "start_returns"]
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("number", "status", "customer", "email", "payment_method")}),
        (gettext_lazy("Amounts"), {"fields": ("currency", "subtotal", "shipping_price", "total")}),
        (gettext_lazy("Shipping"), {"fields": ("shipping_method", "ship_name", "ship_line1", "ship_line2", "ship_postcode", "ship_city", "ship_country", "carrier", "tracking_number", "estimated_delivery")}),
        (gettext_lazy("Timeline"), {"fields": ("placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at")}),
    )
    # Status, money and history move only through the actions (services), never by hand.
    locked_after_creation = (
        "number", "status", "currency", "subtotal", "shipping_price", "total", "shipping_method",
        "placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_sum=Sum("lines__quantity"))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("status", "subtotal", "total", "paid_at", "shipped_at", "delivered_at", "cancelled_at")
        return self.locked_after_creation

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj):
        colours = {
            Order.Status.PENDING: "#8a6d3b", Order.Status.PAID: "#31708f", Order.Status.PROCESSING: "#31708f",
            Order.Status.SHIPPED: "#3c763d", Order.Status.DELIVERED: "#3c763d", Order.Status.CANCELLED: "#a94442",
            Order.Status.PARTIALLY_RETURNED: "#8a6d3b", Order.Status.RETURNED: "#777",
        }
        return format_html('<strong style="color:{}">{}</strong>', colours.get(obj.status, "#333"), obj.get_status_display())

    @admin.display(description=gettext_lazy("items"), ordering="item_sum")
    def item_total(self, obj):
        return obj.item_sum or 0

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)  # a new order: its lines follow in save_related
            return
        changes = {f: getattr(obj, f) for f in form.changed_data if f in services.STAFF_EDITABLE_ORDER_FIELDS}
        if changes:
            services.order_update_details(order=obj, changes=changes, actor=staff_actor(request))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            services.order_created_by_staff(order=form.instance, actor=staff_actor(request))

    @admin.action(description=gettext_lazy("Mark as paid"))
    def mark_paid(self, request, queryset):
        run_for_each(self, request, queryset, lambda o: services.order_mark_paid(order=o, actor=staff_actor(request)), gettext_lazy("marked as paid"))

    @admin.action(description=gettext_lazy("Send to the warehouse (processing)"))
    def mark_processing(self, request, queryset):
        run_for_each(self, request, queryset, lambda o: services.order_mark_processing(order=o, actor=staff_actor(request)), gettext_lazy("sent to the warehouse"))

    @admin.action(description=gettext_lazy("Mark as shipped…"))
    def mark_shipped(self, request, queryset):
        def apply(data):
            run_for_each(
                self, request, queryset,
                lambda o: services.order_mark_shipped(
                    order=o, actor=staff_actor(request), carrier=data["carrier"],
                    tracking_number=data["tracking_number"], estimated_delivery=data["estimated_delivery"],
                ),
                gettext_lazy("marked as shipped; the shoppers have been e-mailed"),
            )

        return action_with_form(self, request, queryset, form_class=ShipForm, title=_("Mark orders as shipped"), submit=_("Mark as shipped"), apply=apply)

    @admin.action(description=gettext_lazy("Mark as delivered"))
    def mark_delivered(self, request, queryset):
        run_for_each(self, request, queryset, lambda o: services.order_mark_delivered(order=o, actor=staff_actor(request)), gettext_lazy("marked as delivered"))

    @admin.action(description=gettext_lazy("Cancel orders…"))
    def cancel_orders(self, request, queryset):
        def apply(data):
            run_for_each(
                self, request, queryset,
                lambda o: services.order_cancel(order=o, actor=staff_actor(request), reason=data["reason"]),
                gettext_lazy("cancelled; stock released and the shoppers e-mailed"),
            )

        return action_with_form(self, request, queryset, form_class=ReasonForm, title=_("Cancel orders"), submit=_("Cancel these orders"), apply=apply)

    @admin.action(description=gettext_lazy("Start a return for every eligible item…"))
    def start_returns(self, request, queryset):
        def apply(data):
            run_for_each(
                self, request, queryset,
                lambda o: services.return_request_create(
                    order=o, lines=None, reason=data["reason"], comment=data["comment"], actor=staff_actor(request)
                ),
                gettext_lazy("given a return request; the shoppers have been e-mailed the instructions"),
            )

        return action_with_form(self, request, queryset, form_class=ReturnStartForm, title=_("Start returns"), submit=_("Start returns"), apply=apply)


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ("order", "product_name", "variant_label", "sku", "quantity", "unit_price", "category_slug")
    list_filter = ("category_slug",)
    search_fields = ("order__number", "product_name", "sku")
    list_select_related = ("order",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "order", "type", "actor", "message", "return_request")
    list_filter = ("type", "created_at")
    search_fields = ("order__number", "actor", "message", "return_request__rma_number")
    date_hierarchy = "created_at"
    list_select_related = ("order", "return_request")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Returns --------------------------------------------------------------------------------------


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    fields = ("order_line", "quantity", "unit_price")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("unit price"))
    def unit_price(self, obj):
        return obj.order_line.unit_price


class ReturnEventInline(EventInline):
    fk_name = "return_request"
    fields = ("created_at", "type", "actor", "message")
    readonly_fields = fields


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    """Returns are started by shoppers (chat) or from an order's action; staff move them on here."""

    list_display = ("rma_number", "order_link", "status", "reason", "refund_amount", "created_at", "refunded_at")
    list_filter = ("status", "reason", "created_at")
    search_fields = ("rma_number", "order__number", "order__email", "lines__order_line__sku")
    date_hierarchy = "created_at"
    list_select_related = ("order",)
    readonly_fields = (
        "rma_number", "order_link", "status", "reason", "comment", "refund_amount",
        "created_at", "approved_at", "received_at", "refunded_at", "rejected_reason",
    )
    fields = readonly_fields
    inlines = [ReturnLineInline, ReturnEventInline]
    actions = ["approve", "receive", "refund", "reject"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("order"), ordering="order__number")
    def order_link(self, obj):
        url = reverse("admin:catalog_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.number)

    @admin.action(description=gettext_lazy("Approve"))
    def approve(self, request, queryset):
        run_for_each(self, request, queryset, lambda r: services.return_request_approve(return_request=r, actor=staff_actor(request)), gettext_lazy("approved"))

    @admin.action(description=gettext_lazy("Mark as received"))
    def receive(self, request, queryset):
        run_for_each(self, request, queryset, lambda r: services.return_request_receive(return_request=r, actor=staff_actor(request)), gettext_lazy("marked as received"))

    @admin.action(description=gettext_lazy("Refund…"))
    def refund(self, request, queryset):
        def apply(data):
            run_for_each(
                self, request, queryset,
                lambda r: services.return_request_refund(return_request=r, actor=staff_actor(request), amount=data["amount"]),
                gettext_lazy("refunded; the shoppers have been e-mailed"),
            )

        return action_with_form(self, request, queryset, form_class=RefundForm, title=_("Refund returns"), submit=_("Refund"), apply=apply)

    @admin.action(description=gettext_lazy("Reject…"))
    def reject(self, request, queryset):
        def apply(data):
            run_for_each(
                self, request, queryset,
                lambda r: services.return_request_reject(return_request=r, actor=staff_actor(request), reason=data["reason"]),
                gettext_lazy("rejected; the shoppers have been e-mailed"),
            )

        return action_with_form(self, request, queryset, form_class=RejectForm, title=_("Reject returns"), submit=_("Reject"), apply=apply)


@admin.register(ReturnLine)
class ReturnLineAdmin(admin.ModelAdmin):
    list_display = ("return_request", "order_line", "quantity")
    search_fields = ("return_request__rma_number", "order_line__sku", "order_line__product_name")
    list_filter = ("return_request__status",)
    list_select_related = ("return_request", "order_line")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Policy and knowledge base --------------------------------------------------------------------


@admin.register(ShopPolicy)
class ShopPolicyAdmin(admin.ModelAdmin):
    """One policy row: the list goes straight to it; it can be edited but not added or deleted."""

    filter_horizontal = ("non_returnable_categories",)
    fieldsets = (
        (gettext_lazy("Orders"), {"fields": ("cancellation_window", "cancellation_fee", "address_change_allowed_until_shipment", "currency")}),
        (gettext_lazy("Returns"), {"fields": ("return_window_days", "non_returnable_categories")}),
        (gettext_lazy("Support"), {"fields": ("support_hours", "support_email")}),
    )

    def has_add_permission(self, request):
        return not ShopPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        policy = ShopPolicy.current()
        return HttpResponseRedirect(reverse("admin:catalog_shoppolicy_change", args=[policy.pk]))


@admin.register(CategoryTranslation)
class CategoryTranslationAdmin(LanguageChoice, admin.ModelAdmin):
    list_display = ("category", "language", "name", "updated_at")
    list_filter = ("language",)
    search_fields = ("name", "description", "category__name")
    autocomplete_fields = ("category",)


@admin.register(ProductTranslation)
class ProductTranslationAdmin(LanguageChoice, admin.ModelAdmin):
    list_display = ("product", "language", "name", "updated_at")
    list_filter = ("language",)
    search_fields = ("name", "description", "product__name")
    autocomplete_fields = ("product",)


@admin.register(ArticleTranslation)
class ArticleTranslationAdmin(LanguageChoice, admin.ModelAdmin):
    list_display = ("article", "language", "title", "updated_at")
    list_filter = ("language",)
    search_fields = ("title", "tags", "body", "article__title")
    autocomplete_fields = ("article",)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "topic", "is_published", "updated_at")
    list_filter = ("topic", "is_published")
    search_fields = ("title", "tags", "body")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("updated_at",)
    inlines = [ArticleTranslationInline]
    actions = ["publish", "unpublish"]

    @admin.action(description=gettext_lazy("Publish"))
    def publish(self, request, queryset):
        updated = queryset.update(is_published=True, updated_at=timezone.now())
        self.message_user(request, _("%(count)d articles published.") % {"count": updated}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Unpublish"))
    def unpublish(self, request, queryset):
        updated = queryset.update(is_published=False, updated_at=timezone.now())
        self.message_user(request, _("%(count)d articles unpublished.") % {"count": updated}, messages.SUCCESS)
