"""Real processes for the real-stack tests and the bench: daphne servers, Celery workers, Redis.

Everything started here is ended by its own pid (process group), never by name.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}: {tail(proc)}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s: {tail(proc)}")


def tail(proc) -> str:
    path = getattr(proc, "log_path", None)
    if not path or not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()[-3000:]


def stack_env(*, database_url: str, redis_url: str, run_id: str | None = None, channels_prefix: str | None = None) -> dict:
    """Environment for child processes: same database and Redis, run-unique queue and prefixes."""
    run_id = run_id or uuid.uuid4().hex[:10]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "support.settings",
        # DEBUG is off in these processes: the repository's key would stop them (support.E001).
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": f"desk-{run_id}",
        "CHANNELS_PREFIX": channels_prefix or f"asgi-{run_id}",
        "CACHE_PREFIX": f"cache-{run_id}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


def _spawn(args, env, name) -> subprocess.Popen:
    log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log_path = log.name
    return proc


def stop(proc: subprocess.Popen | None, sig=signal.SIGTERM, timeout: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL: the process gets no chance to ack, requeue or clean up."""
    stop(proc, sig=signal.SIGKILL)


def start_daphne(env: dict, port: int | None = None) -> tuple[subprocess.Popen, int]:
    port = port or free_port()
    proc = _spawn([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "support.asgi:application"], env, f"daphne-{port}")
    wait_for_port(port, proc)
    return proc, port


def start_worker(env: dict, *, extra_conf: dict | None = None, ready_timeout: float = 60) -> subprocess.Popen:
    """A Celery worker (solo pool) on the run's queue; extra_conf goes into app.conf first."""
    code = (
        "import sys, django; django.setup()\n"
        "from support.celery import app\n"
        f"app.conf.update({extra_conf or {}!r})\n"
        "app.worker_main(sys.argv[1:])\n"
    )
    args = [
        sys.executable, "-c", code, "worker", "--pool=solo", "-Q", env["CELERY_QUEUE"], "-l", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{env['CELERY_QUEUE']}-{uuid.uuid4().hex[:6]}@%h",
    ]
    proc = _spawn(args, env, "worker")
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}: {tail(proc)}")
        if " ready." in tail(proc):
            return proc
        time.sleep(0.3)
    stop(proc)
    raise TimeoutError(f"worker not ready: {tail(proc)}")


def start_beat(env: dict) -> subprocess.Popen:
    schedule = tempfile.NamedTemporaryFile(prefix="beat-", suffix=".db", delete=False).name
    os.unlink(schedule)
    return _spawn([str(BIN / "celery"), "-A", "support", "beat", "-s", schedule, "-l", "INFO"], env, "beat")


@contextmanager
def private_redis(port: int | None = None):
    """A Redis of our own (for restarting it); yields (url, restart)."""
    import shutil

    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="redis-")
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
    holder = {}

    def start():
        proc = _spawn(args, os.environ.copy(), f"redis-{port}")
        wait_for_port(port, proc, timeout=20)
        holder["proc"] = proc

    def restart(down_for: float = 0.5):
        kill_hard(holder["proc"])
        time.sleep(down_for)
        start()

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        kill_hard(holder["proc"])
