"""Bring a shop's catalog in from a CSV file: Shopify's product export, or this project's own format.

Two steps. ``catalog_file_read`` reads and checks the WHOLE file and raises ``CatalogFileInvalid``
with every problem (line and column) before anything is written. ``catalog_import`` then works
out what would change (products by handle, variants by SKU, or by product and option values when
a variant has no SKU) and, unless it is a dry run, writes it in one transaction with bulk
queries. Only rows whose values differ are written, so importing an unchanged file changes
nothing (``updated_at`` included). Variants the file no longer lists are left as they are: an
import never deletes. Picture addresses are kept, never downloaded. After commit the
``catalog_imported`` signal lets the assistant re-index product search (bot/signals.py).

Shopify's columns: https://help.shopify.com/en/manual/products/import-export/using-csv
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_unicode_slug
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify

from .models import Category, Product, Variant
from .options import option_kind

# Sent after an import committed, with product_ids: the assistant re-indexes product search.
catalog_imported = Signal()

DEFAULT_CATEGORY = "Uncategorised"
BATCH_SIZE = 500  # rows per bulk query; well below SQLite's bound-parameter limit
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column '{self.column}': {self.message}" if self.column else f"line {self.line}: {self.message}"


class CatalogFileInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class VariantRow:
    line: int
    sku: str
    options: list[list[str]]
    price: Decimal
    stock: int


@dataclass
class ProductRow:
    line: int
    handle: str
    title: str = ""
    description: str = ""
    category_path: tuple[str, ...] = ()
    active: bool = True
    vendor: str = ""
    option_names: list[str] = field(default_factory=list)
    images: list[tuple[int, int, str]] = field(default_factory=list)  # (position, line, url)
    variants: list[VariantRow] = field(default_factory=list)
    first_values: dict = field(default_factory=dict)  # the project format's product columns


@dataclass
class CatalogFile:
    format: str  # "shopify" or "project"
    products: dict[str, ProductRow]
    rows: int
    warnings: list[str] = field(default_factory=list)

    @property
    def variant_count(self) -> int:
        return sum(len(p.variants) for p in self.products.values())


# --- reading and checking ------------------------------------------------------------------------


class _Text(HTMLParser):
    """Shopify's Body (HTML) as plain paragraphs: block elements end a paragraph, tags go."""

    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(html: str) -> str:
    if "<" not in html and "&" not in html:
        return html.strip()
    parser = _Text()
    parser.feed(html)
    parser.close()
    paragraphs = [re.sub(r"[ \t\r\n]+", " ", p).strip() for p in re.split(r"\n\s*\n", "".join(parser.parts))]
    return "\n\n".join(p for p in paragraphs if p)


def _price(text: str) -> Decimal:
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a price") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} is not a price")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{text!r} has more than two decimals")
    if value >= Decimal("100000000"):
        raise ValueError(f"{text!r} is too large a price")
    return value.quantize(Decimal("0.01"))


def _whole(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


_TRUE = {"true", "yes", "1", "y", "active", "published"}
_FALSE = {"false", "no", "0", "n"}


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not true or false")


def _category_path(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"\s*>\s*", text.strip()) if part.strip())


