"""The assistant fitted to one shop: its catalogue vocabulary, built by `manage.py adapt_assistant`
and used at serving time.

`build_vocabulary()` reads the live catalogue and help centre (product names, categories with
their ancestors, vendors, option names and values, help-article titles, topics and tags) once per
language: the catalogue's own language (English) from the objects themselves, every other language
of settings.SHOP_LANGUAGES from its translation rows (catalog.translations). Japanese has no spaces,
so its terms are whole translated names and their parts (split at ・, spaces and brackets, and
katakana runs), not words. `write_vocabulary()` stores it as JSON under settings.ASSISTANT_DATA_DIR
(never into the shipped model): {"format": 2, "languages": {"en": {...}, "ja": {...}}}; a format-1
file (English only, from before) is still read, as English.

`adapt()` is the serving-time check, with the vocabulary of the language whose classifier read the
message (Understanding.language): a message the model would throw away as out_of_scope, but that
mentions a kind of product this shop sells (or plainly asks for a product), becomes a product
question; one that names a help article's subject gets that article's intent. A translated
language's product terms include the original (English) ones: shoppers type brand and product
names as the catalogue spells them. The file is re-read when it changes (checked at most every
CHECK_SECONDS): no restart needed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from bot.search_index import RefreshingIndex
from bot.slm.understanding import OUT_OF_SCOPE, Understanding

VOCABULARY_FILE = "catalogue.json"
FORMAT = 2
OLD_FORMAT = 1  # English only, the vocabulary at the top level: read as English
SOURCE_LANGUAGE = "en"  # the catalogue's own language (catalog.translations.SOURCE_LANGUAGE)
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
# A plain request to buy, whatever the product ("do you sell ...", "where can i buy ..."). Asking
# for a recommendation is not one on its own: "recommend a good restaurant" names no product of
# the shop (with a product kind it counts, as a kind's wording below).
ASKS_FOR_PRODUCT = re.compile(
    r"\b(do (you|u|ya) (sell|stock|carry)|in stock|looking to buy|where can i (buy|find))\b",
    re.I,
)
STOPWORDS = frozenset(
    "a an and are as at be by can could do does for from have how i if in is it me my of on or our please so that "
    "the there this to was we what when where which who why will with you your other others more accessories "
    "products product items item things general".split()
)
WORD = re.compile(r"[a-z0-9][a-z0-9'+-]*")
# Words right before a verb: a word the classifier knows that follows one of these is no product
# mention ("to watch", "i'll charge", "can you light"), however the shop names its kinds.
VERB_BEFORE = re.compile(
    r"(?:^|[^a-z0-9'])(?:to|i|i'll|we|you|they|can|could|will|would|should|must|might|lets|let's|gonna|wanna|don't|dont)\s+$"
)

# Japanese: the same three wordings (which product question; a plain request for a product).
JA_AVAILABILITY = re.compile(
    r"在庫|入荷|品切れ|売り切れ|売切|取り扱|取扱|扱って|売って|販売して|置いて|ありますか|あります[?？]|ある[?？]|あるの|買えます|買える"
)
JA_RECOMMENDATION = re.compile(
    r"おすすめ|オススメ|お勧め|お薦め|勧めて|薦めて|探して|さがして|欲しい|ほしい|プレゼント|贈り物|選び|選ん|どれが|どっちが|人気|安い|予算|似合う"
)
JA_ASKS_FOR_PRODUCT = re.compile(r"売って(い)?ますか|取り扱(い|って)|取扱い?|在庫(は|あり|ある)|買いたい|購入したい|どこで買え")
WORDINGS = {
    "en": (AVAILABILITY, RECOMMENDATION, ASKS_FOR_PRODUCT),
    "ja": (JA_AVAILABILITY, JA_RECOMMENDATION, JA_ASKS_FOR_PRODUCT),
}
# Hiragana, katakana, CJK ideographs (+ ext. A), 々, half-width katakana (bot.language.SCRIPTS).
CJK = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\u3005\uff66-\uff9f]")
KATAKANA_RUN = re.compile(r"[\u30a1-\u30fa\u30fc\u31f0-\u31ff]{3,}")  # NFKC leaves no half-width ones
# Where a Japanese name splits into parts: spaces, ・, 、, slashes, ampersands, brackets.
JA_SEPARATORS = re.compile(r"[\s・、,/&()「」『』【】\[\]]+")
# A count of a pack ("2枚セット", "5足組": "set of 2", "5 pairs") names no product.
JA_COUNT = re.compile(r"^\d+\s*[個枚足本点組]?\s*(?:セット|組|入り?)?$")
# Parts of Japanese names that say nothing on their own: generic nouns and the katakana adjectives
# of product names (ロング, ワイド: "long", "wide").
JA_STOPWORDS = frozenset(
    "その他 そのほか ほか 商品 製品 アイテム グッズ 用品 小物 雑貨 セット サイズ カラー タイプ ロング ショート ワイド スリム "
    "リラックス ストレート ハーフ ミディ ミニ ビッグ ライト ソフト ベーシック クラシック オーガニック リサイクル プレミアム "
    "スタンダード オリジナル ファッション ニュー ハイ ロー シンプル ナチュラル レギュラー メンズ レディース キッズ ユニセックス".split()
)


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


def _article_intents(titles: list[str], topics: list[str], language: str = SOURCE_LANGUAGE) -> list[str]:
    """Each help article's intent: the model's reading of its title (by `language`'s classifier)
    when confident, else its topic's. A language with no classifier goes by topics."""
    if not titles:
        return []
    from bot.slm import CLASSIFIER_LANGUAGES, get_classifier

    if language not in CLASSIFIER_LANGUAGES:
        return [TOPIC_INTENTS.get(topic, "") for topic in topics]
    readings = get_classifier(language).classify_batch(titles)
    return [r.intent if r.intent not in NOT_ANSWERS else TOPIC_INTENTS.get(topic, "") for r, topic in zip(readings, topics)]


def _normal(text: str) -> str:
    """Full-width letters and digits, half-width katakana: one spelling (NFKC), lowercase."""
    return unicodedata.normalize("NFKC", text or "").lower()


def is_cjk(term: str) -> bool:
    return bool(CJK.search(term))


def _ja_telling(term: str, common: frozenset[str]) -> bool:
    """A part of a Japanese name that names something: two or more characters, no generic noun;
    a part in Latin letters only ("merino") goes by the English rule."""
    if not is_cjk(term):
        return _telling(term, common)
    return len(term) >= 2 and term not in JA_STOPWORDS and not JA_COUNT.match(term)


def ja_terms(name: str, common: frozenset[str] = frozenset()) -> tuple[str, set[str]]:
    """A Japanese name as (the whole name, its telling parts): 'シャツ・トップス' -> ('シャツ・トップス',
    {'シャツ', 'トップス'}); 'ヘビーウェイト ポケットTシャツ' -> parts 'ヘビーウェイト', 'ポケットtシャツ',
    'ポケット', 'シャツ' (the katakana runs of 3+ characters)."""
    whole = " ".join(_normal(name).split())
    parts = {p for p in JA_SEPARATORS.split(whole) if p}
    parts |= {run for part in list(parts) for run in KATAKANA_RUN.findall(part)}
    parts.discard(whole)
    return whole, {p for p in parts if _ja_telling(p, common)}


def _kinds_of(name: str, language: str, common: frozenset[str], *, ancestor: bool) -> set[str]:
    """The product kinds a category name gives. An ancestor ("Home & Garden") may be an everyday
    word: only its telling parts count."""
    if language != SOURCE_LANGUAGE and is_cjk(name):
        whole, parts = ja_terms(name, common)
        return parts | ({whole} if _ja_telling(whole, common) else set())
    names = _split_names(name)
    return {k for k in names if _telling(k, common)} if ancestor else set(names)


def _chain(categories: dict, category_id) -> list:
    chain, seen = [], set()
    category = categories.get(category_id)
    while category is not None and category.pk not in seen:  # the category and its ancestors
        seen.add(category.pk)
        chain.append(category)
        category = categories.get(category.parent_id)
    return chain


def _split_tags(tags: str) -> list[str]:
    return [t.strip() for t in re.split(r"[,、，]", tags or "") if t.strip()]


def _source_vocabulary(common, categories, products) -> dict:
    """The catalogue's own language: the objects themselves (as before languages)."""
    from catalog.models import Article, Variant

    kinds: set[str] = set()
    used_categories: dict[str, list[str]] = {}
    title_words: set[str] = set()
    for _, name, category_id, _ in products:
        chain = [c.name for c in _chain(categories, category_id)]
        if chain:
            used_categories[chain[0]] = chain[1:]
            kinds |= _kinds_of(chain[0], SOURCE_LANGUAGE, common, ancestor=False)
        for category_name in chain[1:]:
            kinds |= _kinds_of(category_name, SOURCE_LANGUAGE, common, ancestor=True)
        for word in WORD.findall(name.lower()):
            if len(word) >= 3 and not word.isdigit() and word not in common and word not in STOPWORDS:
                title_words.add(word)
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
        "products": len(products),
        "kinds": sorted(kinds),
        "categories": {name: ancestors for name, ancestors in sorted(used_categories.items())},
        "title_words": sorted(title_words),
        "options": {name: sorted(values) for name, values in sorted(options.items())},
        "articles": sorted(articles, key=lambda a: a["title"]),
    }


