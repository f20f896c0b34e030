"""The web's access log, as gunicorn writes it with the project's gunicorn.conf.py, names no
client: no address, no user agent, no referrer, no query string (docs/clicks.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AGENT = "Mozilla/5.0 (ReaderPhone; Unique-Agent-7731)"


def test_the_access_log_has_the_path_and_status_but_no_address_agent_or_query(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(PATH=f"{BIN}:{env['PATH']}", INSTANCE_PATH=str(tmp_path))
    subprocess.run([BIN / "newsletter", "db", "upgrade"], env=env, check=True, timeout=120)
    port, log = free_port(), tmp_path / "access.log"
    web = subprocess.Popen(
        [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--access-logfile", str(log)]
        + ["newsletter.wsgi:app"],
        env=env,
        cwd=ROOT,  # where gunicorn finds gunicorn.conf.py, as in the Procfile and the image
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/archive/?lang=fr&secret=q7",
                headers={"User-Agent": AGENT, "Referer": "https://mail.example/inbox/42"},
            )
            try:
                urllib.request.urlopen(request, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not answer within 60 s")
                time.sleep(0.2)
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=30)

    lines = [line for line in log.read_text().splitlines() if "/archive/" in line]
    assert lines and '"GET /archive/" 200' in lines[-1]
    for leak in ("127.0.0.1", "Unique-Agent-7731", "mail.example", "secret=q7", "lang=fr"):
        assert leak not in log.read_text(), leak
