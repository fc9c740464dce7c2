"""support.asgi: the served application."""

import gc
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_time_objects_are_frozen_out_of_the_garbage_collector():
    # In a fresh interpreter, as Daphne loads it: importing the app freezes what imports made,
    # so full collections under load do not walk Django and its dependencies (long GC pauses).
    code = "import gc, support.asgi; print(gc.get_freeze_count())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert int(out.stdout.strip().splitlines()[-1]) > 50_000
    assert gc.isenabled()