def _translated_vocabulary(language: str, common, categories, products) -> dict:
    """Another shop language: its translation rows (catalog.translations). Names in a script
    without spaces (Japanese) are taken whole and by their parts (ja_terms)."""
    from catalog.models import Article, Category, Product
    from catalog.translations import translations_of

    category_names = {pk: row.get("name", "") for pk, row in translations_of(Category, categories, language).items()}
    product_names = {pk: row.get("name", "") for pk, row in translations_of(Product, [p[0] for p in products], language).items()}
    kinds: set[str] = set()
    used_categories: dict[str, list[str]] = {}
    names: set[str] = set()
    title_words: set[str] = set()
    for pk, _, category_id, _ in products:
        chain = [category_names.get(c.pk, "") for c in _chain(categories, category_id)]
        if chain and chain[0]:
            used_categories[chain[0]] = [n for n in chain[1:] if n]
            kinds |= _kinds_of(chain[0], language, common, ancestor=False)
        for category_name in chain[1:]:
            if category_name:
                kinds |= _kinds_of(category_name, language, common, ancestor=True)
        name = product_names.get(pk, "")
        if not name:
            continue
        if is_cjk(name):
            whole, parts = ja_terms(name, common)
            names.add(whole)
            title_words |= parts
        else:  # a translation in a spaced script: its words, as the original's
            title_words |= {w for w in WORD.findall(name.lower()) if len(w) >= 3 and not w.isdigit() and w not in common and w not in STOPWORDS}
    articles = []
    published = dict(Article.objects.filter(is_published=True).values_list("pk", "topic"))
    texts = translations_of(Article, published, language)
    rows = [(texts[pk].get("title", ""), published[pk], texts[pk].get("tags", "")) for pk in sorted(texts)]
    rows = [row for row in rows if row[0] or row[2]]
    titled = [(title, topic) for title, topic, _ in rows if title]
    intents = dict(zip([t for t, _ in titled], _article_intents([t for t, _ in titled], [p for _, p in titled], language)))
    for title, topic, tags in rows:
        telling = set()
        for tag in _split_tags(tags):
            tag = " ".join(_normal(tag).split())
            if _ja_telling(tag, common):
                telling.add(tag)
        articles.append({"title": title, "topic": topic, "intent": intents.get(title) or TOPIC_INTENTS.get(topic, ""), "tags": sorted(telling)})
    return {
        "products": len(product_names),  # the active products with a translated name
        "kinds": sorted(kinds),
        "categories": {name: ancestors for name, ancestors in sorted(used_categories.items())},
        "names": sorted(names),
        "title_words": sorted(title_words),
        "articles": sorted(articles, key=lambda a: a["title"]),
    }


