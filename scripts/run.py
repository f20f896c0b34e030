"""`make run`'s last step: the Procfile's processes under honcho, in the foreground.

What differs from `honcho start`, so that Ctrl-C ends a first run cleanly:
- Ctrl-C sends SIGINT to the terminal's foreground process group: make would get it too and
  die of it ("make: *** [Makefile: run] Interrupt", status 130) however well the processes
  stop. The runner takes the foreground for a process group of its own while they run, so
  make sees only the runner's exit.
- A stop asked for (Ctrl-C, SIGTERM) exits 0 once every process has stopped.
- Each process gets SIGTERM itself, not its whole process group: gunicorn and the Celery
  worker stop their own children. Signalled directly, a Celery pool child dies mid-task, the
  worker logs an ERROR for it and hangs until honcho's SIGKILL. Every Procfile line `exec`s
  its program, so the process honcho started is the program.
- The processes get 15 s to stop, not 5: on the embedded broker the Celery worker notices a
  stop between two polls of the broker and needs 4-5 s; a send in progress takes longer and
  is killed then (the delivery ledger is built for that).
- `.env` is not read: that file is docker compose's, and names compose's hosts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import honcho.manager
from honcho.environ import expand_processes, parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer

ROOT = Path(__file__).resolve().parent.parent
# What honcho's loop returns once a SIGINT or a SIGTERM has stopped everything.
STOPPED_ON_REQUEST = {130, 143}
STOP_WAIT_SECONDS = 15


class EachProcessItself:
    """honcho's process signaller: SIGTERM to the program, SIGKILL (the last resort) to all."""

    def terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)

    def kill(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


@contextlib.contextmanager
def terminal_foreground() -> Iterator[None]:
    """Ctrl-C for this process group alone while the block runs; the terminal given back."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield  # no terminal (CI, a test): no Ctrl-C to route
        return
    try:
        before = os.getpgrp()
        if os.tcgetpgrp(tty) != before:
            yield  # started in the background: the terminal is someone else's
            return
        os.setpgid(0, 0)
        # Ctrl-Z would stop this group alone and leave the shell waiting on make: ignored.
        signal.signal(signal.SIGTSTP, signal.SIG_IGN)
        _give_terminal(tty, os.getpgrp())
        try:
            yield
        finally:
            _give_terminal(tty, before)
    finally:
        os.close(tty)


def _give_terminal(tty: int, group: int) -> None:
    # A process group that is not in the foreground gets SIGTTOU for this call: ignored
    # for the call's time.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(tty, group)
    finally:
        signal.signal(signal.SIGTTOU, previous)


def main() -> int:
    honcho.manager.KILL_WAIT = STOP_WAIT_SECONDS  # read by the loop, from its module
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    manager = Manager(Printer(sys.stdout))
    # honcho 2.0 sends every signal through this one object (os.killpg by default).
    manager._procmgr = EachProcessItself()
    for process in expand_processes(procfile.processes):
        env = {**os.environ, **process.env}
        manager.add_process(process.name, process.cmd, quiet=process.quiet, env=env, cwd=ROOT)
    with terminal_foreground():
        manager.loop()
    code = manager.returncode or 0
    return 0 if code in STOPPED_ON_REQUEST else code


if __name__ == "__main__":
    sys.exit(main())
