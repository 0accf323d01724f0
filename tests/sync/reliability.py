"""Real processes for reliability tests and the propagation benchmark: Celery workers and beat
on Redis, a private Redis server, and the reference receiver, each a subprocess of its own.

``Cluster`` starts them against a given database URL; the tests give it pytest-django's test
database, the benchmark a fresh one. Everything it starts is stopped by ``stop()``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.2
) -> object:
    """Poll ``condition`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the connection Django uses (pytest-django's test database name)."""
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@dataclass
class Process:
    name: str
    args: list[str]
    log: Path
    env: dict[str, str]
    popen: subprocess.Popen | None = None

    def start(self) -> Process:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: kill -9 reaches all of it
        )
        handle.close()
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """kill -9, no warning, no cleanup: what an OOM killer or a power cut does."""
        if self.alive:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self, timeout: float = 10) -> None:
        if not self.alive:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Cluster:
    database_url: str
    workdir: Path
    secret: str
    env_overrides: dict[str, str] = field(default_factory=dict)
    workers: int = 2
    receiver_args: list[str] = field(default_factory=list)
    redis_port: int = 0
    receiver_url: str = ""
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.redis_port = self.redis_port or free_port()

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def store(self) -> Path:
        return self.workdir / "receiver.sqlite3"

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST", "MDM_REQUIRE", "DJANGO_SETTINGS"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="mdm.settings",
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=self.redis_url,
            MDM_VAR_DIR=str(self.workdir),
            MDM_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env_overrides)
        return env

    # -- starting and stopping ------------------------------------------------------------------

    def start(self) -> Cluster:
        self.start_redis()
        self.start_receiver()
        for i in range(self.workers):
            self.start_worker(i)
        self.start_beat()
        return self

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    def _process(self, name: str, args: list[str]) -> Process:
        process = Process(name, args, self.workdir / f"{name}.log", self.env())
        self.processes[name] = process
        return process.start()

    def start_redis(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is needed on PATH for these tests")
        self._process(
            "redis",
            [binary, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
        )  # fmt: skip
        wait_until(self.redis_ping, 10, "redis to answer", 0.05)

    def redis(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=2)

    def redis_ping(self) -> bool:
        import redis

        try:
            return bool(self.redis().ping())
        except redis.exceptions.ConnectionError:
            return False

    def restart_redis(self, down_seconds: float = 1.0) -> None:
        self.processes["redis"].kill()
        time.sleep(down_seconds)  # the outage itself, not an assertion
        self.start_redis()

    def start_receiver(self) -> None:
        log = self.workdir / "receiver.log"
        port = free_port()
        self._process(
            "receiver",
            [sys.executable, "manage.py", "webhook_receiver", "--port", str(port),
             "--secret", self.secret, "--store", str(self.store), *self.receiver_args],
        )  # fmt: skip
        self.receiver_url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: self._get("/_health") is not None, 30, f"the receiver ({log.read_text()})"
        )

    def _get(self, path: str) -> dict | None:
        try:
            with urllib.request.urlopen(self.receiver_url + path, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def faults(self, **changes) -> dict:
        request = urllib.request.Request(
            self.receiver_url + "/_control", data=json.dumps(changes).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def start_worker(self, i: int) -> Process:
        return self._process(
            f"worker{i}",
            [sys.executable, "-m", "celery", "-A", "mdm", "worker", "--pool", "solo",
             "-n", f"worker{i}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel", "WARNING"],
        )  # fmt: skip

    def start_web(self, workers: int = 2, threads: int = 4) -> str:
        """The production web server (gunicorn, as ``make serve``) on a free port; its URL."""
        port = free_port()
        self._process(
            "web",
            [sys.executable, "-m", "gunicorn", "mdm.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2).close()
            except urllib.error.HTTPError:
                return True  # it answers, whatever it says
            except OSError:
                return False
            return True

        wait_until(answers, 60, "the web server to answer", 0.2)
        return url

    def start_beat(self) -> Process:
        return self._process(
            "beat",
            [sys.executable, "-m", "celery", "-A", "mdm", "beat", "--loglevel", "WARNING",
             "-s", str(self.workdir / "celerybeat-schedule")],
        )  # fmt: skip

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each running process used so far (Linux)."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for name, process in self.processes.items():
            if not process.alive:
                continue
            try:
                fields = Path(f"/proc/{process.popen.pid}/stat").read_text().rsplit(")", 1)[1]
            except OSError:
                continue
            values = fields.split()
            used[name] = (int(values[11]) + int(values[12])) / ticks
        return used

    def worker_names(self) -> list[str]:
        return [name for name in self.processes if name.startswith("worker")]

    def kill_worker(self, rng: random.Random) -> str:
        name = rng.choice(self.worker_names())
        self.processes[name].kill()
        return name

    def ensure_workers(self) -> None:
        for name in self.worker_names():
            if not self.processes[name].alive:
                self.processes[name].start()

    def sender(self):
        """What the test process uses to wake workers: a Celery app on the private Redis."""
        from celery import Celery

        app = Celery("reliability-tests", broker=self.redis_url)
        url = self.redis_url

        class Dispatch:
            @staticmethod
            def delay(subscription_id: int) -> None:
                # An explicit connection: Celery prefers the CELERY_BROKER_URL of the
                # environment (the test process's broker) to the app's own broker.
                with app.connection_for_write(url) as connection:
                    app.send_task("sync.dispatch", args=[subscription_id], connection=connection)

        return app, Dispatch()


# -- what the receiver saw ----------------------------------------------------------------------


def receiver_requests(store: Path, channels: Iterable[str]) -> list[dict]:
    channels = list(channels)
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            "SELECT seq, received_at, channel, webhook_id, golden_id, version, type, status,"
            f" outcome FROM requests WHERE channel IN ({','.join('?' * len(channels))})"
            " ORDER BY seq",
            channels,
        )
        return [dict(row) for row in rows]
    finally:
        conn.close()


def ordering_violations(requests: Iterable[dict]) -> list[str]:
    """Sends that went backwards: per channel and record, a version older than one the receiver
    already accepted, or the same version under another webhook id (a duplicate must carry the
    same id)."""
    newest: dict[tuple[str, str], tuple[int, str]] = {}
    ids: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    problems = []
    for r in requests:
        if r["golden_id"] is None:
            continue
        key = (r["channel"], r["golden_id"])
        ids[(*key, r["version"])].add(r["webhook_id"])
        if key in newest and r["version"] < newest[key][0]:
            problems.append(f"{key}: v{r['version']} sent after v{newest[key][0]} was accepted")
        if r["outcome"] == "accepted":
            newest[key] = (r["version"], r["webhook_id"])
    for (channel, golden_id, version), webhook_ids in ids.items():
        if len(webhook_ids) > 1:
            problems.append(f"{channel} {golden_id} v{version} under ids {sorted(webhook_ids)}")
    return problems
