"""Turning texts into ONNX feeds: tokenized with `tokenizers`, padded to the longest in the batch."""

from __future__ import annotations

import numpy as np


def encode_feeds(tokenizer, texts: list[str], *, pad_id: int, input_names: set[str]) -> dict[str, np.ndarray]:
    """input_ids and attention_mask (and token_type_ids when the model takes them)."""
    encodings = tokenizer.encode_batch(texts)
    width = max(len(e.ids) for e in encodings)
    ids = np.full((len(texts), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(texts), width), dtype=np.int64)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in input_names:
        feeds["token_type_ids"] = np.zeros_like(ids)
    return feeds
