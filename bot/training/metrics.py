"""Classification metrics, calibration and the out-of-scope threshold (numpy only)."""

from __future__ import annotations

from collections import Counter

import numpy as np

OUT_OF_SCOPE = "out_of_scope"


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """Temperature scaling (Guo et al. 2017): the T that minimises the dev split's NLL."""
    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.log(np.clip(p[np.arange(len(gold)), gold], 1e-12, None)).mean())

    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 121))
    best = min(grid, key=nll)
    # refine around the best grid point
    fine = np.linspace(best * 0.95, best * 1.05, 41)
    return float(min(fine, key=nll))


def acted(labels: list[str], probs: np.ndarray, threshold: float) -> list[str]:
    """The intent the bot acts on: the argmax, or out_of_scope below the threshold."""
    top = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    return [labels[k] if c >= threshold else OUT_OF_SCOPE for k, c in zip(top, conf)]


def choose_threshold(labels: list[str], probs: np.ndarray, gold: list[str], max_in_scope_loss: float = 0.01) -> dict:
    """The confidence threshold below which the bot says it is unsure.

    Picked on the dev split: the threshold that maximises in-scope accuracy plus out-of-scope
    recall, among those that cost in-scope accuracy at most `max_in_scope_loss` against no
    threshold at all. In-scope accuracy here is the mean over intents (macro), so the intents
    with few examples weigh as much as the big public ones. Ties go to the higher threshold.
    """
    gold_arr = np.array(gold)
    in_scope = gold_arr != OUT_OF_SCOPE
    intents = sorted(set(gold_arr[in_scope]))
    rows = []
    for t in np.round(np.arange(0.0, 0.96, 0.01), 2):
        pred = np.array(acted(labels, probs, t))
        in_acc = float(np.mean([(pred[gold_arr == i] == i).mean() for i in intents])) if intents else 0.0
        oos_rec = float((pred[~in_scope] == OUT_OF_SCOPE).mean()) if (~in_scope).any() else 0.0
        wrong_confident = float(((pred != gold_arr) & (pred != OUT_OF_SCOPE)).mean())
        micro = float((pred[in_scope] == gold_arr[in_scope]).mean()) if in_scope.any() else 0.0
        rows.append((float(t), in_acc, oos_rec, wrong_confident, micro))
    base_acc = rows[0][1]
    allowed = [r for r in rows if r[1] >= base_acc - max_in_scope_loss]
    best_score = max(r[1] + r[2] for r in allowed)
    chosen = max((r for r in allowed if r[1] + r[2] >= best_score - 0.002), key=lambda r: r[0])
    return {
        "threshold": chosen[0],
        "dev_in_scope_accuracy": chosen[4],
        "dev_in_scope_macro_accuracy": chosen[1],
        "dev_oos_recall": chosen[2],
        "dev_confidently_wrong": chosen[3],
        "dev_in_scope_macro_accuracy_without_threshold": base_acc,
    }


def classification_report(gold: list[str], pred: list[str], labels: list[str]) -> dict:
    """Accuracy, macro-F1 over the labels present in gold, a per-intent table, confused pairs."""
    gold_arr, pred_arr = np.array(gold), np.array(pred)
    per_intent = {}
    f1s = []
    present = [l for l in labels if l in set(gold)]
    for label in present:
        tp = int(((pred_arr == label) & (gold_arr == label)).sum())
        fp = int(((pred_arr == label) & (gold_arr != label)).sum())
        fn = int(((pred_arr != label) & (gold_arr == label)).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
        f1s.append(f1)
    confused = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    return {
        "n": len(gold),
        "accuracy": float((gold_arr == pred_arr).mean()) if len(gold) else 0.0,
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "per_intent": per_intent,
        "confused_pairs": [[g, p, n] for (g, p), n in confused.most_common(15)],
    }


def format_report(report: dict, title: str) -> str:
    lines = [f"{title}: n={report['n']}  accuracy={report['accuracy']:.4f}  macro-F1={report['macro_f1']:.4f}"]
    return "\n".join(lines)


def format_per_intent(report: dict) -> str:
    lines = [f"{'intent':28s} {'prec':>6s} {'recall':>6s} {'f1':>6s} {'n':>5s}"]
    for label, row in sorted(report["per_intent"].items(), key=lambda kv: kv[1]["f1"]):
        lines.append(f"{label:28s} {row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f} {row['support']:5d}")
    return "\n".join(lines)
