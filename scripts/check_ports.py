"""Which of `make run`'s ports are taken, said in one line; nothing when all are free.

    python3 scripts/check_ports.py WEB_PORT=5000 DEV_MAILBOX_PORT=1025

The Makefile runs it before anything else and stops with its line, so a port in use is not a
traceback from one process after the others have started. Standard library only: it runs
with the system's Python, before the virtualenv exists.
"""

from __future__ import annotations

import socket
import sys

HOST = "127.0.0.1"


def taken(port: int) -> bool:
    with socket.socket() as sock:
        # As gunicorn and the mailbox bind: a port left in TIME_WAIT by the previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def free_after(port: int, avoid: set[int]) -> int:
    candidate = port + 1
    while candidate in avoid or taken(candidate):
        candidate += 1
    return candidate


def problem(settings: list[tuple[str, str]]) -> str:
    """The line to show, or "" when every port is free."""
    ports: list[tuple[str, int]] = []
    for name, value in settings:
        if not value.isdigit() or not 0 < int(value) < 65536:
            return f"{name} must be a port number (1-65535), not {value!r}"
        ports.append((name, int(value)))
    used = {port for _, port in ports}
    if len(used) < len(ports):
        return f"{' and '.join(name for name, _ in ports)} must be different ports"
    busy = [(name, port) for name, port in ports if taken(port)]
    if not busy:
        return ""
    which = " and ".join(f"{port} ({name})" for name, port in busy)
    choices = []
    for name, port in busy:
        choices.append(f"{name}={free_after(port, used)}")
        used.add(int(choices[-1].split("=")[1]))
    noun, verb, pronoun = ("port", "is", "it") if len(busy) == 1 else ("ports", "are", "them")
    return (
        f"{noun} {which} {verb} already in use on {HOST}: "
        f"stop what uses {pronoun}, or choose another: make run {' '.join(choices)}"
    )


def main(arguments: list[str]) -> int:
    settings = [argument.partition("=")[::2] for argument in arguments]
    line = problem(settings)
    if line:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