class _Reader:
    """Collects problems for the whole file instead of stopping at the first."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.products: dict[str, ProductRow] = {}
        self.sku_lines: dict[str, int] = {}

    def problem(self, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(line, column, message))

    def parse(self, line: int, column: str, text: str, parse, default=None):
        if not text.strip():
            return default
        try:
            return parse(text)
        except ValueError as exc:
            self.problem(line, column, str(exc))
            return default

    def check_length(self, line: int, column: str, text: str, limit: int, what: str) -> str:
        if len(text) > limit:
            self.problem(line, column, f"{text[:30]!r}… is longer than {limit} characters ({what})")
            return text[:limit]
        return text

    def product(self, line: int, column: str, handle: str) -> ProductRow | None:
        if not handle:
            self.problem(line, column, "is empty: every row needs the product's handle")
            return None
        try:
            validate_unicode_slug(handle)
        except ValidationError:
            self.problem(line, column, f"{handle!r} is not a handle (letters, digits, hyphens, underscores)")
            return None
        self.check_length(line, column, handle, 220, "a handle")
        if handle not in self.products:
            self.products[handle] = ProductRow(line=line, handle=handle)
        return self.products[handle]

    def options(self, line: int, names: list[str], values: list[str], columns: list[tuple[str, str]]) -> list[list[str]]:
        """[name, value] pairs of a variant row; names come from the product's first row."""
        options = []
        for name, value, (value_column, name_column) in zip(names, values, columns):
            if value and not name:
                self.problem(line, value_column, f"{value!r} has no {name_column} on the product's first row")
            elif name and not value:
                self.problem(line, value_column, f"is empty, but the product has the option {name!r}")
            elif name and not (name == "Title" and value == "Default Title"):  # Shopify's "no options"
                options.append([name, value])
        return options

    def variant(self, product: ProductRow, line: int, sku_column: str, sku: str, options, price, stock) -> None:
        sku = self.check_length(line, sku_column, sku, 64, "a SKU")
        if sku:
            if sku in self.sku_lines:
                self.problem(line, sku_column, f"SKU {sku!r} is already used on line {self.sku_lines[sku]}")
                return
            self.sku_lines[sku] = line
        values = [value for _, value in options]
        for other in product.variants:
            if [value for _, value in other.options] == values:
                label = " / ".join(values) or "(no options)"
                self.problem(line, "", f"product {product.handle!r} already has the variant {label} on line {other.line}")
                return
        for name, value in options:
            kind = option_kind(name)
            if kind:
                self.check_length(line, name, value, 20 if kind == "size" else 40, f"the variant's {kind}")
        if price is not None:
            product.variants.append(VariantRow(line=line, sku=sku, options=options, price=price, stock=max(stock or 0, 0)))


SHOPIFY_REQUIRED = ("Handle", "Title", "Variant Price")
PROJECT_REQUIRED = ("handle", "title", "price")
_PROJECT_OPTION = re.compile(r"option(\d+)_(name|value)$")


def _read_shopify(reader: _Reader, records) -> None:
    for line, row in records:
        def get(column: str) -> str:
            return (row.get(column) or "").strip()

        product = reader.product(line, "Handle", get("Handle"))
        if product is None:
            continue
        first = product.line == line
        if first:
            product.title = reader.check_length(line, "Title", get("Title"), 200, "a product name")
            if not product.title:
                reader.problem(line, "Title", "is empty on the product's first row")
            product.description = html_to_text(row.get("Body (HTML)") or "")
            product.vendor = get("Vendor")
            product.category_path = _category_path(get("Product Category")) or _category_path(get("Type"))
            status = get("Status").lower()
            if status and status not in ("active", "draft", "archived"):
                reader.problem(line, "Status", f"{get('Status')!r} is not active, draft or archived")
            published = reader.parse(line, "Published", get("Published"), _flag, default=True)
            product.active = status in ("", "active") and published
            product.option_names = [get(f"Option{i} Name") for i in (1, 2, 3)]
        elif get("Title") and get("Title") != product.title:
            reader.problem(line, "Title", f"differs from the product's first row (line {product.line})")
        if get("Image Src"):
            position = reader.parse(line, "Image Position", get("Image Position"), _whole, default=None)
            product.images.append((position if position is not None else 10**6, line, get("Image Src")))
        if get("Variant Image"):
            product.images.append((10**6, line, get("Variant Image")))
        values = [get(f"Option{i} Value") for i in (1, 2, 3)]
        if not (first or any(values) or get("Variant SKU") or get("Variant Price")):
            continue  # an image row
        columns = [(f"Option{i} Value", f"Option{i} Name") for i in (1, 2, 3)]
        options = reader.options(line, product.option_names, values, columns)
        price = reader.parse(line, "Variant Price", get("Variant Price"), _price)
        if price is None and not get("Variant Price"):
            reader.problem(line, "Variant Price", "is empty on a variant row")
        stock = reader.parse(line, "Variant Inventory Qty", get("Variant Inventory Qty"), _whole, default=0)
        reader.variant(product, line, "Variant SKU", get("Variant SKU"), options, price, stock)


