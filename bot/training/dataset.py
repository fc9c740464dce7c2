"""The SLM's training data: sources, de-duplication, splits and shopper-style augmentation.

Sources (all read-only):
- Bitext's two customer-support files (27 intents), de-duplicated across both files;
- CLINC150's *train* split: out-of-scope negatives from classes unrelated to a shop, plus a
  few classes mapped onto the shop's conversation intents (bot/data/clinc.yaml). Its
  validation split is never used here: evaluate_slm measures out-of-scope recall on it;
- the project's own examples (bot/data/intents/*.yaml), literal lines and templates filled
  from the shop vocabulary (bot/data/products.yaml, bot/data/slots.yaml, the live catalog);
- shop-independent requests (bot.training.open_shop, bot/data/open_shop.yaml): templates
  crossed with open product vocabularies (product taxonomy leaves, ten domains, five markets);
- agent-labelled shopper messages from the database (bot.models.TrainingExample).

Splits are made per *group* before any augmentation: near-duplicate Bitext sentences share a
group, and all expansions of one template share a group, so the dev and test splits hold
phrasings the model never saw in training. bot/data/eval_shoppers.yaml and the other shops'
shopper sets (bot/data/shops/*.yaml) are read here only to keep their sentences out of training.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from django.core.exceptions import ImproperlyConfigured

from bot import intents
from bot.slm.entities import COMMON_WORDS_FILE

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
OUT_OF_SCOPE = "out_of_scope"
SAYS_ORDER_NUMBER = intents.names(says_order_number=True)
CONVERSATION = intents.names(small_talk=True, model=True) - {OUT_OF_SCOPE}
OPEN_SHOP_SOURCE = "own:open_shop"  # bot.training.open_shop


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    source: str
    group: str


@dataclass
class Splits:
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    labels: list[str]
    stats: dict

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for part in (self.train, self.dev, self.test):
            for ex in part:
                digest.update(f"{ex.intent}\t{ex.text}\n".encode())
        return digest.hexdigest()[:12]


# --- sources ------------------------------------------------------------------------------


def load_labels(shared_dir: Path) -> list[str]:
    spec = yaml.safe_load((shared_dir / "spec" / "intents.yaml").read_text(encoding="utf-8"))
    return [item["name"] for item in spec["intents"]]


def normalise(text: str) -> str:
    """Key for exact de-duplication: case, punctuation and digits do not make a new sentence."""
    text = re.sub(r"\d+", "0", text.lower())
    return " ".join(re.sub(r"[^a-z0 ]+", " ", text).split())


_FILLER = set(
    """i me my we our you your u ur a an the to of for with on in at about and or is are am be
    been was it this that there can could would will should do does did please pls help
    assistance need want wanna like know tell show how where what when which who why im i'm
    have has had get got some any just trying try am information info question""".split()
)


def near_duplicate_key(text: str) -> str:
    """Group key for near-duplicates: the sorted content words (fillers dropped)."""
    words = [w for w in normalise(text).split() if w not in _FILLER]
    return " ".join(sorted(set(words))) or normalise(text)


def load_bitext(shared_dir: Path) -> list[Example]:
    base = shared_dir / "data" / "bitext"
    rows: list[tuple[str, str]] = []
    with open(base / "bitext_8k_balanced.csv", encoding="utf-8-sig", newline="") as fh:
        rows += [(r["utterance"], r["intent"]) for r in csv.DictReader(fh)]
    with open(base / "bitext_4k_tagged.csv", encoding="utf-8-sig", newline="") as fh:
        rows += [(r["instruction"], r["intent"]) for r in csv.DictReader(fh)]
    seen: set[str] = set()
    examples = []
    for text, intent in rows:
        text = " ".join(text.split())
        key = normalise(text)
        if not key or key in seen:
            continue
        seen.add(key)
        examples.append(Example(text, intent, "bitext", f"bitext:{near_duplicate_key(text)}"))
    return examples


COMMON_WORD_MIN_SENTENCES = 5


def common_words(shared_dir: Path, min_sentences: int = COMMON_WORD_MIN_SENTENCES) -> list[str]:
    """Words of everyday and support English: in at least `min_sentences` sentences of CLINC150's
    train split (chatty everyday requests) or of Bitext (support requests). A product-name word
    like "work" (Chambray Work Shirt) or "over" is one of them; "chambray" or "kettle" is not.
    Entity extraction lets only uncommon words name a product on their own.
    """
    data = json.loads((shared_dir / "data" / "clinc150" / "clinc150_train_val.json").read_text(encoding="utf-8"))
    texts = [t for t, _ in data["train"]] + [t for t, _ in data["oos_train"]] + [ex.text for ex in load_bitext(shared_dir)]
    counts: Counter = Counter()
    for text in texts:
        counts.update(set(re.findall(r"[a-z0-9]+", text.lower())))
    return sorted(w for w, n in counts.items() if n >= min_sentences and not w.isdigit())


def write_common_words(shared_dir: Path, path: Path = COMMON_WORDS_FILE) -> int:
    """Regenerate the list entity extraction reads (bot.slm.entities.COMMON_WORDS_FILE)."""
    words = common_words(shared_dir)
    header = (
        f"# Words in at least {COMMON_WORD_MIN_SENTENCES} sentences of CLINC150 train or Bitext (generated by "
        "bot.training.dataset.write_common_words; do not edit by hand).\n"
    )
    path.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    return len(words)


def load_clinc_train(shared_dir: Path, rng: random.Random) -> list[Example]:
    config = yaml.safe_load((DATA_DIR / "clinc.yaml").read_text(encoding="utf-8"))
    data = json.loads((shared_dir / "data" / "clinc150" / "clinc150_train_val.json").read_text(encoding="utf-8"))
    by_class: dict[str, list[str]] = defaultdict(list)
    for text, label in data["train"]:
        by_class[label].append(text)
    mapped = {str(k): v for k, v in config["mapped"].items()}
    excluded = set(config["excluded"])
    # CLINC repeats short sentences across its splits ("adios", "0 minute timer"): a training
    # sentence that also appears in validation is dropped, so validation stays unseen.
    held_out = {normalise(t) for t, _ in data["val"] + data["oos_val"]}
    examples = []
    for label in sorted(by_class):
        texts = sorted(t for t in by_class[label] if normalise(t) not in held_out)
        if label in excluded:
            continue
        if label in mapped:
            picked, intent = rng.sample(texts, min(config["per_class_mapped"], len(texts))), mapped[label]
        else:
            picked, intent = rng.sample(texts, min(config["per_class_negatives"], len(texts))), OUT_OF_SCOPE
        examples += [Example(t, intent, f"clinc:{label}", f"clinc:{normalise(t)}") for t in picked]
    examples += [
        Example(t, OUT_OF_SCOPE, "clinc:oos", f"clinc:{normalise(t)}") for t, _ in data["oos_train"] if normalise(t) not in held_out
    ]
    return examples


@dataclass
class Vocabulary:
    products: list[tuple[str, str]]
    things: list[str]
    categories: list[str]
    colours: list[str]
    sizes: list[str]
    slots: dict


def load_vocabulary(catalog_products: list[tuple[str, str]] | None = None) -> Vocabulary:
    shop = yaml.safe_load((DATA_DIR / "products.yaml").read_text(encoding="utf-8"))
    slots = yaml.safe_load((DATA_DIR / "slots.yaml").read_text(encoding="utf-8"))
    products = [(p["name"], p["slug"]) for p in shop["products"]]
    if catalog_products:
        known = {slug for _, slug in products}
        products += [(name, slug) for name, slug in catalog_products if slug not in known]
    return Vocabulary(products, shop["things"], shop["categories"], shop["colours"], [str(s) for s in shop["sizes"]], slots)


def _order_number(rng: random.Random, vocab: Vocabulary, bare: bool = False) -> str:
    """An order number as shoppers write it; bare=True when the word "order" already precedes it."""
    n = str(rng.randint(10000, 999999) if rng.random() < 0.3 else rng.randint(10000, 99999))
    formats = vocab.slots["order_formats"]
    if bare:
        formats = [f for f in formats if not f.lower().startswith(("order", "ord", "(")) and "{" in f[:4]]
    fmt = rng.choice(formats)
    spaced = f"{n[:-3]} {n[-3:]}"
    return fmt.format(n=n, s=spaced)


def _product_mention(rng: random.Random, vocab: Vocabulary) -> str:
    name, _ = rng.choice(vocab.products)
    words = name.split()
    roll = rng.random()
    if roll < 0.35:
        return name
    if roll < 0.6:
        return name.lower()
    if len(words) > 2 and roll < 0.9:  # partial: "linen shirt", "chelsea boots"
        keep = sorted(rng.sample(range(len(words) - 1), 1)) + [len(words) - 1]
        return " ".join(words[i] for i in keep).lower()
    return words[-1].lower()


def fill_template(template: str, rng: random.Random, vocab: Vocabulary) -> str:
    s = vocab.slots
    fillers = {
        "order": lambda: _order_number(rng, vocab),
        "product": lambda: _product_mention(rng, vocab),
        "thing": lambda: rng.choice(vocab.things),
        "category": lambda: rng.choice(vocab.categories),
        "colour": lambda: rng.choice(vocab.colours),
        "size": lambda: rng.choice(vocab.sizes),
        "email": lambda: rng.choice(s["emails"]),
        "country": lambda: rng.choice(s["countries"]),
        "city": lambda: rng.choice(s["cities"]),
        "carrier": lambda: rng.choice(s["carriers"]),
        "price": lambda: rng.choice(s["prices"]),
        "code": lambda: rng.choice(s["codes"]),
        "rma": lambda: rng.choice(s["rmas"]),
        "days": lambda: rng.choice(s["days"]),
        "weeks": lambda: rng.choice(s["weeks"]),
        "date": lambda: rng.choice(s["dates"]),
        "name": lambda: rng.choice(s["names"]),
        "payment": lambda: rng.choice(s["payment"]),
    }

    def replace(match: re.Match) -> str:
        slot = match.group(1)
        if slot == "order" and re.search(r"\border\s*$", template[: match.start()], re.I):
            return _order_number(rng, vocab, bare=True)
        if slot not in fillers:
            raise ValueError(f"unknown slot {{{slot}}} in template {template!r}")
        return fillers[slot]()

    return re.sub(r"\{(\w+)\}", replace, template)


def load_own(vocab: Vocabulary, rng: random.Random, expansions: int = 4) -> list[Example]:
    examples = []
    for path in sorted((DATA_DIR / "intents").glob("*.yaml")):
        for intent, block in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            for i, text in enumerate(block.get("examples") or []):
                examples.append(Example(str(text), intent, f"own:{path.stem}", f"own:{path.stem}:{intent}:e{i}"))
            for j, template in enumerate(block.get("templates") or []):
                seen = set()
                for _ in range(expansions):
                    text = fill_template(template, rng, vocab)
                    if text not in seen:
                        seen.add(text)
                        examples.append(Example(text, intent, f"own:{path.stem}:template", f"own:{path.stem}:{intent}:t{j}"))
    return examples


def agent_label_held_out(pk: int, percent: int) -> bool:
    """Whether the agent label with this id belongs to the shop's held-out share (`percent` of
    them, fixed by a hash of the id): those judge a retrained model and are never trained on."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"training-example:{pk}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def load_agent_labelled(labels: list[str], *, language: str | None = None, holdout_percent: int = 0,
                        held_out: bool = False) -> list[Example]:
    """Shopper messages labelled by agents (bot.models.TrainingExample); none when the table is absent.

    `language`: only the messages that language's classifier reads (bot.slm.classifier_language:
    the text's script, else its conversation's language), so a Japanese label never trains or
    judges the English model. With holdout_percent, the training share (default) or, with
    held_out=True, the held-out share (agent_label_held_out). A training row whose text is also a
    held-out row's is left out too.
    """
    try:
        from django.db import connection
        from django.db.utils import DatabaseError

        from bot.models import TrainingExample

        if TrainingExample._meta.db_table not in connection.introspection.table_names():
            return []
        rows = list(TrainingExample.objects.values_list("pk", "text", "intent", "conversation__language"))
    except (ImportError, DatabaseError, RuntimeError, ImproperlyConfigured):
        return []
    if language is not None:
        from bot.slm import classifier_language

        rows = [row for row in rows if classifier_language(row[1] or "", row[3]) == language]
    known = set(labels)
    examples = [
        (pk, Example(" ".join(text.split()), intent, "agent", f"agent:{pk}"))
        for pk, text, intent, _ in rows
        if intent in known and text and text.strip()
    ]
    if holdout_percent <= 0:
        return [] if held_out else [ex for _, ex in examples]
    kept_out = [ex for pk, ex in examples if agent_label_held_out(pk, holdout_percent)]
    if held_out:
        return kept_out
    # The same message labelled twice: compared as written (case and spacing aside), not through
    # normalise(), which folds digits and drops non-Latin letters (Japanese would all collide).
    kept_out_texts = {ex.text.casefold() for ex in kept_out}
    return [ex for pk, ex in examples if not agent_label_held_out(pk, holdout_percent) and ex.text.casefold() not in kept_out_texts]


