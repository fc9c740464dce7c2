"""Entities in a shopper's message: order and RMA numbers, e-mails, products, sizes, colours,
the catalog's other option values (flavour, weight, storage ...), amounts and countries; in Japanese messages also prefectures and postcodes (〒123-4567).

Patterns for the things with a shape (numbers, e-mails, amounts, sizes), word lists for
countries and colours, and a fuzzy gazetteer of the live catalog for product mentions, so that
"linen shirt" and "chelsae boots" find the Linen Camp Shirt and the Leather Chelsea Boots.
Pure functions: no database here (bot.slm.gazetteer builds a Gazetteer from the catalog).

Full-width forms (１２３４５, ＃, ＠, ＬＬ, ￥) are read as their ASCII equivalents (NFKC, one
character at a time), and every span is given in the shopper's own text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from pathlib import Path

ENTITY_TYPES = ("order_number", "rma_number", "email", "product", "size", "colour", "option", "amount", "country", "prefecture", "postcode")


@dataclass(frozen=True)
class Entity:
    type: str
    value: str
    start: int
    end: int
    currency: str | None = None  # amounts only: ISO 4217 code when the shopper named one
    name: str | None = None  # options only: the option's name in the catalog ("Flavour")

    def as_dict(self) -> dict:
        data = {"type": self.type, "value": self.value, "start": self.start, "end": self.end}
        if self.currency:
            data["currency"] = self.currency
        if self.name:
            data["name"] = self.name
        return data


@dataclass
class Gazetteer:
    """What the shop sells: (name, slug) of products, the colours and sizes of their variants, and
    their other options as (name, value) pairs ("Flavour", "Chocolate"; catalog.selectors.catalog_options)."""

    products: list[tuple[str, str]] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)

    @cached_property
    def product_index(self) -> "_ProductIndex":
        return _ProductIndex(self.products)

    @cached_property
    def option_index(self) -> "_OptionIndex":
        return _OptionIndex(self.options, self.colours, self.sizes)


# --- numbers, e-mails, amounts ------------------------------------------------------------

EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
RMA = re.compile(r"\bRMA[\s#:-]*(\d{5,7})\b", re.I)
# The shop's order numbers: 5-6 digits, written "#10234", "NW-10234", "10 234", "order no. 10234" ...
ORDER_PREFIXED = re.compile(r"(?:\bNW[\s-]?|#\s?)(\d{5,6})(?!\d)", re.I)
ORDER_BARE = re.compile(r"(?<![\d.,])(\d{5,6})(?![\d]|[.,]\d)")
ORDER_SPACED = re.compile(r"(?<![\d.,])(\d{2,3}) (\d{3})(?![\d]|[.,]\d)")
ORDER_CONTEXT = re.compile(r"(?:order|ord|bestellung|commande|pedido|ordine|purchase|number|num|nr|no|n°|#)\W{0,3}$", re.I)
NOT_ORDER_BEFORE = re.compile(
    r"(?:post\s?code|postal\s?code|zip(?:\s?code)?|plz|phone|tel|mobile|iban|card|account|rma|kundennummer)"
    r"(?:\W+(?:is|was|should|be|will|now|number|no|nr)){0,3}\W{0,12}$",
    re.I,
)
NOT_ORDER_AFTER = re.compile(r"^\s?(?:€|eur|euros?|usd|\$|£|gbp|chf|kr|kg|g\b|cm|mm|km|m\b|ml|%|x\b|pcs)", re.I)

_CURRENCY_WORDS = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP", "pound": "GBP",
    "pounds": "GBP", "quid": "GBP", "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD",
    "chf": "CHF", "fr.": "CHF", "francs": "CHF", "sek": "SEK", "nok": "NOK", "dkk": "DKK", "pln": "PLN",
    "zł": "PLN", "zl": "PLN", "czk": "CZK", "kč": "CZK", "huf": "HUF", "ron": "RON", "cad": "CAD", "kr": "SEK",
}
_CUR = r"(?:€|£|\$|eur\b|euros?\b|gbp\b|pounds?\b|quid\b|usd\b|dollars?\b|bucks\b|chf\b|fr\.|francs\b|sek\b|nok\b|dkk\b|pln\b|zł|zl\b|czk\b|kč|huf\b|ron\b|cad\b|kr\b)"
_NUM = r"(\d{1,3}(?:[.,\u00a0 ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
AMOUNT_AFTER = re.compile(rf"{_CUR}\s?{_NUM}(?![\d])", re.I)
AMOUNT_BEFORE = re.compile(rf"(?<![\d.,]){_NUM}\s?{_CUR}", re.I)
AMOUNT_DECIMAL = re.compile(r"(?<![\d.,])(\d{1,5}[.,]\d{2})(?![\d.,]*\d)")


def _amount_value(number: str) -> str | None:
    number = number.replace("\u00a0", "").replace(" ", "")
    if "," in number and "." in number:
        decimal_sep = "," if number.rfind(",") > number.rfind(".") else "."
    elif "," in number or "." in number:
        sep = "," if "," in number else "."
        decimal_sep = sep if re.search(rf"\{sep}\d{{1,2}}$", number) else None
    else:
        decimal_sep = None
    if decimal_sep:
        whole, _, cents = number.rpartition(decimal_sep)
        whole = re.sub(r"[.,]", "", whole)
        number = f"{whole}.{cents}"
    else:
        number = re.sub(r"[.,]", "", number)
    try:
        return f"{Decimal(number):.2f}"
    except InvalidOperation:
        return None


# --- countries ----------------------------------------------------------------------------

_COUNTRY_NAMES = {
    "AT": ["austria", "österreich", "oesterreich"], "BE": ["belgium", "belgië", "belgie", "belgique"],
    "BG": ["bulgaria"], "HR": ["croatia", "hrvatska"], "CY": ["cyprus"],
    "CZ": ["czech republic", "czechia", "česko", "cesko", "czech"], "DK": ["denmark", "danmark"],
    "EE": ["estonia"], "FI": ["finland", "suomi"], "FR": ["france"],
    "DE": ["germany", "deutschland"], "GR": ["greece", "hellas"], "HU": ["hungary", "magyarország"],
    "IE": ["ireland", "éire", "eire", "republic of ireland"], "IT": ["italy", "italia"], "LV": ["latvia"],
    "LT": ["lithuania"], "LU": ["luxembourg", "luxemburg"], "MT": ["malta"],
    "NL": ["netherlands", "the netherlands", "holland", "nederland"], "PL": ["poland", "polska"],
    "PT": ["portugal"], "RO": ["romania", "românia"], "SK": ["slovakia", "slovensko"],
    "SI": ["slovenia", "slovenija"], "ES": ["spain", "españa", "espana"], "SE": ["sweden", "sverige"],
    "GB": ["united kingdom", "great britain", "britain", "england", "scotland", "wales", "northern ireland"],
    "CH": ["switzerland", "schweiz", "suisse", "svizzera"], "NO": ["norway", "norge"],
    "IS": ["iceland"], "LI": ["liechtenstein"],
    "US": ["united states", "united states of america", "usa", "u.s.a.", "u.s.", "america"],
    "CA": ["canada"],
}
# Upper-case codes shoppers type ("ship to DE?"); IT, NO, IS, BE, AT, IN ... are left out: they are words.
_COUNTRY_CODES = {"DE": "DE", "FR": "FR", "ES": "ES", "NL": "NL", "PL": "PL", "DK": "DK", "SE": "SE", "FI": "FI",
                  "CH": "CH", "UK": "GB", "GB": "GB", "US": "US", "CZ": "CZ", "PT": "PT", "IE": "IE", "LU": "LU",
                  "GR": "GR", "HU": "HU", "RO": "RO", "BG": "BG", "HR": "HR", "SK": "SK", "SI": "SI", "EE": "EE",
                  "LV": "LV", "LT": "LT", "CY": "CY", "MT": "MT", "CA": "CA", "AUT": "AT", "USA": "US"}
_COUNTRY_LOOKUP = {name: code for code, names in _COUNTRY_NAMES.items() for name in names}
COUNTRY_WORDS = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(n) for n in sorted(_COUNTRY_LOOKUP, key=len, reverse=True)) + r")(?![\w])", re.I
)
COUNTRY_CODES = re.compile(r"(?<![\w.])(" + "|".join(sorted(_COUNTRY_CODES, key=len, reverse=True)) + r")(?![\w])")


# --- sizes and colours --------------------------------------------------------------------

_LETTER_SIZES = {"xxs": "XXS", "xs": "XS", "xl": "XL", "xxl": "XXL", "xxxl": "XXXL", "2xl": "XXL", "3xl": "3XL",
                 "4xl": "4XL", "s": "S", "m": "M", "l": "L"}
_WORD_SIZES = {"extra small": "XS", "x-small": "XS", "small": "S", "medium": "M", "large": "L",
               "extra large": "XL", "x-large": "XL", "xx-large": "XXL", "extra extra large": "XXL"}
SIZE_MULTI = re.compile(r"(?<![\w-])(xxs|xs|xl|xxl|xxxl|2xl|3xl|4xl)(?![\w-])", re.I)
SIZE_SINGLE_UPPER = re.compile(r"(?<![\w'’-])([SML])(?![\w'’-])")
SIZE_SINGLE_CONTEXT = re.compile(r"\b(?:size|sz|in|an?|the)\s+([sml])(?![\w'’-])", re.I)
SIZE_WORDS = re.compile(
    r"\b(?:size|sz|in|an?|the)\s+(extra extra large|extra large|extra small|xx-large|x-large|x-small|small|medium|large)\b", re.I
)
SIZE_NUMBER = re.compile(r"\b(?:size|sz|größe|taille|talla)\s*:?\s*(\d{1,2}(?:[.,]5)?)(?![\d])", re.I)
SIZE_REGION = re.compile(r"\b(EU|UK|US|FR|IT)\s?(\d{1,2}(?:[.,]5)?)(?![\d])", re.I)
SIZE_JEANS = re.compile(r"\bW\s?(\d{2})\s?[/x ]?\s?L\s?(\d{2})\b", re.I)
SIZE_BARE_NUMBER = re.compile(
    r"\b(?:in|an?)\s+(3[4-9]|4[0-9])(?![\d.,])(?!\s*(?:days?|weeks?|hours?|mins?|minutes?|%|€|eur|euros?|pounds?|items?|pieces?|pcs))",
    re.I,
)
SIZE_ONE = re.compile(r"\bone[\s-]size\b", re.I)

DEFAULT_COLOURS = [
    "black", "white", "off-white", "off white", "navy", "navy blue", "blue", "light blue", "dark blue", "sky blue",
    "red", "dark red", "burgundy", "maroon", "green", "dark green", "olive", "khaki", "sage", "mint", "beige", "sand",
    "cream", "ecru", "ivory", "grey", "gray", "light grey", "dark grey", "charcoal", "brown", "tan", "camel",
    "chocolate", "pink", "dusty pink", "light pink", "hot pink", "yellow", "mustard", "orange", "purple", "lilac",
    "lavender", "violet", "rust", "stone", "indigo", "teal", "turquoise", "gold", "silver", "multicolour",
    "multicolor", "natural", "oatmeal", "coral", "denim",
]
_COLOUR_SPELLING = {"gray": "grey", "light gray": "light grey", "dark gray": "dark grey", "multicolor": "multicolour",
                    "off white": "off-white"}
# Shade words of the colour families that are everyday words too ("it rose", "natural fibres"):
# colours only where the catalog has them as a colour.
EVERYDAY_COLOUR_WORDS = frozenset(
    {"rose", "ash", "jet", "natural", "wine", "fig", "rinse", "snow", "smoke", "sky", "steel", "stone", "clay", "oat",
     "chalk", "lemon", "gold", "silver", "copper", "cherry", "ocean", "moss", "forest", "light wash", "mid wash",
     "tortoise", "melange", "nude", "tartan", "petrol", "walnut", "chestnut", "apricot", "coral", "amber", "color"}
)
# Colour words that are part of something else.
NOT_COLOUR_AFTER = re.compile(r"^\s+(?:friday|card|belt|list|mail|pay|tie)\b", re.I)


# --- products -----------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")
_NAME_STOPWORDS = {"the", "and", "with", "of", "for", "a", "an", "in", "by", "to"}


def _singular(token: str) -> str:
    if len(token) > 4 and token.endswith("es") and token[-3] in "sxz":
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (one insertion, deletion, substitution or swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


COMMON_WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_words.txt"


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Everyday and support English (bot/data/common_words.txt, generated from CLINC150 and Bitext)."""
    lines = COMMON_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(_singular(w) for w in lines if w and not w.startswith("#"))


