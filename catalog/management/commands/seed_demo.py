"""Seed the demo shop "Northwind & Co.": catalog, customers, orders, returns, help articles, staff.

The data lives in catalog/demo/ (shop.yaml, catalog.yaml, people.yaml, articles/*.md, and per
other language translations/<language>/catalog.yaml and articles/*.md); this command turns it
into rows. Everything random comes from one random.Random(SEED), and every
date is placed relative to the moment the command runs, so two runs produce the same products,
order numbers and scenario orders, and the scenario orders stay valid whatever the date.

Idempotent: when the database already holds a current demo shop (every demo scenario still
holds and the newest order is less than a day old) nothing is recreated; the help articles are
synced from their files and the staff logins are ensured. Otherwise (or with --reset) the
catalog app's rows are wiped and recreated with the same primary keys.

It is for demo databases only: it refuses to run with DEBUG off (it creates staff logins with
published passwords) and to recreate the shop over data it did not make (users other than the
demo staff, orders or customers of a real address, products or help articles not in the demo
files), unless --force.

    manage.py seed_demo            # human-readable summary with the demo orders and logins
    manage.py seed_demo --json     # exactly one JSON object on stdout, progress on stderr
    manage.py seed_demo --reset    # wipe and recreate even if the demo shop is current
    manage.py seed_demo --force    # even with DEBUG off or over other data (it is wiped)
"""

from __future__ import annotations

import json
import random
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import ngettext

from catalog.models import (
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
from catalog.money import money_amount, money_format, money_quantize
from catalog.translations import article_translation_save, category_translation_save, product_translation_save
from catalog.services import ADDRESS_FIELDS, order_cancelled_data, order_event_data

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
SEED = 2026
HISTORY_DAYS = 120
RANDOM_ORDERS = 560
CUSTOMERS = 300  # including the demo customer
GUEST_SHARE = 0.08
FIRST_ORDER_NUMBER = 10001
FIRST_RMA_NUMBER = 100001
DEMO_EMAIL = "alex.demo@example.com"
DEMO_NAME = "Alex Morgan"
DEMO_ADDRESS = {"line1": "Kastanienallee 12", "line2": "3. OG links", "city": "Berlin", "postcode": "10435", "country": "DE"}
# A demo shop older than this is recreated so that its dates stay relative to today.
STALE_AFTER = timedelta(hours=24)
SCENARIOS = (
    "unshipped",
    "shipped",
    "delivered_returnable",
    "delivered_not_returnable",
    "cancelled",
    "return_in_progress",
)
# Domains reserved for documentation and tests (RFC 2606 / RFC 6761): only orders and customers
# on these are demo rows that this command may wipe.
RESERVED_EMAIL_DOMAIN = re.compile(r"@(?:[^@]+\.)?(?:example\.(?:com|org|net)|example|test|invalid|localhost)$", re.I)

# Share of the random orders per order status; the rest are delivered (some later returned).
STATUS_SHARES = {
    Order.Status.PENDING: 0.015,
    Order.Status.PAID: 0.02,
    Order.Status.PROCESSING: 0.02,
    Order.Status.SHIPPED: 0.06,
    Order.Status.CANCELLED: 0.07,
}
RETURN_SHARE = 0.2  # of delivered orders
RETURN_STATUS_WEIGHTS = {
    ReturnRequest.Status.REQUESTED: 8,
    ReturnRequest.Status.APPROVED: 8,
    ReturnRequest.Status.RECEIVED: 8,
    ReturnRequest.Status.REFUNDED: 68,
    ReturnRequest.Status.REJECTED: 8,
}
PAYMENT_WEIGHTS = {
    "PayPal": 30,
    "Visa": 18,
    "Klarna invoice": 16,
    "Mastercard": 14,
    "Apple Pay": 10,
    "Google Pay": 6,
    "American Express": 4,
}
CATEGORY_WEIGHTS = {
    "shirts": 14,
    "knitwear": 12,
    "trousers": 12,
    "dresses": 10,
    "outerwear": 8,
    "shoes": 9,
    "accessories": 9,
    "bedding": 7,
    "kitchen": 7,
    "home-decor": 7,
    "underwear-swimwear": 5,
    "gift-cards": 0,  # added as an extra line now and then, see _pick_lines
}
RETURN_REASONS = {
    ReturnRequest.Reason.TOO_SMALL: (25, ["Too tight across the shoulders.", "Runs small, I need a size up.", ""]),
    ReturnRequest.Reason.TOO_LARGE: (25, ["Much roomier than expected.", "Sleeves too long.", ""]),
    ReturnRequest.Reason.CHANGED_MIND: (20, ["The colour doesn't suit me after all.", "Ordered two to compare, keeping the other.", ""]),
    ReturnRequest.Reason.NOT_AS_DESCRIBED: (12, ["The colour is darker than in the photos.", "Thinner fabric than I expected."]),
    ReturnRequest.Reason.DAMAGED: (6, ["A seam was open on arrival.", "Arrived with a chip in the glaze."]),
    ReturnRequest.Reason.WRONG_ITEM: (4, ["Received a different size from the one I ordered."]),
    ReturnRequest.Reason.OTHER: (8, ["Received it as a gift twice.", ""]),
}
REJECTION_REASONS = [
    "Item came back worn and washed; returned to the customer.",
    "The parcel contained a different item from the one sold; returned to the customer.",
    "Item returned without its original tags and with signs of wear.",
]
CANCEL_REASONS = [
    "Ordered the wrong size.",
    "No longer needed.",
    "Ordered twice by mistake.",
    "Found it in a shop near me.",
    "Delivery would arrive too late for the occasion.",
]
NOTES = [
    "Customer asked for a company invoice with VAT ID; sent by e-mail.",
    "Customer asked when the parcel would arrive; shared the tracking link.",
    "Gift message added to the parcel at the customer's request.",
    "Customer asked about care for wool; sent the product care article.",
]
DEMO_STAFF = ("anna", "ben", "chloe")


# --- Loading the data files -------------------------------------------------------------------


@dataclass
class DemoData:
    shop: dict
    catalog: dict
    people: dict
    articles: list[dict]
    # language -> {"categories": {slug: fields}, "products": {English name: fields}, "articles": {slug: fields}}
    translations: dict = field(default_factory=dict)


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n(.*)\Z", re.S)


def _load_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise CommandError(f"Demo data file missing: {path}") from None
    except yaml.YAMLError as exc:
        raise CommandError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path} must hold a mapping at the top level")
    return data


