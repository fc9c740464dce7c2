"""The assistant fitted to one shop: its catalogue vocabulary, built by `manage.py adapt_assistant`
and used at serving time.

`build_vocabulary()` reads the live catalogue and help centre (product names, categories with
their ancestors, vendors, option names and values, help-article titles, topics and tags);
`write_vocabulary()` stores it as JSON under settings.ASSISTANT_DATA_DIR (never into the shipped
model). `adapt()` is the serving-time check: a message the model would throw away as
out_of_scope, but that mentions a kind of product this shop sells (or plainly asks for a product),
becomes a product question; one that names a help article's subject gets that article's intent.
The file is re-read when it changes (checked at most every CHECK_SECONDS): no restart needed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bot.search_index import RefreshingIndex
from bot.slm.understanding import OUT_OF_SCOPE, Understanding

VOCABULARY_FILE = "catalogue.json"
FORMAT = 1
CHECK_SECONDS = 5.0
MODEL_PICK = 0.2
# The help topics' intents (catalog.models.Article.Topic): an article's subject is answered as
# this intent's knowledge question.
TOPIC_INTENTS = {
    "shipping": "delivery_options",
    "returns": "check_refund_policy",
    "payments": "check_payment_methods",
    "orders": "place_order",
    "account": "edit_account",
    "promotions": "discount_code",
    "products": "product_info",
    "contact": "contact_customer_service",
}
# An article's title read as one of these is no question an article answers: its topic decides.
NOT_ANSWERS = frozenset(
    {OUT_OF_SCOPE, "complaint", "contact_human_agent", "delete_account", "greeting", "goodbye", "thanks", "affirm", "deny"}
)
PRODUCT_INTENTS = ("product_availability", "product_info", "product_recommendation")
# How the request is worded decides which product question it is.
AVAILABILITY = re.compile(
    r"\b(in stock|stock|restock|available|availability|do (you|u|ya) (have|sell|carry|stock)|got any|any left|sold out|"
    r"back in|carry|sell)\b",
    re.I,
)
RECOMMENDATION = re.compile(
    r"\b(recommend\w*|suggest\w*|best|good|looking for|need|want|which|gift|ideas?|show me|help me (choose|find|pick)|"
    r"under \S+|cheap\w*|popular|top rated|for (my|a|an|the) )\b",
    re.I,
)
# A plain request for a product, whatever the product ("do you sell ...", "recommend me a ...").
ASKS_FOR_PRODUCT = re.compile(
    r"\b(do (you|u|ya) (sell|stock|carry)|(recommend|suggest) (me )?(a|an|some)|in stock|looking to buy|"
    r"where can i (buy|find))\b",
    re.I,
)
STOPWORDS = frozenset(
    "a an and are as at be by can could do does for from have how i if in is it me my of on or our please so that "
    "the there this to was we what when where which who why will with you your other others more accessories "
    "products product items item things general".split()
)
WORD = re.compile(r"[a-z0-9][a-z0-9'+-]*")


def data_dir() -> Path:
    from django.conf import settings

    return Path(settings.ASSISTANT_DATA_DIR)


def vocabulary_path() -> Path:
    return data_dir() / VOCABULARY_FILE


# --- building (manage.py adapt_assistant) ---------------------------------------------------


def _split_names(name: str) -> list[str]:
    """'Headphones & Headsets' -> ['headphones', 'headsets']; lowercase, stop words alone dropped."""
    parts = re.split(r"\s*(?:&|,|/| and )\s*", name.lower())
    return [p.strip() for p in parts if p.strip() and p.strip() not in STOPWORDS and not p.strip().isdigit()]


def _telling(term: str, common: frozenset[str]) -> bool:
    """A term that names something on its own: two content words, or one uncommon word of 4+ letters."""
    words = [w for w in WORD.findall(term) if w not in STOPWORDS]
    if len(words) >= 2:
        return True
    return len(words) == 1 and len(words[0]) >= 4 and not words[0].isdigit() and words[0] not in common


def _article_intents(titles: list[str], topics: list[str]) -> list[str]:
    """Each help article's intent: the model's reading of its title when confident, else its topic's."""
    if not titles:
        return []
    from bot.slm import get_classifier

    readings = get_classifier().classify_batch(titles)
    return [r.intent if r.intent not in NOT_ANSWERS else TOPIC_INTENTS.get(topic, "") for r, topic in zip(readings, topics)]


