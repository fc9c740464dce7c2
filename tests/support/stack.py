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


class RedisServer:
    """A Redis of our own on a free port, to stop, start and restart (no persistence)."""

    def __init__(self, port: int | None = None):
        import shutil

        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        workdir = tempfile.mkdtemp(prefix="redis-")
        self.args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
        self.proc = None

    def start(self) -> None:
        self.proc = _spawn(self.args, os.environ.copy(), f"redis-{self.port}")
        wait_for_port(self.port, self.proc, timeout=20)

    def stop(self) -> None:
        kill_hard(self.proc)

    def restart(self, down_for: float = 0.5) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


@contextmanager
def private_redis_server(port: int | None = None):
    server = RedisServer(port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def private_redis(port: int | None = None):
    """A Redis of our own (for restarting it); yields (url, restart)."""
    with private_redis_server(port) as server:
        yield server.url, server.restart


class TcpProxy:
    """A TCP proxy on a free local port in front of `target` (e.g. PostgreSQL), served on the
    caller's event loop. cut() closes the listener and aborts every connection, as an outage
    would (clients get refused and reset); restore() listens on the same port again."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.server = None
        self.writers: set = set()

    async def start(self) -> None:
        import asyncio

        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    restore = start

    async def cut(self) -> None:
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    async def _serve(self, reader, writer) -> None:
        import asyncio

        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer, upstream_writer}
        self.writers |= pair

        async def pipe(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, ConnectionError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.writers -= pair