class _ProductIndex:
    """Product names as tokens, with how many products share each token."""

    def __init__(self, products: list[tuple[str, str]]):
        self.products = [(name, slug) for name, slug in products if name and slug]
        self.name_tokens: list[list[str]] = []
        self.by_token: dict[str, set[int]] = defaultdict(set)
        for k, (name, _) in enumerate(self.products):
            tokens = [_singular(t) for t in _TOKEN.findall(name.lower()) if t not in _NAME_STOPWORDS]
            self.name_tokens.append(tokens)
            for token in tokens:
                self.by_token[token].add(k)
        self.vocabulary = sorted(self.by_token)
        # A word names a product on its own only when one product has it and it is that
        # product's head noun ("kettle") or no everyday word ("chambray"): "how does it work"
        # is no mention of the Chambray Work Shirt.
        common = common_words()
        self.names_alone = {
            token
            for token, ks in self.by_token.items()
            if len(ks) == 1 and len(token) >= 4 and (self.name_tokens[next(iter(ks))][-1] == token or token not in common)
        }
        self._cache: dict[str, list[str]] = {}

    def lookup(self, word: str) -> list[str]:
        """Name tokens a message word may stand for: exact, singular/plural, or one typo away."""
        if word in self._cache:
            return self._cache[word]
        word_s = _singular(word)
        found = [word_s] if word_s in self.by_token else []
        if not found and len(word_s) >= 5:
            found = [t for t in self.vocabulary if len(t) >= 5 and abs(len(t) - len(word_s)) <= 1 and _within_one_edit(word_s, t)]
        if len(self._cache) < 50000:
            self._cache[word] = found
        return found

    def find(self, text: str, taken: list[tuple[int, int]], colours: list[tuple[int, int]] = ()) -> list[Entity]:
        """Product mentions; a single name word never takes a colour's place ("in Natural" is no
        mention of the Natural Rubber Rain Boots, "Dark brown" none of the hand-blown tumblers)."""
        words = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text.lower())]
        # positions in the message where each product's name tokens occur
        hits: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for pos, (word, _, _) in enumerate(words):
            if word in _NAME_STOPWORDS:
                continue
            for token in self.lookup(word):
                for k in self.by_token[token]:
                    hits[k].append((pos, token))
        # the words of the message as name tokens, to see a product's whole name written out
        spoken = " " + " ".join(_singular(w) for w, _, _ in words if w not in _NAME_STOPWORDS) + " "
        candidates = []
        for k, positions in hits.items():
            name = self.name_tokens[k]
            best = None
            for i, (start_pos, _) in enumerate(positions):
                window = [(p, t) for p, t in positions[i:] if p - start_pos <= len(name) + 1]
                matched = {t for _, t in window}
                if best is None or len(matched) > len(best[0]):
                    best = (matched, window[0][0], window[-1][0])
            matched, first, last = best
            unique_single = len(matched) == 1 and next(iter(matched)) in self.names_alone
            if len(matched) >= 2 and len(matched) / len(name) >= 0.5 or unique_single:
                # the whole name written out first, then more name words matched, then the larger share
                # of the name, then the shorter span
                whole = f" {' '.join(name)} " in spoken
                candidates.append((whole, len(matched), len(matched) / len(name), -(last - first), k, words[first][1], words[last][2]))
        candidates.sort(reverse=True)
        entities = []
        for _, matched_count, _, _, k, start, end in candidates:
            if _overlaps(start, end, taken) or (matched_count == 1 and _overlaps(start, end, list(colours))):
                continue
            taken.append((start, end))
            entities.append(Entity("product", self.products[k][1], start, end))
        return entities


