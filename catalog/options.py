"""What a shopper's colour, size and other option words mean against a product's own variant options.

Pure functions, no database. Colours: a word matches a variant colour written the same way
(rank 0), spelled differently or naming the same shade ("gray", rank 1), or in the same family
("grey" and Charcoal, rank 2); catalog/colours.yaml holds the families. Sizes: "M", "medium",
"30 x 40cm" and "30 × 40 cm" are compared after normalising case, spaces, × and size words.
Any other option (Flavour, Weight, Storage ...): its value after normalising case and the space
between a number and its unit ("5kg" is "5 kg", "256gb" is "256 GB").
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

COLOURS_FILE = Path(__file__).resolve().parent / "colours.yaml"
EXACT, SYNONYM, FAMILY = 0, 1, 2


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    data = yaml.safe_load(COLOURS_FILE.read_text(encoding="utf-8"))
    spellings = {str(k).lower(): str(v).lower() for k, v in (data.get("spellings") or {}).items()}
    spellings.update({str(k): str(v).lower() for k, v in (data.get("japanese") or {}).items()})
    families: dict[str, set[str]] = {}
    for family, shades in data["families"].items():
        families.setdefault(family, set()).add(family)
        for shade in shades:
            families.setdefault(str(shade).lower(), set()).add(family)
    return spellings, {word: frozenset(f) for word, f in families.items()}


@lru_cache(maxsize=1)
def japanese_colours() -> dict[str, str]:
    """Japanese colour name -> the English word of its family or shade (colours.yaml `japanese`)."""
    data = yaml.safe_load(COLOURS_FILE.read_text(encoding="utf-8"))
    return {str(k): str(v).lower() for k, v in (data.get("japanese") or {}).items()}


def colour_words() -> list[str]:
    """Every colour word the table knows (family names, shades, spellings)."""
    spellings, families = _table()
    return sorted(set(families) | set(spellings))


def _canonical(colour: str) -> str:
    spellings, _ = _table()
    text = re.sub(r"\s+", " ", colour.strip().lower())
    text = spellings.get(text, text)
    return " ".join(spellings.get(w, w) for w in text.split(" "))


def colour_families(colour: str) -> frozenset[str]:
    """The families a colour belongs to: "Charcoal" -> grey; "Navy/Ecru" -> blue, white; "Grey check" -> grey."""
    _, families = _table()
    found: set[str] = set()
    for part in re.split(r"\s*[/&,+]\s*|\s+and\s+", _canonical(colour)):
        if not part:
            continue
        if part in families:
            found |= families[part]
            continue
        words = part.split(" ")
        # the longest run of words the table knows: "dusty rose print" -> "dusty rose"
        for size in range(len(words), 0, -1):
            hits = [families[" ".join(words[i : i + size])] for i in range(len(words) - size + 1) if " ".join(words[i : i + size]) in families]
            if hits:
                for hit in hits:
                    found |= hit
                break
    return frozenset(found)


def colour_rank(asked: str, colour: str) -> int | None:
    """How well a variant colour answers the shopper's colour word: EXACT, SYNONYM, FAMILY or None."""
    if not asked or not colour:
        return None
    if asked.strip().lower() == colour.strip().lower():
        return EXACT
    if _canonical(asked) == _canonical(colour):
        return SYNONYM
    asked_families = colour_families(asked)
    if asked_families & colour_families(colour):
        return FAMILY
    return None


def family_name(asked: str, colour: str) -> str | None:
    """The family the two share, to say "Charcoal (a grey)"."""
    shared = colour_families(asked) & colour_families(colour)
    if not shared:
        return None
    canonical = _canonical(asked)
    return canonical if canonical in shared else sorted(shared)[0]


_SIZE_WORDS = {"extra extra small": "xxs", "extra small": "xs", "x-small": "xs", "small": "s", "medium": "m",
               "large": "l", "extra large": "xl", "x-large": "xl", "xx-large": "xxl", "extra extra large": "xxl",
               "2xl": "xxl", "one size": "onesize", "onesize": "onesize", "one-size": "onesize"}


def normalise_size(size: str) -> str:
    """One spelling per size: "30 × 40 cm", "30x40cm" -> "30x40cm"; "Medium", "m" -> "m"; "EU 42" -> "eu42"."""
    text = re.sub(r"\s+", " ", str(size or "").strip().lower())
    text = re.sub(r"^size\s*:?\s*", "", text)
    text = _SIZE_WORDS.get(text, text)
    text = re.sub(r"\s*[×x*]\s*(?=\d)", "x", text)
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)
    return re.sub(r"[\s]+", "", text)


def size_matches(asked: str, size: str) -> bool:
    return bool(asked) and normalise_size(asked) == normalise_size(size)


_LETTER_ORDER = ["xxs", "xs", "s", "m", "l", "xl", "xxl", "3xl", "4xl"]


def size_key(size: str):
    """Sizes in shop order: XS before S before M; numbers by value ("36" < "110 cm"); the rest by name."""
    norm = normalise_size(size)
    if norm in _LETTER_ORDER:
        return (0, _LETTER_ORDER.index(norm), "")
    number = re.match(r"[a-z]*(\d+(?:\.\d+)?)", norm)
    if number:
        return (1, float(number.group(1)), norm)
    return (2, 0, norm)


