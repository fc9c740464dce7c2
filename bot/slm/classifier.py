"""The intent classifier at run time: the shipped int8 ONNX model under ONNX Runtime.

No torch, no transformers: the tokenizer is the `tokenizers` library reading the artifact's
tokenizer.json, and probabilities are calibrated with the temperature fitted on the dev split.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from bot.slm.encoding import encode_feeds
from bot.slm.entities import Gazetteer, extract_entities
from bot.slm.onnx import inference_session
from bot.slm.understanding import OUT_OF_SCOPE, Understanding

# The model reads at most max_length tokens; no message needs more characters than this to fill
# them, and cutting first keeps a pasted novel from costing tokenizer time.
MODEL_TEXT_CHARS = 2000
ENTITY_TEXT_CHARS = 10000


class ArtifactError(RuntimeError):
    """The artifact folder is missing a file or holds something unreadable."""


class IntentClassifier:
    def __init__(self, artifact_dir: Path | str, *, threads: int = 1, gazetteer: Gazetteer | None = None):
        self.artifact_dir = Path(artifact_dir)
        try:
            self.config = json.loads((self.artifact_dir / "config.json").read_text(encoding="utf-8"))
            self.labels: list[str] = json.loads((self.artifact_dir / "labels.json").read_text(encoding="utf-8"))
            self.tokenizer = Tokenizer.from_file(str(self.artifact_dir / "tokenizer.json"))
        except Exception as exc:  # OSError, JSON errors, and tokenizers' plain Exception on a bad file
            raise ArtifactError(f"cannot load the SLM artifact from {self.artifact_dir}: {exc}") from exc
        self.max_length = int(self.config["max_length"])
        self.temperature = float(self.config["temperature"])
        self.threshold = float(self.config["threshold"])
        self.version = self.config.get("version", "unknown")
        self.language = self.config.get("language", "en")
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.pad_id = int(self.config.get("pad_token_id", 0))

        model_path = self.artifact_dir / self.config.get("model_file", "model.onnx")
        if not model_path.exists():
            raise ArtifactError(f"the SLM artifact has no model file: {model_path}")
        self.session = inference_session(model_path, threads=threads)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.gazetteer = gazetteer
        if OUT_OF_SCOPE not in self.labels:
            raise ArtifactError("the SLM artifact's labels lack out_of_scope")

    # --- the model path -------------------------------------------------------------------

    def _encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        return encode_feeds(
            self.tokenizer, [t[:MODEL_TEXT_CHARS] for t in texts], pad_id=self.pad_id, input_names=self.input_names
        )

    def logits(self, texts: list[str], batch_size: int = 1) -> np.ndarray:
        """Raw logits, shape (n, labels), of each text as serving reads it: stripped and, by
        default, in a run of its own. The int8 graph quantizes its activations per run (dynamic
        quantization takes the scale from the whole input), so in a batch a message's padding and
        neighbours move its logits: on CLINC's oos_val, confidence by up to 0.25 (mean 0.014).
        Evaluation, the gate and calibration must see what shoppers get. A larger batch_size
        (length-sorted, to pad little) is faster and approximate."""
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            (batch_logits,) = self.session.run(["logits"], self._encode([texts[i].strip() for i in idx]))
            out[idx] = batch_logits
        return out

    def model_probabilities(self, text: str) -> np.ndarray:
        """The model path for one message: tokenize, run, calibrate. Shape (labels,)."""
        (logits,) = self.session.run(["logits"], self._encode([text.strip()]))
        return softmax(logits[0] / self.temperature)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities, shape (n, labels)."""
        return softmax(self.logits(texts) / self.temperature)

    # --- the public API --------------------------------------------------------------------

    def classify(self, text: str, *, gazetteer: Gazetteer | None = None) -> Understanding:
        return self.classify_batch([text], gazetteer=gazetteer)[0]

    def classify_batch(self, texts, *, gazetteer: Gazetteer | None = None) -> list[Understanding]:
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"classify expects text (str), got {type(text).__name__}")
        gazetteer = gazetteer if gazetteer is not None else self.gazetteer
        results: list[Understanding | None] = [None] * len(texts)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        for i, text in enumerate(texts):
            if not text.strip():
                # Nothing to understand: act on out_of_scope, with no confidence in anything.
                results[i] = Understanding(
                    text=text, intent=OUT_OF_SCOPE, raw_intent=OUT_OF_SCOPE, confidence=0.0, top=[], entities=[], language=self.language
                )
        if todo:
            logits = self.logits([texts[i] for i in todo])  # each in a run of its own, as one message is
            probs = softmax(logits / self.temperature)
            for row, i in enumerate(todo):
                results[i] = self._understanding(texts[i], probs[row], gazetteer)
        return results  # type: ignore[return-value]

    def _understanding(self, text: str, probs: np.ndarray, gazetteer: Gazetteer | None) -> Understanding:
        ranked = np.argsort(-probs)[:3]
        raw = self.labels[int(ranked[0])]
        confidence = float(probs[ranked[0]])
        intent = raw if confidence >= self.threshold else OUT_OF_SCOPE
        return Understanding(
            text=text,
            intent=intent,
            raw_intent=raw,
            confidence=confidence,
            top=[(self.labels[int(k)], float(probs[k])) for k in ranked],
            entities=extract_entities(text[:ENTITY_TEXT_CHARS], gazetteer),
            language=self.language,
        )


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