# --- other options (flavour, weight, storage ...) -------------------------------------------

# Letters and digits of Latin script: an option value is matched as whole words among them; next
# to Japanese text (no spaces) it is matched as it stands ("5kgのダンベル").
_OPTION_EDGE = r"0-9A-Za-z\u00c0-\u024f"


def _option_key(value: str) -> str:
    """One spelling per value, as catalog.options.normalise_option: "5 KG", "5kg" -> "5kg"."""
    text = re.sub(r"\s+", " ", str(value or "").strip().lower())
    text = re.sub(r"(\d),(\d)", r"\1.\2", re.sub(r" ?- ?", "-", text))
    return re.sub(r"(?<=\d) (?=[^\W\d_])", "", text)


def _option_value_pattern(value: str) -> str:
    """A value as shoppers write it: any case, a number with or without the space before its unit
    ("256GB", "256 gb"), a decimal point or comma, a space or a hyphen between words."""
    tokens = re.findall(r"\d+(?:[.,]\d+)?|[^\W\d_]+|[^\w\s]", value)
    parts = []
    for k, token in enumerate(tokens):
        if re.fullmatch(r"\d+[.,]\d+", token):
            whole, frac = re.split(r"[.,]", token)
            parts.append(f"{whole}[.,]{frac}")
        else:
            parts.append(re.escape(token))
        if k + 1 < len(tokens):
            both_words = re.fullmatch(r"[^\W\d_]+", token) and re.fullmatch(r"[^\W\d_]+", tokens[k + 1])
            parts.append(r"[\s-]+" if both_words else r"\s*")
    return "".join(parts)


