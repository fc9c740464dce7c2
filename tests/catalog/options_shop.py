"""A supplements-and-gadgets shop imported from a Shopify export: options besides colour and size
(Flavour, Weight, Storage), Shopify's "Title: Default Title", a generic "Bundle: One", and a
clothing product with Color and Size. Shared by the catalog and bot tests of other options."""

from io import StringIO
from pathlib import Path

from django.core.management import call_command

HEADER = (
    "Handle,Title,Body (HTML),Type,Option1 Name,Option1 Value,Option2 Name,Option2 Value,"
    "Variant SKU,Variant Inventory Qty,Variant Price,Status"
)
ROWS = [
    "whey-protein,Whey Protein,<p>Fast whey protein powder for after training.</p>,Protein Powder,Flavour,Chocolate,Weight,1 kg,WHEY-CHO-1,12,29.90,active",
    "whey-protein,,,,,Chocolate,,2.5 kg,WHEY-CHO-2,0,59.90,",
    "whey-protein,,,,,Vanilla,,1 kg,WHEY-VAN-1,4,29.90,",
    "whey-protein,,,,,Vanilla,,2.5 kg,WHEY-VAN-2,7,59.90,",
    "whey-protein,,,,,Strawberry,,1 kg,WHEY-STR-1,0,29.90,",
    "hex-dumbbells,Hex Dumbbells,<p>Rubber hex dumbbells for home workouts.</p>,Weights,Weight,5 kg,,,HEX-5,8,24.00,active",
    "hex-dumbbells,,,,,10 kg,,,HEX-10,0,44.00,",
    "pixel-9,Pixel 9,<p>Android smartphone with a great camera.</p>,Phones,Storage,128 GB,Colour,Obsidian,PX9-128-OBS,3,799.00,active",
    "pixel-9,,,,,512 GB,,Obsidian,PX9-512-OBS,2,999.00,",
    "pixel-9,,,,,128 GB,,Porcelain,PX9-128-POR,0,799.00,",
    "gift-card,Gift Card,<p>A gift card for the shop.</p>,Gift Cards,Title,Default Title,,,GIFT-25,100,25.00,active",
    "shaker,Shaker Bottle,<p>A leak-proof shaker bottle for protein shakes.</p>,Accessories,Bundle,One,,,SHAKER-1,30,9.00,active",
    "shaker,,,,,Three,,,SHAKER-3,10,24.00,",
    "training-tee,Training Tee,<p>A breathable cotton t-shirt for training.</p>,T-Shirts,Color,Black,Size,M,TEE-BLK-M,5,25.00,active",
    "training-tee,,,,,Black,,L,TEE-BLK-L,0,25.00,",
    "training-tee,,,,,White,,M,TEE-WHT-M,2,25.00,",
]


def import_options_shop(directory: Path) -> Path:
    """Writes the export to ``directory`` and imports it with ``import_catalog``."""
    path = Path(directory) / "options_shop.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    call_command("import_catalog", str(path), stdout=StringIO(), stderr=StringIO())
    return path
