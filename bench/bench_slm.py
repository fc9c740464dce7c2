"""Benchmark the intent classifier's model path: fine-tuned PyTorch fp32 vs. the shipped ONNX int8.

In one run, on the same messages, one thread each, tokenization included, alternating in blocks
of 50 messages:
  - PyTorch: the fine-tuned checkpoint train_slm keeps in <run>/torch (fp32, eager);
  - ONNX Runtime: the int8 artifact the bot serves (bot.slm.classifier).
Prints p50/p95 per message for each and the speed-up, then the peak RSS of a fresh serving
process that loads only the ONNX path (Django set up, the classifier loaded, 500 messages
classified), measured in a subprocess with resource.getrusage.

    .venv/bin/python bench/bench_slm.py [--torch-dir artifacts/slm/<run>/torch] [--artifact bot/slm_artifact]
    .venv/bin/python bench/bench_slm.py --language ja [--torch-dir <the Japanese run>/torch]

--language ja: the Japanese artifact (bot/slm_artifact_ja) on the Japanese shopper set and its
test split; the serving process then loads both classifiers (English and Japanese), as a
deployment serving both languages does, and reports that process's RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVING_PROCESS = """
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")
language = sys.argv[2]
os.environ["SLM_ARTIFACT_DIR_JA" if language == "ja" else "SLM_ARTIFACT_DIR"] = sys.argv[1]
import django
django.setup()
from bot.slm import get_classifier
messages = json.loads(sys.stdin.read())
started = time.perf_counter()
classifier = get_classifier(language)
load_s = time.perf_counter() - started
if language != "en":
    get_classifier("en").classify("where is my order?")  # a deployment serving both languages holds both
for text in messages:
    classifier.classify(text)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "transformers"})