def load_catalog_products() -> list[tuple[str, str]]:
    """(name, slug) of the live catalog's active products, when the catalog tables exist."""
    try:
        from django.db import connection
        from django.db.utils import DatabaseError

        from catalog.models import Product

        if Product._meta.db_table not in connection.introspection.table_names():
            return []
        return list(Product.objects.filter(is_active=True).values_list("name", "slug"))
    except (ImportError, DatabaseError, RuntimeError, ImproperlyConfigured):
        return []


# --- splitting ----------------------------------------------------------------------------


def split_by_group(examples: list[Example], rng: random.Random, dev: float, test: float) -> tuple[list, list, list]:
    """Whole groups go to one split; stratified by each group's (majority) intent.

    A group key can be shared by sentences of different intents (Bitext has near-identical
    sentences under two labels): the group still goes to a single split.
    """
    groups: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        groups[ex.group].append(ex)
    by_intent: dict[str, list[tuple[str, list[Example]]]] = defaultdict(list)
    for key in sorted(groups):
        members = groups[key]
        intent = Counter(ex.intent for ex in members).most_common(1)[0][0]
        by_intent[intent].append((key, members))
    train, dev_part, test_part = [], [], []
    for intent in sorted(by_intent):
        items = by_intent[intent]
        rng.shuffle(items)
        total = sum(len(m) for _, m in items)
        n_test, n_dev, taken = round(total * test), round(total * dev), 0
        for _, members in items:
            if taken < n_test:
                test_part += members
            elif taken < n_test + n_dev:
                dev_part += members
            else:
                train += members
            taken += len(members)
    return train, dev_part, test_part