def build_vocabulary() -> dict:
    """The catalogue's and help centre's vocabulary (a read: nothing is written)."""
    from bot.slm.entities import common_words
    from catalog.models import Article, Category, Product, Variant

    common = common_words()
    categories = {c.pk: c for c in Category.objects.all()}
    products = list(Product.objects.filter(is_active=True).values_list("name", "category_id", "attributes"))
    kinds: set[str] = set()
    used_categories: dict[str, list[str]] = {}
    title_words: set[str] = set()
    vendors: set[str] = set()
    for name, category_id, attributes in products:
        chain, seen = [], set()
        category = categories.get(category_id)
        while category is not None and category.pk not in seen:  # the category and its ancestors
            seen.add(category.pk)
            chain.append(category.name)
            category = categories.get(category.parent_id)
        if chain:
            used_categories[chain[0]] = chain[1:]
            kinds.update(_split_names(chain[0]))
        for category_name in chain[1:]:
            # An ancestor ("Home & Garden") may be an everyday word: only its telling parts count.
            kinds.update(k for k in _split_names(category_name) if _telling(k, common))
        for word in WORD.findall(name.lower()):
            if len(word) >= 3 and not word.isdigit() and word not in common and word not in STOPWORDS:
                title_words.add(word)
        vendor = (attributes or {}).get("vendor") if isinstance(attributes, dict) else None
        if vendor and _telling(str(vendor).strip().lower(), common):
            vendors.add(str(vendor).strip())
    options: dict[str, set[str]] = {}
    for variant_options in Variant.objects.filter(product__is_active=True).values_list("options", flat=True):
        for pair in variant_options or []:
            if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] and pair[1]:
                options.setdefault(str(pair[0]), set()).add(str(pair[1]))
    articles = []
    rows = list(Article.objects.filter(is_published=True).values_list("title", "topic", "tags"))
    for (title, topic, tags), intent in zip(rows, _article_intents([title for title, _, _ in rows], [t for _, t, _ in rows])):
        articles.append(
            {
                "title": title,
                "topic": topic,
                "intent": intent,
                # An article is named by its tags (its subject words): only ones that say something.
                "tags": sorted({t.strip().lower() for t in (tags or "").split(",") if _telling(t.strip().lower(), common)}),
            }
        )
    return {
        "format": FORMAT,
        "products": len(products),
        "kinds": sorted(kinds),
        "categories": {name: ancestors for name, ancestors in sorted(used_categories.items())},
        "title_words": sorted(title_words),
        "vendors": sorted(vendors),
        "options": {name: sorted(values) for name, values in sorted(options.items())},
        "articles": sorted(articles, key=lambda a: a["title"]),
    }


def write_vocabulary(vocabulary: dict, path: Path | None = None) -> tuple[Path, bool]:
    """Write the vocabulary atomically; (path, changed). An unchanged vocabulary is not rewritten."""
    path = Path(path or vocabulary_path())
    text = json.dumps(vocabulary, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".catalogue-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path, True


def singular(noun: str) -> str:
    """A plural product noun made singular, by the last word ("dog beds" -> "dog bed")."""
    words = noun.split()
    last = words[-1]
    if len(last) > 3 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "sses", "xes", "zes")):
        last = last[:-2]
    elif len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    return " ".join(words[:-1] + [last])


