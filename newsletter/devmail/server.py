"""The development mailbox's SMTP server (aiosmtpd): keeps every message it is sent."""

from __future__ import annotations

import errno
import logging
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from newsletter.devmail.store import deliver

log = logging.getLogger(__name__)


class MaildirHandler:
    def __init__(self, path: str | Path) -> None:
        self.path = path

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        key = deliver(
            self.path,
            envelope_from=str(envelope.mail_from),
            envelope_to=[str(r) for r in envelope.rcpt_tos],
            data=data,
        )
        log.info("mailbox: message %s for %s", key, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def start(path: str | Path, *, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    # SMTPUTF8 on, so internationalized addresses are accepted as a real relay would.
    controller = Controller(
        MaildirHandler(path), hostname=host, port=port, enable_SMTPUTF8=True, data_size_limit=0
    )
    controller.start()
    return controller


def serve_forever(path: str | Path, *, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM (how honcho, under `make run`, stops it): exit 0 either way.

    A port already taken is one line naming the setting to change, not a traceback.
    """
    try:
        controller = start(path, host=host, port=port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(
            f"dev mailbox: port {port} on {host} is already in use; "
            "choose another with DEV_MAILBOX_PORT"
        ) from None
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