# --- shopper-style augmentation (train split only) ---------------------------------------

_PREFIXES = ["hi, ", "hi ", "hello, ", "hey ", "hey there, ", "good morning, ", "hello! ", "excuse me, ",
             "quick question: ", "pls ", "um ", "ok so ", "hallo, ", "dear support, ", "hi team, ", "sorry, "]
_SUFFIXES = [" thanks", " thx", " pls", " please", "??", "?!", " asap", " thank you", " !!", " :(", " …",
             " ty", " please help", " urgent"]
_SLANG = [(r"\byou\b", "u"), (r"\byour\b", "ur"), (r"\bplease\b", "pls"), (r"\bthanks\b", "thx"),
          (r"\bwant to\b", "wanna"), (r"\bgoing to\b", "gonna"), (r"\bI am\b", "im"), (r"\bI'm\b", "im"),
          (r"\bdon't\b", "dont"), (r"\bcan't\b", "cant"), (r"\bare\b", "r"), (r"\bbecause\b", "cuz")]
_ORDER_WORD = re.compile(r"\b(order|purchase)\b(?! (number|no|#|\d))", re.I)


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.random()
    if op < 0.35:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op < 0.65:
        return word[:i] + word[i + 1:]
    if op < 0.85:
        return word[:i] + word[i] + word[i:]
    keys = "qwertyuiopasdfghjklzxcvbnm"
    return word[:i] + rng.choice(keys) + word[i + 1:]


