"""Shop-independent training examples: shopping requests about products the model never saw.

A request for a product is a product question whatever the product: "do you have dog beds",
"best sunscreen for oily skin", "kettlebell price". The templates of bot/data/open_shop.yaml
(per intent) are crossed with OPEN vocabularies — the leaf names of Google's product taxonomy
(shared/data/product_taxonomy/google_product_taxonomy.tsv, singular and plural, lowercase) and
the domain lists of the YAML (electronics, groceries, cosmetics, supplements, furniture, sport,
books, toys, pets, fashion) — and with slots written for several markets (India, US, UK, EU,
Japan): pincodes and ZIP codes, wallets and instalments, rupee/dollar/pound/euro/yen budgets.

All expansions of one template share a group, so the test split holds whole templates unseen.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import yaml

from bot.adaptation import plural, singular
from typing import Callable

OPEN_SHOP_FILE = Path(__file__).resolve().parents[1] / "data" / "open_shop.yaml"
TAXONOMY = Path("data") / "product_taxonomy" / "google_product_taxonomy.tsv"
# Top-level taxonomy branches whose leaves are not shop products the assistant should learn from.
SKIPPED_BRANCHES = ("Mature", "Religious & Ceremonial", "Vehicles & Parts")
MAX_NAME_WORDS = 4


def taxonomy_names(shared_dir: Path) -> list[str]:
    """Lowercase leaf names of the product taxonomy, split on '&' and ',' ("Cat Beds" -> "cat beds")."""
    path = Path(shared_dir) / TAXONOMY
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) < 3 or parts[2].strip() != "1" or parts[0].startswith(SKIPPED_BRANCHES):
            continue
        leaf = parts[0].split(" > ")[-1]
        for piece in re.split(r"\s*(?:&|,| and )\s*", leaf):
            piece = piece.strip().lower()
            if piece and "(" not in piece and len(piece.split()) <= MAX_NAME_WORDS and re.fullmatch(r"[a-z0-9' -]+", piece):
                names.add(piece)
    return sorted(names)


def load_open_shop(
    shared_dir: Path, *, held_out: set[str], normalise: Callable[[str], str], seed: int = 13, expansions: int = 6
) -> list[tuple[str, str, int]]:
    """The generated (text, intent, template index) triples, `expansions` fillings per template.

    bot.training.dataset turns them into its examples; `held_out` holds the normalised sentences
    of the shopper sets (never trained on), `normalise` is dataset's normaliser. This module
    imports nothing from dataset, so the two form no import cycle."""
    rng = random.Random(seed)
    data = yaml.safe_load(OPEN_SHOP_FILE.read_text(encoding="utf-8"))
    domain_items = [item for items in data["domains"].values() for item in items]
    taxonomy = taxonomy_names(shared_dir)

    def item() -> str:
        # Half from the taxonomy's thousands of leaves, half from the hand-written domain lists.
        return singular(rng.choice(taxonomy)) if rng.random() < 0.5 else rng.choice(domain_items)

    fillers = {
        "item": item,
        "items": lambda: plural(item()),
        "brand": lambda: rng.choice(data["brands"]),
        "adj": lambda: rng.choice(data["adjectives"]),
        "use": lambda: rng.choice(data["uses"]),
        "recipient": lambda: rng.choice(data["recipients"]),
        "budget": lambda: rng.choice(data["budgets"]),
        "size": lambda: rng.choice(data["sizes"]),
        "wallet": lambda: rng.choice(data["wallets"]),
        "place": lambda: rng.choice(data["places"]),
        "country": lambda: rng.choice(data["countries"]),
        "days": lambda: rng.choice(data["days"]),
    }

    def fill(template: str) -> str:
        def replace(match: re.Match) -> str:
            slot = match.group(1)
            if slot not in fillers:
                raise ValueError(f"unknown slot {{{slot}}} in open_shop template {template!r}")
            return str(fillers[slot]())

        return re.sub(r"\{(\w+)\}", replace, template)

    # The shopper sets stay unseen: a filling that happens to equal one of their sentences is dropped.
    examples = []
    for intent, templates in data["intents"].items():
        for j, template in enumerate(templates):
            seen: set[str] = set()
            n = expansions if "{" in template else 1
            for _ in range(n * 2):
                if len(seen) >= n:
                    break
                text = fill(template)
                if text in seen:
                    continue
                seen.add(text)
                if normalise(text) in held_out:
                    continue
                examples.append((text, intent, j))
    return examples
