"""A lean ONNX graph of a BERT encoder, written from its weights (needs numpy and onnx only).

torch.onnx.export of the Hugging Face model traces every shape computation of eager attention
and of the attention-mask helpers: a 6-layer MiniLM comes out as about 500 nodes, of which more
than half are Shape/Gather/Unsqueeze/Concat glue. For a 12-token message that glue costs as much
as a layer. This module writes the same network directly:

  - constant reshape shapes (0 copies a dimension, -1 infers it), so no shape arithmetic;
  - query, key and value as one MatMul (one int8 GEMM after quantization instead of three),
    with the attention scale folded into the query weights;
  - the token-type row (always type 0 for single sentences) folded into the position table;
  - for a classifier, the last layer computes only the [CLS] row: the pooler reads nothing else.

The numbers are those of the Hugging Face model (checked against it in tests/bot/training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BertShape:
    layers: int
    hidden: int
    heads: int
    eps: float = 1e-12

    @classmethod
    def of(cls, config) -> "BertShape":
        """From a Hugging Face BertConfig."""
        return cls(config.num_hidden_layers, config.hidden_size, config.num_attention_heads, float(config.layer_norm_eps))


def _np(tensor) -> np.ndarray:
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().cpu().float().numpy()
    return np.asarray(tensor, dtype=np.float32)


class _Graph:
    """Nodes and initializers under construction."""

    def __init__(self):
        self.nodes: list = []
        self.inits: list = []

    def const(self, name: str, value) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, outputs: int = 1, **attrs):
        from onnx import helper

        outs = [f"{name}_out{k}" if outputs > 1 else f"{name}_out" for k in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs if outputs > 1 else outs[0]

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        # torch Linear keeps (out, in); MatMul wants (in, out).
        y = self.node("MatMul", [x, self.const(f"{name}.weight", np.ascontiguousarray(weight.T))], f"{name}/MatMul")
        return self.node("Add", [y, self.const(f"{name}.bias", bias)], f"{name}/Add")

    def layer_norm(self, x: str, name: str, gamma: np.ndarray, beta: np.ndarray, eps: float) -> str:
        return self.node("LayerNormalization", [x, self.const(f"{name}.weight", gamma), self.const(f"{name}.bias", beta)],
                         f"{name}/LayerNorm", axis=-1, epsilon=eps)

    def split(self, x: str, sizes: list[int], name: str) -> list[str]:
        return self.node("Split", [x, self.const(f"{name}.sizes", np.array(sizes, np.int64))], name, outputs=len(sizes), axis=-1)

    def gelu(self, x: str, name: str) -> str:
        # Exact (erf) GELU, as BERT's "gelu": 0.5 * x * (1 + erf(x / sqrt(2))); ONNX Runtime fuses it.
        e = self.node("Erf", [self.node("Div", [x, self.const(f"{name}.sqrt2", np.array(np.sqrt(2.0), np.float32))], f"{name}/Div")],
                      f"{name}/Erf")
        y = self.node("Mul", [x, self.node("Add", [e, self.const(f"{name}.one", np.array(1.0, np.float32))], f"{name}/Add")],
                      f"{name}/Mul")
        return self.node("Mul", [y, self.const(f"{name}.half", np.array(0.5, np.float32))], f"{name}/Mul_1")


def build_bert_graph(state: dict, shape: BertShape, *, prefix: str = "bert.", classifier: bool = True, opset: int = 17):
    """An onnx.ModelProto: inputs input_ids and attention_mask (batch, sequence, int64).

    classifier=True: output "logits" (batch, labels) from the pooler and classifier weights in
    `state` ("<prefix>pooler.dense.*", "classifier.*"). classifier=False: output
    "last_hidden_state" (batch, sequence, hidden), for sentence embeddings.
    """
    import onnx
    from onnx import TensorProto, helper

    hidden, heads, eps = shape.hidden, shape.heads, shape.eps
    head_dim = hidden // heads
    g = _Graph()

    def w(name: str) -> np.ndarray:
        return _np(state[prefix + name] if prefix + name in state else state[name])

    # Embeddings: words + positions (+ the type-0 row, folded into the positions).
    word = g.node("Gather", [g.const("embeddings.word", w("embeddings.word_embeddings.weight")), "input_ids"], "embeddings/word/Gather")
    positions = w("embeddings.position_embeddings.weight") + w("embeddings.token_type_embeddings.weight")[0]
    seq_len = g.node("Shape", ["input_ids"], "embeddings/Shape", start=1, end=2)
    pos = g.node("Slice", [g.const("embeddings.position", positions), g.const("zero_1d", np.array([0], np.int64)), seq_len,
                           g.const("axis0", np.array([0], np.int64))], "embeddings/position/Slice")
    x = g.node("Add", [word, pos], "embeddings/Add")
    x = g.layer_norm(x, "embeddings", w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps)

    # Additive attention bias: 0 where the mask is 1, the float minimum where it is 0 (as HF).
    maskf = g.node("Cast", ["attention_mask"], "mask/Cast", to=TensorProto.FLOAT)
    inverted = g.node("Sub", [g.const("one", np.array(1.0, np.float32)), maskf], "mask/Sub")
    bias = g.node("Mul", [inverted, g.const("float_min", np.array(np.finfo(np.float32).min, np.float32))], "mask/Mul")
    bias = g.node("Unsqueeze", [bias, g.const("axes_1_2", np.array([1, 2], np.int64))], "mask/Unsqueeze")  # (B,1,1,S)

    split_heads = g.const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge_heads = g.const("merge_heads", np.array([0, 0, hidden], np.int64))
    scale = np.float32(1.0 / np.sqrt(head_dim))
    cls_slice = [g.const("cls_start", np.array([0], np.int64)), g.const("cls_end", np.array([1], np.int64)),
                 g.const("axis1", np.array([1], np.int64))] if classifier else []

    for i in range(shape.layers):
        p = f"encoder.layer.{i}."
        name = f"layer.{i}"
        wq, bq = w(p + "attention.self.query.weight") * scale, w(p + "attention.self.query.bias") * scale
        wk, bk = w(p + "attention.self.key.weight"), w(p + "attention.self.key.bias")
        wv, bv = w(p + "attention.self.value.weight"), w(p + "attention.self.value.bias")
        if classifier and i == shape.layers - 1:
            # Keys and values from every token; the query, and everything after it, for [CLS] only.
            kv = g.linear(x, np.concatenate([wk, wv]), np.concatenate([bk, bv]), f"{name}/attention/self/key_value")
            k, v = g.split(kv, [hidden, hidden], f"{name}/attention/self/kv_Split")
            x = g.node("Slice", [x, *cls_slice], f"{name}/cls/Slice")  # (B,1,H)
            q = g.linear(x, wq, bq, f"{name}/attention/self/query")
        else:
            qkv = g.linear(x, np.concatenate([wq, wk, wv]), np.concatenate([bq, bk, bv]), f"{name}/attention/self/qkv")
            q, k, v = g.split(qkv, [hidden, hidden, hidden], f"{name}/attention/self/qkv_Split")
        q = g.node("Transpose", [g.node("Reshape", [q, split_heads], f"{name}/q/Reshape")], f"{name}/q/Transpose", perm=[0, 2, 1, 3])
        k = g.node("Transpose", [g.node("Reshape", [k, split_heads], f"{name}/k/Reshape")], f"{name}/k/Transpose", perm=[0, 2, 3, 1])
        v = g.node("Transpose", [g.node("Reshape", [v, split_heads], f"{name}/v/Reshape")], f"{name}/v/Transpose", perm=[0, 2, 1, 3])
        scores = g.node("Add", [g.node("MatMul", [q, k], f"{name}/scores/MatMul"), bias], f"{name}/scores/Add")
        probs = g.node("Softmax", [scores], f"{name}/Softmax", axis=-1)
        ctx = g.node("MatMul", [probs, v], f"{name}/context/MatMul")
        ctx = g.node("Reshape", [g.node("Transpose", [ctx], f"{name}/context/Transpose", perm=[0, 2, 1, 3]), merge_heads],
                     f"{name}/context/Reshape")
        attn = g.linear(ctx, w(p + "attention.output.dense.weight"), w(p + "attention.output.dense.bias"), f"{name}/attention/output/dense")
        x = g.layer_norm(g.node("Add", [attn, x], f"{name}/attention/output/Add"), f"{name}/attention/output",
                         w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias"), eps)
        h = g.linear(x, w(p + "intermediate.dense.weight"), w(p + "intermediate.dense.bias"), f"{name}/intermediate/dense")
        h = g.gelu(h, f"{name}/intermediate/gelu")
        out = g.linear(h, w(p + "output.dense.weight"), w(p + "output.dense.bias"), f"{name}/output/dense")
        x = g.layer_norm(g.node("Add", [out, x], f"{name}/output/Add"), f"{name}/output",
                         w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"), eps)

    if classifier:
        labels = _np(state["classifier.bias"]).shape[0]
        cls = g.node("Squeeze", [x, g.const("axis1_squeeze", np.array([1], np.int64))], "pooler/Squeeze")  # (B,H)
        pooled = g.node("Tanh", [g.linear(cls, w("pooler.dense.weight"), w("pooler.dense.bias"), "pooler/dense")], "pooler/Tanh")
        logits = g.linear(pooled, _np(state["classifier.weight"]), _np(state["classifier.bias"]), "classifier")
        g.nodes.append(helper.make_node("Identity", [logits], ["logits"], name="logits/Identity"))
        outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", labels])]
    else:
        g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="last_hidden_state/Identity"))
        outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden])]

    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
    ]
    graph = helper.make_graph(g.nodes, "bert", inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="bot.training.graph")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
