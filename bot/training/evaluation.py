"""Evaluate an SLM artifact through the serving path (ONNX Runtime; no torch).

Measures, for the artifact's own held-out test split: accuracy and macro-F1 of the intent the
bot acts on, a per-intent table and the most confused pairs; on CLINC150's validation split:
out-of-scope recall; on bot/data/eval_shoppers.yaml (never trained or tuned on): accuracy;
and the latency of the model path (tokenization included) on one thread.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from bot.training import dataset as ds
from bot.training.metrics import OUT_OF_SCOPE, acted, classification_report


def _acted_and_raw(classifier, examples: list[ds.Example]) -> tuple[list[str], list[str], np.ndarray]:
    probs = classifier.probabilities([ex.text for ex in examples])
    raw = [classifier.labels[k] for k in probs.argmax(1)]
    return acted(classifier.labels, probs, classifier.threshold), raw, probs


def measure_latency(classifier, texts: list[str], repeats: int = 3) -> dict:
    """Per-message wall time of tokenization + ONNX Runtime + softmax, one message at a time."""
    for text in texts[:20]:
        classifier.model_probabilities(text)
    times = []
    for _ in range(repeats):
        for text in texts:
            t0 = time.perf_counter()
            classifier.model_probabilities(text)
            times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)), "n": len(times)}


def evaluate_artifact(artifact_dir: Path, *, shared_dir: Path, threads: int = 1, latency: bool = True) -> dict:
    from bot.slm.classifier import IntentClassifier

    classifier = IntentClassifier(artifact_dir, threads=threads)
    labels = classifier.labels
    language = classifier.config.get("language", "en")
    report: dict = {"version": classifier.version, "language": language, "threshold": classifier.threshold,
                    "temperature": classifier.temperature}

    test = ds.read_jsonl(Path(artifact_dir) / "test.jsonl")
    pred, raw, probs = _acted_and_raw(classifier, test)
    gold = [ex.intent for ex in test]
    report["test"] = classification_report(gold, pred, labels)
    report["test_raw"] = {k: v for k, v in classification_report(gold, raw, labels).items() if k in ("accuracy", "macro_f1")}
    in_scope = [i for i, g in enumerate(gold) if g != OUT_OF_SCOPE]
    report["test_in_scope_accuracy"] = float(np.mean([pred[i] == gold[i] for i in in_scope]))
    report["test_confidently_wrong"] = float(np.mean([p != g and p != OUT_OF_SCOPE for p, g in zip(pred, gold)]))

    dev_path = Path(artifact_dir) / "dev.jsonl"
    if dev_path.exists():
        dev = ds.read_jsonl(dev_path)
        dev_pred, _, _ = _acted_and_raw(classifier, dev)
        report["dev"] = {k: v for k, v in classification_report([e.intent for e in dev], dev_pred, labels).items() if k in ("n", "accuracy", "macro_f1")}

    clinc_file = Path(shared_dir) / "data" / "clinc150" / "clinc150_train_val.json"
    if language == "ja":
        from bot.training import japanese

        oos = japanese.load_eval(("eval_out_of_scope.yaml",))
        if oos:
            oos_pred, _, _ = _acted_and_raw(classifier, oos)
            report["ja_out_of_scope_recall"] = float(np.mean([p == OUT_OF_SCOPE for p in oos_pred]))
            report["ja_out_of_scope_n"] = len(oos)
    elif clinc_file.exists():
        oos_val, negatives_val = ds.load_clinc_val(shared_dir)
        oos_pred, _, _ = _acted_and_raw(classifier, oos_val)
        neg_pred, _, _ = _acted_and_raw(classifier, negatives_val)
        report["clinc_oos_val_recall"] = float(np.mean([p == OUT_OF_SCOPE for p in oos_pred]))
        report["clinc_oos_val_n"] = len(oos_val)
        report["clinc_val_unrelated_recall"] = float(np.mean([p == OUT_OF_SCOPE for p in neg_pred]))
        report["clinc_val_unrelated_n"] = len(negatives_val)
        missed = [ex.text for ex, p in zip(oos_val, oos_pred) if p != OUT_OF_SCOPE]
        report["clinc_oos_val_missed"] = missed[:15]

    if language == "ja":
        shoppers = japanese.load_eval(("eval_shoppers.yaml",))
    else:
        shoppers = ds.load_eval_shoppers()
    if not shoppers:  # the Japanese shopper set is not written yet: figures on the test split only
        report["model_bytes"] = (Path(artifact_dir) / classifier.config.get("model_file", "model.onnx")).stat().st_size
        if latency:
            report["latency_1_thread"] = measure_latency(classifier, [ex.text for ex in test][:300])
        return report
    sh_pred, sh_raw, sh_probs = _acted_and_raw(classifier, shoppers)
    sh_gold = [ex.intent for ex in shoppers]
    sh_report = classification_report(sh_gold, sh_pred, labels)
    report["eval_shoppers"] = {k: sh_report[k] for k in ("n", "accuracy", "macro_f1", "confused_pairs")}
    report["eval_shoppers"]["raw_accuracy"] = float(np.mean([r == g for r, g in zip(sh_raw, sh_gold)]))
    report["eval_shoppers"]["confidently_wrong"] = float(np.mean([p != g and p != OUT_OF_SCOPE for p, g in zip(sh_pred, sh_gold)]))
    report["eval_shoppers"]["errors"] = [
        {"text": ex.text, "gold": g, "pred": p, "confidence": round(float(pr.max()), 3)}
        for ex, g, p, pr in zip(shoppers, sh_gold, sh_pred, sh_probs)
        if g != p
    ]

    if latency:
        one = IntentClassifier(artifact_dir, threads=1) if threads != 1 else classifier
        report["latency_1_thread"] = measure_latency(one, [ex.text for ex in shoppers])
    report["model_bytes"] = (Path(artifact_dir) / classifier.config.get("model_file", "model.onnx")).stat().st_size
    return report


def write_model_card(artifact_dir: Path, report: dict) -> None:
    artifact_dir = Path(artifact_dir)
    config = json.loads((artifact_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("language", "en") == "ja":
        (artifact_dir / "MODEL_CARD.md").write_text(japanese_model_card(artifact_dir, config, report), encoding="utf-8")
        return
    data = report.get("data", {})
    t = report["test"]
    lat = report.get("latency_1_thread", {})
    per_intent = "\n".join(
        f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |"
        for label, row in sorted(t["per_intent"].items())
    )
    shoppers = report["eval_shoppers"]
    card = f"""# Shop assistant intent classifier — {config['version']}

