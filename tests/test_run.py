"""`make run` as a newcomer meets it, in a terminal of its own: web, worker, beat and dev
mailbox answer; the README's demo edition lands in the dev mailbox; Ctrl-C stops every
process with no error and a zero exit; a port already in use stops it with one line."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    create_run_database,
    drop_run_database,
    free_port,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VENV = BIN.parent
# This test's virtualenv, taken as installed: never reinstall in the middle of a test run.
MAKE_RUN = ["make", "--no-print-directory", "-o", f"{VENV}/.installed", "run", f"VENV={VENV}"]


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class Terminal:
    """A command run in a terminal of its own, as a person runs it: Ctrl-C reaches whatever
    holds the terminal's foreground, as it does from a keyboard."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self._master, slave = os.openpty()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            # The new session's controlling terminal: the pty (stdin, after setsid).
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self._output = bytearray()
        # Read all along: a full pty would block the processes that write to it.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # the last process holding the terminal is gone
                return
            if not data:
                return
            self._output += data

    def ctrl_c(self) -> None:
        os.write(self._master, b"\x03")

    def wait(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            self._reader.join(timeout=5)
            os.close(self._master)
        return code

    @property
    def output(self) -> str:
        # Without honcho's colours, so that the lines read as they print.
        return re.sub(r"\x1b\[[0-9;]*m", "", bytes(self._output).decode(errors="replace"))


SETUPS = ["embedded"] + (["postgresql+redis"] if TEST_DATABASE_URL and TEST_REDIS_URL else [])


@pytest.fixture(params=SETUPS)
def service_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL", "MAKEFLAGS"}
    }
    web_port = free_port()
    env.update(
        PATH=f"{BIN}:{env['PATH']}",
        INSTANCE_PATH=str(tmp_path),
        WEB_PORT=str(web_port),
        DEV_MAILBOX_PORT=str(free_port()),
        NEWSLETTER_ENV="development",
        # What `make run` gives its processes; the README says to give the same to a command
        # typed in another terminal when the ports are not the default ones.
        BASE_URL=f"http://127.0.0.1:{web_port}",
    )
    if request.param == "postgresql+redis":
        # A database of its own, so the demo data never meets the other tests' tables.
        env["DATABASE_URL"] = create_run_database(f"service{os.getpid()}")
        env["REDIS_URL"] = TEST_REDIS_URL
    yield env
    if "DATABASE_URL" in env:
        drop_run_database(env["DATABASE_URL"])


def wait_until_healthy(base: str, terminal: Terminal) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and terminal.process.poll() is None:
        time.sleep(0.5)
        try:
            if get(f"{base}/healthz")[0] == 200:
                return
        except OSError:
            continue
    pytest.fail(f"no healthy /healthz within 120 s:\n{terminal.output[-3000:]}")


def test_make_run_serves_the_demo_edition_and_ctrl_c_stops_everything_cleanly(
    service_env: dict[str, str],
) -> None:
    terminal = Terminal(MAKE_RUN, service_env)
    base = service_env["BASE_URL"]
    try:
        wait_until_healthy(base, terminal)
        assert get(f"{base}/")[0] == 200
        # The README's demo edition, typed in another terminal: no date to pass.
        sent = subprocess.run(
            [BIN / "newsletter", "digest", "send", "--special", "--wait"],
            env=service_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr
        status, mailbox = get(f"{base}/dev/mailbox/")
        assert status == 200
        assert mailbox.count("Édition spéciale") + mailbox.count("Special edition") == 4, mailbox
        assert "claire.martin@example.com" in mailbox
        started = descendants(terminal.process.pid)
        assert len(started) >= 4  # web, worker, beat, mailbox (and their children)
    finally:
        terminal.ctrl_c()
        code = terminal.wait(timeout=60)
    output = terminal.output
    time.sleep(0.5)
    assert [pid for pid in started if alive(pid)] == [], output[-3000:]
    assert code == 0, output[-3000:]
    after = output.split("SIGINT received", 1)[1]
    for name in ("web", "worker", "beat", "mailbox"):
        assert f"{name}.1 stopped (rc=0)" in after, after
    for sign in ("Error", "ERROR", "Traceback", "Interrupt", "SIGKILL", "exited with code"):
        assert sign not in after, after


@pytest.mark.parametrize("variable", ["WEB_PORT", "DEV_MAILBOX_PORT"])
def test_a_port_in_use_stops_make_run_with_one_line_before_anything_starts(
    service_env: dict[str, str], variable: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**service_env, variable: str(port)}

        result = subprocess.run(MAKE_RUN, cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode != 0
    assert result.stdout == ""  # nothing was migrated, loaded or started
    [line] = result.stderr.splitlines()
    assert f"port {port} ({variable}) is already in use" in line
    assert f"make run {variable}=" in line
    assert not (Path(service_env["INSTANCE_PATH"]) / "newsletter.sqlite").exists()


def test_the_dev_mailbox_stops_cleanly_on_sigterm(service_env: dict[str, str]) -> None:
    """How honcho stops it under `make run`: no traceback, exit 0."""
    mailbox = subprocess.Popen(
        [BIN / "newsletter", "mailbox"],
        env=service_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    port = int(service_env["DEV_MAILBOX_PORT"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    mailbox.send_signal(signal.SIGTERM)
    output = mailbox.communicate(timeout=30)[0]

    assert mailbox.returncode == 0, output
    assert "Traceback" not in output