def vocabulary_languages() -> list[str]:
    """The catalogue's own language first, then the shop's other languages (settings.SHOP_LANGUAGES)."""
    from django.conf import settings

    languages = [SOURCE_LANGUAGE]
    for code in getattr(settings, "SHOP_LANGUAGES", [SOURCE_LANGUAGE]):
        code = code.lower().replace("_", "-").split("-")[0]
        if code not in languages:
            languages.append(code)
    return languages


def build_vocabulary() -> dict:
    """The catalogue's and help centre's vocabulary, per language (a read: nothing is written)."""
    from bot.slm.entities import common_words
    from catalog.models import Category, Product

    common = common_words()
    categories = {c.pk: c for c in Category.objects.all()}
    products = list(Product.objects.filter(is_active=True).values_list("pk", "name", "category_id", "attributes"))
    vendors: set[str] = set()
    for _, _, _, attributes in products:
        vendor = (attributes or {}).get("vendor") if isinstance(attributes, dict) else None
        if vendor and _telling(str(vendor).strip().lower(), common):
            vendors.add(str(vendor).strip())
    languages = {}
    for language in vocabulary_languages():
        if language == SOURCE_LANGUAGE:
            section = _source_vocabulary(common, categories, products)
        else:
            section = _translated_vocabulary(language, common, categories, products)
        section["vendors"] = sorted(vendors)  # brand names are written the same in every language
        languages[language] = section
    return {"format": FORMAT, "products": len(products), "languages": languages}


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