# VmHWM is this process image's own peak; ru_maxrss can carry the parent's size over fork+exec.
hwm_kb = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) if os.path.exists("/proc/self/status") else None
print(json.dumps({"peak_rss_mb": (hwm_kb or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024,
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "load_s": load_s,
                  "messages": len(messages), "heavy_modules": heavy}))
"""


BLOCK = 50


def latest_torch_dir(language: str = "en") -> Path | None:
    def language_of(torch_dir: Path) -> str:
        config = torch_dir.parent / "artifact" / "config.json"
        return json.loads(config.read_text()).get("language", "en") if config.exists() else "en"

    runs = sorted((p for p in (ROOT / "artifacts" / "slm").glob("*/torch") if language_of(p) == language), key=lambda p: p.stat().st_mtime)
    return runs[-1] if runs else None


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def load_messages(artifact: Path, n: int, language: str = "en") -> list[str]:
    from bot.training.dataset import load_eval_shoppers, read_jsonl

    if language == "ja":
        from bot.training.japanese import load_eval

        texts = [ex.text for ex in load_eval(("eval_shoppers.yaml",))]
    else:
        texts = [ex.text for ex in load_eval_shoppers()]
    test = artifact / "test.jsonl"
    if test.exists():
        texts += [ex.text for ex in read_jsonl(test)]
    random.Random(7).shuffle(texts)
    return texts[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", default="en", choices=["en", "ja"])
    parser.add_argument("--artifact", default="", help="default: bot/slm_artifact (en), bot/slm_artifact_ja (ja)")
    parser.add_argument("--torch-dir", default="", help="fine-tuned PyTorch checkpoint (default: newest artifacts/slm/*/torch)")
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--json", default="", help="also write the results here")
    args = parser.parse_args()
    artifact = Path(args.artifact or ROOT / "bot" / ("slm_artifact_ja" if args.language == "ja" else "slm_artifact"))
    messages = load_messages(artifact, args.messages, args.language)
    results: dict = {"language": args.language, "messages": len(messages), "artifact": str(artifact)}

    # The serving process first, from a parent that has loaded neither model nor torch.
    proc = subprocess.run(
        [sys.executable, "-c", SERVING_PROCESS, str(artifact), args.language],
        input=json.dumps(messages[:500]), capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    if proc.returncode != 0:
        print("serving process failed:\n" + proc.stderr[-2000:])
        return 1
    serving = json.loads(proc.stdout.strip().splitlines()[-1])
    results["serving_process"] = serving
    serving_line = (f"serving process   : peak RSS {serving['peak_rss_mb']:.0f} MB after loading the ONNX path"
          f"{' (Japanese and English classifiers)' if args.language != 'en' else ''} "
          f"({serving['load_s']:.2f} s) and classifying {serving['messages']} messages; "
          f"torch/transformers imported: {serving['heavy_modules'] or 'none'}")

    from bot.slm.classifier import IntentClassifier

    onnx = IntentClassifier(artifact, threads=1)
    torch_dir = Path(args.torch_dir) if args.torch_dir else latest_torch_dir(args.language)
    torch_model = None
    if torch_dir is None or not (torch_dir / "config.json").exists():
        print(f"PyTorch checkpoint MISSING ({torch_dir or 'no artifacts/slm/*/torch'}): run `python manage.py train_slm` "
              "(it keeps <output>/torch) or pass --torch-dir; timing the ONNX path only.")
    else:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModelForSequenceClassification
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        torch.set_num_threads(1)
        torch_model = AutoModelForSequenceClassification.from_pretrained(str(torch_dir), attn_implementation="eager").eval()
        torch_tok = Tokenizer.from_file(str(torch_dir / "tokenizer.json"))
        torch_tok.no_padding()
        torch_tok.enable_truncation(max_length=onnx.max_length)
        results["torch_dir"] = str(torch_dir)

        def torch_path(text: str):
            ids = torch.tensor([torch_tok.encode(text).ids])
            with torch.inference_mode():
                logits = torch_model(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids)).logits
            return torch.softmax(logits[0] / onnx.temperature, -1)

    # Warm up both, then alternate in blocks of BLOCK messages: load on a shared machine hits both
    # alike, and each path runs with its own weights in the CPU caches, as in its own serving
    # process (message-by-message alternation let the 90 MB fp32 model evict the int8 one).
    for text in messages[:30]:
        onnx.model_probabilities(text)
        if torch_model is not None:
            torch_path(text)
    onnx_ms, torch_ms, agree = [], [], 0
    onnx_top: list[int] = []
    for start in range(0, len(messages), BLOCK):
        block = messages[start : start + BLOCK]
        for text in block:
            t0 = time.perf_counter()
            p_onnx = onnx.model_probabilities(text)
            onnx_ms.append((time.perf_counter() - t0) * 1000)
            onnx_top.append(int(p_onnx.argmax()))
        if torch_model is not None:
            for k, text in enumerate(block):
                t0 = time.perf_counter()
                p_torch = torch_path(text)
                torch_ms.append((time.perf_counter() - t0) * 1000)
                agree += int(onnx_top[start + k] == int(p_torch.argmax()))

    results["onnx_int8"] = {"p50_ms": percentile(onnx_ms, 50), "p95_ms": percentile(onnx_ms, 95)}
    print(f"messages: {len(messages)} ({args.language} shopper set + test split), 1 thread each, tokenization included")
    print(f"ONNX Runtime int8 : p50 {results['onnx_int8']['p50_ms']:6.2f} ms   p95 {results['onnx_int8']['p95_ms']:6.2f} ms")
    if torch_model is not None:
        results["torch_fp32"] = {"p50_ms": percentile(torch_ms, 50), "p95_ms": percentile(torch_ms, 95)}
        results["speedup_p50"] = results["torch_fp32"]["p50_ms"] / results["onnx_int8"]["p50_ms"]
        results["speedup_p95"] = results["torch_fp32"]["p95_ms"] / results["onnx_int8"]["p95_ms"]
        results["argmax_agreement"] = agree / len(messages)
        print(f"PyTorch fp32      : p50 {results['torch_fp32']['p50_ms']:6.2f} ms   p95 {results['torch_fp32']['p95_ms']:6.2f} ms")
        print(f"speed-up (p50)    : {results['speedup_p50']:.1f}x   (p95 {results['speedup_p95']:.1f}x); "
              f"same top intent on {results['argmax_agreement']:.1%} of messages")

    print(serving_line)
    try:
        load = os.getloadavg()[0]
        results["load_average_1min"] = load
        print(f"machine load (1 min average): {load:.1f} on {os.cpu_count()} CPUs")
    except OSError:
        pass
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
