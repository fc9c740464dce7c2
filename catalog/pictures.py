"""Which drawing shows a product that has no photo: one per kind of product, not per category.

The kind comes from the words of the product's name (a fedora is a hat, a candle holder shows a
candle), then from its category's name; a product matching neither shows the generic tag. The
drawings are hand-written SVGs in static/img/kinds/<kind>.svg. An uploaded image always wins,
then a picture address kept by a catalog import (catalog/imports.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.templatetags.static import static

GENERIC = "generic"

# (kind, words). The kind word nearest the end of the name wins, as English puts the thing
# last: a "shirt dress" is a dress and a "dress shirt" a shirt, a "glass table lamp" a lamp,
# "roll-top backpack" a backpack. At the same end the longer phrase wins ("t-shirt" over
# "shirt"), then the kind listed first. Words match whole words, with or without a plural
# "s"/"es"; several words are a phrase.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gift-card", ("gift card", "voucher")),
    ("wallet", ("wallet", "card holder", "purse")),
    ("candle", ("candle", "tealight")),
    ("lamp", ("lamp", "lantern")),
    ("diffuser", ("diffuser",)),
    ("swimwear", ("swim", "swimsuit", "swimwear", "bikini", "trunks")),
    ("underwear", ("underwear", "boxer", "brief", "bralette", "bra", "knicker")),
    ("socks", ("sock",)),
    ("dress", ("dress", "sundress", "pinafore", "gown")),
    ("skirt", ("skirt",)),
    ("pouf", ("pouf", "pouffe", "footstool")),
    ("boot", ("boot", "wellington")),
    ("sandal", ("sandal", "flip flop")),
    ("shoe", ("shoe", "footwear", "sneaker", "trainer", "runner", "loafer", "flat", "mule", "espadrille", "slipper", "brogue", "oxford shoe")),
    ("backpack", ("backpack", "rucksack")),
    ("bag", ("bag", "handbag", "tote", "crossbody", "clutch", "satchel")),
    ("hat", ("hat", "fedora", "panama", "trilby")),
    ("beanie", ("beanie", "bobble")),
    ("cap", ("cap",)),
    ("gloves", ("glove", "mitten")),
    ("scarf", ("scarf", "scarves", "shawl", "snood")),
    ("belt", ("belt",)),
    ("sunglasses", ("sunglasses", "shades")),
    ("watch", ("watch",)),
    ("jewellery", ("jewellery", "jewelry", "necklace", "pendant", "bracelet", "earring", "ring")),
    ("umbrella", ("umbrella",)),
    ("coat", ("coat", "overcoat", "parka", "trench", "mac")),
    ("jacket", ("jacket", "outerwear", "bomber", "windbreaker", "blazer", "anorak", "gilet", "puffer")),
    ("jumper", ("jumper", "sweater", "knit", "knitwear", "pullover", "cardigan", "turtleneck", "hoodie", "crew", "sweatshirt")),
    ("shorts", ("shorts",)),
    ("trousers", ("trousers", "jeans", "chinos", "joggers", "leggings", "pants")),
    ("tee", ("t shirt", "tee", "top", "henley", "tank", "camisole")),
    ("shirt", ("shirt", "overshirt", "blouse", "polo")),
    ("pillow", ("pillow", "pillowcase")),
    ("cushion", ("cushion",)),
    ("blanket", ("blanket", "throw")),
    ("bedding", ("duvet", "sheet", "bedspread", "quilt", "mattress", "bed linen", "bedding")),
    ("towel", ("towel", "tablecloth", "napkin", "tea towel")),
    ("apron", ("apron",)),
    ("curtain", ("curtain", "blind")),
    ("rug", ("rug", "carpet", "mat")),
    ("mirror", ("mirror",)),
    ("frame", ("frame", "print", "poster", "artwork")),
    ("basket", ("basket", "hamper")),
    ("planter", ("planter", "plant pot", "flowerpot")),
    ("vase", ("vase",)),
    ("coffee", ("french press", "cafetiere", "dripper", "coffee", "teapot")),
    ("kettle", ("kettle",)),
    ("mug", ("mug", "cup")),
    ("bottle", ("bottle", "flask", "carafe", "decanter")),
    ("glass", ("glass", "tumbler")),
    ("pot", ("casserole", "saucepan", "pot", "dutch oven", "stockpot")),
    ("pan", ("pan", "frying pan", "skillet", "wok")),
    ("knife", ("knife", "knives")),
    ("board", ("chopping board", "cutting board", "board")),
    ("utensils", ("utensil", "spoon", "spatula", "ladle", "whisk", "cutlery")),
    ("plate", ("plate", "dish", "platter", "dinnerware")),
    ("bowl", ("bowl",)),
)


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple(
        (kind, re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")(?:s|es)?\b"))
        for kind, words in KINDS
    )


def _plain(text: str) -> str:
    """Lower-case words separated by single spaces: "T-Shirt" -> "t shirt", "Chef's" -> "chef s"."""
    return " ".join(re.findall(r"[a-z0-9]+", (text or "").lower()))


def kind_of(*texts: str) -> tuple[str, str]:
    """(kind, the word that decided it) for the first text naming a kind; (GENERIC, "") otherwise."""
    for text in texts:
        plain = _plain(text)
        found = [
            ((match.end(), len(match.group(0)), -rank), kind, match.group(1))
            for rank, (kind, pattern) in enumerate(_patterns())
            for match in pattern.finditer(plain)
        ]
        if found:
            _, kind, word = max(found)
            return kind, word
    return GENERIC, ""


def product_kind(product) -> str:
    """The kind of product, from its name, else its category's name, else GENERIC."""
    category = getattr(product, "category", None)
    return kind_of(product.name, category.name if category else "")[0]


def kind_drawing(kind: str) -> str:
    return static(f"img/kinds/{kind}.svg")


def product_drawing(product) -> str:
    """The static address of the drawing for a product without a photo."""
    return kind_drawing(product_kind(product))


def product_image(product) -> str:
    """What shows a product: its uploaded image, else its first imported picture address, else its kind's drawing."""
    if product.image:
        return product.image.url
    if getattr(product, "image_urls", None):
        return product.image_urls[0]
    return product_drawing(product)
