"""Start fine-tuning from a served artifact's own weights instead of the base model.

A retraining run that starts again from the base model learns the whole task anew: with another
random head and another path through the data, its readings of the guard sets drift by a point or
two either way from the serving model's, which is more than the gate allows. Starting from the
serving model's weights, the candidate begins where serving is and only moves as far as the new
labels pull it.

The shipped artifact keeps no float checkpoint (it would triple its size); its weights live in the
ONNX graph that bot.training.graph wrote and bot.training.export quantized. This module reads them
back: every initializer is dequantized (int8 per-channel or per-tensor, `(q - zero_point) * scale`)
and mapped to the Hugging Face BERT parameter names, undoing the graph's folds (the fused
query/key/value, the attention scale folded into the query, the type-0 row folded into the
positions). What comes out is the network serving runs, in float: the int8 rounding is its weights.

Only the lean int8 graph (MatMulInteger/DynamicQuantizeLinear, or plain float) is read; a 4-bit
graph (MatMulNBits, the Japanese embedding table) raises WarmStartError, and the caller falls back
to the base model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class WarmStartError(ValueError):
    """The artifact's weights cannot be read back into a BERT classifier."""


def graph_weights(model_path: Path) -> dict[str, np.ndarray]:
    """Every float tensor of the ONNX graph by its graph name, quantized ones dequantized."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path))
    ops = {node.op_type for node in model.graph.node}
    if ops & {"MatMulNBits", "GatherBlockQuantized"}:
        raise WarmStartError(f"{model_path} holds 4-bit weights ({', '.join(sorted(ops & {'MatMulNBits', 'GatherBlockQuantized'}))})")
    raw = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    weights: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if name.endswith("_quantized"):
            base = name[: -len("_quantized")]
            scale, zero = raw[f"{base}_scale"].astype(np.float32), raw[f"{base}_zero_point"].astype(np.float32)
            q = value.astype(np.float32)
            if scale.ndim == 1 and scale.size > 1:
                # Per-channel: one scale per output column of the (in, out) MatMul weight.
                if q.ndim != 2 or q.shape[1] != scale.size:
                    raise WarmStartError(f"{name}: {q.shape} does not match {scale.size} per-channel scales")
                weights[base] = (q - zero[None, :]) * scale[None, :]
            else:
                weights[base] = (q - zero.reshape(())) * scale.reshape(())
        elif value.dtype == np.float32 and not name.endswith(("_scale", "_zero_point")):
            weights[name] = value
    return weights


def bert_state(weights: dict[str, np.ndarray], *, layers: int, heads: int) -> dict[str, np.ndarray]:
    """Hugging Face BertForSequenceClassification names (bert.*, classifier.*) from the lean graph's."""

    def get(name: str) -> np.ndarray:
        if name not in weights:
            raise WarmStartError(f"the graph has no weight {name!r}: not a lean classifier graph of bot.training.graph")
        return weights[name]

    def linear(graph_name: str) -> tuple[np.ndarray, np.ndarray]:
        # The graph's MatMul keeps (in, out); torch Linear keeps (out, in).
        return np.ascontiguousarray(get(f"{graph_name}.weight").T), get(f"{graph_name}.bias")

    positions = get("embeddings.position")
    hidden = positions.shape[1]
    head_dim = hidden // heads
    scale = np.float32(1.0 / np.sqrt(head_dim))
    state = {
        "bert.embeddings.word_embeddings.weight": get("embeddings.word"),
        # The graph adds the type-0 row to every position: kept there, with a zero type row
        # (single sentences are always type 0), it is the same sum.
        "bert.embeddings.position_embeddings.weight": positions,
        "bert.embeddings.token_type_embeddings.weight": np.zeros((2, hidden), np.float32),
        "bert.embeddings.LayerNorm.weight": get("embeddings.weight"),
        "bert.embeddings.LayerNorm.bias": get("embeddings.bias"),
    }
    for i in range(layers):
        p, g = f"bert.encoder.layer.{i}.", f"layer.{i}"
        if f"{g}/attention/self/qkv.weight" in weights:
            w, b = linear(f"{g}/attention/self/qkv")
            (wq, wk, wv), (bq, bk, bv) = np.split(w, 3), np.split(b, 3)
        else:  # the last layer: [CLS]-only query, keys and values fused
            wq, bq = linear(f"{g}/attention/self/query")
            w, b = linear(f"{g}/attention/self/key_value")
            (wk, wv), (bk, bv) = np.split(w, 2), np.split(b, 2)
        for part, (wx, bx) in (("query", (wq / scale, bq / scale)), ("key", (wk, bk)), ("value", (wv, bv))):
            state[f"{p}attention.self.{part}.weight"], state[f"{p}attention.self.{part}.bias"] = wx, bx
        for hf, graph_name in (("attention.output.dense", "attention/output/dense"), ("intermediate.dense", "intermediate/dense"),
                               ("output.dense", "output/dense")):
            state[f"{p}{hf}.weight"], state[f"{p}{hf}.bias"] = linear(f"{g}/{graph_name}")
        for hf, graph_name in (("attention.output.LayerNorm", "attention/output"), ("output.LayerNorm", "output")):
            state[f"{p}{hf}.weight"], state[f"{p}{hf}.bias"] = get(f"{g}/{graph_name}.weight"), get(f"{g}/{graph_name}.bias")
    if any(name.startswith(f"layer.{layers}/") for name in weights):
        raise WarmStartError(f"the graph has more than {layers} layers")
    state["bert.pooler.dense.weight"], state["bert.pooler.dense.bias"] = linear("pooler/dense")
    state["classifier.weight"], state["classifier.bias"] = linear("classifier")
    return state