CLOSE = (EXACT, SYNONYM)


def variants_in_size(variants, size: str | None) -> list:
    """The variants of the size written any way ("30 x 40 cm"); all of them when no size is asked."""
    return [v for v in variants if size_matches(size, v.size)] if size else list(variants)


def variants_in_colour(variants, colour: str | None, ranks=CLOSE) -> list:
    """The variants whose colour is the asked one at one of ``ranks``; all of them when no colour is asked."""
    return [v for v in variants if colour_rank(colour, v.colour) in ranks] if colour else list(variants)


def pick_variants(variants, *, colour: str | None = None, size: str | None = None, options=()) -> list:
    """The variants a shopper means: every other option asked ("Flavour", "Chocolate") written any
    way; the size written any way; the colour as written (or spelled otherwise), else the variants
    in its family. Works on anything with .colour, .size and .options."""
    sized = variants_in_size(variants_with_options(variants, options) if options else variants, size)
    if not colour:
        return sized
    return variants_in_colour(sized, colour) or variants_in_colour(sized, colour, (FAMILY,))


# Option names that mean colour or size, in the languages shops commonly export in (English,
# German, French, Spanish, Italian, Dutch, Portuguese, Swedish, Danish, Polish).
_OPTION_KINDS = {
    "colour": {"colour", "color", "colours", "colors", "farbe", "couleur", "kleur", "colore", "cor", "färg",
               "farve", "kolor", "colour name", "color name"},
    "size": {"size", "sizes", "größe", "groesse", "grösse", "taille", "talla", "tamaño", "taglia", "maat",
             "tamanho", "storlek", "størrelse", "rozmiar", "shoe size", "clothing size"},
}


def option_kind(name: str) -> str | None:
    """ "colour" or "size" for an option name meaning one ("Color", "Farbe", "Taille"), else None."""
    key = re.sub(r"\s+", " ", str(name or "").strip().lower())
    for kind, names in _OPTION_KINDS.items():
        if key in names:
            return kind
    return None


# --- any other option (flavour, weight, storage, thickness ...) -----------------------------

# Option names that carry no option: Shopify's "Title: Default Title" of a product sold as is.
IGNORED_OPTION_NAMES = frozenset({"title", "default", "variant"})
# Values shops use for options that say nothing when a shopper writes them ("one", "standard"):
# never read as an option in a message only because some variant has them.
GENERIC_OPTION_VALUES = frozenset(
    {"default title", "default", "title", "one", "none", "n/a", "na", "-", "other", "others", "standard", "regular",
     "normal", "yes", "no", "single", "each", "new", "all", "any", "mixed", "assorted", "various", "custom", "basic",
     "base", "set", "pack", "item", "unit", "variant", "option", "as shown", "as pictured", "see description",
     "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "double", "small", "medium",
     "large", "mini", "big"}
)


def normalise_option(value) -> str:
    """One spelling per option value: "5 kg", "5kg", "5 KG" -> "5kg"; "1,5 kg" -> "1.5kg"; "Dark  Chocolate" -> "dark chocolate"."""
    text = re.sub(r"\s+", " ", str(value or "").strip().lower())
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)
    return re.sub(r"(?<=\d) (?=[^\W\d_])", "", text)


def option_matches(asked: str, value: str) -> bool:
    return bool(asked) and normalise_option(asked) == normalise_option(value)


def telling_option(name, value) -> bool:
    """Whether a shopper naming ``value`` asks for this option: not colour or size (their own
    entities), not Shopify's "Title: Default Title", no generic word, no bare number or letter."""
    key = re.sub(r"\s+", " ", str(name or "").strip().lower())
    norm = normalise_option(value)
    if not key or not norm or option_kind(key) is not None or key in IGNORED_OPTION_NAMES:
        return False
    if norm in GENERIC_OPTION_VALUES or len(norm) < 2 or re.fullmatch(r"[\d.\s]+", norm):
        return False
    return True


def has_options(variant_options, asked) -> bool:
    """Whether a variant's options ([name, value] pairs) hold every asked (name, value): the value
    written any way; the name compared without case, any name when the asked one is empty."""
    pairs = [(str(p[0]).strip().lower(), p[1]) for p in variant_options or () if isinstance(p, (list, tuple)) and len(p) == 2]
    for asked_name, asked_value in asked:
        wanted = str(asked_name or "").strip().lower()
        if not any((not wanted or n == wanted) and option_matches(asked_value, v) for n, v in pairs):
            return False
    return True


def variants_with_options(variants, options) -> list:
    """The variants having every asked (name, value) option; all of them when none is asked."""
    options = [(n, v) for n, v in options or () if v]
    return [v for v in variants if has_options(v.options, options)] if options else list(variants)


def option_value_of(variant, name: str) -> str:
    """The variant's own spelling of its option ``name`` ("" when it has none)."""
    wanted = str(name or "").strip().lower()
    return next((str(v) for n, v in variant.options or () if str(n).strip().lower() == wanted), "")