def _read_project(reader: _Reader, records, header: list[str]) -> None:
    numbers = sorted({int(m.group(1)) for h in header if (m := _PROJECT_OPTION.match(h))})
    for line, row in records:
        def get(column: str) -> str:
            return (row.get(column) or "").strip()

        product = reader.product(line, "handle", get("handle"))
        if product is None:
            continue
        first = product.line == line
        names = [get(f"option{n}_name") for n in numbers]
        product_values = {
            "title": reader.check_length(line, "title", get("title"), 200, "a product name"),
            "description": get("description"),
            "category": get("category"),
            "image_url": get("image_url"),
            "active": get("active"),
            "option names": " / ".join(names),
        }
        if first:
            if not product_values["title"]:
                reader.problem(line, "title", "is empty on the product's first row")
            product.title = product_values["title"]
            product.description = product_values["description"]
            product.category_path = _category_path(product_values["category"])
            product.active = reader.parse(line, "active", product_values["active"], _flag, default=True)
            product.option_names = names
            product.first_values = product_values
        else:  # follow-up rows may leave product columns empty, never contradict them
            for column, value in product_values.items():
                if value and value != product.first_values[column]:
                    reader.problem(line, column, f"differs from the product's first row (line {product.line})")
        if product_values["image_url"] and first:
            product.images.append((0, line, product_values["image_url"]))
        values = [get(f"option{n}_value") for n in numbers]
        options = reader.options(line, product.option_names, values, [(f"option{n}_value", f"option{n}_name") for n in numbers])
        price = reader.parse(line, "price", get("price"), _price)
        if price is None and not get("price"):
            reader.problem(line, "price", "is empty")
        stock = reader.parse(line, "stock", get("stock"), _whole, default=0)
        reader.variant(product, line, "sku", get("sku"), options, price, stock)