def plural(noun: str) -> str:
    words = noun.split()
    last = words[-1]
    if last.endswith("s"):
        return noun
    if last.endswith(("ch", "sh", "x", "z")):
        last += "es"
    elif len(last) > 2 and last.endswith("y") and last[-2] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join(words[:-1] + [last])


# --- serving ---------------------------------------------------------------------------------


def _forms(term: str) -> set[str]:
    """A term with its last word singular and plural: 'laptop' -> {'laptop', 'laptops'}."""
    return {term, singular(term), plural(term)}


@dataclass(frozen=True)
class Matcher:
    product_terms: re.Pattern | None
    article_terms: list[tuple[re.Pattern, str]]

    @classmethod
    def from_vocabulary(cls, vocabulary: dict) -> Matcher:
        terms: set[str] = set()
        for term in vocabulary.get("kinds", []) + vocabulary.get("title_words", []):
            terms |= _forms(term)
        terms |= {v.lower() for v in vocabulary.get("vendors", []) if len(v) >= 3}
        terms = {t for t in terms if len(t) >= 3 and t not in STOPWORDS}
        product = _alternation(terms)
        article_terms = []
        for article in vocabulary.get("articles", []):
            intent = article.get("intent")
            if not intent:
                continue
            pattern = _alternation(set(article.get("tags", [])))
            if pattern is not None:
                article_terms.append((pattern, intent))
        return cls(product, article_terms)

    def mentions_product(self, text: str) -> bool:
        return bool(self.product_terms and self.product_terms.search(text)) or bool(ASKS_FOR_PRODUCT.search(text))

    def article_intent(self, text: str) -> str | None:
        for pattern, intent in self.article_terms:
            if pattern.search(text):
                return intent
        return None


def _alternation(terms: set[str]) -> re.Pattern | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])", re.I)


def _file_version():
    try:
        stat = vocabulary_path().stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _load_matcher() -> Matcher | None:
    try:
        vocabulary = json.loads(vocabulary_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(vocabulary, dict) or vocabulary.get("format") != FORMAT:
        return None
    return Matcher.from_vocabulary(vocabulary)


_cached = RefreshingIndex(version=_file_version, build=_load_matcher, check_seconds=CHECK_SECONDS)


def reset() -> None:
    """Forget the loaded vocabulary (tests; the file is re-read on the next message anyway)."""
    _cached.invalidate()


def product_intent(text: str, top: list[tuple[str, float]]) -> str:
    """Which product question: the model's own pick among its top intents when it gives it some
    weight (MODEL_PICK), else the wording."""
    for intent, probability in top:
        if intent in PRODUCT_INTENTS and probability >= MODEL_PICK:
            return intent
    if AVAILABILITY.search(text):
        return "product_availability"
    if RECOMMENDATION.search(text):
        return "product_recommendation"
    return "product_info"


def adapt(understanding: Understanding) -> Understanding:
    """The shop-aware second look at an out_of_scope message; anything else passes unchanged."""
    from django.conf import settings

    if understanding.intent != OUT_OF_SCOPE or not understanding.text.strip():
        return understanding
    matcher = _cached.get()
    if matcher is None:
        return understanding
    probabilities = dict(understanding.top)
    if probabilities.get(OUT_OF_SCOPE, 0.0) > settings.ASSISTANT_ADAPT_MAX_OUT_OF_SCOPE:
        return understanding  # the shop chose to trust the model's certainty over a shop word
    text = understanding.text
    intent = matcher.article_intent(text)
    if intent is None and matcher.mentions_product(text):
        intent = product_intent(text, understanding.top)
    if intent is None:
        return understanding
    confidence = max(float(settings.ASSISTANT_ADAPT_CONFIDENCE), probabilities.get(intent, 0.0))
    top = [(intent, confidence)] + [(i, p) for i, p in understanding.top if i not in (intent, OUT_OF_SCOPE)][:2]
    return replace(understanding, intent=intent, raw_intent=intent, confidence=confidence, top=top)
