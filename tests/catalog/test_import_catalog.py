"""import_catalog: Shopify's product export and the project's CSV into products and variants."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.imports import CatalogFileInvalid, catalog_file_read
from catalog.models import Category, Product, Variant
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

DATA = Path(__file__).parent / "data"
SHOPIFY = DATA / "shopify_products.csv"
PROJECT = DATA / "project_products.csv"


def run(*args) -> str:
    out = StringIO()
    call_command("import_catalog", *map(str, args), stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot():
    return (
        sorted(Product.objects.values_list("slug", "name", "price", "is_active", "updated_at", "category_id")),
        sorted(Variant.objects.values_list("sku", "product_id", "stock", "price_override", "size", "colour")),
        Category.objects.count(),
    )


@pytest.mark.django_db
def test_shopify_export_becomes_products_with_every_option_kept():
    run(SHOPIFY)

    whey = Product.objects.get(slug="whey-protein")
    assert whey.name == "Whey Protein"
    assert whey.description == "Fast protein for after training.\n\n- 24 g protein\n\n- No sugar added"
    assert whey.price == Decimal("29.90")  # the lowest variant price; the others are overrides
    variants = {v.sku: v for v in whey.variants.all()}
    assert set(variants) == {"WHEY-VAN-1", "WHEY-VAN-2", "WHEY-CHO-1"}  # follow-up rows are variants
    assert variants["WHEY-VAN-2"].options == [["Flavour", "Vanilla"], ["Weight", "2.5 kg"]]
    assert variants["WHEY-VAN-2"].label == "Vanilla / 2.5 kg"
    assert variants["WHEY-VAN-2"].price == Decimal("59.90") and variants["WHEY-VAN-2"].stock == 5
    assert variants["WHEY-VAN-1"].price_override is None
    # Image rows and variant images are kept as addresses, in position order, never downloaded.
    assert whey.image_urls == [
        "https://cdn.shopify.com/s/files/whey-1.jpg",
        "https://cdn.shopify.com/s/files/whey-2.jpg",
        "https://cdn.shopify.com/s/files/whey-choc.jpg",
    ]
    assert whey.image_url == "https://cdn.shopify.com/s/files/whey-1.jpg"
    assert whey.currency == "EUR"


@pytest.mark.django_db
def test_colour_and_size_options_fill_the_colour_and_size_fields():
    run(SHOPIFY)
    shirt = Variant.objects.get(sku="OX-BLU-L")
    assert (shirt.colour, shirt.size, shirt.options) == ("Blue", "L", [["Color", "Blue"], ["Size", "L"]])
    assert Variant.objects.get(sku="WHEY-VAN-1").colour == ""


@pytest.mark.django_db
def test_categories_come_from_the_taxonomy_path_else_the_type():
    run(SHOPIFY)
    shirts = Product.objects.get(slug="oxford-shirt").category
    assert shirts.name == "Shirts"
    assert shirts.parent.name == "Clothing" and shirts.parent.parent.name == "Apparel & Accessories"
    assert shirts.parent.parent.parent is None
    assert Product.objects.get(slug="whey-protein").category.name == "Protein Powder"


@pytest.mark.django_db
def test_a_type_naming_an_existing_category_files_the_product_there():
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    mats = CategoryFactory(name="Mats", slug="mats", parent=clothing)
    run(SHOPIFY)
    assert Product.objects.get(slug="yoga-mat").category == mats


@pytest.mark.django_db
def test_draft_and_archived_products_are_imported_but_not_shown(client):
    run(SHOPIFY)
    assert Product.objects.get(slug="yoga-mat").is_active is False  # draft
    assert Product.objects.get(slug="gift-card").is_active is False  # archived
    assert client.get("/p/yoga-mat/").status_code == 404
    # Shopify's "Title / Default Title" is a product without options.
    assert Variant.objects.get(sku="GIFT-25").options == []


@pytest.mark.django_db
def test_product_page_shows_options_other_than_colour_and_size(client):
    run(SHOPIFY)
    page = client.get("/p/whey-protein/").content.decode()
    assert '<th scope="col">Flavour</th><th scope="col">Weight</th>' in page
    assert "<td>Chocolate</td><td>1 kg</td>" in page


@pytest.mark.django_db
def test_variant_without_sku_is_matched_again_by_its_options(tmp_path):
    run(SHOPIFY)
    thin = Variant.objects.get(product__slug="yoga-mat", options=[["Thickness", "4 mm"]])
    changed = tmp_path / "changed.csv"
    changed.write_text(SHOPIFY.read_text().replace(",4 mm,,,,,,900,shopify,9,", ",4 mm,,,,,,900,shopify,11,"))
    output = run(changed)
    thin.refresh_from_db()
    assert thin.stock == 11
    assert Variant.objects.filter(product__slug="yoga-mat").count() == 2
    assert "variants 0 created, 1 updated" in output


@pytest.mark.django_db
def test_an_unchanged_file_imported_twice_changes_nothing():
    first = run(SHOPIFY)
    assert "18 change(s) were made" in first  # 4 products, 8 variants, 6 categories
    before = snapshot()
    second = run(SHOPIFY)
    assert snapshot() == before
    assert "products 0 created, 0 updated, 4 unchanged" in second
    assert "0 change(s) were made" in second


@pytest.mark.django_db
def test_a_changed_price_updates_the_variant_and_its_products_updated_at(tmp_path):
    run(SHOPIFY)
    before = Product.objects.get(slug="oxford-shirt").updated_at
    other = Product.objects.get(slug="whey-protein").updated_at
    changed = tmp_path / "changed.csv"
    changed.write_text(SHOPIFY.read_text().replace("OX-BLU-L,300,shopify,3,deny,manual,52.00", "OX-BLU-L,300,shopify,3,deny,manual,55.00"))
    output = run(changed)
    assert Variant.objects.get(sku="OX-BLU-L").price == Decimal("55.00")
    assert Product.objects.get(slug="oxford-shirt").updated_at > before
    assert Product.objects.get(slug="whey-protein").updated_at == other
    assert "products 0 created, 1 updated, 3 unchanged" in output


@pytest.mark.django_db
def test_errors_name_line_and_column_and_the_database_stays_unchanged():
    ProductFactory(slug="good-tee", name="Old tee")
    before = snapshot()
    err = StringIO()
    with pytest.raises(CommandError, match="6 problem"):
        call_command("import_catalog", str(DATA / "shopify_errors.csv"), stdout=StringIO(), stderr=err)
    messages = err.getvalue()
    assert "line 3, column 'Variant Price': 'abc' is not a price" in messages
    assert "line 4, column 'Variant Inventory Qty': 'lots' is not a whole number" in messages
    assert "line 4, column 'Variant SKU': SKU 'TEE-M' is already used on line 2" in messages
    assert "line 5, column 'Handle': is empty" in messages
    assert "line 6, column 'Status': 'paused' is not active, draft or archived" in messages
    assert snapshot() == before


def test_error_lines_count_lines_inside_quoted_fields(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text('Handle,Title,Body (HTML),Variant Price\nmug,Mug,"<p>one</p>\n<p>two</p>",9\ncup,Cup,,nine\n')
    with pytest.raises(CatalogFileInvalid) as caught:
        catalog_file_read(bad)
    assert [str(p) for p in caught.value.problems] == ["line 4, column 'Variant Price': 'nine' is not a price"]


def test_a_file_in_neither_format_is_refused(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("name,cost\nMug,9\n")
    with pytest.raises(CatalogFileInvalid, match="neither Shopify"):
        catalog_file_read(other)


@pytest.mark.django_db
def test_dry_run_reports_the_changes_and_writes_nothing():
    before = snapshot()
    output = run(SHOPIFY, "--dry-run")
    assert snapshot() == before
    assert "products 4 created" in output and "variants 8 created" in output
    assert "dry run: nothing written" in output


@pytest.mark.django_db
def test_project_format_with_any_option_names():
    output = run(PROJECT)
    assert "project format" in output
    roast = Product.objects.get(slug="dark-roast")
    assert roast.category.name == "Coffee" and roast.category.parent.name == "Food"
    assert roast.image_url == "https://images.example.com/dark-roast.jpg"
    labels = sorted(v.label for v in roast.variants.all())
    assert labels == ["Espresso / 250 g", "Whole bean / 1 kg", "Whole bean / 250 g"]
    # The variant without a SKU gets one made from its handle and options.
    assert roast.variants.get(options=[["Grind", "Espresso"], ["Weight", "250 g"]]).sku == "DARK-ROAST-ESPRESSO-250-G"
    assert Variant.objects.get(sku="TOTE-NAT").colour == "Natural"
    assert "0 change(s)" in run(PROJECT)


@pytest.mark.django_db
def test_existing_variant_is_updated_by_sku_and_others_are_left_alone():
    shirts = CategoryFactory(name="Shirts", slug="shirts")
    product = ProductFactory(slug="oxford-shirt", category=shirts, name="Old name")
    kept = VariantFactory(product=product, sku="OX-RED-S", colour="Red", size="S")
    same = VariantFactory(product=product, sku="OX-BLU-M", colour="Blue", size="M", stock=1)
    output = run(SHOPIFY)
    same.refresh_from_db()
    assert same.stock == 7 and same.options == [["Color", "Blue"], ["Size", "M"]]
    assert Variant.objects.filter(pk=kept.pk).exists()
    assert "1 variant(s) of these products are not in the file" in output
    assert Product.objects.get(slug="oxford-shirt").name == "Oxford Shirt"


@pytest.mark.django_db(transaction=True)  # the re-index runs after commit
def test_an_import_makes_the_products_searchable():
    from bot.products import product_search

    run(SHOPIFY)
    found = product_search(query="whey protein powder vanilla", limit=1)
    assert [p.slug for p in found] == ["whey-protein"]