# A bare mention of a product kind ("usb c cable 2m", "ドッグベッド"): a message this short that
# names a kind is about the product, whatever the model made of it.
BARE_WORDS = 4
BARE_CJK_CHARACTERS = 12


@dataclass(frozen=True)
class Matcher:
    """One language's check: its product terms, its articles' subject terms, its wording.

    Two strengths of evidence. A term the classifier cannot know (a word missing from its own
    vocabulary: "Voltra", "Sonix Wave", "PowerCore") or a plain request to buy is enough on its
    own: the model is most sure of "out of scope" exactly for names it never saw. A term made of
    words it knows ("laptop", "android phone") it has already weighed, and such common nouns come
    in messages the shop cannot serve too ("can you fix my laptop screen"); so they count when the
    message also asks for a product in its wording, is a bare mention, or the model is not sure
    it is out of scope (adapt's `unsure`), and never as a verb ("a good movie to watch").
    In Japanese, where no vocabulary tells a name from a word, product kinds (translated category
    names: "犬用ベッド", "キャップ") are of the second kind and the words of product names, vendors
    and tags of the first. An article's English tags the same way: a phrase ("power
    bank", "same day dispatch") or a word the classifier cannot know ("klarna") names the article;
    one word it knows ("android", "flight") only in a bare mention or when the model is unsure
    ("how do i root my android phone" is not the compatibility article's question).
    """

    product_terms: re.Pattern | None  # terms the classifier cannot know: enough on their own
    article_terms: list[tuple[re.Pattern | None, re.Pattern | None, str]]  # (strong tags, one-known-word tags, intent)
    language: str = SOURCE_LANGUAGE
    known_terms: re.Pattern | None = None  # terms of words the classifier knows: with more evidence

    @classmethod
    def from_vocabulary(cls, vocabulary: dict, language: str = SOURCE_LANGUAGE, source: dict | None = None) -> Matcher:
        """`source`: the original language's vocabulary, whose product terms a translated
        language's messages may also name ("Snooze Denはありますか")."""
        terms: set[str] = set()
        ja_kinds: set[str] = set()  # Japanese product kinds: category names, everyday nouns ("キャップ", "寝具")
        for section in (vocabulary, source or {}):
            for term in section.get("kinds", []) + section.get("title_words", []):
                terms |= {term} if is_cjk(term) else _forms(term)
            ja_kinds |= {term for term in section.get("kinds", []) if is_cjk(term)}
            terms |= {_normal(n) for n in section.get("names", [])}
            terms |= {_normal(v) for v in section.get("vendors", []) if len(v) >= 3}
        terms = {t for t in terms if _matchable(t)}
        known_words = model_words()
        known = {t for t in terms if not is_cjk(t) and known_words and all(w in known_words for w in WORD.findall(t))}
        known |= (ja_kinds & terms) - {_normal(n) for n in vocabulary.get("names", [])} - set(vocabulary.get("title_words", []))
        product = _alternation(terms - known)
        article_terms = []
        for article in vocabulary.get("articles", []):
            intent = article.get("intent")
            if not intent:
                continue
            tags = {_normal(t) for t in article.get("tags", []) if _matchable(_normal(t))}
            weak = {t for t in tags if _one_known_word(t, known_words)}
            if tags:
                article_terms.append((_alternation(tags - weak), _alternation(weak), intent))
        return cls(product, article_terms, language, _alternation(known))

    def mentions_product(self, text: str, *, unsure: bool = True) -> bool:
        """Whether the message is about a product of this shop (see the class's two strengths);
        `unsure`: the model gave out_of_scope no more than ASSISTANT_ADAPT_KNOWN_MAX_OUT_OF_SCOPE."""
        availability, recommendation, asks = WORDINGS.get(self.language, WORDINGS[SOURCE_LANGUAGE])
        normal = _normal(text)
        if (self.product_terms and self.product_terms.search(normal)) or asks.search(text):
            return True
        if not (self.known_terms and any(not _verb_use(normal, m.start()) for m in self.known_terms.finditer(normal))):
            return False
        return unsure or bool(availability.search(text) or recommendation.search(text)) or _bare(normal)

    def article_intent(self, text: str, *, unsure: bool = True) -> str | None:
        """The intent of the first article the message names (see the class for the tags' two
        strengths; `unsure` as in mentions_product)."""
        text = _normal(text)
        weak_counts = unsure or _bare(text)
        for strong, weak, intent in self.article_terms:
            if (strong and strong.search(text)) or (weak_counts and weak and weak.search(text)):
                return intent
        return None