def shopper_style(text: str, intent: str, rng: random.Random, vocab: Vocabulary) -> str:
    """One random rewrite of a clean sentence the way shoppers type."""
    out = text
    if intent in SAYS_ORDER_NUMBER:
        if rng.random() < 0.35 and not re.search(r"\d", out):
            number = _order_number(rng, vocab)
            if _ORDER_WORD.search(out):
                out = _ORDER_WORD.sub(lambda m: f"{m.group(1)} {_order_number(rng, vocab, bare=True)}", out, count=1)
            else:
                out = f"{out} {number}" if rng.random() < 0.6 else f"{number} {out}"
    if rng.random() < 0.3:
        for pattern, repl in rng.sample(_SLANG, 3):
            out = re.sub(pattern, repl, out, flags=re.I)
    if rng.random() < 0.6:
        out = out.lower()
    if rng.random() < 0.5:
        out = re.sub(r"[?.!,']", "", out) if rng.random() < 0.5 else out.rstrip("?.!")
    if rng.random() < 0.35:
        words = out.split()
        for _ in range(rng.choice([1, 1, 2])):
            if words:
                k = rng.randrange(len(words))
                words[k] = _typo(words[k], rng)
        out = " ".join(words)
    if intent not in CONVERSATION:
        if rng.random() < 0.25:
            out = rng.choice(_PREFIXES) + out
        if intent != OUT_OF_SCOPE and rng.random() < 0.2:
            out = out + rng.choice(_SUFFIXES)
    return " ".join(out.split()) or text


