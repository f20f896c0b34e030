"""Limits hold across web processes on the embedded default (no Redis): real gunicorn, two
workers, a real Celery worker mailing a real SMTP sink.

Each sync worker used to keep its own counters, so a limit of 5 let 10 through. And the
per-address cap is silent: a flood of requests for one mailbox (with `+tag` variants and
other cases) sends at most the cap's number of emails, and every answer is the same bytes.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Service:
    base: str
    instance: Path
    processes: list[subprocess.Popen[bytes]]

    def session(self) -> tuple[urllib.request.OpenerDirector, str]:
        """A browser of sorts: a cookie jar and the form's CSRF token."""
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        with opener.open(f"{self.base}/", timeout=10) as response:
            match = CSRF.search(response.read().decode())
        assert match
        return opener, match.group(1)


def post(
    opener: urllib.request.OpenerDirector, url: str, fields: dict[str, str], **headers: str
) -> tuple[int, bytes]:
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start(
    tmp_path: Path, smtp_sink: SmtpSink, *, mail: bool = True, **settings: str
) -> Iterator[Service]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        PATH=f"{BIN}:{env['PATH']}",
        INSTANCE_PATH=str(tmp_path),
        NEWSLETTER_ENV="development",
        SMTP_URL=smtp_sink.url,
        **settings,
    )
    subprocess.run([BIN / "newsletter", "db", "upgrade"], env=env, check=True, timeout=120)
    port = free_port()
    commands = [
        [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "newsletter.wsgi:app"],
    ]
    if mail:
        worker = ["celery", "-A", "worker.celery_app:celery", "worker", "--pool=solo"]
        commands.append([BIN / worker[0], *worker[1:]])
    # Kept for the failure message: what the web and worker processes logged.
    logs = [(tmp_path / f"{Path(command[0]).name}.log").open("wb") for command in commands]
    processes = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        for command, log in zip(commands, logs, strict=True)
    ]
    service = Service(f"http://127.0.0.1:{port}", tmp_path, processes)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{service.base}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not answer /healthz within 60 s")
        yield service
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


@pytest.fixture
def limited(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Service]:
    yield from start(tmp_path, smtp_sink, mail=False, SUBSCRIBE_IP_LIMIT="5 per hour")


@pytest.fixture
def behind_proxy(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Service]:
    # Every request comes through a proxy on loopback that names a different client,
    # as a botnet would: the per-IP limit is not what stops the flood, the address cap is.
    yield from start(
        tmp_path,
        smtp_sink,
        TRUSTED_PROXIES="127.0.0.1/32",
        ADDRESS_MAIL_LIMIT="2 per hour",
    )


def fields(token: str, email: str) -> dict[str, str]:
    return {"csrf_token": token, "email": email, "regions": "asie", "language": "fr"}


def test_two_gunicorn_workers_admit_exactly_the_per_ip_limit(limited: Service) -> None:
    opener, token = limited.session()

    def attempt(n: int) -> int:
        return post(opener, f"{limited.base}/", fields(token, f"r{n}@example.org"))[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(attempt, range(16)))
    assert sorted(statuses) == [200] * 5 + [429] * 11


def test_a_flood_for_one_mailbox_sends_at_most_the_cap_and_always_answers_the_same(
    behind_proxy: Service, smtp_sink: SmtpSink
) -> None:
    opener, token = behind_proxy.session()
    variants = ["victim", "Victim", "VICTIM", "victim+1", "victim+news", "Victim+2"]

    def attempt(n: int) -> tuple[int, bytes]:
        email = f"{variants[n % len(variants)]}@example.org"
        client = f"198.51.{n // 250}.{n % 250 + 1}"
        return post(
            opener, f"{behind_proxy.base}/", fields(token, email), **{"X-Forwarded-For": client}
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(attempt, range(200)))
    assert {status for status, _ in answers} == {200}
    assert len({CSRF.sub("", body.decode()) for _, body in answers}) == 1

    database = sqlite3.connect(behind_proxy.instance / "newsletter.sqlite")
    (accepted,) = database.execute(
        "SELECT count(*) FROM consent_events WHERE kind = 'subscribe'"
    ).fetchone()
    database.close()
    assert accepted == 2  # the cap; every other request changed nothing and queued nothing
    delivered = [m for m in smtp_sink.messages if "victim" in " ".join(m.rcpt_tos).lower()]
    # The worker may still be starting, on a loaded machine: room to finish, not a bound.
    deadline = time.monotonic() + 180
    while len(delivered) < accepted and time.monotonic() < deadline:
        time.sleep(0.2)
        delivered = [m for m in smtp_sink.messages if "victim" in " ".join(m.rcpt_tos).lower()]
    logs = {path.name: path.read_text()[-3000:] for path in behind_proxy.instance.glob("*.log")}
    assert len(delivered) == 2, logs
