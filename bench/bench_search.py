"""Search bench: the assistant's knowledge-base and product search on the demo shop, in English
and Japanese, against a labelled set (bot/data/search_eval.yaml, written by hand).

Builds the demo shop on a fresh SQLite file (migrate, seed_demo), indexes it as the chat does,
then asks every question and reports, per language:

- articles: hit@1 (the first article is the labelled one), hit@3, and found-nothing;
- quoted in the asked language: of the hits, the share whose quote is in the question's language;
- unrelated questions answered with nothing (the bar works);
- products: hit@3 (one of the labelled products among the first three);
- latency: p50 / p95 of knowledge_search and of product_search (embedding included), one thread.

    .venv/bin/python bench/bench_search.py [--json var/bench_search.json]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(db_path: Path) -> None:
    os.environ.update({"DEBUG": "1", "SQLITE_PATH": str(db_path), "DJANGO_SETTINGS_MODULE": "support.settings"})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0.0


def _language_of(text: str) -> str:
    return "ja" if any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in text) else "en"


def run(eval_path: Path) -> dict:
    import yaml
    from django.utils import translation

    from bot.knowledge import knowledge_index_refresh, knowledge_search
    from bot.products import product_index_refresh, product_search

    data = yaml.safe_load(eval_path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    knowledge_index_refresh()
    product_index_refresh()
    index_seconds = time.perf_counter() - started
    takes_language = "language" in inspect.signature(knowledge_search).parameters
    report: dict = {"index_seconds": round(index_seconds, 1)}
    for language in ("en", "ja"):
        with translation.override(language):
            k_ms, p_ms = [], []
            hit1 = hit3 = none = quoted_same = 0
            misses = []
            questions = data["articles"].get(language, [])
            for item in questions:
                kwargs = {"language": language} if takes_language else {}
                t = time.perf_counter()
                found = knowledge_search(query=item["q"], limit=3, **kwargs)
                k_ms.append((time.perf_counter() - t) * 1000)
                slugs = [p.url.rstrip("/").rsplit("/", 1)[-1] for p in found]
                hit1 += bool(slugs) and slugs[0] == item["slug"]
                hit3 += item["slug"] in slugs
                none += not found
                if slugs and slugs[0] == item["slug"]:
                    quoted_same += _language_of(found[0].text) == language
                else:
                    misses.append({"q": item["q"], "want": item["slug"], "got": slugs})
            unrelated = data.get("unrelated", {}).get(language, [])
            silent = sum(not knowledge_search(query=q, limit=3, **({"language": language} if takes_language else {})) for q in unrelated)
            p_hit = 0
            p_misses = []
            for item in data["products"].get(language, []):
                t = time.perf_counter()
                found = product_search(query=item["q"], limit=3)
                p_ms.append((time.perf_counter() - t) * 1000)
                names = [p.name for p in found]
                ok = bool(set(names) & set(item["names"]))
                p_hit += ok
                if not ok:
                    p_misses.append({"q": item["q"], "got": names})
            n, m = len(questions), len(data["products"].get(language, []))
            report[language] = {
                "articles": n,
                "hit@1": round(hit1 / n, 3) if n else None,
                "hit@3": round(hit3 / n, 3) if n else None,
                "found_nothing": none,
                "quoted_in_language": round(quoted_same / hit1, 3) if hit1 else None,
                "unrelated_silent": f"{silent}/{len(unrelated)}",
                "products": m,
                "product_hit@3": round(p_hit / m, 3) if m else None,
                "knowledge_ms_p50": round(_pct(k_ms, 0.5), 1),
                "knowledge_ms_p95": round(_pct(k_ms, 0.95), 1),
                "product_ms_p50": round(_pct(p_ms, 0.5), 1),
                "article_misses": misses,
                "product_misses": p_misses,
            }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default=str(ROOT / "bot" / "data" / "search_eval.yaml"))
    parser.add_argument("--json", default="", help="also write the whole report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _setup(Path(tmp) / "bench_search.sqlite3")
        report = run(Path(args.set))
    for language in ("en", "ja"):
        r = report[language]
        print(
            f"{language}: articles hit@1 {r['hit@1']} hit@3 {r['hit@3']} (none {r['found_nothing']}/{r['articles']}), "
            f"quoted in {language} {r['quoted_in_language']}, unrelated silent {r['unrelated_silent']}; "
            f"products hit@3 {r['product_hit@3']} ({r['products']}); knowledge p50 {r['knowledge_ms_p50']} ms "
            f"p95 {r['knowledge_ms_p95']} ms, product p50 {r['product_ms_p50']} ms"
        )
    print(f"indexing the demo shop: {report['index_seconds']} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
