"""The Japanese classifier's training data (``build_splits(language="ja")``).

Sources: bot/data/ja/intents/*.yaml (the project's own Japanese shopper messages, same format
as the English files: `examples` used as written, `templates` filled from bot/data/ja/slots.yaml).
Splits are made per *group* (one written line, or all expansions of one template) before any
augmentation, as for English, so dev and test hold phrasings never trained on. The Japanese
evaluation sets (bot/data/ja/eval_shoppers.yaml, eval_out_of_scope.yaml) are read only to
drop their sentences from every split.

Augmentation (train split only) is the way Japanese shoppers type: full- and half-width digits
and letters, half-width katakana, hiragana typed where katakana belongs (and the reverse), an
IME slip (a repeated or dropped kana, a small kana made big), punctuation dropped or doubled,
emoji and kaomoji, polite openings (お世話になっております、すみません), order numbers added
the ways shoppers write them.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from bot.training import dataset as ds

JA_DIR = ds.DATA_DIR / "ja"
EVAL_FILES = ("eval_shoppers.yaml", "eval_out_of_scope.yaml")

_FULL = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
_HALF_KANA = str.maketrans(dict(zip(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォャュョッー",
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｬｭｮｯｰ",
)))
_SMALL_TO_BIG = str.maketrans("ぁぃぅぇぉゃゅょっァィゥェォャュョッ", "あいうえおやゆよつアイウエオヤユヨツ")


def normalise(text: str) -> str:
    """De-duplication key for Japanese: NFKC, lower case, digits as 0, no punctuation or spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\d+", "0", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def load_vocabulary() -> ds.Vocabulary:
    slots = yaml.safe_load((JA_DIR / "slots.yaml").read_text(encoding="utf-8"))
    return ds.Vocabulary(
        [(name, name) for name in slots["products"]], slots["things"], slots["categories"], slots["colours"],
        [str(s) for s in slots["sizes"]], slots,
    )


_BARE_BEFORE = re.compile(r"(注文番号|ご注文番号|注文|番号|No\.?|NO\.?|ＮＯ．|＃|#|オーダー)\s*$", re.I)


def order_number(rng: random.Random, vocab: ds.Vocabulary, bare: bool = False) -> str:
    n = str(rng.randint(10000, 999999) if rng.random() < 0.3 else rng.randint(10000, 99999))
    fmt = rng.choice(vocab.slots["order_bare" if bare else "order_formats"])
    return fmt.format(n=n, w=n.translate(_FULL), s=f"{n[:-3]} {n[-3:]}")


def fill_template(template: str, rng: random.Random, vocab: ds.Vocabulary) -> str:
    s = vocab.slots
    pick = {name: (lambda name=name: str(rng.choice(s[name]))) for name in
            ("emails", "countries", "cities", "prefectures", "postcodes", "carriers", "prices", "codes", "rmas",
             "days", "weeks", "dates", "names", "payment")}
    fillers = {
        "product": lambda: rng.choice(vocab.products)[0],
        "thing": lambda: rng.choice(vocab.things),
        "category": lambda: rng.choice(vocab.categories),
        "colour": lambda: rng.choice(vocab.colours),
        "size": lambda: rng.choice(vocab.sizes),
        "email": pick["emails"], "country": pick["countries"], "city": pick["cities"],
        "prefecture": pick["prefectures"], "postcode": pick["postcodes"], "carrier": pick["carriers"],
        "price": pick["prices"], "code": pick["codes"], "rma": pick["rmas"], "days": pick["days"],
        "weeks": pick["weeks"], "date": pick["dates"], "name": pick["names"], "payment": pick["payment"],
    }

    def replace(match: re.Match) -> str:
        slot = match.group(1)
        if slot == "order":
            return order_number(rng, vocab, bare=bool(_BARE_BEFORE.search(template[: match.start()])))
        if slot not in fillers:
            raise ValueError(f"unknown slot {{{slot}}} in template {template!r}")
        return fillers[slot]()

    return re.sub(r"\{(\w+)\}", replace, template)