def parse_article(path: Path) -> dict:
    """One knowledge-base article: YAML front matter (title, topic, tags), then plain paragraphs."""
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    match = FRONT_MATTER.match(text)
    if not match:
        raise CommandError(f"{path}: an article starts with front matter between two '---' lines")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CommandError(f"{path}: invalid front matter: {exc}") from None
    missing = {"title", "topic"} - set(meta)
    if missing:
        raise CommandError(f"{path}: front matter lacks {', '.join(sorted(missing))}")
    if meta["topic"] not in Article.Topic.values:
        raise CommandError(f"{path}: unknown topic {meta['topic']!r}; use one of {', '.join(Article.Topic.values)}")
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    # Normalise paragraphs: blank lines separate them, single newlines inside a paragraph are kept
    # only for list items ("- ") so that the chat can quote a paragraph as one passage.
    paragraphs = []
    for block in re.split(r"\n\s*\n", match.group(2).strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            paragraphs.append("\n".join(lines))
        else:
            paragraphs.append(" ".join(lines))
    if not paragraphs:
        raise CommandError(f"{path}: the article has no body")
    slug = path.stem
    if slugify(slug) != slug:
        raise CommandError(f"{path}: the file name must be a slug (lower-case letters, digits, hyphens)")
    return {
        "slug": slug,
        "title": str(meta["title"]).strip(),
        "topic": meta["topic"],
        "tags": ", ".join(t for t in (str(t).strip() for t in tags) if t),
        "body": "\n\n".join(paragraphs),
    }


def load_demo_data(directory: Path = DEMO_DIR) -> DemoData:
    shop = _load_yaml(directory / "shop.yaml")
    catalog = _load_yaml(directory / "catalog.yaml")
    people = _load_yaml(directory / "people.yaml")
    article_files = sorted((directory / "articles").glob("*.md"))
    if not article_files:
        raise CommandError(f"No knowledge-base articles found in {directory / 'articles'}")
    articles = [parse_article(path) for path in article_files]
    for key in ("shipping_methods", "policy", "admin", "agents", "agent_group"):
        if key not in shop:
            raise CommandError(f"shop.yaml lacks '{key}'")
    if not catalog.get("categories"):
        raise CommandError("catalog.yaml lacks 'categories'")
    if not people.get("countries"):
        raise CommandError("people.yaml lacks 'countries'")
    # YAML reads a bare NO (Norway) as false: country codes must be quoted strings.
    codes = list(people["countries"]) + [c for m in shop["shipping_methods"] for c in m.get("countries", [])]
    bad = [repr(c) for c in codes if not (isinstance(c, str) and re.fullmatch(r"[A-Z]{2}", c))]
    if bad:
        raise CommandError(f"Country codes must be two capital letters in quotes where YAML needs them: {', '.join(bad)}")
    translations = load_translations(directory, catalog, articles)
    return DemoData(shop=shop, catalog=catalog, people=people, articles=articles, translations=translations)


def load_translations(directory: Path, catalog: dict, articles: list[dict]) -> dict:
    """translations/<language>/: catalog.yaml (categories by slug, products by their English
    name: name, description, materials) and articles/<slug>.md (title, tags, body). Every key
    must name a demo category, product or article."""
    found = {}
    categories = {c["slug"] for c in catalog["categories"]}
    products = {p["name"] for c in catalog["categories"] for p in c.get("products") or []}
    slugs = {a["slug"] for a in articles}
    for folder in sorted(p for p in (directory / "translations").glob("*") if p.is_dir()):
        language = folder.name
        texts = _load_yaml(folder / "catalog.yaml") if (folder / "catalog.yaml").exists() else {}
        entry = {
            "categories": texts.get("categories") or {},
            "products": texts.get("products") or {},
            "articles": {},
        }
        for path in sorted((folder / "articles").glob("*.md")):
            text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
            match = FRONT_MATTER.match(text)
            if not match:
                raise CommandError(f"{path}: a translated article starts with front matter between two '---' lines")
            meta = yaml.safe_load(match.group(1)) or {}
            tags = meta.get("tags") or []
            body = "\n\n".join(block.strip() for block in re.split(r"\n\s*\n", match.group(2).strip()) if block.strip())
            entry["articles"][path.stem] = {
                "title": str(meta.get("title", "")).strip(),
                "tags": tags if isinstance(tags, str) else ", ".join(str(t).strip() for t in tags),
                "body": body,
            }
        for kind, known in (("categories", categories), ("products", products), ("articles", slugs)):
            unknown = sorted(set(entry[kind]) - known)
            if unknown:
                raise CommandError(f"{folder}: {kind} not in the demo data: {', '.join(map(str, unknown[:5]))}")
        found[language] = entry
    return found


def write_translations(translations: dict, *, replace: bool) -> int:
    """The demo's translation rows: after a wipe (replace=True) all created at once, like the
    articles (the search index is built afterwards); otherwise synced, each written only when it
    differs (a changed article translation is re-indexed, bot/signals.py). Returns how many were
    written. A language SHOP_LANGUAGES leaves out is skipped."""
    from catalog.models import ArticleTranslation, CategoryTranslation, ProductTranslation
    from catalog.translations import shop_languages

    written = 0
    for language, entry in translations.items():
        if language not in shop_languages():
            continue
        for model, rows, key, save, lookup in (
            (CategoryTranslation, entry["categories"], "category", category_translation_save, {c.slug: c for c in Category.objects.all()}),
            (ProductTranslation, entry["products"], "product", product_translation_save, {p.name: p for p in Product.objects.all()}),
            (ArticleTranslation, entry["articles"], "article", article_translation_save, {a.slug: a for a in Article.objects.all()}),
        ):
            specs = [
                (lookup[name], {k: str(v).strip() for k, v in (fields or {}).items()}) for name, fields in rows.items() if name in lookup
            ]
            if replace:
                model.objects.bulk_create([model(**{key: obj, "language": language, **fields}) for obj, fields in specs])
                written += len(specs)
                continue
            have = {getattr(t, f"{key}_id"): t for t in model.objects.filter(language=language)}
            for obj, fields in specs:
                current = have.get(obj.pk)
                if current is None or any(getattr(current, k) != v for k, v in fields.items()):
                    save(**{key: obj, "language": language, **fields})
                    written += 1
    return written


# --- Planning (in memory) ---------------------------------------------------------------------


@dataclass
class PlannedReturn:
    status: str
    reason: str
    comment: str
    created_at: datetime
    lines: list[tuple[int, int]] = field(default_factory=list)  # (index of the order line, quantity)
    approved_at: datetime | None = None
    received_at: datetime | None = None
    refunded_at: datetime | None = None
    rejected_at: datetime | None = None
    rejected_reason: str = ""
    handled_by: str = "system"
    outside_window: bool = False


@dataclass
class PlannedOrder:
    status: str
    email: str
    name: str
    address: dict
    method: ShippingMethod
    payment_method: str
    customer: Customer | None = None
    placed_at: datetime | None = None
    paid_at: datetime | None = None
    processing_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_actor: str = ""
    cancel_message: str = ""
    tracking_number: str = ""
    lines: list[tuple[Variant, int]] = field(default_factory=list)
    returns: list[PlannedReturn] = field(default_factory=list)
    address_changed_at: datetime | None = None
    previous_address: dict | None = None
    note: tuple[datetime, str, str] | None = None
    scenario: str | None = None
    need_returnable: bool = False  # pick at least one line that can be returned


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("ł", "l")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _colour_code(colour: str) -> str:
    words = re.findall(r"[A-Z0-9]+", _ascii(colour).upper())
    return words[0][:5] if len(words) == 1 else "".join(w[:3] for w in words)[:9]


class DemoShop:
    """Builds the demo shop from DemoData with one seeded random generator."""

    def __init__(self, data: DemoData, *, now: datetime, seed: int = SEED, log=None):
        self.data = data
        self.now = now
        self.rng = random.Random(seed)
        self.log = log or (lambda message: None)
        self.tracking_numbers: set[str] = set()

    # -- small helpers
    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))

    def days(self, low: float, high: float) -> timedelta:
        return timedelta(days=self.rng.uniform(low, high))

    def weighted(self, weights: dict):
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    # -- catalog
    def build_catalog(self):
        rng = self.rng
        categories, products, variants = [], [], []
        self.products_by_category: dict[str, list[Product]] = {}
        self.variants_by_product: dict[int, list[Variant]] = {}
        self.product_by_name: dict[str, Product] = {}
        slugs: set[str] = set()
        skus: set[str] = set()
        for cat_index, cat in enumerate(self.data.catalog["categories"], start=1):
            try:
                category = Category(pk=cat_index, name=cat["name"], slug=cat["slug"], description=cat.get("description", ""))
                default_sizes = cat.get("sizes") or [""]
                default_attributes = cat.get("attributes") or {}
                code = cat.get("code") or cat["slug"][:3].upper()
                product_defs = cat["products"]
            except (KeyError, TypeError) as exc:
                raise CommandError(f"catalog.yaml: category {cat!r:.60} is missing {exc}") from None
            categories.append(category)
            self.products_by_category[category.slug] = []
            for prod_index, spec in enumerate(product_defs, start=1):
                name = spec.get("name")
                if not name or "price" not in spec:
                    raise CommandError(f"catalog.yaml: a product in {category.slug} needs a name and a price")
                sizes = spec.get("sizes", default_sizes)
                if isinstance(sizes, dict):
                    size_prices = {str(size): money_quantize(price) for size, price in sizes.items()}
                else:
                    size_prices = {str(size): None for size in sizes}
                price = money_quantize(spec["price"])
                if any(p is not None for p in size_prices.values()):
                    price = min(p for p in size_prices.values() if p is not None)
                slug = slugify(_ascii(name))
                if slug in slugs:
                    slug = f"{slug}-{category.slug}"
                slugs.add(slug)
                new_in = rng.random() < 0.08
                product = Product(
                    pk=len(products) + 1,
                    category=category,
                    name=name,
                    slug=slug,
                    description=spec.get("description", ""),
                    materials=spec.get("materials", "") or "",
                    attributes={**default_attributes, **(spec.get("attributes") or {})},
                    price=price,
                    currency="EUR",
                    is_active=spec.get("active", True),
                    created_at=self.now - (self.days(4, 45) if new_in else self.days(130, 900)),
                )
                products.append(product)
                self.products_by_category[category.slug].append(product)
                self.product_by_name[name] = product
                sold_out = product.is_active and category.slug != "gift-cards" and rng.random() < 0.05
                product_variants = []
                for colour in spec.get("colours") or [""]:
                    for size, size_price in size_prices.items():
                        sku = "-".join(
                            part
                            for part in (
                                "NW",
                                code,
                                f"{prod_index:03d}",
                                _colour_code(colour),
                                re.sub(r"[^A-Z0-9]", "", _ascii(size).upper().replace("×", "X"))[:8],
                            )
                            if part
                        )
                        if sku in skus:
                            raise CommandError(f"catalog.yaml: duplicate SKU {sku} ({name})")
                        skus.add(sku)
                        variant = Variant(
                            pk=len(variants) + 1,
                            product=product,
                            sku=sku,
                            size=size,
                            colour=str(colour),
                            price_override=size_price if size_price is not None and size_price != price else None,
                            stock=self._stock(category.slug, size, sold_out),
                        )
                        variants.append(variant)
                        product_variants.append(variant)
                self.variants_by_product[product.pk] = product_variants
        self.categories, self.products, self.variants = categories, products, variants

    def _stock(self, category_slug: str, size: str, sold_out: bool) -> int:
        if category_slug == "gift-cards":
            return 999  # printed on demand / sent by e-mail
        if sold_out:
            return 0
        roll = self.rng.random()
        edge_size = size in {"XS", "XL", "36", "37", "45", "46"}
        if roll < (0.16 if edge_size else 0.08):
            return 0
        if roll < (0.30 if edge_size else 0.17):
            return self.rng.randint(1, 3)
        return self.rng.randint(4, 18 if edge_size else 60)

    # -- shipping, people
    def build_shipping(self):
        methods = []
        for index, spec in enumerate(self.data.shop["shipping_methods"], start=1):
            methods.append(
                ShippingMethod(
                    pk=index,
                    code=spec["code"],
                    name=spec["name"],
                    carrier=spec.get("carrier", ""),
                    countries=list(spec["countries"]),
                    price=money_quantize(spec["price"]),
                    free_over=money_quantize(spec["free_over"]) if spec.get("free_over") is not None else None,
                    currency="EUR",
                    min_days=spec.get("min_days", 2),
                    max_days=spec.get("max_days", 5),
                )
            )
        self.methods = methods
        self.method_by_code = {m.code: m for m in methods}
        self.method_for_country = {}
        for method in methods:
            for country in method.countries:
                self.method_for_country.setdefault(country, method)

    def _person(self, country: str | None = None) -> tuple[str, str, dict]:
        countries = self.data.people["countries"]
        if country is None:
            country = self.weighted({code: spec.get("weight", 1) for code, spec in countries.items()})
        spec = countries[country]
        first, last = self.rng.choice(spec["first"]), self.rng.choice(spec["last"])
        city, postcode = self.rng.choice(spec["cities"])
        street, number = self.rng.choice(spec["streets"]), str(self.rng.randint(1, 140))
        line1 = f"{number} {street}" if spec.get("number_first") else f"{street} {number}"
        line2 = ""
        if self.rng.random() < 0.15:
            line2 = self.rng.choice(["Apartment 4", "2nd floor", "c/o Studio Nord", "Flat 3B", "Hinterhaus"])
        return f"{first} {last}", country, {
            "line1": line1, "line2": line2, "city": city, "postcode": str(postcode), "country": country
        }

    def _email(self, name: str, used: set[str]) -> str:
        local = re.sub(r"[^a-z0-9]+", ".", _ascii(name).lower()).strip(".")
        domain = self.rng.choice(["example.com", "example.org"])
        email, n = f"{local}@{domain}", 1
        while email in used:
            n += 1
            email = f"{local}{n}@{domain}"
        used.add(email)
        return email

    def build_customers(self):
        used = {DEMO_EMAIL}
        self.customers = [
            Customer(pk=1, email=DEMO_EMAIL, name=DEMO_NAME, newsletter=True, created_at=self.now - timedelta(days=412))
        ]
        self.addresses = {DEMO_EMAIL: DEMO_ADDRESS}
        for index in range(2, CUSTOMERS + 1):
            name, _, address = self._person()
            email = self._email(name, used)
            self.customers.append(
                Customer(
                    pk=index,
                    email=email,
                    name=name,
                    newsletter=self.rng.random() < 0.35,
                    created_at=self.now - self.days(125, 1100),
                )
            )
            self.addresses[email] = address
        self.used_emails = used
        # Some customers order often: a skewed weight per customer.
        self.customer_weights = [0] + [
            1 + (self.rng.randint(2, 6) if self.rng.random() < 0.2 else 0) for _ in self.customers[1:]
        ]

    # -- orders
    def _method_for(self, country: str) -> ShippingMethod:
        if country == "DE" and self.rng.random() < 0.15 and "de-express" in self.method_by_code:
            return self.method_by_code["de-express"]
        try:
            return self.method_for_country[country]
        except KeyError:
            raise CommandError(f"people.yaml: no shipping method in shop.yaml serves country {country}") from None

    def _tracking(self, carrier: str) -> str:
        while True:
            digits = lambda n: "".join(self.rng.choice("0123456789") for _ in range(n))  # noqa: E731
            if carrier == "DHL":
                number = "00340434" + digits(12)
            elif carrier == "DHL Express":
                number = digits(10)
            elif carrier == "DPD":
                number = "0" + digits(13)
            elif carrier == "UPS":
                number = "1ZA5R947" + self.rng.choice(["68", "03", "66"]) + digits(8)
            else:
                number = "NW" + digits(12)
            if number not in self.tracking_numbers:
                self.tracking_numbers.add(number)
                return number

    def _pick_lines(self, placed_at: datetime, *, need_returnable: bool) -> list[tuple[Variant, int]]:
        non_returnable = set(self.data.shop["policy"].get("non_returnable_categories") or [])
        weights = {slug: w for slug, w in CATEGORY_WEIGHTS.items() if w and self.products_by_category.get(slug)}
        for _ in range(50):
            count = self.rng.choices([1, 2, 3, 4, 5], weights=[45, 30, 15, 7, 3])[0]
            lines: list[tuple[Variant, int]] = []
            seen: set[int] = set()
            attempts = 0
            while len(lines) < count and attempts < 40:
                attempts += 1
                category_slug = self.weighted(weights)
                candidates = [
                    p
                    for p in self.products_by_category[category_slug]
                    if p.created_at < placed_at and (p.is_active or placed_at < self.now - timedelta(days=45))
                ]
                if not candidates:
                    continue
                variant = self.rng.choice(self.variants_by_product[self.rng.choice(candidates).pk])
                if variant.pk in seen:
                    continue
                seen.add(variant.pk)
                quantity = self.rng.choices([1, 2, 3], weights=[85, 12, 3])[0]
                lines.append((variant, quantity))
            if self.rng.random() < 0.03 and self.products_by_category.get("gift-cards"):
                card = self.rng.choice(self.products_by_category["gift-cards"])
                lines.append((self.rng.choice(self.variants_by_product[card.pk]), 1))
            if lines and (not need_returnable or any(v.product.category.slug not in non_returnable for v, _ in lines)):
                return lines
        raise CommandError("Could not pick order lines from the catalog; is catalog.yaml empty?")

    def _new_order(self, status: str, *, need_returnable: bool = False) -> PlannedOrder:
        if self.rng.random() < GUEST_SHARE:
            name, country, address = self._person()
            email = self._email(name, self.used_emails)
            customer = None
        else:
            customer = self.rng.choices(self.customers, weights=self.customer_weights)[0]
            name, email, address = customer.name, customer.email, self.addresses[customer.email]
            country = address["country"]
        payment = self.weighted(PAYMENT_WEIGHTS)
        if payment == "Klarna invoice" and country not in {"DE", "AT", "NL", "FI", "SE", "DK", "BE"}:
            payment = "PayPal"
        order = PlannedOrder(
            status=status,
            email=email,
            name=name,
            address=address,
            method=self._method_for(country),
            payment_method=payment,
            customer=customer,
            need_returnable=need_returnable,
        )
        return order

    def _pay_delay(self) -> timedelta:
        return timedelta(minutes=self.rng.uniform(0.5, 25))

    def _transit(self, method: ShippingMethod) -> timedelta:
        return timedelta(days=self.rng.uniform(method.min_days, method.max_days + 0.6))

    def _back_from_shipped(self, order: PlannedOrder, shipped_at: datetime):
        order.shipped_at = shipped_at
        order.processing_at = shipped_at - self.hours(4, 28)
        order.paid_at = order.processing_at - self.hours(1, 16)
        order.placed_at = order.paid_at - self._pay_delay()
        order.tracking_number = self._tracking(order.method.carrier)

    def _back_from_delivered(self, order: PlannedOrder, delivered_at: datetime):
        order.delivered_at = delivered_at
        self._back_from_shipped(order, delivered_at - self._transit(order.method))

    def plan_order(self, status: str) -> PlannedOrder:
        """One random order whose timestamps agree with its status (placed < paid < shipped < delivered)."""
        now, oldest = self.now, self.now - timedelta(days=HISTORY_DAYS)
        order = self._new_order(status)
        if status == Order.Status.PENDING:
            order.placed_at = now - self.hours(0.2, 40)
        elif status == Order.Status.PAID:
            order.paid_at = now - self.hours(0.1, 10)
            order.placed_at = order.paid_at - self._pay_delay()
        elif status == Order.Status.PROCESSING:
            order.processing_at = now - self.hours(0.2, 20)
            order.paid_at = order.processing_at - self.hours(1, 16)
            order.placed_at = order.paid_at - self._pay_delay()
        elif status == Order.Status.SHIPPED:
            # Shipped less than the fastest transit time ago, so it cannot have arrived yet.
            self._back_from_shipped(order, now - self.hours(1, max(order.method.min_days, 1) * 24 - 1))
        elif status == Order.Status.DELIVERED:
            while True:
                self._back_from_delivered(order, now - self.days(0.3, HISTORY_DAYS - 6))
                if order.placed_at > oldest:
                    break
                self.tracking_numbers.discard(order.tracking_number)
        elif status == Order.Status.CANCELLED:
            self._plan_cancellation(order)
        else:  # pragma: no cover - statuses with returns are planned in plan_returned_order
            raise ValueError(status)
        self._finish(order)
        return order

    def _plan_cancellation(self, order: PlannedOrder):
        now, roll = self.now, self.rng.random()
        if roll < 0.3:
            order.placed_at = now - self.days(2.1, HISTORY_DAYS)
            order.cancelled_at = order.placed_at + timedelta(hours=48) + self.hours(0, 1)
            order.cancel_actor = "system"
            order.cancel_message = "Cancelled automatically: payment was not completed within 48 hours."
            return
        order.placed_at = now - self.days(0.4, HISTORY_DAYS)
        order.paid_at = order.placed_at + self._pay_delay()
        if roll < 0.85:
            delay = self.hours(0.1, 20)
            order.cancelled_at = min(order.paid_at + delay, now - timedelta(minutes=5))
            if order.cancelled_at - order.paid_at > timedelta(hours=10):
                order.processing_at = order.paid_at + self.hours(1, 9)
            order.cancel_actor = "shopper"
            order.cancel_message = f"Cancelled by the customer before shipment: {self.rng.choice(CANCEL_REASONS)}"
        else:
            order.processing_at = order.paid_at + self.hours(1, 10)
            order.cancelled_at = min(order.processing_at + self.hours(1, 8), now - timedelta(minutes=5))
            order.cancel_actor = f"staff:{self.rng.choice(DEMO_STAFF)}"
            order.cancel_message = "Cancelled by us: an item turned out to be out of stock after a stock count. Customer informed."

    def plan_returned_order(self, return_status: str) -> PlannedOrder:
        """A delivered order with one return request in the given status."""
        oldest = self.now - timedelta(days=HISTORY_DAYS)
        window = timedelta(days=self.data.shop["policy"].get("return_window_days", 30))
        order = self._new_order(Order.Status.DELIVERED, need_returnable=True)
        while True:
            ret = self._plan_return_dates(return_status)
            if ret.outside_window:
                delivered_at = ret.created_at - window - self.days(1, 15)
            else:
                delivered_at = ret.created_at - self.days(0.5, window.days - 2)
            self._back_from_delivered(order, delivered_at)
            if order.placed_at > oldest:
                break
            self.tracking_numbers.discard(order.tracking_number)
        order.returns.append(ret)
        self._finish(order)
        self._pick_return_lines(order, ret)
        return order

    def _plan_return_dates(self, status: str) -> PlannedReturn:
        now = self.now
        reason = self.weighted({r: w for r, (w, _) in RETURN_REASONS.items()})
        comment = self.rng.choice(RETURN_REASONS[reason][1])
        ret = PlannedReturn(status=status, reason=reason, comment=comment, created_at=now)
        staff = f"staff:{self.rng.choice(DEMO_STAFF)}"
        if status == ReturnRequest.Status.REQUESTED:
            ret.created_at = now - self.hours(0.5, 40)
        elif status == ReturnRequest.Status.APPROVED:
            ret.approved_at = now - self.hours(2, 6 * 24)
            ret.created_at = ret.approved_at - self.hours(0.5, 30)
        elif status == ReturnRequest.Status.RECEIVED:
            ret.received_at = now - self.hours(1, 48)
            ret.approved_at = ret.received_at - self.days(2, 7)
            ret.created_at = ret.approved_at - self.hours(0.5, 30)
        elif status == ReturnRequest.Status.REFUNDED:
            ret.refunded_at = now - self.days(0.05, 80)
            ret.received_at = ret.refunded_at - self.days(0.5, 3)
            ret.approved_at = ret.received_at - self.days(2, 7)
            ret.created_at = ret.approved_at - self.hours(0.5, 30)
        elif status == ReturnRequest.Status.REJECTED:
            ret.handled_by = staff
            if self.rng.random() < 0.4:
                ret.rejected_at = now - self.days(0.1, 80)
                ret.created_at = ret.rejected_at - self.hours(2, 30)
                ret.outside_window = True
                ret.rejected_reason = "Requested after the 30-day return window."
            else:
                ret.rejected_at = now - self.days(0.1, 80)
                ret.received_at = ret.rejected_at - self.days(0.3, 2)
                ret.approved_at = ret.received_at - self.days(2, 7)
                ret.created_at = ret.approved_at - self.hours(0.5, 30)
                ret.rejected_reason = self.rng.choice(REJECTION_REASONS)
        if ret.approved_at and status != ReturnRequest.Status.REJECTED:
            ret.handled_by = staff if self.rng.random() < 0.5 else "system"
        return ret

    def _returnable_line_indexes(self, order: PlannedOrder) -> list[int]:
        non_returnable = set(self.data.shop["policy"].get("non_returnable_categories") or [])
        return [i for i, (v, _) in enumerate(order.lines) if v.product.category.slug not in non_returnable]

    def _pick_return_lines(self, order: PlannedOrder, ret: PlannedReturn):
        indexes = self._returnable_line_indexes(order)
        if self.rng.random() < 0.3:
            chosen = indexes  # everything that can go back
        else:
            chosen = sorted(self.rng.sample(indexes, self.rng.randint(1, len(indexes))))
        for index in chosen:
            quantity = order.lines[index][1]
            if quantity > 1 and self.rng.random() < 0.4:
                quantity = self.rng.randint(1, quantity - 1)
            ret.lines.append((index, quantity))

    def _finish(self, order: PlannedOrder):
        """Lines, an occasional address change or staff note, and the status after returns."""
        if not order.lines:
            order.lines = self._pick_lines(order.placed_at, need_returnable=order.need_returnable)
        unshipped_until = order.shipped_at or order.cancelled_at or self.now
        if order.paid_at and self.rng.random() < 0.05 and unshipped_until - order.paid_at > timedelta(hours=2):
            order.address_changed_at = order.paid_at + (unshipped_until - order.paid_at) * self.rng.uniform(0.1, 0.8)
            _, _, order.previous_address = self._person(order.address["country"])
        if order.delivered_at and self.rng.random() < 0.04:
            order.note = (
                order.delivered_at + self.hours(2, 48),
                f"staff:{self.rng.choice(DEMO_STAFF)}",
                self.rng.choice(NOTES),
            )
            if order.note[0] > self.now:
                order.note = None

    def settle_status(self, order: PlannedOrder):
        """Refunded returns turn a delivered order into (partially) returned."""
        refunded: dict[int, int] = {}
        for ret in order.returns:
            if ret.status == ReturnRequest.Status.REFUNDED:
                for index, quantity in ret.lines:
                    refunded[index] = refunded.get(index, 0) + quantity
        if not refunded:
            return
        full = all(refunded.get(i, 0) >= q for i, (_, q) in enumerate(order.lines))
        order.status = Order.Status.RETURNED if full else Order.Status.PARTIALLY_RETURNED

    # -- the scenario orders of the demo customer
    def plan_demo_orders(self) -> list[PlannedOrder]:
        now = self.now
        customer = self.customers[0]
        window = self.data.shop["policy"].get("return_window_days", 30)

        def line(product_name: str, colour: str, size: str, quantity: int = 1) -> tuple[Variant, int]:
            product = self.product_by_name.get(product_name)
            if product is None:
                raise CommandError(f"Demo scenario product {product_name!r} is missing from catalog.yaml")
            for variant in self.variants_by_product[product.pk]:
                if variant.colour == colour and variant.size == size:
                    return variant, quantity
            raise CommandError(f"Demo scenario variant {product_name} {colour}/{size} is missing from catalog.yaml")

        def demo(scenario: str, status: str, lines, method="de-standard", payment="PayPal") -> PlannedOrder:
            order = PlannedOrder(
                status=status,
                email=customer.email,
                name=customer.name,
                address=DEMO_ADDRESS,
                method=self.method_by_code[method],
                payment_method=payment,
                customer=customer,
                lines=lines,
                scenario=scenario,
            )
            return order

        orders = []
        # Paid a few hours ago, not yet picked: can be cancelled or re-addressed.
        o = demo("unshipped", Order.Status.PAID, [line("Merino Crew-Neck Jumper", "Navy", "M"), line("Canvas Tote Bag", "Natural", "One size")])
        o.placed_at = now - timedelta(hours=3, minutes=12)
        o.paid_at = o.placed_at + timedelta(minutes=2)
        orders.append(o)
        # On its way: shipped yesterday with DHL.
        o = demo("shipped", Order.Status.SHIPPED, [line("Waterproof Rain Parka", "Yellow", "M")], payment="Visa")
        self._back_from_shipped(o, now - timedelta(hours=20))
        orders.append(o)
        # Delivered six days ago: two items can go back, the swim shorts cannot (hygiene).
        o = demo(
            "delivered_returnable",
            Order.Status.DELIVERED,
            [
                line("Washed Linen Shirt", "Sage", "M"),
                line("Slim Stretch Chinos", "Navy", "M", 2),
                line("Recycled Swim Shorts", "Navy", "M"),
            ],
            payment="Klarna invoice",
        )
        self._back_from_delivered(o, now - timedelta(days=6, hours=4))
        orders.append(o)
        # Delivered well outside the return window.
        o = demo("delivered_not_returnable", Order.Status.DELIVERED, [line("Leather Court Sneakers", "White", "42")], payment="Apple Pay")
        self._back_from_delivered(o, now - timedelta(days=window + 22))
        orders.append(o)
        # Cancelled by the shopper before it shipped.
        o = demo("cancelled", Order.Status.CANCELLED, [line("Cashmere V-Neck Sweater", "Oatmeal", "M")], payment="Mastercard")
        o.placed_at = now - timedelta(days=18, hours=5)
        o.paid_at = o.placed_at + timedelta(minutes=1)
        o.cancelled_at = o.paid_at + timedelta(hours=2, minutes=40)
        o.cancel_actor = "shopper"
        o.cancel_message = "Cancelled by the customer before shipment: Ordered the wrong size."
        orders.append(o)
        # Delivered twelve days ago; a return for the duvet cover is approved, parcel not yet back.
        o = demo(
            "return_in_progress",
            Order.Status.DELIVERED,
            [line("Stonewashed Linen Duvet Cover", "Sage", "155 × 220 cm"), line("Linen Pillowcases (Pair)", "Sage", "80 × 80 cm")],
        )
        self._back_from_delivered(o, now - timedelta(days=12, hours=2))
        ret = PlannedReturn(
            status=ReturnRequest.Status.APPROVED,
            reason=ReturnRequest.Reason.NOT_AS_DESCRIBED,
            comment="The sage is much greener than on screen.",
            created_at=now - timedelta(days=3, hours=1),
            lines=[(0, 1)],
            approved_at=now - timedelta(days=2, hours=19),
            handled_by="staff:anna",
        )
        o.returns.append(ret)
        orders.append(o)
        # The demo customer's products were in the catalog long before these orders.
        for o in orders:
            for variant, _ in o.lines:
                variant.product.created_at = min(variant.product.created_at, o.placed_at - timedelta(days=60))
        return orders

    # -- everything
    def plan_orders(self) -> list[PlannedOrder]:
        orders = self.plan_demo_orders()
        counts = {status: round(RANDOM_ORDERS * share) for status, share in STATUS_SHARES.items()}
        delivered_total = RANDOM_ORDERS - sum(counts.values())
        returns_total = round(delivered_total * RETURN_SHARE)
        total_weight = sum(RETURN_STATUS_WEIGHTS.values())
        return_counts = {s: max(2, round(returns_total * w / total_weight)) for s, w in RETURN_STATUS_WEIGHTS.items()}
        counts[Order.Status.DELIVERED] = delivered_total - sum(return_counts.values())
        for status, count in counts.items():
            orders.extend(self.plan_order(status) for _ in range(count))
        for status, count in return_counts.items():
            orders.extend(self.plan_returned_order(status) for _ in range(count))
        for order in orders:
            self.settle_status(order)
        # Numbers follow the order in which orders were placed.
        orders.sort(key=lambda o: o.placed_at)
        return orders