Fine-tuned {config['base_model']} (all 6 encoder layers and a linear head) for the
{len(json.loads((artifact_dir / 'labels.json').read_text()))} intents of `shared/spec/intents.yaml`,
exported to ONNX and quantized to int8 ({config['quantization']}). Served by ONNX Runtime with
the `tokenizers` library; no torch at run time. Files: `model.onnx`, `tokenizer.json`,
`labels.json`, `config.json` (temperature, threshold, training settings), `dev.jsonl` and
`test.jsonl` (the held-out splits), `report.json` (all figures below and more).

## Data
- Bitext customer-support files (27 intents), de-duplicated across both files
  ({data.get('bitext_after_dedup', '?')} sentences after de-duplication), split by near-duplicate group.
- The project's own shopper-style examples and templates (`bot/data/intents/*.yaml`,
  {data.get('own_examples', '?')} sentences), split by source line so no template straddles splits.
- CLINC150 *train*: out-of-scope negatives from classes unrelated to a shop, and its greeting,
  goodbye, thanks, yes, no and order-status classes mapped onto the shop's intents
  (`bot/data/clinc.yaml`). CLINC150 *validation* is used for evaluation only.
- Agent-labelled shopper messages from the database: {data.get('agent_labelled', 0)}.
- Train split only: Bitext and own lines rewritten towards shopper style (case, typos,
  punctuation, slang, greetings, order numbers).
- Sizes: train {data.get('train', '?')}, dev {data.get('dev', '?')}, test {data.get('test', '?')};
  data fingerprint `{config.get('data_fingerprint')}`.

## Training
{warm_start_text(config)}{config['training'].get('epochs')} epochs, batch {config['training'].get('batch_size')}, learning rate
{config.get('recipe', config['training']).get('learning_rate')}, max {config['max_length']} tokens, seed {config['training'].get('seed')},
{config.get('torch_threads')} torch threads: {config.get('train_seconds')} s of training.