# An option value that is a number and its unit: "128 GB", "2.5 kg", "20000 mAh", "4 mm".
_UNIT_VALUE = re.compile(r"(\d+(?:[.,]\d+)?)\s?([^\W\d_]{1,4})")


class _OptionIndex:
    """The catalog's option values as one pattern, longest first, and the units of its number-and-unit
    values. A value the catalog also has as a colour or size, or that names a country ("UK" plugs),
    is left to those entities."""

    def __init__(self, options: list[tuple[str, str]], colours: list[str], sizes: list[str]):
        others = {_option_key(c) for c in colours if c} | {_option_key(s) for s in sizes if s}
        self.by_key: dict[str, tuple[str, str]] = {}
        for name, value in sorted(options or (), key=lambda p: (str(p[0]).lower(), str(p[1]))):
            key = _option_key(value)
            if not key or key in others or COUNTRY_WORDS.fullmatch(value.strip()) or value.strip() in _COUNTRY_CODES:
                continue
            self.by_key.setdefault(key, (str(name), str(value)))
        # A number with a unit the catalog uses for one option ("256GB" where Storage has "128 GB"):
        # that option, even for a value no variant has, so that the answer can say what there is.
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.unit_spelling: dict[str, tuple[str, str, str]] = {}  # unit -> (name, space, unit as written)
        for key, (name, value) in self.by_key.items():
            shaped = _UNIT_VALUE.fullmatch(value.strip())
            if shaped:
                unit = shaped.group(2).lower()
                counts[unit][name] += 1
                self.unit_spelling.setdefault(unit, (name, " " if re.search(r"\d\s", value) else "", shaped.group(2)))
        for unit, names in counts.items():
            best = max(sorted(names), key=lambda n: names[n])
            spelling = self.unit_spelling[unit]
            self.unit_spelling[unit] = (best, spelling[1], spelling[2])
        self.unit_pattern = (
            re.compile(
                rf"(?<![{_OPTION_EDGE}])(?<![0-9][.,])(\d+(?:[.,]\d+)?)\s?("
                + "|".join(re.escape(u) for u in sorted(self.unit_spelling, key=len, reverse=True))
                + rf")(?![{_OPTION_EDGE}])",
                re.I,
            )
            if self.unit_spelling
            else None
        )
        values = sorted({v for _, v in self.by_key.values()}, key=len, reverse=True)
        self.pattern = (
            re.compile(
                rf"(?<![{_OPTION_EDGE}])(?<![0-9][.,])(?:" + "|".join(_option_value_pattern(v) for v in values) + rf")(?![{_OPTION_EDGE}])",
                re.I,
            )
            if values
            else None
        )

    def find(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, name, value) of every option value in the text, in the catalog's spelling."""
        if self.pattern is None:
            return []
        found = []
        for m in self.pattern.finditer(text):
            pair = self.by_key.get(_option_key(re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", m.group())))
            pair = pair or self.by_key.get(_option_key(m.group()))
            if pair:
                found.append((m.start(), m.end(), pair[0], pair[1]))
        if self.unit_pattern is not None:
            for m in self.unit_pattern.finditer(text):
                if _overlaps(m.start(), m.end(), [(s, e) for s, e, _, _ in found]):
                    continue
                name, space, unit = self.unit_spelling[m.group(2).lower()]
                found.append((m.start(), m.end(), name, f"{m.group(1).replace(',', '.')}{space}{unit}"))
            found.sort()
        return found


# --- extraction ---------------------------------------------------------------------------


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < t_end and t_start < end for t_start, t_end in taken)


def _narrow(text: str) -> tuple[str, list[int], list[int]]:
    """`text` with full-width ASCII forms and the ideographic space made narrow (NFKC, one
    character at a time), and for each character of the result the span of the character of
    `text` it came from, so entities found in the result are located in `text`."""
    if not re.search(r"[\u3000\uff01-\uff5e\uffe0-\uffe6]", text):
        return text, list(range(len(text))), list(range(1, len(text) + 1))
    out, starts, ends = [], [], []
    for i, ch in enumerate(text):
        piece = unicodedata.normalize("NFKC", ch) if ch == "\u3000" or "\uff01" <= ch <= "\uff5e" or "\uffe0" <= ch <= "\uffe6" else ch
        for c in piece:
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
    return "".join(out), starts, ends


_JAPANESE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def extract_entities(text: str, gazetteer: Gazetteer | None = None) -> list[Entity]:
    """Every entity in the message, in text order; spans never overlap."""
    if not isinstance(text, str) or not text.strip():
        return []
    original = text
    text, starts, ends = _narrow(text)
    entities: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, value: str, start: int, end: int, currency: str | None = None, name: str | None = None) -> None:
        if not _overlaps(start, end, taken):
            taken.append((start, end))
            entities.append(Entity(kind, value, start, end, currency, name))

    japanese = bool(_JAPANESE_SCRIPT.search(text))
    for m in EMAIL.finditer(text):
        add("email", m.group().lower(), m.start(), m.end())
    for m in RMA.finditer(text):
        add("rma_number", f"RMA-{m.group(1)}", m.start(), m.end())
    if japanese:
        _japanese_numbers(text, add)
    _order_numbers(text, add)
    if japanese:
        _japanese_amounts(text, add)
    _amounts(text, add)
    if japanese:
        _japanese_sizes(text, add, gazetteer)
    _sizes(text, add, gazetteer)
    options = gazetteer.option_index.find(text) if gazetteer and gazetteer.options else []
    if gazetteer and gazetteer.products:
        catalog_colours = frozenset(c.lower() for c in gazetteer.colours if c)
        colour_spans = [m.span() for m in _colour_pattern(catalog_colours).finditer(text)]
        # a single name word never takes an option value's place either ("chocolate" flavour)
        option_spans = [(start, end) for start, end, _, _ in options]
        entities += gazetteer.product_index.find(text, taken, colour_spans + option_spans)
    if japanese:
        _japanese_places(text, add)
        _japanese_colours(text, add, gazetteer)
    # before colours: "chocolate" is a flavour where the catalog sells it as one
    for start, end, name, value in options:
        add("option", value, start, end, name=name)
    _colours(text, add, gazetteer)
    _countries(text, add)
    if text is not original:
        entities = [Entity(e.type, e.value, starts[e.start], ends[e.end - 1], e.currency, e.name) for e in entities]
    return sorted(entities, key=lambda e: (e.start, e.end))


