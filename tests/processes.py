"""Real processes for tests: a Celery worker on Redis, against the test database.

Tests that use them are marked `services`: they need PostgreSQL and Redis. Without them
they are skipped on a developer's machine, and in CI (CI=true) the run fails instead.
Browser tests (marked `browser`) also run the web server here (`ServerProcess`) and need
Debian's Chromium.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"
CHROMIUM = Path("/usr/bin/chromium")


def require_services(*, chromium: bool = False) -> None:
    """Skip (locally) or fail (CI) unless PostgreSQL and Redis (and Chromium) are there."""
    problem = None
    if chromium and not CHROMIUM.exists():
        problem = f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    elif connection.vendor != "postgresql":
        problem = "needs PostgreSQL (set DATABASE_URL)"
    elif not settings.CELERY_BROKER_URL.startswith("redis://"):
        problem = "needs Redis as the broker (set CELERY_BROKER_URL)"
    else:
        try:
            redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()
        except redis.RedisError as error:
            problem = f"Redis does not answer: {error}"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires the real services: {problem}")
        pytest.skip(problem)


def worker_database_url() -> str:
    """The URL of the database this test runs on (the test database, not the real one)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{user}{password}@{host}/{db['NAME']}"


class _ProductProcess:
    """A process of the product (worker or web server) on this test's database and broker."""

    def __init__(self, *, extra_env: dict[str, str], log_path: Path) -> None:
        self.extra_env = extra_env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def _launch(self, argv: list[str]) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CONN_MAX_AGE": "0",
            **self.extra_env,
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, unacknowledged messages stay with the broker."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def worker_argv(
    *, concurrency: int, hostname: str, queues: str = "", extra: Sequence[str] = ()
) -> list[str]:
    """The command line of a product worker: Celery's thread pool, as in production."""
    return [
        sys.executable, "-m", "celery", "-A", "backoffice", "worker",
        "--pool", "threads", "--concurrency", str(concurrency),
        *(["--queues", queues] if queues else []),
        "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        "--hostname", hostname,
        *extra,
    ]  # fmt: skip


def server_argv(*, port: int, workers: int, threads: int, extra: Sequence[str] = ()) -> list[str]:
    """The command line of the product's web server: gunicorn with production's settings."""
    return [
        sys.executable, "-m", "gunicorn", "backoffice.wsgi:application",
        "--config", str(GUNICORN_CONFIG), "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads),
        *extra,
    ]  # fmt: skip


class WorkerProcess(_ProductProcess):
    """A `celery worker` subprocess with a thread pool, sharing this test's database."""

    def start(self) -> "WorkerProcess":
        hostname = f"test-{os.getpid()}-{time.monotonic_ns()}@%h"
        self._launch(worker_argv(concurrency=8, hostname=hostname))
        return self


class ServerProcess(_ProductProcess):
    """The web server (gunicorn) on a free port, sharing this test's database."""

    def __init__(self, *, extra_env: dict[str, str], log_path: Path) -> None:
        super().__init__(extra_env=extra_env, log_path=log_path)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        self._launch(
            server_argv(port=self.port, workers=2, threads=4, extra=["--access-logfile", "-"])
        )
        wait_for(self._answers, timeout=30, what=f"the web server at {self.url}\n{self.log()}")
        return self

    def _answers(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise AssertionError(f"the web server exited\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