## Confidence
Temperature scaling fitted on the dev split: T = {config['temperature']}. Below a calibrated
confidence of {config['threshold']:.2f} the bot acts on `out_of_scope` (chosen on the dev split:
the best in-scope accuracy + out-of-scope recall costing at most 1 point of in-scope accuracy).

## Metrics (`python manage.py evaluate_slm`)
| measure | value |
|---|---|
| held-out test split: accuracy (acted intent) | {t['accuracy']:.4f} |
| held-out test split: macro-F1 | {t['macro_f1']:.4f} |
| held-out test split: in-scope accuracy | {report['test_in_scope_accuracy']:.4f} |
| held-out test split: confidently wrong | {report['test_confidently_wrong']:.4f} |
| CLINC150 validation `oos_val` out-of-scope recall | {report.get('clinc_oos_val_recall', float('nan')):.4f} (n={report.get('clinc_oos_val_n')}) |
| CLINC150 validation, unrelated in-domain classes, out-of-scope recall | {report.get('clinc_val_unrelated_recall', float('nan')):.4f} (n={report.get('clinc_val_unrelated_n')}) |
| independent shopper set (`bot/data/eval_shoppers.yaml`): accuracy | {shoppers['accuracy']:.4f} (n={shoppers['n']}) |
| independent shopper set: macro-F1 | {shoppers['macro_f1']:.4f} |
| independent shopper set: confidently wrong | {shoppers['confidently_wrong']:.4f} |
| int8 vs fp32 agreement on test | {config.get('int8_vs_fp32', {}).get('agreement', float('nan')):.4f} |
| latency, model path incl. tokenization, 1 thread: p50 / p95 | {lat.get('p50_ms', float('nan')):.2f} ms / {lat.get('p95_ms', float('nan')):.2f} ms |
| model file | {report['model_bytes'] / 1e6:.1f} MB |

The test split is drawn from the same sources as training; the shopper set is the better guide
to real traffic. Known limits: English only; the taxonomy's close pairs (get_refund vs
return_item vs track_refund, delivery_period vs track_order, check_invoice vs get_invoice)
depend on wording; entity extraction is rule- and gazetteer-based.

### Per intent (test split)
| intent | precision | recall | F1 | n |
|---|---|---|---|---|
{per_intent}
"""
    (artifact_dir / "MODEL_CARD.md").write_text(card, encoding="utf-8")


def warm_start_text(config: dict) -> str:
    """The model card's account of a run that started from another artifact (bot.training.warm_start)."""
    training = config.get("training", {})
    if not config.get("warm_start"):
        return ""
    focus = ", ".join(f"`{f}`" for f in training.get("focus") or []) or "none"
    return (
        f"Started from the network of {config['warm_start']} (its int8 ONNX weights read back, "
        f"`bot/training/warm_start.py`), not from the base model. Rehearsal: "
        f"{'every' if training.get('replay') else 'no sample;'} agent label and focused example ({focus}) "
        f"x{training.get('agent_repeat', 1)}, learnt as labelled, and "
        f"{training.get('replay') or 'all'} of the other training examples, learnt "
        f"{'as ' + config['warm_start'] + ' reads them (distillation weight ' + str(config.get('recipe', training).get('distill_weight')) + ')' if training.get('teacher') else 'as labelled'}. "
        f"{frozen_text(config)}"
        f"Dev and test are {config['warm_start']}'s own splits plus the focused examples' held-out share, "
        "so neither model trained on them.\n\n"
    )


def frozen_text(config: dict) -> str:
    frozen = (config.get("recipe") or {}).get("frozen_layers") or 0
    if not frozen:
        return ""
    return (f"The embeddings and the bottom {frozen} of {config.get('layers')} encoder layers stayed as "
            f"{config['warm_start']} has them; only the layers above, the pooler and the head learnt. ")


def splits_from_text(data: dict) -> str:
    """The card's line for a run judged on another artifact's splits (train_slm --splits-from)."""
    if not data.get("splits_from"):
        return ""
    which = data.get("splits_from_version") or "the artifact"
    return (f" Dev and test are {which}'s own (`{data['splits_from']}/dev.jsonl` and `test.jsonl` when this run "
            "started), so both models are judged on the same messages; none of them, no "
            "variant of one in width, digits or punctuation and no restyled copy was trained on.")