# --- Writing --------------------------------------------------------------------------------------

CATALOG_MODELS = [ReturnLine, OrderEvent, ReturnRequest, OrderLine, Order, Customer, ShopPolicy, Variant, Product, Category, ShippingMethod]


def foreign_demo_rows() -> list[str]:
    """E-mail addresses of orders/customers that are not demo rows (not on a reserved domain)."""
    emails = set(Order.objects.values_list("email", flat=True)) | set(Customer.objects.values_list("email", flat=True))
    return sorted(e for e in emails if not RESERVED_EMAIL_DOMAIN.search(e or ""))


def foreign_rows(shop: DemoShop, data: DemoData) -> list[str]:
    """What the database holds that seed_demo did not make: a real shop's data, which a
    recreation would wipe (catalog, orders, articles) or which says this is no demo (users)."""

    def listed(what: str, values) -> str:
        values = sorted(values)
        return f"{what} {', '.join(values[:3])}{' …' if len(values) > 3 else ''}"

    found = []
    if emails := foreign_demo_rows():
        found.append(listed("orders or customers of", emails))
    demo_slugs = {p.slug for p in shop.products}
    if products := set(Product.objects.exclude(slug__in=demo_slugs).values_list("slug", flat=True)):
        found.append(listed("products", products))
    if articles := set(Article.objects.exclude(slug__in=[a["slug"] for a in data.articles]).values_list("slug", flat=True)):
        found.append(listed("help articles", articles))
    staff = {data.shop["admin"]["username"], *(a["username"] for a in data.shop["agents"]), data.shop["shopper"]["email"]}
    if users := set(get_user_model().objects.exclude(username__in=staff).values_list("username", flat=True)):
        found.append(listed("users", users))
    return found