# --- putting it together -----------------------------------------------------------------


def load_open_shop_examples(shared_dir: Path, seed: int = 13, **kwargs) -> list[Example]:
    """The shop-independent requests (bot.training.open_shop) as examples of source own:open_shop,
    without any sentence of the held-out shopper sets."""
    from bot.training.open_shop import load_open_shop

    held_out = {normalise(ex.text) for ex in load_eval_shoppers() + load_shop_shoppers()}
    triples = load_open_shop(shared_dir, held_out=held_out, normalise=normalise, seed=seed, **kwargs)
    return [Example(text, intent, OPEN_SHOP_SOURCE, f"{OPEN_SHOP_SOURCE}:{intent}:t{j}") for text, intent, j in triples]


def build_splits(
    *,
    shared_dir: Path,
    seed: int = 13,
    bitext_per_intent: int = 150,
    own_min_per_intent: int = 180,
    dev: float = 0.1,
    test: float = 0.1,
    max_per_intent: int | None = None,
    include_agent_labels: bool = True,
    agent_holdout_percent: int = 0,
    open_shop: bool = True,
    language: str = "en",
) -> Splits:
    """Load every source, split by group, then balance and augment the train split only.

    max_per_intent caps every split per intent (the tiny CI run); None keeps everything.
    agent_holdout_percent keeps that share of the agent labels out (bot.retraining judges on it).
    open_shop adds the shop-independent requests of bot.training.open_shop (open product nouns).
    English only; the Japanese classifier's data is bot.training.japanese.build_splits
    (splits_for_language picks one).
    """
    if language != "en":
        raise ValueError(f"no training data for language {language!r} here (bot.training.japanese for ja)")
    rng = random.Random(seed)
    labels = load_labels(shared_dir)
    vocab = load_vocabulary(load_catalog_products())
    bitext = load_bitext(shared_dir)
    own = load_own(vocab, rng)
    if open_shop:
        own += load_open_shop_examples(shared_dir, seed=seed)
    clinc = load_clinc_train(shared_dir, rng)
    agent = load_agent_labelled(labels, language="en", holdout_percent=agent_holdout_percent) if include_agent_labels else []

    unknown = {ex.intent for ex in bitext + own + clinc} - set(labels)
    if unknown:
        raise ValueError(f"examples with intents that are not in intents.yaml: {sorted(unknown)}")

    # The independent shopper sets stay unseen: a sentence of them written again in any source
    # (or labelled by an agent) is dropped from every split.
    held_out = {normalise(ex.text) for ex in load_eval_shoppers() + load_shop_shoppers()}
    dropped_held_out = 0

    # One sentence, one label: exact duplicates across sources are dropped (first source wins).
    seen: set[str] = set()
    pool = []
    for ex in own + bitext + clinc:
        key = normalise(ex.text)
        if key in held_out:
            dropped_held_out += 1
            continue
        if key in seen:
            continue
        seen.add(key)
        pool.append(ex)
    agent = [ex for ex in agent if normalise(ex.text) not in held_out]

    train, dev_part, test_part = split_by_group(pool, rng, dev, test)

    # Agent labels are real shopper messages: all go to training (twice), none to evaluation.
    train += [ex for ex in agent for _ in range(2)]

    by_intent: dict[str, list[Example]] = defaultdict(list)
    for ex in train:
        by_intent[ex.intent].append(ex)
    balanced: list[Example] = []
    for intent in labels:
        items = by_intent.get(intent, [])
        bitext_items = [ex for ex in items if ex.source == "bitext"]
        other = [ex for ex in items if ex.source != "bitext"]
        rng.shuffle(bitext_items)
        bitext_items = bitext_items[:bitext_per_intent]
        # Bitext: about half rewritten towards shopper style, the clean original kept for the rest.
        for ex in bitext_items:
            text = shopper_style(ex.text, intent, rng, vocab) if rng.random() < 0.55 else ex.text
            balanced.append(Example(text, intent, ex.source, ex.group))
        # The generated shop-independent requests come on top: they never stand in for the
        # restyled copies of the hand-written lines.
        own_items = [ex for ex in other if ex.source.startswith("own") and ex.source != OPEN_SHOP_SOURCE]
        rest = [ex for ex in other if not ex.source.startswith("own") or ex.source == OPEN_SHOP_SOURCE]
        balanced += rest
        # The project's own lines: each kept as written once, then restyled copies up to the minimum.
        balanced += own_items
        if own_items and intent != OUT_OF_SCOPE:
            for k in range(max(0, own_min_per_intent - len(own_items))):
                ex = own_items[k % len(own_items)]
                balanced.append(Example(shopper_style(ex.text, intent, rng, vocab), intent, ex.source, ex.group))
        elif own_items:
            balanced += [Example(shopper_style(ex.text, intent, rng, vocab), intent, ex.source, ex.group) for ex in own_items]
    # A restyled copy can land on a held-out sentence by chance.
    train = [ex for ex in balanced if normalise(ex.text) not in held_out]

    if max_per_intent:
        def cap(part: list[Example]) -> list[Example]:
            counts: Counter = Counter()
            kept = []
            for ex in sorted(part, key=lambda e: (e.group, e.text)):
                if counts[ex.intent] < max_per_intent:
                    counts[ex.intent] += 1
                    kept.append(ex)
            return kept

        train, dev_part, test_part = cap(train), cap(dev_part), cap(test_part)

    rng.shuffle(train)
    stats = {
        "sources": dict(Counter(ex.source.split(":")[0] for ex in pool)),
        "bitext_after_dedup": len(bitext),
        "own_examples": len(own),
        "clinc_train_used": len(clinc),
        "agent_labelled": len(agent),
        "dropped_as_eval_shopper_sentences": dropped_held_out,
        "train": len(train),
        "dev": len(dev_part),
        "test": len(test_part),
        "train_per_intent": dict(sorted(Counter(ex.intent for ex in train).items())),
        "test_per_intent": dict(sorted(Counter(ex.intent for ex in test_part).items())),
    }
    return Splits(train, dev_part, test_part, labels, stats)