# --- Japanese -----------------------------------------------------------------------------

# 注文番号12345, ご注文番号：12345, 注文No.12345, 注文#12345, オーダー番号 12345, 受付番号は12345
JA_ORDER = re.compile(r"(?:ご?注文(?:番号|No\.?|NO\.?|#)?|オーダー(?:番号|No\.?)?|受付番号|注文ID)\s*[:：は]?\s*[#＃]?\s*(\d{5,6})(?!\d)", re.I)
# 〒123-4567, 〒1234567, 123-4567 (any dash)
JA_POSTCODE = re.compile(r"〒\s?(\d{3})[-‐−–ー]?(\d{4})(?!\d)|(?<![\d-])(\d{3})[-‐−–](\d{4})(?![\d-])")
JA_YEN = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)\s?円|[¥]\s?(\d{1,3}(?:,\d{3})+|\d+)(?![\d])")
JA_MAN_YEN = re.compile(r"(\d+(?:\.\d+)?)万(?:(\d)千)?円")
JA_SIZE_LETTER = re.compile(r"(?<![A-Za-z0-9])(XXS|XXXL|XXL|XL|XS|LL|[2-4]L|S|M|L)(?![A-Za-z0-9])(?=\s?(?:サイズ|寸|で|の|を|は|が|って|も|ありますか|あります|です|ない|,|、|。|\?|？|!|！|\s|$))")
JA_SIZE_AFTER_WORD = re.compile(r"サイズ\s?[:：はがをの]?\s?(XXS|XXXL|XXL|XL|XS|LL|[2-4]L|S|M|L)(?![A-Za-z0-9])")
JA_SIZE_FREE = re.compile(r"フリーサイズ|フリー(?=\s?(?:サイズ|で|の|を|は|が|です|しか|だけ|、|。|\?|？|$))")
JA_SIZE_CM = re.compile(r"(?<![\d.])(\d{2}(?:\.5)?)\s?(?:cm|センチ)")
JA_SIZE_GO = re.compile(r"(?<![\d])(\d{1,2})号(?!機|館|車|室|線)")
_JA_LETTER_SIZES = {"LL": "XL", "2L": "XL", "3L": "XXL", "4L": "3XL", "XXXL": "3XL"}
PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 新潟県 富山県 石川県 福井県 "
    "山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 "
    "香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県"
).split()
# Written without 都/府/県: only the names that are no everyday word or common surname.
_PREFECTURE_SHORT = {"東京": "東京都", "大阪": "大阪府", "京都": "京都府", "沖縄": "沖縄県", "神奈川": "神奈川県", "愛知": "愛知県",
                     "福岡": "福岡県", "兵庫": "兵庫県", "埼玉": "埼玉県", "千葉": "千葉県", "広島": "広島県", "宮城": "宮城県",
                     "鹿児島": "鹿児島県", "北海道": "北海道"}