def wipe_catalog():
    for model in CATALOG_MODELS + [Article]:
        model.objects.all().delete()


def reset_sequences(models):
    # Rows were written with explicit primary keys; PostgreSQL's sequences must catch up.
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def write_shop(shop: DemoShop, orders: list[PlannedOrder]):
    data = shop.data
    ShippingMethod.objects.bulk_create(shop.methods)
    Category.objects.bulk_create(shop.categories)
    Product.objects.bulk_create(shop.products)
    Variant.objects.bulk_create(shop.variants)

    policy_spec = data.shop["policy"]
    policy = ShopPolicy(
        pk=1,
        return_window_days=policy_spec.get("return_window_days", 30),
        cancellation_window=policy_spec.get("cancellation_window", ShopPolicy.CancellationWindow.BEFORE_SHIPMENT),
        cancellation_fee=money_quantize(policy_spec.get("cancellation_fee", "0")),
        address_change_allowed_until_shipment=policy_spec.get("address_change_allowed_until_shipment", True),
        currency=policy_spec.get("currency", "EUR"),
        support_hours=policy_spec.get("support_hours", ShopPolicy._meta.get_field("support_hours").default),
        support_email=policy_spec.get("support_email", ShopPolicy._meta.get_field("support_email").default),
    )
    policy.save()
    slugs = policy_spec.get("non_returnable_categories") or []
    unknown = set(slugs) - {c.slug for c in shop.categories}
    if unknown:
        raise CommandError(f"shop.yaml: non-returnable categories not in catalog.yaml: {', '.join(sorted(unknown))}")
    policy.non_returnable_categories.set([c for c in shop.categories if c.slug in slugs])

    Customer.objects.bulk_create(shop.customers)

    order_rows, line_rows, return_rows, return_line_rows, events = [], [], [], [], []
    planned_returns: list[tuple[PlannedReturn, Order, list[OrderLine]]] = []
    for index, plan in enumerate(orders):
        subtotal = sum((v.price * q for v, q in plan.lines), Decimal("0.00"))
        method = plan.method
        shipping = Decimal("0.00") if method.free_over is not None and subtotal >= method.free_over else method.price
        order = Order(
            pk=index + 1,
            number=str(FIRST_ORDER_NUMBER + index),
            customer=plan.customer,
            email=plan.email,
            status=plan.status,
            currency="EUR",
            subtotal=subtotal,
            shipping_price=shipping,
            total=subtotal + shipping,
            payment_method=plan.payment_method,
            placed_at=plan.placed_at,
            paid_at=plan.paid_at,
            shipped_at=plan.shipped_at,
            delivered_at=plan.delivered_at,
            cancelled_at=plan.cancelled_at,
            shipping_method=method,
            ship_name=plan.name,
            ship_line1=plan.address["line1"],
            ship_line2=plan.address.get("line2", ""),
            ship_city=plan.address["city"],
            ship_postcode=plan.address["postcode"],
            ship_country=plan.address["country"],
            carrier=method.carrier if plan.shipped_at else "",
            tracking_number=plan.tracking_number if plan.shipped_at else "",
            estimated_delivery=timezone.localdate(plan.shipped_at + timedelta(days=method.max_days)) if plan.shipped_at else None,
        )
        order_rows.append(order)
        lines = []
        for variant, quantity in plan.lines:
            line = OrderLine(
                pk=len(line_rows) + 1,
                order=order,
                variant=variant,
                product_name=variant.product.name,
                variant_label=variant.label,
                sku=variant.sku,
                category_slug=variant.product.category.slug,
                unit_price=variant.price,
                quantity=quantity,
            )
            lines.append(line)
            line_rows.append(line)
        events.extend(_order_events(plan, order))
        for ret in plan.returns:
            planned_returns.append((ret, order, lines))

    planned_returns.sort(key=lambda item: item[0].created_at)
    for index, (ret, order, lines) in enumerate(planned_returns):
        amount = sum((lines[i].unit_price * q for i, q in ret.lines), Decimal("0.00"))
        rr = ReturnRequest(
            pk=index + 1,
            rma_number=f"RMA-{FIRST_RMA_NUMBER + index}",
            order=order,
            status=ret.status,
            reason=ret.reason,
            comment=ret.comment,
            refund_amount=Decimal("0.00") if ret.status == ReturnRequest.Status.REJECTED else amount,
            created_at=ret.created_at,
            approved_at=ret.approved_at,
            received_at=ret.received_at,
            refunded_at=ret.refunded_at,
            rejected_reason=ret.rejected_reason,
        )
        return_rows.append(rr)
        for i, quantity in ret.lines:
            return_line_rows.append(
                ReturnLine(pk=len(return_line_rows) + 1, return_request=rr, order_line=lines[i], quantity=quantity)
            )
        events.extend(_return_events(ret, rr, order, lines))

    Order.objects.bulk_create(order_rows, batch_size=500)
    OrderLine.objects.bulk_create(line_rows, batch_size=500)
    ReturnRequest.objects.bulk_create(return_rows, batch_size=500)
    ReturnLine.objects.bulk_create(return_line_rows, batch_size=500)
    events.sort(key=lambda e: (e.created_at, e.order.pk))
    for index, event in enumerate(events, start=1):
        event.pk = index
    OrderEvent.objects.bulk_create(events, batch_size=500)


