"""A fast SMTP client for bulk mail: one kept connection, PIPELINING, an outcome per message.

smtplib waits for a reply after every command. Here a group of messages goes out with RFC 2920
pipelining: MAIL, RCPT and DATA in one write, and each message's content in the same write as the
next message's commands, so a message costs about one round trip instead of four.

What happened to each message is reported as an `Outcome`; the caller records it in the ledger.
The one thing we track carefully is whether the end-of-data "." may have reached the server:
  - replies 2xx to "."          -> ACCEPTED
  - 4xx / 5xx anywhere          -> TEMPORARY / PERMANENT (nothing was delivered)
  - connection lost before "."  -> TEMPORARY (RFC 5321 3.8: treat as 451)
  - connection lost after "."   -> UNKNOWN (the server may have kept it: never re-send)
"""

from __future__ import annotations

import base64
import contextlib
import enum
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newsletter.mail.smtp import SmtpSettings


class Result(enum.StrEnum):
    ACCEPTED = "accepted"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"
    NOT_SENT = "not sent"  # halted before its MAIL FROM: certainly not delivered


@dataclass(frozen=True)
class Envelope:
    key: int  # the delivery id, echoed back in the outcome
    rcpt: str
    data: bytes  # RFC 5322 bytes with CRLF line ends (dot-stuffing is done here)


@dataclass(frozen=True)
class Outcome:
    key: int
    result: Result
    code: int
    reply: str


class RelayError(Exception):
    """The relay refused us, not a reader (auth refused, cannot connect): pause, don't blame."""

    def __init__(self, code: int, reply: str, *, permanent: bool) -> None:
        super().__init__(f"{code} {reply}")
        self.code = code
        self.reply = reply
        self.permanent = permanent


