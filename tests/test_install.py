"""The install sets: bin/run installs requirements/serve.txt only, so serving must never need the
training stack, and requirements.txt stays the whole stack."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.training import TRAINING_STACK

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"torch", "transformers", "sentence-transformers"}

# Runs first in a subprocess: any import of the training stack fails, as in a serving-only venv.
BLOCKER = f"""
import sys
BLOCKED = {sorted(TRAINING_STACK)!r}
attempts = []
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: serving-only install)", name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""

CHAT = """
import asyncio, json, os
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from channels.testing import WebsocketCommunicator
from support.asgi import application

async def turns(texts):
    comm = WebsocketCommunicator(application, "/ws/chat/", headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")])
    connected, _ = await comm.connect(timeout=30)
    assert connected
    replies = []
    for i, text in enumerate(texts):
        await comm.send_json_to({"type": "message", "text": text, "client_id": f"c{i}"})
        while True:
            frame = await comm.receive_json_from(timeout=60)
            if frame["type"] == "message" and frame.get("sender") == "bot":
                replies.append(frame)
                break
    await comm.disconnect()
    return replies

replies = asyncio.run(turns(["where is my order?", "how do I reset my password?", "do you have linen shirts?"]))
print(json.dumps({
    "replies": [[r["intent"], r["text"]] for r in replies],
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED),
    "attempts": attempts,
    "onnxruntime": "onnxruntime" in sys.modules,
}))
"""


def _requirement_names(path: Path) -> set[str]:
    """The package names a requirements file installs, following its -r includes."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            names |= _requirement_names(path.parent / line[2:].strip())
        else:
            names.add(re.split(r"[\[=<>!~; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_requirements_txt_is_every_set_and_nothing_else():
    lines = [l.split("#", 1)[0].strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    lines = [l for l in lines if l]
    sets = sorted(f"requirements/{p.name}" for p in (ROOT / "requirements").glob("*.txt"))
    assert sorted(re.sub(r"^-r\s*", "", l) for l in lines if l.startswith("-r")) == sets
    assert [l for l in lines if not l.startswith("-r")] == [], "add packages to a requirements/ set, not requirements.txt"


def test_serving_set_has_no_training_stack_and_test_set_has_everything():
    serve = _requirement_names(ROOT / "requirements" / "serve.txt")
    assert serve and not serve & HEAVY
    train = _requirement_names(ROOT / "requirements" / "train.txt")
    assert serve < train and HEAVY <= train
    # bin/test installs the test set: the whole stack, training included (the suite trains).
    assert _requirement_names(ROOT / "requirements" / "test.txt") == _requirement_names(ROOT / "requirements.txt")


def _run(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="support.settings", SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    return subprocess.run([sys.executable, "-c", BLOCKER + code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_serving_answers_chat_without_importing_the_training_stack(tmp_path):
    out = _run(CHAT, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(result["replies"]) == 3 and all(text for _, text in result["replies"])
    assert result["onnxruntime"], "the turns should have run the ONNX models"
    assert result["loaded"] == [] and result["attempts"] == []


@pytest.mark.parametrize("command", ["train_slm", "build_embedder"])
def test_training_command_without_training_stack_says_what_to_run(tmp_path, command):
    code = "import runpy; runpy.run_path('manage.py', run_name='__main__')"
    out = _run(code, tmp_path, command, "--output", str(tmp_path / "out"))
    assert out.returncode == 1
    assert "run bin/setup --train" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "out").exists()
