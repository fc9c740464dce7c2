"""bot.training.warm_start: an artifact's ONNX weights read back into the BERT classifier serving runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from bot.training.graph import BertShape, build_bert_graph  # noqa: E402
from bot.training.warm_start import WarmStartError, bert_state, graph_weights, warm_start  # noqa: E402
from tests.bot.test_training_graph import padded_batch, tiny_bert  # noqa: E402

LABELS = ["a", "b", "c", "d", "e"]


def torch_logits(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                     token_type_ids=torch.zeros(ids.shape, dtype=torch.long)).logits.numpy()


def write_artifact(folder, model, *, quantized: bool, labels=LABELS):
    folder.mkdir()
    graph = build_bert_graph(model.state_dict(), BertShape.of(model.config))
    onnx.save(graph, str(folder / "fp32.onnx"))
    if quantized:
        from bot.training.export import quantize_int8

        quantize_int8(folder / "fp32.onnx", folder / "model.onnx")
    else:
        (folder / "fp32.onnx").rename(folder / "model.onnx")
    (folder / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps({"version": "slm-test", "model_file": "model.onnx"}), encoding="utf-8")
    return folder


def fresh_like(model, labels=LABELS):
    torch.manual_seed(99)
    config = transformers.BertConfig(**{**model.config.to_dict(), "num_labels": len(labels)})
    return transformers.BertForSequenceClassification(config).eval()


def test_a_float_graph_reads_back_to_exactly_the_same_network(tmp_path):
    model = tiny_bert()
    artifact = write_artifact(tmp_path / "artifact", model, quantized=False)
    student = fresh_like(model)
    ids, mask = padded_batch()
    assert not np.allclose(torch_logits(student, ids, mask), torch_logits(model, ids, mask), atol=1e-3)

    assert warm_start(student, artifact, LABELS, log=lambda line: None) == "slm-test"

    np.testing.assert_allclose(torch_logits(student, ids, mask), torch_logits(model, ids, mask), atol=2e-5)
    own = model.state_dict()
    for name, value in student.state_dict().items():
        if "token_type" in name or "position_embeddings" in name or "position_ids" in name:
            continue  # the type-0 row is folded into the positions
        np.testing.assert_allclose(value.numpy(), own[name].numpy(), atol=1e-6, err_msg=name)


def test_an_int8_artifact_reads_back_to_the_network_serving_runs(tmp_path):
    model = tiny_bert()
    artifact = write_artifact(tmp_path / "artifact", model, quantized=True)
    student = fresh_like(model)
    warm_start(student, artifact, LABELS, log=lambda line: None)
    ids, mask = padded_batch()
    served = ort.InferenceSession(str(artifact / "model.onnx"), providers=["CPUExecutionProvider"])
    (int8,) = served.run(["logits"], {"input_ids": ids, "attention_mask": mask})
    ours = torch_logits(student, ids, mask)
    np.testing.assert_allclose(ours, int8, atol=0.05)
    np.testing.assert_array_equal(ours.argmax(-1), int8.argmax(-1))
    # Each dequantized weight is within half a quantization step of the float one.
    weights = graph_weights(artifact / "model.onnx")
    state = bert_state(weights, layers=3, heads=4)
    original = model.state_dict()["bert.encoder.layer.1.intermediate.dense.weight"].numpy()
    step = np.abs(original).max() / 127
    assert np.abs(state["bert.encoder.layer.1.intermediate.dense.weight"] - original).max() <= step


def test_classifier_rows_follow_the_labels_by_name_and_a_new_label_keeps_its_fresh_row(tmp_path):
    model = tiny_bert()
    artifact = write_artifact(tmp_path / "artifact", model, quantized=False)
    labels = ["c", "a", "new", "b", "e", "d"]
    student = fresh_like(model, labels)
    fresh_row = student.classifier.weight[2].detach().clone()
    warm_start(student, artifact, labels, log=lambda line: None)
    old = model.classifier.weight.detach()
    for i, label in enumerate(labels):
        if label == "new":
            assert torch.equal(student.classifier.weight[i].detach(), fresh_row)
        else:
            torch.testing.assert_close(student.classifier.weight[i].detach(), old[LABELS.index(label)])


def test_an_artifact_of_another_shape_is_refused(tmp_path):
    artifact = write_artifact(tmp_path / "artifact", tiny_bert(layers=3), quantized=False)
    with pytest.raises(WarmStartError, match="more than 2 layers"):
        warm_start(fresh_like(tiny_bert(layers=2)), artifact, LABELS, log=lambda line: None)
    wider = transformers.BertConfig(vocab_size=120, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                                    intermediate_size=96, max_position_embeddings=64, num_labels=5)
    with pytest.raises(WarmStartError, match=r"is \(120, 48\), the model.s is \(120, 64\)"):
        warm_start(transformers.BertForSequenceClassification(wider), artifact, LABELS, log=lambda line: None)


def test_the_trainer_falls_back_to_the_base_model_when_the_artifact_cannot_be_read(tmp_path):
    from bot.training.trainer import TrainConfig, _warm_start

    model = tiny_bert()
    artifact = write_artifact(tmp_path / "artifact", model, quantized=False)
    base = tmp_path / "base"
    base.mkdir()
    (base / "tokenizer.json").write_text("{}", encoding="utf-8")
    (artifact / "tokenizer.json").write_text('{"other": 1}', encoding="utf-8")
    lines = []
    config = TrainConfig(output=tmp_path / "out", shared_dir=tmp_path, init_from=str(artifact))
    assert _warm_start(config, fresh_like(model), base, LABELS, lines.append) == ""
    assert "another tokenizer" in lines[-1] and "base model" in lines[-1]

    (artifact / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert _warm_start(config, fresh_like(model), base, LABELS, lines.append) == "slm-test"


def test_rehearsal_keeps_every_agent_label_repeated_and_a_stratified_sample_of_the_rest(tmp_path):
    from collections import Counter

    from bot.training.dataset import Example
    from bot.training.trainer import TrainConfig, _replay_sample

    train = [Example(text=f"a{i}", intent="a", source="own", group=f"a{i}") for i in range(300)]
    train += [Example(text=f"b{i}", intent="b", source="own", group=f"b{i}") for i in range(100)]
    train += [Example(text=f"z{i}", intent="b", source="agent", group=f"z{i}") for i in range(5)]
    config = TrainConfig(output=tmp_path, shared_dir=tmp_path, replay=40, agent_repeat=3)
    lines = []
    sample = _replay_sample(train, config, lines.append)
    others = Counter(ex.intent for ex in sample if ex.source != "agent")
    assert others == {"a": 30, "b": 10}  # the split's own proportions
    assert Counter(ex.text for ex in sample if ex.source == "agent") == {f"z{i}": 3 for i in range(5)}
    assert lines == ["rehearsal: 40 of 400 examples and 5 agent label(s) or focused example(s) x3"]
    assert _replay_sample(train, config, lines.append) == sample  # seeded: the same run gives the same sample


def test_a_repeated_label_keeps_its_wording_and_draws_its_numbers_again(tmp_path):
    import re

    from bot.training.dataset import Example
    from bot.training.trainer import TrainConfig, _replay_sample

    label = Example(text="pls share AWB for order NW-10042 by 5pm", intent="track_order", source="agent", group="m1")
    config = TrainConfig(output=tmp_path, shared_dir=tmp_path, replay=0, agent_repeat=8)
    copies = [ex.text for ex in _replay_sample([label], config, lambda line: None)]
    assert len(copies) == 8 and label.text in copies
    assert all(re.fullmatch(r"pls share AWB for order NW-\d{5} by 5pm", text) for text in copies)
    assert len(set(copies)) > 4  # not eight copies of one order number
    assert {ex.intent for ex in _replay_sample([label], config, lambda line: None)} == {"track_order"}


def test_a_focused_source_is_kept_whole_and_repeated_like_agent_labels(tmp_path):
    from bot.training.dataset import Example
    from bot.training.trainer import TrainConfig, _replay_sample, focused

    config = TrainConfig(output=tmp_path, shared_dir=tmp_path, replay=10, agent_repeat=2, focus=("own:more_voices",))
    new = [Example(text=f"n{i}", intent="a", source="own:more_voices", group=f"n{i}") for i in range(3)]
    new += [Example(text="t0", intent="a", source="own:more_voices:template", group="t0")]
    old = [Example(text=f"o{i}", intent="a", source="own:more_voicesX", group=f"o{i}") for i in range(50)]
    assert [focused(ex, config) for ex in (new[0], new[3], old[0])] == [True, True, False]
    sample = _replay_sample(new + old, config, lambda line: None)
    assert sorted(ex.text for ex in sample if ex.source.startswith("own:more_voices:") or ex.source == "own:more_voices") == sorted(
        [f"n{i}" for i in range(3)] * 2 + ["t0"] * 2)
    assert sum(ex.source == "own:more_voicesX" for ex in sample) == 10


def test_a_run_from_an_ancestor_keeps_its_dev_and_test_and_trains_on_nothing_it_held_out(tmp_path):
    from bot.training.dataset import Example, Splits, write_jsonl
    from bot.training.trainer import TrainConfig, _ancestor_splits

    def ex(text, source="own:a"):
        return Example(text=text, intent="a", source=source, group=text)

    ancestor = tmp_path / "ancestor"
    ancestor.mkdir()
    write_jsonl(ancestor / "dev.jsonl", [ex("d1"), ex("d2")])
    write_jsonl(ancestor / "test.jsonl", [ex("t1"), ex("gone")])  # "gone": no longer in the data, still judged
    # This run's own shuffle put an old training message into test and an old test one into train.
    splits = Splits(train=[ex("t1"), ex("x1"), ex("n1", "own:new")], dev=[ex("d1"), ex("n2", "own:new")],
                    test=[ex("x2"), ex("d2"), ex("n3", "own:new")], labels=["a"], stats={})
    config = TrainConfig(output=tmp_path, shared_dir=tmp_path, init_from=str(ancestor), focus=("own:new",))
    out = _ancestor_splits(splits, ancestor, config, lambda line: None)
    assert sorted(e.text for e in out.dev) == ["d1", "d2", "n2"]
    assert sorted(e.text for e in out.test) == ["gone", "n3", "t1"]
    assert sorted(e.text for e in out.train) == ["n1", "x1", "x2"]
    # An ancestor without its splits: this run's own.
    assert _ancestor_splits(splits, tmp_path / "none", config, lambda line: None) is splits


def test_a_japanese_run_judged_on_an_artifacts_splits_trains_on_no_variant_of_its_held_out_messages(tmp_path):
    """--splits-from without a warm start: a run from the base model on more data keeps the
    artifact's dev and test; a new line that is a held-out one in other widths, digits or
    punctuation (the Japanese data's de-duplication key), or a restyled copy of one (its group), does
    not go to train."""
    from bot.training.dataset import Example, Splits, write_jsonl
    from bot.training.trainer import TrainConfig, _ancestor_splits

    def ex(text, group=None):
        return Example(text=text, intent="a", source="ja:more_c1", group=group or text)

    artifact = tmp_path / "ja"
    artifact.mkdir()
    write_jsonl(artifact / "dev.jsonl", [ex("返品したいです")])
    write_jsonl(artifact / "test.jsonl", [ex("注文番号12345はどこ？")])
    (artifact / "config.json").write_text('{"version": "slm-ja-1"}', encoding="utf-8")
    splits = Splits(train=[ex("注文番号１２３４５はどこ"), ex("荷物まだ？"), ex("へんぴんしたいです", group="返品したいです")],
                    dev=[ex("返品したいです！")], test=[ex("新しい文")], labels=["a"], stats={})
    config = TrainConfig(output=tmp_path, shared_dir=tmp_path, splits_from=str(artifact), language="ja")
    out = _ancestor_splits(splits, artifact, config, lambda line: None)
    assert [e.text for e in out.dev] == ["返品したいです"]
    assert [e.text for e in out.test] == ["注文番号12345はどこ？"]
    assert sorted(e.text for e in out.train) == ["新しい文", "荷物まだ？"]
    assert out.stats["splits_from"] == str(artifact) and out.stats["splits_from_version"] == "slm-ja-1"
    from bot.training.evaluation import splits_from_text

    assert "Dev and test are slm-ja-1's own" in splits_from_text(out.stats)


def test_train_slm_refuses_a_rehearsal_without_an_ancestor_and_an_ancestor_that_is_no_artifact(tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--replay rehearses a network that already knows the task"):
        call_command("train_slm", "--replay", "100", "--output", str(tmp_path / "out"))
    with pytest.raises(CommandError, match="--freeze keeps the bottom layers of a network that already knows the task"):
        call_command("train_slm", "--freeze", "4", "--output", str(tmp_path / "out"))
    with pytest.raises(CommandError, match="is not an SLM artifact folder"):
        call_command("train_slm", "--init-from", str(tmp_path), "--output", str(tmp_path / "out"))
    with pytest.raises(CommandError, match="ships no dev/test split"):
        call_command("train_slm", "--splits-from", str(tmp_path), "--output", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_warm_start_that_fails_trains_with_the_base_models_whole_recipe(tmp_path):
    from bot.training.trainer import TrainConfig, recipe

    config = TrainConfig(output=tmp_path, shared_dir=tmp_path, learning_rate=8e-5, head_learning_rate=8e-4, distill_weight=0.5,
                         warm_learning_rate=3e-5, warm_distill_weight=1.0)
    assert recipe(config, warmed=True) == (3e-5, 3e-5, 1.0)
    assert recipe(config, warmed=False) == (8e-5, 8e-4, 0.5)
    plain = TrainConfig(output=tmp_path, shared_dir=tmp_path, learning_rate=8e-5, distill_weight=0.5)
    assert recipe(plain, warmed=True) == recipe(plain, warmed=False) == (8e-5, 8e-5, 0.5)


def test_a_warm_start_freezes_the_embeddings_and_the_bottom_layers_and_always_lets_the_top_one_learn():
    from bot.training.trainer import _freeze_bottom

    def learning(model) -> set[str]:
        return {name.split(".")[0] if not name.startswith("bert.") else ".".join(name.split(".")[1:4])
                for name, p in model.named_parameters() if p.requires_grad}

    model = tiny_bert(layers=3)
    assert _freeze_bottom(model, 2) == 2
    assert learning(model) == {"encoder.layer.2", "pooler.dense.weight", "pooler.dense.bias", "classifier"}
    assert not any(p.requires_grad for p in model.bert.embeddings.parameters())
    # More than the network has: all but the top layer (a tiny CI model with the shipped setting).
    assert _freeze_bottom(tiny_bert(layers=3), 10) == 2
    untouched = tiny_bert(layers=3)
    assert _freeze_bottom(untouched, 0) == 0 and all(p.requires_grad for p in untouched.parameters())


def test_the_model_card_of_a_warm_start_says_which_layers_stayed_frozen():
    from bot.training.evaluation import warm_start_text

    config = {"warm_start": "slm-a", "layers": 6, "recipe": {"distill_weight": 1.0, "frozen_layers": 4},
              "training": {"replay": 6000, "agent_repeat": 8, "focus": ["clinc"], "teacher": "bot/slm_artifact"}}
    text = warm_start_text(config)
    assert "The embeddings and the bottom 4 of 6 encoder layers stayed as slm-a has them" in text
    assert "(`clinc`) x8" in text and "6000 of the other training examples" in text
    unfrozen = warm_start_text({**config, "recipe": {"distill_weight": 1.0, "frozen_layers": 0}})
    assert "frozen" not in unfrozen and "stayed as" not in unfrozen
    assert warm_start_text({**config, "warm_start": ""}) == ""