def _order_events(plan: PlannedOrder, order: Order) -> list[OrderEvent]:
    def event(type_, at, actor, message, data=None):
        return OrderEvent(order=order, type=type_, actor=actor, message=message[:300], data=data or {}, created_at=at)

    items = sum(q for _, q in plan.lines)
    out = [
        event(
            OrderEvent.Type.PLACED,
            plan.placed_at,
            "shopper",
            ngettext("Order placed: %(n)d item", "Order placed: %(n)d items", items) % {"n": items}
            + f", {money_format(order.total)}, {plan.method.name}.",
            order_event_data(
                OrderEvent.Type.PLACED,
                subtotal=money_amount(order.subtotal),
                total=money_amount(order.total),
                payment_method=plan.payment_method,
            ),
        )
    ]
    if plan.paid_at:
        out.append(
            event(
                OrderEvent.Type.PAID,
                plan.paid_at,
                "system",
                f"Payment of {money_format(order.total)} received via {plan.payment_method}.",
                order_event_data(OrderEvent.Type.PAID, payment_method=plan.payment_method),
            )
        )
    if plan.address_changed_at and plan.previous_address:
        old = {ADDRESS_FIELDS[k][0]: v for k, v in plan.previous_address.items() if k in ADDRESS_FIELDS}
        new = {f: getattr(order, f) for f in old}
        out.append(
            event(
                OrderEvent.Type.ADDRESS_CHANGED,
                plan.address_changed_at,
                "shopper",
                "Delivery address changed before shipment.",
                order_event_data(OrderEvent.Type.ADDRESS_CHANGED, old=old, new=new),
            )
        )
    if plan.processing_at:
        out.append(event(OrderEvent.Type.PROCESSING, plan.processing_at, "system", "Sent to the warehouse in Hamburg for picking and packing."))
    if plan.shipped_at:
        out.append(
            event(
                OrderEvent.Type.SHIPPED,
                plan.shipped_at,
                "system",
                f"Shipped with {plan.method.carrier}, tracking number {plan.tracking_number}.",
                order_event_data(
                    OrderEvent.Type.SHIPPED,
                    carrier=plan.method.carrier,
                    tracking_number=plan.tracking_number,
                    estimated_delivery=order.estimated_delivery.isoformat() if order.estimated_delivery else None,
                ),
            )
        )
    if plan.delivered_at:
        out.append(
            event(
                OrderEvent.Type.DELIVERED,
                plan.delivered_at,
                "system",
                f"Delivered by {plan.method.carrier}.",
                order_event_data(OrderEvent.Type.DELIVERED, delivered_at=plan.delivered_at.isoformat()),
            )
        )
    if plan.cancelled_at:
        message = plan.cancel_message
        if plan.paid_at:
            message += f" Refunded {money_format(order.total)} in full; cancellation fee {money_format(0)}."
        before = Order.Status.PROCESSING if plan.processing_at else Order.Status.PAID if plan.paid_at else Order.Status.PENDING
        # The demo's cancellations keep no fee and release no stock (its stock levels are today's).
        data = order_cancelled_data(order=order, previous_status=before, reason=plan.cancel_message, fee=Decimal("0.00"), stock_released=[])
        out.append(event(OrderEvent.Type.CANCELLED, plan.cancelled_at, plan.cancel_actor, message, data))
    if plan.note:
        at, actor, message = plan.note
        out.append(event(OrderEvent.Type.NOTE, at, actor, message))
    return out


