"""bot.training.graph: the lean ONNX BERT graph computes what the Hugging Face model computes."""

from __future__ import annotations

import collections

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
ort = pytest.importorskip("onnxruntime")

from bot.training.graph import BertShape, build_bert_graph  # noqa: E402


def tiny_bert(labels: int = 5, layers: int = 3):
    torch.manual_seed(3)
    config = transformers.BertConfig(
        vocab_size=120, hidden_size=48, num_hidden_layers=layers, num_attention_heads=4, intermediate_size=96,
        max_position_embeddings=64, num_labels=labels, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        attn_implementation="eager",
    )
    model = transformers.BertForSequenceClassification(config).eval()
    with torch.no_grad():  # non-trivial type-0 row and biases, so folding them is really tested
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model


def padded_batch():
    rng = np.random.default_rng(0)
    lengths = [7, 3, 12, 1]
    ids = np.zeros((len(lengths), max(lengths)), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(1, 120, size=n)
        mask[row, :n] = 1
    return ids, mask


def session(model_proto):
    return ort.InferenceSession(model_proto.SerializeToString(), providers=["CPUExecutionProvider"])


def shape_of(model) -> BertShape:
    return BertShape.of(model.config)


def test_classifier_logits_match_the_torch_model_on_a_padded_batch():
    model = tiny_bert()
    ids, mask = padded_batch()
    with torch.no_grad():
        expected = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                         token_type_ids=torch.zeros(ids.shape, dtype=torch.long)).logits.numpy()
    graph = build_bert_graph(model.state_dict(), shape_of(model))
    (logits,) = session(graph).run(["logits"], {"input_ids": ids, "attention_mask": mask})
    assert logits.shape == expected.shape
    np.testing.assert_allclose(logits, expected, atol=2e-5)


def test_one_message_alone_gives_the_same_logits_as_inside_a_padded_batch():
    model = tiny_bert()
    ids, mask = padded_batch()
    sess = session(build_bert_graph(model.state_dict(), shape_of(model)))
    (batch,) = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})
    n = int(mask[2].sum())
    (alone,) = sess.run(["logits"], {"input_ids": ids[2:3, :n], "attention_mask": mask[2:3, :n]})
    np.testing.assert_allclose(alone[0], batch[2], atol=2e-5)


def test_token_states_match_the_torch_encoder_where_the_mask_is_set():
    model = tiny_bert(layers=2)
    ids, mask = padded_batch()
    with torch.no_grad():
        expected = model.bert(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                              token_type_ids=torch.zeros(ids.shape, dtype=torch.long)).last_hidden_state.numpy()
    graph = build_bert_graph(model.state_dict(), shape_of(model), classifier=False)
    (states,) = session(graph).run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
    keep = mask.astype(bool)
    np.testing.assert_allclose(states[keep], expected[keep], atol=2e-5)


def test_the_graph_has_no_shape_arithmetic_and_one_qkv_matmul_per_layer():
    model = tiny_bert(layers=3)
    graph = build_bert_graph(model.state_dict(), shape_of(model))
    ops = collections.Counter(n.op_type for n in graph.graph.node)
    assert ops["Shape"] == 1  # the sequence length, for the position table
    assert ops["Concat"] == ops["Gather"] - 1 == ops["Unsqueeze"] - 1 == 0
    # Per layer: QKV (or key+value in the [CLS]-only last layer, plus its query), output, FFN x2;
    # then the pooler and the classifier.
    weight_matmuls = [n for n in graph.graph.node if n.op_type == "MatMul" and n.input[1].endswith(".weight")]
    assert len(weight_matmuls) == 3 * 4 + 1 + 2


def test_int8_quantization_of_the_lean_graph_keeps_the_argmax(tmp_path):
    import onnx

    from bot.training.export import quantize_int8

    model = tiny_bert()
    graph = build_bert_graph(model.state_dict(), shape_of(model))
    onnx.save(graph, str(tmp_path / "fp32.onnx"))
    quantize_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    quantized = onnx.load(str(tmp_path / "int8.onnx"))
    assert not [n for n in quantized.graph.node if n.op_type == "MatMul" and n.input[1].endswith(".weight")]
    ids, mask = padded_batch()
    feeds = {"input_ids": ids, "attention_mask": mask}
    (fp32,) = session(graph).run(["logits"], feeds)
    (int8,) = ort.InferenceSession(str(tmp_path / "int8.onnx"), providers=["CPUExecutionProvider"]).run(["logits"], feeds)
    np.testing.assert_allclose(int8, fp32, atol=0.05)


def test_blockwise_int8_token_states_stay_close_and_do_not_depend_on_the_batch(tmp_path):
    import onnx

    from bot.training.export import quantize_weights_int8

    model = tiny_bert()
    graph = build_bert_graph(model.state_dict(), shape_of(model), classifier=False)
    onnx.save(graph, str(tmp_path / "fp32.onnx"))
    # Block 32 does not divide the hidden size 48: the last block of those weights is padded.
    quantize_weights_int8(tmp_path / "fp32.onnx", tmp_path / "blockwise.onnx", block_size=32)
    quantized = onnx.load(str(tmp_path / "blockwise.onnx"))
    ops = collections.Counter(n.op_type for n in quantized.graph.node)
    assert ops["MatMulNBits"] == 3 * 4 and not [n for n in quantized.graph.node if n.op_type == "MatMul" and n.input[1].endswith(".weight")]
    ids, mask = padded_batch()
    feeds = {"input_ids": ids, "attention_mask": mask}
    (fp32,) = session(graph).run(["last_hidden_state"], feeds)
    blockwise = ort.InferenceSession(str(tmp_path / "blockwise.onnx"), providers=["CPUExecutionProvider"])
    (int8,) = blockwise.run(["last_hidden_state"], feeds)
    real = mask.astype(bool)
    cos = (fp32[real] * int8[real]).sum(-1) / np.linalg.norm(fp32[real], axis=-1) / np.linalg.norm(int8[real], axis=-1)
    assert cos.min() > 0.999
    # Each message alone gives the token states it gets inside the padded batch.
    for row, n in enumerate(mask.sum(1)):
        (alone,) = blockwise.run(["last_hidden_state"], {"input_ids": ids[row : row + 1, :n], "attention_mask": mask[row : row + 1, :n]})
        np.testing.assert_allclose(alone[0], int8[row, :n], atol=1e-4)
