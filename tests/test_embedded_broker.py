"""The embedded broker (kombu's SQLAlchemy transport on SQLite) when several processes start
together: every task published is stored, none lost to two processes creating its queue."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = 8

PUBLISH = """
import sys, time
from newsletter.app import create_app
app = create_app(instance_path=sys.argv[1])
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
with app.app_context():
    app.extensions["celery"].send_task("subscriptions.send_confirmation", args=[0])
print("published")
"""


def test_processes_starting_together_each_get_their_task_into_the_broker(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["INSTANCE_PATH"] = str(tmp_path)
    start = time.time() + 8  # every process imported and ready before the moment comes
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISH, str(tmp_path), str(start)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outcomes = [process.communicate(timeout=120) for process in processes]

    failures = [err[-1500:] for out, err in outcomes if "published" not in out]
    assert failures == []
    broker = sqlite3.connect(tmp_path / "broker.sqlite")
    (stored,) = broker.execute("SELECT count(*) FROM kombu_message").fetchone()
    broker.close()
    assert stored == PROCESSES