def write_jsonl(path: Path, examples: list[Example]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(asdict(ex), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[Example]:
    with open(path, encoding="utf-8") as fh:
        return [Example(**json.loads(line)) for line in fh if line.strip()]


def load_eval_shoppers() -> list[Example]:
    """The independent shopper set: evaluation only."""
    data = yaml.safe_load((DATA_DIR / "eval_shoppers.yaml").read_text(encoding="utf-8"))
    return [Example(str(text), intent, "eval_shoppers", f"eval:{i}") for intent, texts in data.items() for i, text in enumerate(texts)]


SHOPS_DIR = DATA_DIR / "shops"


def load_shop_shoppers(path: Path | None = None) -> list[Example]:
    """Shopper sets written for other shops (bot/data/shops/<shop>_shoppers.yaml, intent -> messages):
    evaluation only (bench/bench_shop.py), like eval_shoppers.yaml. `path`: one file; default all."""
    paths = [path] if path else sorted(SHOPS_DIR.glob("*.yaml"))
    examples = []
    for one in paths:
        data = yaml.safe_load(Path(one).read_text(encoding="utf-8")) or {}
        examples += [Example(str(text), intent, f"shop:{Path(one).stem}", f"shop:{Path(one).stem}:{i}") for intent, texts in data.items() for i, text in enumerate(texts)]
    return examples


def load_clinc_val(shared_dir: Path) -> tuple[list[Example], list[Example]]:
    """CLINC150 validation: (oos_val as out_of_scope, in-domain val of the negative classes as out_of_scope)."""
    config = yaml.safe_load((DATA_DIR / "clinc.yaml").read_text(encoding="utf-8"))
    data = json.loads((shared_dir / "data" / "clinc150" / "clinc150_train_val.json").read_text(encoding="utf-8"))
    skip = set(config["excluded"]) | {str(k) for k in config["mapped"]}
    oos = [Example(t, OUT_OF_SCOPE, "clinc:oos_val", "clinc_val") for t, _ in data["oos_val"]]
    negatives = [Example(t, OUT_OF_SCOPE, f"clinc_val:{label}", "clinc_val") for t, label in data["val"] if label not in skip]
    return oos, negatives
