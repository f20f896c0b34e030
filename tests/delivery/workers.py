"""Real Celery worker processes for the delivery tests: started, SIGKILLed and restarted.

They send the composer double's small messages (worker_app.py): these tests are about the
ledger under kills, not about the message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
PASSED_ON = (
    "DATABASE_URL",
    "REDIS_URL",
    "SMTP_URL",
    "SECRET_KEY",
    "BASE_URL",
    "SEND_RATE_PER_SECOND",
    "SEND_BATCH_SIZE",
    "SEND_GROUP_SIZE",
    "SEND_GROUPS_IN_FLIGHT",
    "SEND_PARALLEL",
    "SEND_LEASE_SECONDS",
    "SEND_TASK_SECONDS",
    "SEND_RETRY_MIN_SECONDS",
    "SEND_RETRY_MAX_SECONDS",
)


@dataclass
class Workers:
    app: Flask
    count: int = 2
    # The composer double by default; "worker.celery_app:celery" sends the real digests.
    app_module: str = "tests.delivery.worker_app:celery"
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: int = 0
    _logs: list[Any] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        # Nothing another test's app left in this process's environment (the metrics folder).
        skipped = ("SEND_", "TEST_", "PROMETHEUS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
        for name in PASSED_ON:
            value = self.app.config.get(name)
            if value not in (None, ""):
                env[name] = str(value)
        env.update(
            NEWSLETTER_ENV="testing",
            INSTANCE_PATH=self.app.instance_path,
            CHECK_DATABASE_AT_START="true",
            PYTHONPATH=str(ROOT),
        )
        return env

    def start(self) -> None:
        while len(self.procs) < self.count:
            self.procs.append(self._spawn(len(self.procs)))

    def _spawn(self, slot: int) -> subprocess.Popen[bytes]:
        log = open(Path(self.app.instance_path) / f"worker{slot}.log", "ab")  # noqa: SIM115
        self._logs.append(log)
        return subprocess.Popen(
            [
                CELERY,
                "-A",
                self.app_module,
                "worker",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--loglevel=INFO",
                f"--hostname=w{slot}.{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, slot: int) -> None:
        """SIGKILL: no shutdown handler, no ack, no cleanup; then a fresh process."""
        proc = self.procs[slot]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.kills += 1

    def restart(self, slot: int) -> None:
        self.procs[slot] = self._spawn(slot)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        self.procs.clear()
        for log in self._logs:
            log.close()

    def ran(self, task_id: str) -> bool:
        """A worker logged the task as done (`Task name[id] succeeded in ...`)."""
        return any(
            f"[{task_id}] succeeded" in p.read_text(errors="replace")
            for p in Path(self.app.instance_path).glob("worker*.log")
        )

    def output(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:]
            for p in sorted(Path(self.app.instance_path).glob("worker*.log"))
        )


def wait_until(
    condition: Callable[[], bool], *, timeout: float, every: Callable[[], None] | None = None
) -> bool:
    """Poll `condition` (running `every` between polls) until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if every:
            every()
        time.sleep(0.5)
    return condition()