_PREFECTURE_LOOKUP = {**{p: p for p in PREFECTURES}, **_PREFECTURE_SHORT}
JA_PREFECTURE = re.compile("|".join(re.escape(p) for p in sorted(_PREFECTURE_LOOKUP, key=len, reverse=True)))
_JA_COUNTRIES = {"日本": "JP", "アメリカ": "US", "米国": "US", "韓国": "KR", "台湾": "TW", "中国": "CN", "香港": "HK",
                 "イギリス": "GB", "英国": "GB", "ドイツ": "DE", "フランス": "FR", "イタリア": "IT", "スペイン": "ES",
                 "カナダ": "CA", "オーストラリア": "AU", "シンガポール": "SG", "タイ": "TH"}
JA_COUNTRY = re.compile("|".join(re.escape(c) for c in sorted(_JA_COUNTRIES, key=len, reverse=True)) + r"(?![ァ-ヶー])")
# 赤ちゃん is a baby, お茶 is tea, 白菜 a cabbage: not colours.
NOT_JA_COLOUR_AFTER = re.compile(r"^(?:ちゃん|菜|髪|字|身|紙|板|線|信号|字|ー(?!ル))")


def _japanese_numbers(text: str, add) -> None:
    for m in JA_ORDER.finditer(text):
        add("order_number", m.group(1), m.start(), m.end())
    for m in JA_POSTCODE.finditer(text):
        first, second = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        add("postcode", f"{first}-{second}", m.start(), m.end())


