"""A real SMTP server for tests: aiosmtpd, keeping what it accepts, with scripted replies."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpSink:
    port: int
    host: str = "127.0.0.1"
    messages: list[Received] = field(default_factory=list)
    # Called with each recipient; return an SMTP reply ("451 ...") to refuse it, None to accept.
    rcpt_policy: Callable[[str], str | None] | None = None
    # Called with the 1-based number of each transaction (counted at RCPT): "before" drops the
    # connection at RCPT, before any content; "after" keeps the message and drops the
    # connection instead of replying to its end of data (the sender cannot know); "lost" drops
    # it at the end of data without keeping the message (the sender cannot know either).
    drop_policy: Callable[[int], str | None] | None = None
    # Called with each message as it is accepted, before the reply goes out.
    on_message: Callable[[Received], None] | None = None
    transactions: int = 0
    # Advertise PIPELINING (aiosmtpd reads commands in order, so it copes with pipelined ones).
    pipelining: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self, *, users: dict[str, str] | None = None) -> None:
        """Start serving; with `users` ({login: password}) it offers AUTH and checks it."""
        options: dict[str, object] = {}
        if users is not None:

            def authenticate(
                server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
            ) -> AuthResult:
                login = getattr(data, "login", b"").decode()
                password = getattr(data, "password", b"").decode()
                return AuthResult(success=users.get(login) == password, handled=False)

            options = {
                "authenticator": authenticate,
                "auth_require_tls": False,  # loopback only, in tests
            }
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, enable_SMTPUTF8=True, **options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """Messages for an address once `count` have arrived; AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"{count} message(s) for {address} expected, got {len(self.to(address))}"
        )


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_EHLO(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.sink.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.sink._lock:
            self.sink.transactions += 1
            number = self.sink.transactions
        drop = self.sink.drop_policy(number) if self.sink.drop_policy else None
        if drop == "before":
            server.transport.abort()
            return "421 closing"
        envelope.drop_after = drop == "after"  # type: ignore[attr-defined]
        envelope.drop_lost = drop == "lost"  # type: ignore[attr-defined]
        refusal = self.sink.rcpt_policy(address) if self.sink.rcpt_policy else None
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if getattr(envelope, "drop_lost", False):
            # The message was sent to us, and the line dies before we keep it or reply.
            server.transport.abort()
            return "451 lost"
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        received = Received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], data)
        if self.sink.on_message:
            self.sink.on_message(received)
        with self.sink._lock:
            self.sink.messages.append(received)
        if getattr(envelope, "drop_after", False):
            server.transport.abort()
        return "250 Message accepted"