class _Lost(Exception):
    """The connection broke or the server said 421; the connection is unusable."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code = code
        self.reply = reply


def prepare_data(message: bytes) -> bytes:
    """CRLF line ends, dot-stuffed, terminated by CRLF.CRLF (RFC 5321 4.5.2)."""
    # Composers give CRLF (RFC 5322); a message whose head has bare LFs is converted whole.
    # One cheap scan each; copies only when something must change.
    if b"\r\n" not in message[:2000]:
        message = message.replace(b"\n", b"\r\n")
    if message.startswith(b"."):
        message = b"." + message
    if b"\n." in message:
        message = message.replace(b"\r\n.", b"\r\n..")
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message + b".\r\n"


class SmtpConnection:
    """One SMTP session kept open across groups; reconnects itself when it was lost."""

    def __init__(self, settings: SmtpSettings, *, mail_from: str, max_messages: int = 1000):
        self.settings = settings
        self.mail_from = mail_from
        self.max_messages = max(1, max_messages)
        self._sock: socket.socket | None = None
        self._buf = b""
        self._sent_on_connection = 0
        self.pipelining = False
        self.connections_opened = 0
        self._helo_name = b""

    # -- connection -------------------------------------------------------------------------

    def open(self) -> None:
        """Connect, EHLO, STARTTLS and AUTH as configured; RelayError when that fails."""
        s = self.settings
        try:
            sock = socket.create_connection((s.host, s.port), timeout=s.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if s.ssl:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=s.host)
            self._sock, self._buf = sock, b""
            self._expect(220)
            features = self._ehlo()
            if s.starttls:
                self._command(b"STARTTLS\r\n", 220)
                context = ssl.create_default_context()
                self._sock = context.wrap_socket(self._sock, server_hostname=s.host)
                features = self._ehlo()
            if s.username:
                self._auth(features)
        except _Lost as exc:
            self.close()
            permanent = exc.code in (530, 534, 535, 538) or exc.code >= 500
            raise RelayError(exc.code, exc.reply, permanent=permanent) from None
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise RelayError(0, f"cannot reach {s.host}:{s.port}: {exc}", permanent=False) from None
        self.pipelining = any(f.split()[0] == "PIPELINING" for f in features if f)
        self._sent_on_connection = 0
        self.connections_opened += 1

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.sendall(b"QUIT\r\n")
            self._sock.close()
        self._sock, self._buf = None, b""

    def _ehlo(self) -> set[str]:
        """The server's extensions, one upper-case line each ("PIPELINING", "AUTH PLAIN LOGIN")."""
        if not self._helo_name:
            self._helo_name = socket.getfqdn().encode("idna")
        _, text = self._command(b"EHLO " + self._helo_name + b"\r\n", 250)
        return {line.strip().upper() for line in text.splitlines()[1:]}

    def _auth(self, features: set[str]) -> None:
        user = (self.settings.username or "").encode()
        password = (self.settings.password or "").encode()
        plain = base64.b64encode(b"\0" + user + b"\0" + password)
        mechanisms = {m for f in features if f.startswith("AUTH") for m in f.split()[1:]}
        if "PLAIN" in mechanisms or "LOGIN" not in mechanisms:
            self._command(b"AUTH PLAIN " + plain + b"\r\n", 235)
        else:
            self._command(b"AUTH LOGIN\r\n", 334)
            self._command(base64.b64encode(user) + b"\r\n", 334)
            self._command(base64.b64encode(password) + b"\r\n", 235)

    # -- replies ----------------------------------------------------------------------------

    def _read_reply(self) -> tuple[int, str]:
        assert self._sock is not None
        lines: list[bytes] = []
        while True:
            end = self._buf.find(b"\r\n")
            while end < 0:
                try:
                    chunk = self._sock.recv(65536)
                except OSError as exc:
                    raise _Lost(0, f"connection lost: {exc}") from None
                if not chunk:
                    raise _Lost(0, "connection closed by the server")
                self._buf += chunk
                end = self._buf.find(b"\r\n")
            line, self._buf = self._buf[:end], self._buf[end + 2 :]
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                break
        try:
            code = int(lines[-1][:3])
        except ValueError:
            raise _Lost(0, f"garbled reply {lines[-1][:80]!r}") from None
        text = "\n".join(line[4:].decode("utf-8", "replace") for line in lines)
        if code == 421:
            raise _Lost(code, text)
        return code, text

    def _expect(self, wanted: int) -> tuple[int, str]:
        code, text = self._read_reply()
        if code != wanted:
            raise _Lost(code, text)
        return code, text

    def _command(self, line: bytes, wanted: int) -> tuple[int, str]:
        self._write(line)
        return self._expect(wanted)

    def _write(self, payload: bytes) -> None:
        assert self._sock is not None
        try:
            self._sock.sendall(payload)
        except OSError as exc:
            raise _Lost(0, f"connection lost: {exc}") from None

    # -- sending ----------------------------------------------------------------------------

    def send_group(
        self,
        envelopes: Sequence[Envelope],
        *,
        retries: int = 1,
        halted: Callable[[], bool] | None = None,
    ) -> list[Outcome]:
        """Send each envelope at most once; one outcome per envelope. Never raises for a reader.

        A lost connection is reopened (`retries` times per group) for the messages that were
        certainly not delivered. RelayError when no connection can be opened at all.
        `halted` is asked before each message: once true, the message being written completes
        and the rest are NOT_SENT.
        """
        outcomes: list[Outcome] = []
        todo = list(envelopes)
        losses = 0
        lost: _Lost | None = None
        while todo:
            if self._sock is None or self._sent_on_connection >= self.max_messages:
                self.close()
                if losses and (lost is None or lost.code != 421):
                    # A 421 is the server asking us to slow down, alive: the caller paces.
                    time.sleep(min(2.0, 0.1 * 2**losses))
                try:
                    self.open()
                except RelayError as exc:
                    if not outcomes:
                        raise  # nothing of the group went out: the caller gives it back
                    outcomes.extend(
                        Outcome(e.key, Result.TEMPORARY, exc.code or 451, exc.reply) for e in todo
                    )
                    return outcomes
            room = self.max_messages - self._sent_on_connection
            chunk, rest = todo[:room], todo[room:]
            done, lost = self._send_on_connection(chunk, halted)
            outcomes.extend(done)
            untried = chunk[len(done) :]
            todo = untried + rest
            if todo and lost is None and halted is not None and halted():
                outcomes.extend(Outcome(e.key, Result.NOT_SENT, 0, "halted") for e in todo)
                return outcomes
            if lost is not None:
                losses += 1
                if losses > retries:
                    outcomes.extend(
                        Outcome(e.key, Result.TEMPORARY, lost.code or 451, lost.reply) for e in todo
                    )
                    return outcomes
        return outcomes

    def _send_on_connection(
        self, chunk: Sequence[Envelope], halted: Callable[[], bool] | None = None
    ) -> tuple[list[Outcome], _Lost | None]:
        """Outcomes of the first messages of `chunk`, in order, and the loss that stopped it.

        Messages after the outcomes were certainly not delivered (their "." never left).
        """
        outcomes: list[Outcome] = []
        mail_from = b"MAIL FROM:<" + self.mail_from.encode() + b">"
        previous: Envelope | None = None  # the message whose "." was written, reply not read
        carry = b""  # the content of `previous`, written together with the next commands
        reset = False  # the last transaction failed half-way: RSET before the next MAIL
        try:
            for envelope in chunk:
                if halted is not None and halted():
                    break  # the message in `carry` still completes below
                options = b"" if envelope.rcpt.isascii() else b" SMTPUTF8"
                commands = [
                    mail_from + options + b"\r\n",
                    b"RCPT TO:<" + envelope.rcpt.encode("utf-8") + b">\r\n",
                    b"DATA\r\n",
                ]
                if reset:
                    commands.insert(0, b"RSET\r\n")
                if self.pipelining:
                    self._write(carry + b"".join(commands))
                elif carry:
                    self._write(carry)
                if carry:
                    assert previous is not None
                    outcomes.append(self._data_outcome(previous, self._read_reply()))
                    previous, carry = None, b""
                if self.pipelining:
                    replies = [self._read_reply() for _ in commands]
                else:
                    replies = self._one_by_one(commands)
                if reset:
                    replies = replies[1:]
                reset = False
                failed = next((r for r in replies if r[0] >= 400), None)
                if failed is None and replies[-1][0] == 354:
                    previous, carry = envelope, prepare_data(envelope.data)
                    continue
                if replies[-1][0] == 354:  # a server that says 354 with no recipient
                    self._write(b".\r\n")
                    self._read_reply()
                failed = failed or replies[-1]
                kind = Result.PERMANENT if failed[0] >= 500 else Result.TEMPORARY
                outcomes.append(Outcome(envelope.key, kind, failed[0], failed[1]))
                self._sent_on_connection += 1
                reset = True
            if carry:
                assert previous is not None
                self._write(carry)
                outcomes.append(self._data_outcome(previous, self._read_reply()))
                previous = None
            if reset:
                self._write(b"RSET\r\n")
                self._read_reply()
        except _Lost as exc:
            self.close()
            if previous is not None:
                # Its "." may have reached the server, and no reply came: nobody can know.
                # A 421 is a reply, though: the server refused the message before closing.
                result = Result.TEMPORARY if exc.code == 421 else Result.UNKNOWN
                outcomes.append(Outcome(previous.key, result, exc.code, exc.reply))
            return outcomes, exc
        return outcomes, None

    def _one_by_one(self, commands: list[bytes]) -> list[tuple[int, str]]:
        """Without PIPELINING: each command waits for its reply; stop at the first refusal."""
        replies: list[tuple[int, str]] = []
        for line in commands:
            self._write(line)
            reply = self._read_reply()
            replies.append(reply)
            if reply[0] >= 400 and line != b"RSET\r\n":
                break
        return replies

    def _data_outcome(self, envelope: Envelope, reply: tuple[int, str]) -> Outcome:
        self._sent_on_connection += 1
        code, text = reply
        if code < 300:
            return Outcome(envelope.key, Result.ACCEPTED, code, text)
        kind = Result.PERMANENT if code >= 500 else Result.TEMPORARY
        return Outcome(envelope.key, kind, code, text)
