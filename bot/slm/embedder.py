"""Sentence embeddings of multilingual-e5-small (English and Japanese), served by ONNX Runtime.

Token states mean-pooled over the attention mask, then L2-normalised, 384 floats per text. e5
was trained with a prefix on each text: ``queries()`` for what a shopper asks, ``passages()`` for
what is indexed (articles, products); ``embed()`` adds none. Knowledge-base retrieval and product
search use them. The artifact (bot/embedder_artifact/) is built once by
`python manage.py build_embedder`; it is loaded on first use, once per process.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from bot.slm.encoding import encode_feeds
from bot.slm.onnx import inference_session

DEFAULT_ARTIFACT_DIR = Path(__file__).resolve().parent.parent / "embedder_artifact"
MAX_TEXT_CHARS = 5000


class SentenceEmbedder:
    def __init__(self, artifact_dir: Path | str, *, threads: int = 1):
        self.artifact_dir = Path(artifact_dir)
        self.config = json.loads((self.artifact_dir / "config.json").read_text(encoding="utf-8"))
        self.dimension = int(self.config["dimension"])
        self.tokenizer = Tokenizer.from_file(str(self.artifact_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=int(self.config["max_length"]))
        self.pad_id = int(self.config.get("pad_token_id", 0))
        self.query_prefix = self.config.get("query_prefix", "")
        self.passage_prefix = self.config.get("passage_prefix", "")
        self.session = inference_session(self.artifact_dir / self.config.get("model_file", "model.onnx"), threads=threads)
        self.input_names = {i.name for i in self.session.get_inputs()}

    def queries(self, texts: list[str]) -> np.ndarray:
        """What shoppers ask, to search with."""
        return self.embed(self._prefixed(self.query_prefix, texts))

    def passages(self, texts: list[str]) -> np.ndarray:
        """What is searched (article paragraphs, product texts)."""
        return self.embed(self._prefixed(self.passage_prefix, texts))

    @staticmethod
    def _prefixed(prefix: str, texts: list[str]) -> list[str]:
        if isinstance(texts, str):
            raise TypeError("expects a list of texts, not one string")
        # An empty text stays empty (a zero vector), prefix or not.
        return [f"{prefix}{t}" if isinstance(t, str) and t.strip() else "" for t in texts]

    def embed(self, texts: list[str], batch_size: int = 4) -> np.ndarray:
        """(n, 384) float32, each row L2-normalised; an empty text gets a zero vector."""
        if isinstance(texts, str):
            raise TypeError("embed expects a list of texts, not one string")
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        # Batches of similar token counts (not characters: a Japanese character is a token or
        # so, an English word several characters): little padding, which costs as much as text.
        lengths = [len(e.ids) for e in self.tokenizer.encode_batch([texts[i][:MAX_TEXT_CHARS] for i in todo])]
        todo = [i for _, i in sorted(zip(lengths, todo))]
        for start in range(0, len(todo), batch_size):
            idx = todo[start : start + batch_size]
            feeds = encode_feeds(
                self.tokenizer, [texts[i][:MAX_TEXT_CHARS] for i in idx], pad_id=self.pad_id, input_names=self.input_names
            )
            (tokens,) = self.session.run(["last_hidden_state"], feeds)
            weights = feeds["attention_mask"][:, :, None].astype(np.float32)
            pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out


_lock = threading.Lock()
_embedder: SentenceEmbedder | None = None


def get_embedder() -> SentenceEmbedder:
    """The process's embedder, loaded on first call (thread-safe)."""
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                from django.conf import settings

                artifact_dir, threads = DEFAULT_ARTIFACT_DIR, 1
                if settings.configured:
                    artifact_dir = Path(getattr(settings, "EMBEDDER_ARTIFACT_DIR", DEFAULT_ARTIFACT_DIR))
                    threads = int(getattr(settings, "SLM_THREADS", 1))
                _embedder = SentenceEmbedder(artifact_dir, threads=threads)
    return _embedder


@lru_cache(maxsize=4)
def artifact_fingerprint(artifact_dir: str | None = None) -> str:
    """A short digest of the artifact's config.json: stored vectors made by another embedder are
    stale (bot.products keys its vectors on it). Reads one small file, loads no model."""
    if artifact_dir is None:
        from django.conf import settings

        artifact_dir = str(getattr(settings, "EMBEDDER_ARTIFACT_DIR", DEFAULT_ARTIFACT_DIR)) if settings.configured else str(DEFAULT_ARTIFACT_DIR)
    return hashlib.sha256((Path(artifact_dir) / "config.json").read_bytes()).hexdigest()[:16]