def japanese_model_card(artifact_dir: Path, config: dict, report: dict) -> str:
    data = report.get("data", {})
    t = report["test"]
    lat = report.get("latency_1_thread", {})
    shoppers = report.get("eval_shoppers", {})
    per_intent = "\n".join(
        f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |"
        for label, row in sorted(t["per_intent"].items())
    )
    training = config["training"]

    def figure(value, n=None):
        if value is None:
            return "not measured (the set was not there)"
        return f"{value:.4f}" + (f" (n={n})" if n else "")

    return f"""# Japanese intent classifier — {config['version']}

The classifier for messages written in Japanese (bot.language: any kana or kanji), served next
to the English one (`bot/slm_artifact`) and chosen per message by script. Fine-tuned from
{config['base_model']} ({config['base_model_path']}): its first {config['layers']} of 12 encoder
layers, a pooler and a linear head for the {len(json.loads((artifact_dir / 'labels.json').read_text()))}
intents of `shared/spec/intents.yaml`; vocabulary pruned from 250,002 to {config.get('vocabulary_size')}
pieces (bot.training.e5.select_vocabulary: every kana, common kanji, Latin, digit, punctuation,
emoji piece; every piece of the training sentences, slot fillers and English common words; the
{training.get('vocabulary_pieces')} most probable Japanese pieces). Exported as the lean BERT graph
and quantized to int8 ({config['quantization']}); ONNX Runtime and `tokenizers` at run time.

## Data
`bot/data/ja/intents/*.yaml` ({data.get('own_examples', '?')} sentences after template expansion), split by
written line / template into train {data.get('train', '?')} (balanced and restyled: full/half-width,
half-width kana, kana swaps, IME slips, punctuation, openings, emoji), dev {data.get('dev', '?')},
test {data.get('test', '?')}; fingerprint `{config.get('data_fingerprint')}`.{splits_from_text(data)} The evaluation sets
`bot/data/ja/eval_shoppers.yaml` and `eval_out_of_scope.yaml` are never trained, calibrated or tuned on.

## Training
{training.get('epochs')} epochs, batch {training.get('batch_size')}, learning rate {training.get('learning_rate')},
max {config['max_length']} tokens, seed {training.get('seed')}, {config.get('torch_threads')} torch threads:
{config.get('train_seconds')} s (base model built from the packages included). Reproduce:
`python manage.py train_slm --language ja --epochs {training.get('epochs')} --learning-rate {training.get('learning_rate')} --head-learning-rate {training.get('head_learning_rate') or training.get('learning_rate')}{' --splits-from ' + training['splits_from'] if training.get('splits_from') else ''} --output artifacts/slm/ja`.

## Confidence
Temperature fitted on the Japanese dev split: T = {config['temperature']}; threshold {config['threshold']:.2f}
(the English artifact has its own).

## Metrics (`python manage.py evaluate_slm --language ja`)
| measure | value |
|---|---|
| held-out test split: accuracy (acted intent) | {t['accuracy']:.4f} (n={t['n']}) |
| held-out test split: macro-F1 | {t['macro_f1']:.4f} |
| held-out test split: in-scope accuracy | {report['test_in_scope_accuracy']:.4f} |
| Japanese shopper set (`eval_shoppers.yaml`): accuracy | {figure(shoppers.get('accuracy'), shoppers.get('n'))} |
| Japanese shopper set: macro-F1 | {figure(shoppers.get('macro_f1'))} |
| Japanese out-of-scope set: recall | {figure(report.get('ja_out_of_scope_recall'), report.get('ja_out_of_scope_n'))} |
| int8 vs fp32 agreement on test | {config.get('int8_vs_fp32', {}).get('agreement', float('nan')):.4f} |
| latency, model path incl. tokenization, 1 thread: p50 / p95 | {lat.get('p50_ms', float('nan')):.2f} ms / {lat.get('p95_ms', float('nan')):.2f} ms |
| model file | {report['model_bytes'] / 1e6:.1f} MB |

### Per intent (test split)
| intent | precision | recall | F1 | n |
|---|---|---|---|---|
{per_intent}
"""