def catalog_file_read(path: str | Path, *, progress: Progress | None = None) -> CatalogFile:
    """Read and check a whole catalog CSV (Shopify's or the project's format)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = csv.reader(fh)
            try:
                header = [h.strip() for h in next(rows)]
            except StopIteration:
                raise CatalogFileInvalid([Problem(1, "", "the file is empty")]) from None
            records = []
            end = 1
            for values in rows:
                start, end = end + 1, rows.line_num  # a quoted field may span lines: report the first
                if any(v.strip() for v in values):
                    records.append((start, dict(zip(header, values))))
    except UnicodeDecodeError as exc:
        raise CatalogFileInvalid([Problem(0, "", f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except csv.Error as exc:
        raise CatalogFileInvalid([Problem(end + 1, "", f"not a valid CSV file: {exc}")]) from None

    reader = _Reader()
    if all(c in header for c in SHOPIFY_REQUIRED):
        kind = "shopify"
        _read_shopify(reader, _counted(records, progress))
    elif all(c in header for c in PROJECT_REQUIRED):
        kind = "project"
        _read_project(reader, _counted(records, progress), header)
    else:
        raise CatalogFileInvalid([Problem(1, "", (
            "the header is neither Shopify's product export (needs Handle, Title, Variant Price) nor this "
            "project's format (needs handle, title, price)"
        ))])
    if reader.problems:
        raise CatalogFileInvalid(sorted(reader.problems, key=lambda p: p.line))
    return CatalogFile(format=kind, products=reader.products, rows=len(records))


def _counted(records, progress: Progress | None):
    for i, record in enumerate(records, start=1):
        if progress and (i % 200 == 0 or i == len(records)):
            progress("checking rows", i, len(records))
        yield record


# --- working out and writing the changes ------------------------------------------------------------


@dataclass
class ImportSummary:
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    variants_unchanged: int = 0
    variants_not_in_file: int = 0
    categories_created: int = 0
    dry_run: bool = False

    @property
    def changes(self) -> int:
        return self.products_created + self.products_updated + self.variants_created + self.variants_updated + self.categories_created


def _chunks(items: list, size: int = BATCH_SIZE):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _generated_sku(handle: str, options: list[list[str]]) -> str:
    """A stable SKU for a variant the file gives none: handle and option values."""
    sku = "-".join([handle] + [slugify(value) or "x" for _, value in options]).upper()
    if len(sku) > 64:
        sku = f"{handle[:50].upper()}-{hashlib.sha1(sku.encode()).hexdigest()[:10].upper()}"
    return sku


def _variant_fields(row: VariantRow, product_price: Decimal) -> dict:
    fields = {"options": row.options, "size": "", "colour": ""}
    for name, value in row.options:
        kind = option_kind(name)
        if kind and not fields[kind]:
            fields[kind] = value
    fields["price_override"] = None if row.price == product_price else row.price
    fields["stock"] = row.stock
    return fields


class _Categories:
    """Categories by path, found (name, case-insensitive, under the same parent) or created."""

    def __init__(self, *, dry_run: bool):
        self.dry_run = dry_run
        self.all = list(Category.objects.all())
        self.slugs = {c.slug for c in self.all}
        self.created = 0

    def find(self, name: str, parent: Category | None) -> Category | None:
        parent_id = parent.pk if parent else None
        for c in self.all:
            if c.name.lower() == name.lower() and c.parent_id == parent_id:
                return c
        return None

    def get(self, path: tuple[str, ...]) -> Category:
        path = path or (DEFAULT_CATEGORY,)
        if len(path) == 1:  # a Type: any category of that name, wherever it sits
            found = [c for c in self.all if c.name.lower() == path[0].lower()]
            if found:
                return min(found, key=lambda c: (c.parent_id is not None, c.pk or 0))
        parent = None
        for name in path:
            found = self.find(name, parent)
            if found is None:
                found = self._create(name[:120], parent)
            parent = found
        return parent

    def _create(self, name: str, parent: Category | None) -> Category:
        base = slugify(name)[:120] or "category"
        slug = base if base not in self.slugs else f"{parent.slug if parent else 'c'}-{base}"[:140]
        n = 2
        while slug in self.slugs:
            slug, n = f"{base}-{n}", n + 1
        category = Category(name=name, slug=slug, parent=parent)
        if not self.dry_run:
            category.save()
        self.all.append(category)
        self.slugs.add(slug)
        self.created += 1
        return category


def catalog_import(*, catalog: CatalogFile, dry_run: bool = False, progress: Progress | None = None) -> ImportSummary:
    """Create or update the file's products and variants; with dry_run, only count what would change."""
    if dry_run:
        with transaction.atomic():  # reads only; the categories it would create are never saved
            return _import(catalog, dry_run=True, progress=progress)
    with transaction.atomic():
        summary = _import(catalog, dry_run=False, progress=progress)
    return summary