def _return_events(ret: PlannedReturn, rr: ReturnRequest, order: Order, lines: list[OrderLine]) -> list[OrderEvent]:
    def event(type_, at, actor, message, data=None):
        return OrderEvent(
            order=order, return_request=rr, type=type_, actor=actor, message=message[:300], data=data or {}, created_at=at
        )

    items = ", ".join(f"{q} × {lines[i].product_name}" for i, q in ret.lines)
    out = [
        event(
            OrderEvent.Type.RETURN_REQUESTED,
            ret.created_at,
            "shopper",
            f"Return {rr.rma_number} requested ({rr.get_reason_display().lower()}): {items}.",
            order_event_data(
                OrderEvent.Type.RETURN_REQUESTED,
                rma_number=rr.rma_number,
                reason=rr.reason,
                refund_amount=money_amount(sum((lines[i].unit_price * q for i, q in ret.lines), Decimal("0.00"))),
                lines=[{"order_line_id": lines[i].pk, "sku": lines[i].sku, "quantity": q} for i, q in ret.lines],
            ),
        )
    ]
    if ret.approved_at:
        out.append(
            event(
                OrderEvent.Type.RETURN_APPROVED,
                ret.approved_at,
                ret.handled_by if ret.status != ReturnRequest.Status.REJECTED else "system",
                f"Return {rr.rma_number} approved; prepaid return label sent to {order.email}.",
            )
        )
    if ret.received_at:
        out.append(event(OrderEvent.Type.RETURN_RECEIVED, ret.received_at, "system", f"Return {rr.rma_number} received at the returns centre."))
    if ret.refunded_at:
        out.append(
            event(
                OrderEvent.Type.RETURN_REFUNDED,
                ret.refunded_at,
                "system",
                f"Refunded {money_format(rr.refund_amount)} to {order.payment_method}.",
                order_event_data(
                    OrderEvent.Type.RETURN_REFUNDED,
                    refund_amount=money_amount(rr.refund_amount),
                    requested_amount=money_amount(rr.refund_amount),
                    order_status=order.status,
                    previous_order_status=Order.Status.DELIVERED,  # the demo's refunds come after delivery
                ),
            )
        )
    if ret.rejected_at:
        out.append(
            event(
                OrderEvent.Type.RETURN_REJECTED,
                ret.rejected_at,
                ret.handled_by,
                f"Return {rr.rma_number} rejected: {ret.rejected_reason}",
                order_event_data(OrderEvent.Type.RETURN_REJECTED, reason=ret.rejected_reason),
            )
        )
    return out