def load_own(vocab: ds.Vocabulary, rng: random.Random, expansions: int = 4, directory: Path | None = None) -> list[ds.Example]:
    examples = []
    for path in sorted((directory or JA_DIR / "intents").glob("*.yaml")):
        for intent, block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            for i, text in enumerate(block.get("examples") or []):
                examples.append(ds.Example(str(text), intent, f"ja:{path.stem}", f"ja:{path.stem}:{intent}:e{i}"))
            for j, template in enumerate(block.get("templates") or []):
                seen = set()
                for _ in range(expansions):
                    text = fill_template(str(template), rng, vocab)
                    if text not in seen:
                        seen.add(text)
                        examples.append(ds.Example(text, intent, f"ja:{path.stem}:template", f"ja:{path.stem}:{intent}:t{j}"))
    return examples


def load_eval(names: tuple[str, ...] = EVAL_FILES) -> list[ds.Example]:
    """The Japanese evaluation sets (intent -> messages): evaluation only."""
    examples = []
    for name in names:
        path = JA_DIR / name
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, list):  # a plain list of out-of-scope messages
            data = {ds.OUT_OF_SCOPE: data}
        examples += [ds.Example(str(t), intent, f"ja_eval:{path.stem}", f"ja_eval:{path.stem}:{i}")
                     for intent, texts in data.items() for i, t in enumerate(texts or [])]
    return examples


# --- shopper-style augmentation ---------------------------------------------------------------

_OPENINGS = ["すみません、", "すみません。", "お世話になっております。", "こんにちは。", "こんにちは、", "あの、", "質問です。",
             "お忙しいところすみません。", "失礼します。", "はじめまして。", "至急！", "ちょっと聞きたいんですが、", "度々すみません。"]
_CLOSINGS = ["。よろしくお願いします。", "よろしくお願いします", "お願いします🙏", "お願いします！", "？", "？？", "!!", "…", "ｗ",
             "(´・ω・｀)", "😢", "🙇‍♀️", "（泣）", "m(_ _)m", "。お手数ですがよろしくお願いいたします。", "です", "！"]
_EMOJI = ["😊", "🙏", "💦", "😭", "✨", "😅", "(^^;", "(>_<)", "orz", "w"]


def _kana_swap(text: str, rng: random.Random) -> str:
    """One kana run written in the other script (ありがとう -> アリガトウ), as a slip or for effect."""
    runs = list(re.finditer(r"[\u3041-\u3096]{2,}|[\u30a1-\u30f6]{2,}", text))
    if not runs:
        return text
    m = rng.choice(runs)
    run = m.group(0)
    swapped = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else chr(ord(c) - 0x60) for c in run)
    return text[: m.start()] + swapped + text[m.end():]


def _ime_slip(text: str, rng: random.Random) -> str:
    """A typing slip: a kana doubled or dropped, a small kana made big."""
    positions = [i for i, c in enumerate(text) if "\u3041" <= c <= "\u30f6"]
    if not positions:
        return text
    i = rng.choice(positions)
    roll = rng.random()
    if roll < 0.4:
        return text[:i] + text[i] + text[i:]
    if roll < 0.75 and len(text) > 4:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i].translate(_SMALL_TO_BIG) + text[i + 1:]


def japanese_style(text: str, intent: str, rng: random.Random, vocab: ds.Vocabulary) -> str:
    """One random rewrite of a Japanese line the way shoppers type it."""
    out = text
    if intent in ds.SAYS_ORDER_NUMBER and rng.random() < 0.3 and not re.search(r"[\d０-９]", out):
        number = order_number(rng, vocab)
        out = f"{number} {out}" if rng.random() < 0.4 else f"{out.rstrip('。？?')}。{number}"
    roll = rng.random()
    if roll < 0.25:
        out = out.translate(_FULL)  # digits and Latin letters full-width
    elif roll < 0.4:
        out = unicodedata.normalize("NFKC", out)  # everything half-width ASCII
    if rng.random() < 0.08:
        out = out.translate(_HALF_KANA)
    if rng.random() < 0.15:
        out = _kana_swap(out, rng)
    if rng.random() < 0.2:
        out = _ime_slip(out, rng)
    if rng.random() < 0.3:
        out = re.sub(r"[。、？！?!]", "", out) if rng.random() < 0.5 else out.rstrip("。？！?!")
    if rng.random() < 0.1:
        out = out.replace("、", " ").replace("。", " ")
    if intent not in ds.CONVERSATION and intent != ds.OUT_OF_SCOPE:
        if rng.random() < 0.2:
            out = rng.choice(_OPENINGS) + out
        if rng.random() < 0.25:
            out = out + rng.choice(_CLOSINGS)
    elif rng.random() < 0.15:
        out = out + rng.choice(_EMOJI)
    return " ".join(out.split()) or text


