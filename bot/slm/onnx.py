"""One way to open an ONNX model for serving: CPU only, ``threads`` for one run, every graph
optimisation. Used by the intent classifier and the sentence embedder alike."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort


def inference_session(model_path: Path | str, *, threads: int = 1) -> ort.InferenceSession:
    """A session for ``model_path``. ``InferenceSession.run`` is thread-safe: one session serves
    every thread of the process, so callers open it once (lazily) and keep it."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