_model_words: frozenset[str] | None = None


def model_words() -> frozenset[str]:
    """The whole words of the English classifier's vocabulary (its tokenizer's pieces that are not
    word continuations): the words it has an embedding of its own for. Empty when unreadable."""
    global _model_words
    if _model_words is None:
        from django.conf import settings

        try:
            vocab = json.loads((Path(settings.SLM_ARTIFACT_DIR) / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
            _model_words = frozenset(w for w in vocab if w.isalpha() and len(w) > 1)
        except (OSError, ValueError, KeyError, TypeError):
            _model_words = frozenset()
    return _model_words


def _one_known_word(term: str, known_words: frozenset[str]) -> bool:
    """An English term of a single word the classifier knows ("android"): as a tag, little on its own."""
    words = WORD.findall(term)
    return not is_cjk(term) and len(words) == 1 and words[0] in known_words


def _verb_use(text: str, start: int) -> bool:
    """Whether the English word at `start` follows "to", a modal or a subject pronoun: a verb
    ("a good movie to watch", "can i charge it overnight"), not a product of the shop."""
    return bool(VERB_BEFORE.search(text[max(0, start - 16):start]))


def _bare(text: str) -> bool:
    """A message of a few words (English) or a few characters (Japanese): a name, not a sentence."""
    if CJK.search(text):
        return len(re.sub(r"\s+", "", text)) <= BARE_CJK_CHARACTERS
    return len(WORD.findall(text)) <= BARE_WORDS


def _matchable(term: str) -> bool:
    """Long enough to mean something: two characters of Japanese ("寝具", "水着"), three of English."""
    if is_cjk(term):
        return len(term) >= 2 and term not in JA_STOPWORDS
    return len(term) >= 3 and term not in STOPWORDS


def _alternative(term: str) -> str:
    """One term of an alternation. An English (Latin) edge needs a word boundary ("cat" is not in
    "category"); a Japanese edge needs none, since Japanese is written without spaces ("シャツ" in
    "白いシャツはありますか", and in "Tシャツ"). Spaces inside a Japanese term are optional."""
    body = re.escape(term)
    if is_cjk(term):
        body = re.sub(r"(?:\\ )+", r"\\s*", body)
    before = "" if CJK.match(term[0]) else "(?<![a-z0-9])"
    after = "" if CJK.match(term[-1]) else "(?![a-z0-9])"
    return f"{before}{body}{after}"


def _alternation(terms: set[str]) -> re.Pattern | None:
    if not terms:
        return None
    alternatives = "|".join(_alternative(t) for t in sorted(terms, key=lambda t: (-len(t), t)))
    return re.compile(f"(?:{alternatives})", re.I)


def _file_version():
    try:
        stat = vocabulary_path().stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def matchers_from(vocabulary) -> dict[str, Matcher]:
    """{language: Matcher} of a stored vocabulary; a format-1 file is English; anything else, none."""
    if not isinstance(vocabulary, dict):
        return {}
    if vocabulary.get("format") == OLD_FORMAT:
        return {SOURCE_LANGUAGE: Matcher.from_vocabulary(vocabulary)}
    languages = vocabulary.get("languages")
    if vocabulary.get("format") != FORMAT or not isinstance(languages, dict):
        return {}
    source = languages.get(SOURCE_LANGUAGE) if isinstance(languages.get(SOURCE_LANGUAGE), dict) else None
    matchers = {}
    for language, section in languages.items():
        if isinstance(section, dict):
            matchers[language] = Matcher.from_vocabulary(section, language, None if language == SOURCE_LANGUAGE else source)
    return matchers


def _load_matchers() -> dict[str, Matcher] | None:
    try:
        vocabulary = json.loads(vocabulary_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return matchers_from(vocabulary) or None


_cached = RefreshingIndex(version=_file_version, build=_load_matchers, check_seconds=CHECK_SECONDS)


def reset() -> None:
    """Forget the loaded vocabulary (tests; the file is re-read on the next message anyway)."""
    global _model_words
    _model_words = None
    _cached.invalidate()


def product_intent(text: str, top: list[tuple[str, float]], language: str = SOURCE_LANGUAGE) -> str:
    """Which product question: the model's own pick among its top intents when it gives it some
    weight (MODEL_PICK), else the wording (in `language`)."""
    for intent, probability in top:
        if intent in PRODUCT_INTENTS and probability >= MODEL_PICK:
            return intent
    availability, recommendation, _ = WORDINGS.get(language, WORDINGS[SOURCE_LANGUAGE])
    if availability.search(text):
        return "product_availability"
    if recommendation.search(text):
        return "product_recommendation"
    return "product_info"


def adapt(understanding: Understanding) -> Understanding:
    """The shop-aware second look at an out_of_scope message; anything else passes unchanged."""
    from django.conf import settings

    if understanding.intent != OUT_OF_SCOPE or not understanding.text.strip():
        return understanding
    matcher = (_cached.get() or {}).get(understanding.language)  # the message's language's vocabulary
    if matcher is None:
        return understanding
    probabilities = dict(understanding.top)
    if probabilities.get(OUT_OF_SCOPE, 0.0) > settings.ASSISTANT_ADAPT_MAX_OUT_OF_SCOPE:
        return understanding  # the shop chose to trust the model's certainty over a shop word
    text = understanding.text
    unsure = probabilities.get(OUT_OF_SCOPE, 0.0) <= settings.ASSISTANT_ADAPT_KNOWN_MAX_OUT_OF_SCOPE
    intent = matcher.article_intent(text, unsure=unsure)
    if intent is None and matcher.mentions_product(text, unsure=unsure):
        intent = product_intent(text, understanding.top, understanding.language)
    if intent is None:
        return understanding
    confidence = max(float(settings.ASSISTANT_ADAPT_CONFIDENCE), probabilities.get(intent, 0.0))
    top = [(intent, confidence)] + [(i, p) for i, p in understanding.top if i not in (intent, OUT_OF_SCOPE)][:2]
    return replace(understanding, intent=intent, raw_intent=intent, confidence=confidence, top=top)