def build_splits(*, shared_dir: Path, seed: int = 13, own_min_per_intent: int = 160, dev: float = 0.1,
                 test: float = 0.1, max_per_intent: int | None = None, intents_dir: Path | None = None,
                 include_agent_labels: bool = True) -> ds.Splits:
    """The written Japanese examples, split by group, the train split balanced and restyled; plus
    the agents' labels of Japanese messages (all to training, twice, as the English ones)."""
    rng = random.Random(seed)
    labels = ds.load_labels(shared_dir)
    vocab = load_vocabulary()
    own = load_own(vocab, rng, directory=intents_dir)
    unknown = {ex.intent for ex in own} - set(labels)
    if unknown:
        raise ValueError(f"Japanese examples with intents that are not in intents.yaml: {sorted(unknown)}")
    held_out = {normalise(ex.text) for ex in load_eval()}
    seen: set[str] = set()
    pool, dropped = [], 0
    for ex in own:
        key = normalise(ex.text)
        if key in held_out:
            dropped += 1
            continue
        if not key or key in seen:
            continue
        seen.add(key)
        pool.append(ex)

    train, dev_part, test_part = ds.split_by_group(pool, rng, dev, test)

    by_intent: dict[str, list[ds.Example]] = defaultdict(list)
    for ex in train:
        by_intent[ex.intent].append(ex)
    balanced: list[ds.Example] = []
    for intent in labels:
        items = by_intent.get(intent, [])
        balanced += items
        for k in range(max(0, own_min_per_intent - len(items)) if items else 0):
            ex = items[k % len(items)]
            balanced.append(ds.Example(japanese_style(ex.text, intent, rng, vocab), intent, ex.source, ex.group))
        # Every line also once restyled, so the clean and the typed form are both seen.
        balanced += [ds.Example(japanese_style(ex.text, intent, rng, vocab), intent, ex.source, ex.group)
                     for ex in items if rng.random() < 0.5]
    train = [ex for ex in balanced if normalise(ex.text) not in held_out]
    agent = ds.load_agent_labelled(labels, language="ja") if include_agent_labels else []
    agent = [ex for ex in agent if normalise(ex.text) not in held_out]
    train += [ex for ex in agent for _ in range(2)]

    if max_per_intent:
        def cap(part):
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
        "language": "ja",
        "sources": dict(Counter(ex.source.split(":")[0] for ex in pool)),
        "own_examples": len(own),
        "dropped_as_eval_sentences": dropped,
        "agent_labelled": len(agent),
        "train": len(train),
        "dev": len(dev_part),
        "test": len(test_part),
        "train_per_intent": dict(sorted(Counter(ex.intent for ex in train).items())),
        "test_per_intent": dict(sorted(Counter(ex.intent for ex in test_part).items())),
    }
    return ds.Splits(train, dev_part, test_part, labels, stats)


def vocabulary_texts(splits: ds.Splits) -> list[str]:
    """What the pruned e5 vocabulary must segment exactly as the full one: every Japanese
    training sentence, the slot vocabulary, and the shop's English product names and nouns
    (English words mixed into Japanese are otherwise read in smaller pieces)."""
    vocab = load_vocabulary()
    texts = [ex.text for ex in splits.train]  # not dev/test: they are segmented as unseen text is
    for key, values in vocab.slots.items():
        if isinstance(values, list):
            texts += [str(v) for v in values]
    shop = yaml.safe_load((ds.DATA_DIR / "products.yaml").read_text(encoding="utf-8"))
    texts += [p["name"] for p in shop["products"]] + [str(t) for t in shop["things"]]
    return texts