def write_articles(articles: list[dict], *, replace: bool) -> tuple[int, int]:
    """Create the articles (replace=True: with fixed keys after a wipe) or sync them by slug."""
    if replace:
        Article.objects.bulk_create([Article(pk=i, **a) for i, a in enumerate(articles, start=1)])
        return len(articles), 0
    created = updated = 0
    existing = {a.slug: a for a in Article.objects.filter(slug__in=[a["slug"] for a in articles])}
    for spec in articles:
        article = existing.get(spec["slug"])
        if article is None:
            Article.objects.create(**spec)
            created += 1
        elif any(getattr(article, k) != v for k, v in spec.items()):
            for key, value in spec.items():
                setattr(article, key, value)
            article.save()
            updated += 1
    return created, updated


def ensure_staff(shop_spec: dict) -> list[dict]:
    """The admin and the support agents, with their demo passwords; returns the agents' logins."""
    User = get_user_model()
    admin_spec = shop_spec["admin"]
    admin, _ = User.objects.get_or_create(username=admin_spec["username"], defaults={"email": admin_spec.get("email", "")})
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.set_password(admin_spec["password"])
    admin.save()

    group, _ = Group.objects.get_or_create(name=shop_spec["agent_group"])
    # Agents may look things up in the admin; every change goes through the services.
    perms = list(
        Permission.objects.filter(content_type__app_label="catalog", codename__startswith="view_")
    ) + list(
        Permission.objects.filter(
            content_type__app_label="support",
            codename__in=("handle_escalations", "view_escalation", "view_followupticket", "view_cannedreply"),
        )
    )
    group.permissions.add(*perms)

    logins = []
    for spec in shop_spec["agents"]:
        user, _ = User.objects.get_or_create(username=spec["username"])
        user.first_name = spec.get("first_name", "")
        user.last_name = spec.get("last_name", "")
        user.email = spec.get("email", "")
        user.is_staff = user.is_active = True
        user.is_superuser = False
        user.set_password(spec["password"])
        user.save()
        user.groups.add(group)
        logins.append({"username": spec["username"], "password": spec["password"]})
    return logins