def _japanese_amounts(text: str, add) -> None:
    for m in JA_MAN_YEN.finditer(text):
        value = Decimal(m.group(1)) * 10000 + (Decimal(m.group(2)) * 1000 if m.group(2) else 0)
        add("amount", f"{value:.2f}", m.start(), m.end(), "JPY")
    for m in JA_YEN.finditer(text):
        value = _amount_value(m.group(1) or m.group(2))
        if value is not None:
            add("amount", value, m.start(), m.end(), "JPY")


def _japanese_sizes(text: str, add, gazetteer: Gazetteer | None) -> None:
    known = {s.lower(): s for s in (gazetteer.sizes if gazetteer else [])}

    def canonical(value: str) -> str:
        return known.get(value.lower()) or known.get(_JA_LETTER_SIZES.get(value, value).lower()) or _JA_LETTER_SIZES.get(value, value)

    for m in JA_SIZE_FREE.finditer(text):
        add("size", known.get("one size", "one size"), m.start(), m.end())
    for m in JA_SIZE_AFTER_WORD.finditer(text):
        add("size", canonical(m.group(1).upper()), m.start(1), m.end(1))
    for m in JA_SIZE_LETTER.finditer(text):
        add("size", canonical(m.group(1).upper()), m.start(1), m.end(1))
    for m in JA_SIZE_CM.finditer(text):
        add("size", known.get(f"{m.group(1)}cm", f"{m.group(1)}cm"), m.start(), m.end())
    for m in JA_SIZE_GO.finditer(text):
        add("size", known.get(f"{m.group(1)}号", f"{m.group(1)}号"), m.start(), m.end())


def _japanese_places(text: str, add) -> None:
    for m in JA_PREFECTURE.finditer(text):
        add("prefecture", _PREFECTURE_LOOKUP[m.group()], m.start(), m.end())
    for m in JA_COUNTRY.finditer(text):
        add("country", _JA_COUNTRIES[m.group()], m.start(), m.end())


@lru_cache(maxsize=1)
def _japanese_colour_pattern() -> tuple[re.Pattern, dict[str, str]]:
    from catalog.options import japanese_colours  # a data table (catalog/colours.yaml), no database

    names = japanese_colours()
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))), names


def _japanese_colours(text: str, add, gazetteer: Gazetteer | None) -> None:
    """Japanese colour names, as the English word of their family or shade (the catalog's
    spelling when it has that colour): 黒 -> black, ネイビー -> navy, 水色 -> light blue."""
    pattern, names = _japanese_colour_pattern()
    catalog = {c.lower(): c for c in (gazetteer.colours if gazetteer else []) if c}
    for m in pattern.finditer(text):
        if NOT_JA_COLOUR_AFTER.search(text[m.end():]) or (m.group() == "茶" and text[max(0, m.start() - 1):m.start()] == "お"):
            continue
        english = names[m.group()]
        add("colour", catalog.get(english, english), m.start(), m.end())


def _shouting(text: str) -> bool:
    """All capitals over several words: then "DE", "M" or "US" are just words."""
    words = re.findall(r"[^\W\d_]{2,}", text)
    return len(words) >= 3 and text.upper() == text


def _order_numbers(text: str, add) -> None:
    for m in ORDER_PREFIXED.finditer(text):
        add("order_number", m.group(1), m.start(), m.end())
    for m in ORDER_SPACED.finditer(text):
        before = text[: m.start()]
        whole = text.strip() == m.group()
        if (ORDER_CONTEXT.search(before) or whole) and not NOT_ORDER_AFTER.search(text[m.end() :]):
            add("order_number", m.group(1) + m.group(2), m.start(), m.end())
    for m in ORDER_BARE.finditer(text):
        before, after = text[: m.start()], text[m.end() :]
        if NOT_ORDER_BEFORE.search(before) or NOT_ORDER_AFTER.search(after):
            continue
        if before.endswith("@") or re.match(r"^[\w.+-]*@", after) or re.search(r"[A-Za-z]$", before):
            continue  # part of an e-mail or of a code like "ABC12345"
        add("order_number", m.group(1), m.start(), m.end())