def _import(catalog: CatalogFile, *, dry_run: bool, progress: Progress | None) -> ImportSummary:
    summary = ImportSummary(dry_run=dry_run)
    now = timezone.now()
    currency = settings.SHOP_CURRENCY
    categories = _Categories(dry_run=dry_run)
    rows = list(catalog.products.values())
    handles = [p.handle for p in rows]
    existing: dict[str, Product] = {}
    for chunk in _chunks(handles):
        existing.update({p.slug: p for p in Product.objects.filter(slug__in=chunk)})

    product_fields = ("name", "description", "category_id", "price", "currency", "image_urls", "is_active", "attributes")
    products: dict[str, Product] = {}
    new_products, changed_products = [], []
    for row in rows:
        price = min(v.price for v in row.variants)
        category = categories.get(row.category_path)
        images = [url for _, _, url in sorted(row.images)]
        images = list(dict.fromkeys(images))  # a variant image repeats a product image
        product = existing.get(row.handle)
        attributes = dict(product.attributes) if product else {}
        if row.vendor:
            attributes["vendor"] = row.vendor
        values = {
            "name": row.title,
            "description": row.description,
            "category_id": category.pk,
            "price": price,
            "currency": currency,
            "image_urls": images,
            "is_active": row.active,
            "attributes": attributes,
        }
        if product is None:
            product = Product(slug=row.handle, created_at=now, updated_at=now, **values)
            product.category = category
            new_products.append(product)
        elif any(getattr(product, f) != v for f, v in values.items()) or category.pk is None:
            for f, v in values.items():
                setattr(product, f, v)
            product.category = category
            changed_products.append(product)
        products[row.handle] = product
    summary.categories_created = categories.created

    # Variants: by SKU anywhere in the shop, else by the product's own variant with those options.
    skus = [v.sku for p in rows for v in p.variants if v.sku]
    by_sku: dict[str, Variant] = {}
    for chunk in _chunks(skus):
        by_sku.update({v.sku: v for v in Variant.objects.filter(sku__in=chunk)})
    by_product: dict[int, list[Variant]] = {}
    known_ids = [p.pk for p in existing.values()]
    for chunk in _chunks(known_ids):
        for v in Variant.objects.filter(product_id__in=chunk):
            by_product.setdefault(v.product_id, []).append(v)

    variant_fields = ("product", "sku", "options", "size", "colour", "price_override", "stock")
    new_variants: list[Variant] = []
    changed_variants: list[Variant] = []
    touched: set[str] = set()
    matched_ids: set[int] = set()
    for row in rows:
        product = products[row.handle]
        own = by_product.get(product.pk, []) if product.pk else []
        for vrow in row.variants:
            values = _variant_fields(vrow, product.price)
            variant = by_sku.get(vrow.sku) if vrow.sku else None
            if variant is None:
                variant = next((v for v in own if v.pk not in matched_ids and _same_options(v, values)), None)
            sku = vrow.sku or (variant.sku if variant else _generated_sku(row.handle, vrow.options))
            if variant is None:
                variant = Variant(product=product, sku=sku, **values)
                new_variants.append(variant)
                touched.add(row.handle)
                continue
            matched_ids.add(variant.pk)
            wanted = {"product_id": product.pk, "sku": sku, **values}
            if product.pk is None or any(getattr(variant, f) != v for f, v in wanted.items()):
                for f, v in wanted.items():
                    if f != "product_id":
                        setattr(variant, f, v)
                variant.product = product
                changed_variants.append(variant)
                touched.add(row.handle)
            else:
                summary.variants_unchanged += 1
        summary.variants_not_in_file += sum(1 for v in own if v.pk not in matched_ids)

    # A product whose variants changed is changed too: its updated_at tells the search index.
    changed_ids = {p.pk for p in changed_products}
    for handle in touched:
        product = products[handle]
        if product.pk is not None and product.pk not in changed_ids:
            changed_products.append(product)
    summary.products_created, summary.products_updated = len(new_products), len(changed_products)
    summary.products_unchanged = len(rows) - len(new_products) - len(changed_products)
    summary.variants_created, summary.variants_updated = len(new_variants), len(changed_variants)
    if dry_run:
        return summary

    total = len(new_products) + len(changed_products) + len(new_variants) + len(changed_variants)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("writing", done, total)

    for chunk in _chunks(new_products):
        Product.objects.bulk_create(chunk)
        step(len(chunk))
    for product in new_products:
        if product.pk is None:  # backends that return no ids from bulk_create (not SQLite 3.35+ or PostgreSQL)
            product.pk = Product.objects.get(slug=product.slug).pk
    for product in changed_products:
        product.updated_at = now
    for chunk in _chunks(changed_products):
        Product.objects.bulk_update(chunk, [*product_fields, "updated_at"])
        step(len(chunk))
    # Variants moving between options could meet a sibling's old options halfway: update first.
    for chunk in _chunks(changed_variants):
        for variant in chunk:
            variant.product_id = variant.product.pk
        Variant.objects.bulk_update(chunk, variant_fields)
        step(len(chunk))
    for variant in new_variants:
        variant.product_id = variant.product.pk
    for chunk in _chunks(new_variants):
        Variant.objects.bulk_create(chunk)
        step(len(chunk))
    if summary.changes:
        ids = [p.pk for p in (*new_products, *changed_products)]
        transaction.on_commit(lambda: catalog_imported.send(sender=Product, product_ids=ids))
    return summary


def _same_options(variant: Variant, values: dict) -> bool:
    if variant.options:
        return [v for _, v in variant.options] == [v for _, v in values["options"]]
    # A variant made before options were kept: its colour and size.
    return (variant.colour, variant.size) == (values["colour"], values["size"])