def ensure_demo_shopper(shop_spec: dict) -> dict:
    """The demo customer's storefront account, its address confirmed (its orders linked)."""
    from catalog.services import customer_link_account

    spec = shop_spec["shopper"]
    user, _ = get_user_model().objects.get_or_create(username=spec["email"], defaults={"email": spec["email"]})
    user.email, user.is_active, user.is_staff, user.is_superuser = spec["email"], True, False, False
    user.set_password(spec["password"])
    user.save()
    customer_link_account(user=user, email=spec["email"])
    return {"email": spec["email"], "password": spec["password"]}


# --- Reading the result back -------------------------------------------------------------------


def find_demo_orders(now: datetime) -> dict[str, Order | None]:
    """The demo customer's order for each scenario, found by the scenario's condition."""
    policy = ShopPolicy.objects.filter(pk=1).first()
    window = timedelta(days=policy.return_window_days if policy else 30)
    non_returnable = set(policy.non_returnable_categories.values_list("slug", flat=True)) if policy else set()
    orders = list(
        Order.objects.filter(email=DEMO_EMAIL)
        .prefetch_related("lines", "returns")
        .order_by("placed_at")
    )

    def matches(order: Order, scenario: str) -> bool:
        returns = list(order.returns.all())
        if scenario == "unshipped":
            return order.status in (Order.Status.PAID, Order.Status.PROCESSING)
        if scenario == "shipped":
            return order.status == Order.Status.SHIPPED and bool(order.tracking_number)
        if scenario == "delivered_returnable":
            return (
                order.status == Order.Status.DELIVERED
                and order.delivered_at is not None
                and now - order.delivered_at < window
                and not returns
                and any(line.category_slug not in non_returnable for line in order.lines.all())
            )
        if scenario == "delivered_not_returnable":
            return order.status == Order.Status.DELIVERED and order.delivered_at is not None and now - order.delivered_at > window
        if scenario == "cancelled":
            return order.status == Order.Status.CANCELLED
        if scenario == "return_in_progress":
            return any(r.status in (ReturnRequest.Status.REQUESTED, ReturnRequest.Status.APPROVED) for r in returns)
        raise ValueError(scenario)

    found = {}
    for scenario in SCENARIOS:
        hits = [o for o in orders if matches(o, scenario)]
        found[scenario] = hits[0] if len(hits) == 1 else None
    return found


def demo_is_current(now: datetime, data: DemoData) -> tuple[bool, str]:
    if not Order.objects.exists():
        return False, "no demo shop yet"
    if Product.objects.count() < sum(len(c["products"]) for c in data.catalog["categories"]):
        return False, "the catalog is incomplete"
    newest = Order.objects.aggregate(newest=Max("placed_at"))["newest"]
    if newest is None or now - newest > STALE_AFTER:
        return False, "the demo shop is more than a day old"
    missing = [s for s, o in find_demo_orders(now).items() if o is None]
    if missing:
        return False, f"demo scenario(s) no longer hold: {', '.join(missing)}"
    return True, "the demo shop is current"


class Command(BaseCommand):
    help = "Create the demo shop Northwind & Co. (catalog, orders, returns, help articles, staff logins)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object (counts, demo orders, agents) on stdout.")
        parser.add_argument("--reset", action="store_true", help="Wipe and recreate the demo shop even if it is current.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off or over data that is not the demo's own (catalog, orders and articles are wiped). Never on a real shop.",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        as_json = options["json"]
        progress = self.stderr.write if as_json else self.stdout.write
        data = load_demo_data()
        now = timezone.now().replace(second=0, microsecond=0)
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: this looks like a production setting, and seed_demo creates staff logins with published "
                "passwords (admin / admin-demo-2026). Run it with DEBUG=1 on a demo database (bin/run does), "
                "or pass --force if this really is a throwaway demo."
            )

        with transaction.atomic():
            current, why = demo_is_current(now, data)
            if current and not options["reset"]:
                progress(f"Keeping the existing demo shop ({why}).")
                created, updated = write_articles(data.articles, replace=False)
                if created or updated:
                    progress(f"Help articles synced: {created} created, {updated} updated.")
                if translated := write_translations(data.translations, replace=False):
                    progress(f"Translations synced: {translated} written.")
            else:
                shop = DemoShop(data, now=now, log=progress)
                shop.build_shipping()
                shop.build_catalog()
                foreign = foreign_rows(shop, data)
                if foreign and not options["force"]:
                    raise CommandError(
                        f"The database holds data that is not demo data ({'; '.join(foreign)}). seed_demo only (re)creates "
                        "a demo database; point SQLITE_PATH or DATABASE_URL at a fresh one (or pass --force to wipe the catalog anyway)."
                    )
                progress(f"Creating the demo shop ({'--reset' if options['reset'] else why}) …")
                shop.build_customers()
                orders = shop.plan_orders()
                wipe_catalog()
                write_shop(shop, orders)
                write_articles(data.articles, replace=True)
                reset_sequences(CATALOG_MODELS + [Article])
                write_translations(data.translations, replace=True)
                current, why = demo_is_current(now, data)
                if not current:
                    raise CommandError(f"The new demo shop is inconsistent: {why}")
            agents = ensure_staff(data.shop)
            shopper = ensure_demo_shopper(data.shop)

        report = {**build_report(now, agents), "shopper": shopper}
        elapsed = time.monotonic() - started
        if as_json:
            self.stderr.write(f"Done in {elapsed:.1f} s.")
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(render_summary(report, data.shop, elapsed))


def build_report(now: datetime, agents: list[dict]) -> dict:
    demo_orders = []
    for scenario, order in find_demo_orders(now).items():
        demo_orders.append(
            {
                "scenario": scenario,
                "number": order.number,
                "email": order.email,
                "status": order.status,
                "tracking_number": order.tracking_number or None,
            }
        )
    return {
        "counts": {
            "products": Product.objects.count(),
            "orders": Order.objects.count(),
            "articles": Article.objects.count(),
        },
        "demo_orders": demo_orders,
        "agents": agents,
    }


def render_summary(report: dict, shop_spec: dict, elapsed: float) -> str:
    by_status = dict(Order.objects.values_list("status").annotate(n=Count("pk")))
    returns = dict(ReturnRequest.objects.values_list("status").annotate(n=Count("pk")))
    counts = report["counts"]
    lines = [
        "",
        f"Demo shop ready in {elapsed:.1f} s:",
        f"  {counts['products']} products ({Variant.objects.count()} variants) in {Category.objects.count()} categories, "
        f"{Customer.objects.count()} customers, {counts['articles']} help articles",
        f"  {counts['orders']} orders: " + ", ".join(f"{s} {by_status.get(s, 0)}" for s in Order.Status.values),
        f"  {sum(returns.values())} returns: " + ", ".join(f"{s} {returns.get(s, 0)}" for s in ReturnRequest.Status.values),
        "",
        "Demo orders (verify with the order number and the e-mail):",
    ]
    for item in report["demo_orders"]:
        tracking = f"  tracking {item['tracking_number']}" if item["tracking_number"] else ""
        lines.append(f"  {item['scenario']:<26} #{item['number']}  {item['email']}  {item['status']}{tracking}")
    lines += ["", "Logins (demo passwords, never use them in production):"]
    lines.append(f"  admin (superuser)  {shop_spec['admin']['username']} / {shop_spec['admin']['password']}")
    for agent in report["agents"]:
        lines.append(f"  support agent      {agent['username']} / {agent['password']}")
    if shopper := report.get("shopper"):
        lines.append(f"  shopper (storefront \"Sign in\")  {shopper['email']} / {shopper['password']}")
    lines.append("")
    return "\n".join(lines)