def _amounts(text: str, add) -> None:
    for pattern, cur_group, num_group in ((AMOUNT_AFTER, 0, 1), (AMOUNT_BEFORE, 2, 1)):
        for m in pattern.finditer(text):
            value = _amount_value(m.group(num_group))
            if value is None:
                continue
            if cur_group == 0:
                symbol = m.group()[: m.start(1) - m.start()].strip().lower()
            else:
                symbol = m.group()[m.end(1) - m.start() :].strip().lower()
            add("amount", value, m.start(), m.end(), _CURRENCY_WORDS.get(symbol))
    for m in AMOUNT_DECIMAL.finditer(text):
        value = _amount_value(m.group(1))
        if value is not None:
            add("amount", value, m.start(1), m.end(1))


def _sizes(text: str, add, gazetteer: Gazetteer | None) -> None:
    known = {s.lower(): s for s in (gazetteer.sizes if gazetteer else [])}

    def canonical(value: str) -> str:
        return known.get(value.lower(), value)

    # The catalog's own size labels first, written any way ("30x40cm" for "30 × 40 cm", "80cm"):
    # a pattern below would take "30" or "80" out of them.
    for label_lower, label in known.items():
        if len(label_lower) < 3 or label_lower.isdigit():
            continue
        for m in _label_pattern(label_lower).finditer(text):
            add("size", label, m.start(), m.end())
    shouting = _shouting(text)
    for m in SIZE_JEANS.finditer(text):
        add("size", canonical(f"W{m.group(1)} L{m.group(2)}"), m.start(), m.end())
    for m in SIZE_REGION.finditer(text):
        add("size", canonical(f"{m.group(1).upper()} {m.group(2).replace(',', '.')}"), m.start(), m.end())
    for m in SIZE_NUMBER.finditer(text):
        add("size", canonical(m.group(1).replace(",", ".")), m.start(1), m.end(1))
    for m in SIZE_ONE.finditer(text):
        add("size", canonical("one size"), m.start(), m.end())
    for m in SIZE_WORDS.finditer(text):
        add("size", canonical(_WORD_SIZES[m.group(1).lower()]), m.start(1), m.end(1))
    for m in SIZE_MULTI.finditer(text):
        add("size", canonical(_LETTER_SIZES[m.group(1).lower()]), m.start(), m.end())
    for m in SIZE_SINGLE_CONTEXT.finditer(text):
        add("size", canonical(m.group(1).upper()), m.start(1), m.end(1))
    if not shouting:
        for m in SIZE_SINGLE_UPPER.finditer(text):
            add("size", canonical(m.group(1)), m.start(), m.end())
    for m in SIZE_BARE_NUMBER.finditer(text):
        add("size", canonical(m.group(1)), m.start(1), m.end(1))


@lru_cache(maxsize=4096)
def _label_pattern(label: str) -> re.Pattern:
    """A size label as shoppers may write it: any spacing, × or x between numbers, any case."""
    parts = []
    for piece in re.findall(r"\d+(?:[.,]\d+)?|[×x*](?=\s*\d)|[^\W\d_]+|\S", label):
        if re.fullmatch(r"[×x*]", piece):
            parts.append(r"[×x*]")
        elif re.fullmatch(r"\d+[.,]\d+", piece):
            parts.append(re.escape(piece).replace(r"\.", "[.,]").replace(",", "[.,]"))
        else:
            parts.append(re.escape(piece))
    return re.compile(r"(?<![\w.,])" + r"\s*".join(parts) + r"(?![\w])", re.I)


@lru_cache(maxsize=32)
def _colour_pattern(catalog_colours: frozenset[str]) -> re.Pattern:
    from catalog.options import colour_words  # the colour families' words (a data table, no database)

    words = set(DEFAULT_COLOURS) | (set(colour_words()) - EVERYDAY_COLOUR_WORDS) | catalog_colours
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![\w-])", re.I)


def _colours(text: str, add, gazetteer: Gazetteer | None) -> None:
    catalog = {c.lower(): c for c in (gazetteer.colours if gazetteer else []) if c}
    for m in _colour_pattern(frozenset(catalog)).finditer(text):
        if NOT_COLOUR_AFTER.search(text[m.end() :]):
            continue
        word = m.group(1).lower()
        value = catalog.get(word) or catalog.get(_COLOUR_SPELLING.get(word, word)) or _COLOUR_SPELLING.get(word, word)
        add("colour", value, m.start(), m.end())


def _countries(text: str, add) -> None:
    for m in COUNTRY_WORDS.finditer(text):
        add("country", _COUNTRY_LOOKUP[m.group(1).lower()], m.start(), m.end())
    if not _shouting(text):  # in a shouted message every word looks like a code
        for m in COUNTRY_CODES.finditer(text):
            add("country", _COUNTRY_CODES[m.group(1)], m.start(), m.end())
