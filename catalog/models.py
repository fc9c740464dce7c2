"""The shop's data: catalog, customers, orders, returns, policies and knowledge base.

Modelled after Saleor and django-oscar: an order line keeps a snapshot of what was sold
(name, SKU, unit price) so that later catalog edits never rewrite history, and every change
to an order or a return leaves an OrderEvent behind.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Translatable(models.Model):
    """A model whose texts have translations (catalog/translations.py puts them on an instance
    for display). An instance that carries another language's text is never saved: that would
    write the translation over the catalogue's own text."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if getattr(self, "localized_to", None):
            raise ValueError(f"{type(self).__name__} {self.pk} carries its {self.localized_to} text for display; fetch it again to save")
        super().save(*args, **kwargs)


class Category(Translatable):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:category", kwargs={"slug": self.slug})


class Product(Translatable):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    materials = models.CharField(max_length=300, blank=True, help_text="e.g. 100% organic cotton")
    attributes = models.JSONField(default=dict, blank=True, help_text="Care, fit, dimensions, origin …")
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="EUR")
    image = models.ImageField(upload_to="products/", blank=True)
    # Picture addresses from a catalog import (Shopify's Image Src), in order; never downloaded.
    image_urls = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["is_active", "category"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:product", kwargs={"slug": self.slug})

    @property
    def image_url(self) -> str:
        """The uploaded image, else the first imported picture, else the drawing of this kind (catalog/pictures.py)."""
        from catalog.pictures import product_image

        return product_image(self)


class Variant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    size = models.CharField(max_length=20, blank=True)
    colour = models.CharField(max_length=40, blank=True)
    # Every option of the variant in the shop's order, as [name, value] pairs ([["Flavour",
    # "Vanilla"], ["Weight", "1 kg"]]); colour and size above repeat the options named so.
    options = models.JSONField(default=list, blank=True)
    price_override = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    stock = models.PositiveIntegerField("stock on hand", default=0)

    class Meta:
        ordering = ["product", "colour", "size"]
        constraints = [
            models.UniqueConstraint(fields=["product", "size", "colour", "options"], name="variant_unique_options"),
        ]

    def __str__(self):
        return f"{self.product.name} ({self.label})" if self.label else self.product.name

    @property
    def label(self) -> str:
        if self.options:
            return " / ".join(str(value) for _name, value in self.options if value)
        return " / ".join(part for part in (self.colour, self.size) if part)

    @property
    def other_options(self) -> list[tuple[str, str]]:
        """The options that are neither colour nor size (flavour, weight, …), as (name, value)."""
        from catalog.options import option_kind

        return [(name, value) for name, value in self.options if option_kind(name) is None]

    @property
    def price(self) -> Decimal:
        return self.price_override if self.price_override is not None else self.product.price

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class Customer(models.Model):
    email = models.EmailField(unique=True, help_text="Stored lower-case.")
    name = models.CharField(max_length=150, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="customer"
    )
    newsletter = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return f"{self.name} <{self.email}>" if self.name else self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class ShippingMethod(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    carrier = models.CharField(max_length=60, blank=True)
    countries = models.JSONField(default=list, help_text="ISO 3166 alpha-2 codes, e.g. [\"DE\", \"AT\"]")
    price = models.DecimalField(max_digits=8, decimal_places=2)
    free_over = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Free for orders at or above this subtotal."
    )
    currency = models.CharField(max_length=3, default="EUR")
    min_days = models.PositiveSmallIntegerField(default=2)
    max_days = models.PositiveSmallIntegerField(default=5)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["price", "name"]

    def __str__(self):
        return self.name

    @property
    def delivery_days(self) -> str:
        return f"{self.min_days}" if self.min_days == self.max_days else f"{self.min_days}–{self.max_days}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending payment")
        PAID = "paid", _("Paid")
        PROCESSING = "processing", _("Processing")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        PARTIALLY_RETURNED = "partially_returned", _("Partially returned")
        RETURNED = "returned", _("Returned")

    UNSHIPPED = (Status.PENDING, Status.PAID, Status.PROCESSING)

    number = models.CharField(max_length=20, unique=True, help_text="The public order number shoppers see.")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    email = models.EmailField(help_text="The e-mail the order was placed with.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    currency = models.CharField(max_length=3, default="EUR")
    subtotal = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    shipping_price = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    payment_method = models.CharField(max_length=40, blank=True)

    placed_at = models.DateTimeField(default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    shipping_method = models.ForeignKey(ShippingMethod, null=True, blank=True, on_delete=models.PROTECT)
    ship_name = models.CharField("recipient", max_length=150)
    ship_line1 = models.CharField("address line 1", max_length=200)
    ship_line2 = models.CharField("address line 2", max_length=200, blank=True)
    ship_city = models.CharField("city", max_length=100)
    ship_postcode = models.CharField("postcode", max_length=20)
    ship_country = models.CharField("country", max_length=2, help_text="ISO 3166 alpha-2")
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=60, blank=True)
    estimated_delivery = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self):
        return f"Order {self.number}"

    def get_absolute_url(self):
        return reverse("admin:catalog_order_change", args=[self.pk])

    @property
    def is_shipped(self) -> bool:
        return self.status not in self.UNSHIPPED and self.status != self.Status.CANCELLED

    @property
    def shipping_address(self) -> str:
        parts = [self.ship_name, self.ship_line1, self.ship_line2, f"{self.ship_postcode} {self.ship_city}", self.ship_country]
        return ", ".join(p for p in parts if p)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines.all())


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines")
    # Snapshot at the time of sale.
    product_name = models.CharField(max_length=200)
    variant_label = models.CharField(max_length=80, blank=True)
    sku = models.CharField("SKU", max_length=64)
    category_slug = models.SlugField(max_length=140, blank=True)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}" + (f" ({self.variant_label})" if self.variant_label else "")

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class ReturnRequest(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        RECEIVED = "received", _("Received")
        REFUNDED = "refunded", _("Refunded")
        REJECTED = "rejected", _("Rejected")

    class Reason(models.TextChoices):
        TOO_SMALL = "too_small", _("Too small")
        TOO_LARGE = "too_large", _("Too large")
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        DAMAGED = "damaged", _("Arrived damaged")
        WRONG_ITEM = "wrong_item", _("Wrong item sent")
        CHANGED_MIND = "changed_mind", _("Changed my mind")
        OTHER = "other", _("Other")

    OPEN = (Status.REQUESTED, Status.APPROVED, Status.RECEIVED)

    rma_number = models.CharField("RMA number", max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.OTHER)
    comment = models.TextField(blank=True)
    refund_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    rejected_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Return {self.rma_number}"


class ReturnLine(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="return_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.quantity} × {self.order_line.product_name}"


class OrderEvent(models.Model):
    """The audit log: one row for every change to an order or a return."""

    class Type(models.TextChoices):
        PLACED = "placed", _("Order placed")
        PAID = "paid", _("Payment received")
        PROCESSING = "processing", _("Processing")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        ADDRESS_CHANGED = "address_changed", _("Shipping address changed")
        RETURN_REQUESTED = "return_requested", _("Return requested")
        RETURN_APPROVED = "return_approved", _("Return approved")
        RETURN_RECEIVED = "return_received", _("Return received")
        RETURN_REFUNDED = "return_refunded", _("Refund issued")
        RETURN_REJECTED = "return_rejected", _("Return rejected")
        NOTE = "note", _("Note")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    return_request = models.ForeignKey(
        ReturnRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(max_length=20, choices=Type.choices)
    actor = models.CharField(max_length=80, help_text="shopper, assistant, agent:<username>, staff:<username> or system")
    message = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order.number}: {self.get_type_display()}"


class ShopPolicy(models.Model):
    """The shop's rules, editable by staff. One row (pk=1); ShopPolicy.current() returns it."""

    class CancellationWindow(models.TextChoices):
        BEFORE_SHIPMENT = "before_shipment", _("Until the order ships")
        BEFORE_PROCESSING = "before_processing", _("Until the warehouse starts processing")

    return_window_days = models.PositiveSmallIntegerField(default=30)
    non_returnable_categories = models.ManyToManyField(Category, blank=True, related_name="+")
    cancellation_window = models.CharField(
        max_length=20, choices=CancellationWindow.choices, default=CancellationWindow.BEFORE_SHIPMENT
    )
    cancellation_fee = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("0.00"), help_text="Charged when a paid order is cancelled."
    )
    address_change_allowed_until_shipment = models.BooleanField(default=True)
    currency = models.CharField(max_length=3, default="EUR")
    support_hours = models.CharField(max_length=200, default="Mon–Fri 09:00–18:00 CET")
    support_email = models.EmailField(default="support@northwind.example")

    class Meta:
        verbose_name = "shop policy"
        verbose_name_plural = "shop policy"

    def __str__(self):
        return "Shop policy"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "ShopPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class Article(Translatable):
    """A knowledge-base article: the shop's own answer to a common question."""

    class Topic(models.TextChoices):
        SHIPPING = "shipping", _("Shipping and delivery")
        RETURNS = "returns", _("Returns and refunds")
        PAYMENTS = "payments", _("Payments and invoices")
        ORDERS = "orders", _("Orders")
        ACCOUNT = "account", _("Account")
        PROMOTIONS = "promotions", _("Promotions and newsletter")
        PRODUCTS = "products", _("Products and sizing")
        CONTACT = "contact", _("Contact")

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    topic = models.CharField(max_length=20, choices=Topic.choices)
    tags = models.CharField(max_length=300, blank=True, help_text="Comma-separated")
    body = models.TextField(help_text="Plain text; blank lines separate paragraphs.")
    is_published = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["topic", "title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("catalog:article", kwargs={"slug": self.slug})

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]


# --- Translations: the catalogue's own language (English) is on the rows above; each other
# language is a row here, one per object and language, any field left blank falls back to the
# original (catalog/translations.py). A new language is new rows, never a migration.


class CategoryTranslation(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=12, help_text="A code of settings.LANGUAGES, e.g. ja")
    name = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "language"]
        constraints = [models.UniqueConstraint(fields=["category", "language"], name="category_translation_unique")]

    def __str__(self):
        return f"{self.category.slug} [{self.language}]"


class ProductTranslation(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=12, help_text="A code of settings.LANGUAGES, e.g. ja")
    name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    materials = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "language"]
        constraints = [models.UniqueConstraint(fields=["product", "language"], name="product_translation_unique")]

    def __str__(self):
        return f"{self.product.slug} [{self.language}]"


class ArticleTranslation(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=12, help_text="A code of settings.LANGUAGES, e.g. ja")
    title = models.CharField(max_length=200, blank=True)
    tags = models.CharField(max_length=300, blank=True, help_text="Comma-separated")
    body = models.TextField(blank=True, help_text="Plain text; blank lines separate paragraphs.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article", "language"]
        constraints = [models.UniqueConstraint(fields=["article", "language"], name="article_translation_unique")]

    def __str__(self):
        return f"{self.article.slug} [{self.language}]"