def warm_start(model, artifact: Path, labels: list[str], log=print) -> str:
    """Load the artifact's network into `model` (a BertForSequenceClassification of the same shape).

    Classifier rows follow the labels by name: a label the artifact has keeps its row, a new one
    keeps the model's fresh row. Returns the artifact's version. Raises WarmStartError when the
    artifact is of another shape (layers, width, vocabulary) or format.
    """
    import torch

    artifact = Path(artifact)
    config = json.loads((artifact / "config.json").read_text(encoding="utf-8"))
    old_labels = json.loads((artifact / "labels.json").read_text(encoding="utf-8"))
    layers, heads = model.config.num_hidden_layers, model.config.num_attention_heads
    state = bert_state(graph_weights(artifact / config.get("model_file", "model.onnx")), layers=layers, heads=heads)
    own = model.state_dict()
    for name, value in state.items():
        if name.startswith("classifier."):
            continue
        if name not in own:
            raise WarmStartError(f"{artifact}: the model has no parameter {name}")
        if tuple(own[name].shape) != value.shape:
            raise WarmStartError(f"{artifact}: {name} is {value.shape}, the model's is {tuple(own[name].shape)}")
    loaded = {name: torch.from_numpy(np.array(value, dtype=np.float32)) for name, value in state.items() if not name.startswith("classifier.")}
    rows_w, rows_b = own["classifier.weight"].clone(), own["classifier.bias"].clone()
    kept = 0
    for i, label in enumerate(labels):
        if label in old_labels:
            j = old_labels.index(label)
            rows_w[i] = torch.from_numpy(np.array(state["classifier.weight"][j], dtype=np.float32))
            rows_b[i] = float(state["classifier.bias"][j])
            kept += 1
    loaded["classifier.weight"], loaded["classifier.bias"] = rows_w, rows_b
    missing, unexpected = model.load_state_dict(loaded, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise WarmStartError(f"{artifact}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    version = config.get("version", artifact.name)
    log(f"warm start: {version}'s weights ({kept} of {len(labels)} label rows kept)")
    return version
