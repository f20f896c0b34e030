"""A real DNS server for tests: UDP on loopback, answering TXT questions from a dict.

dnspython reads each query off the wire and writes the answer; the doctor's resolver asks it
as it would ask any server. Names absent from the zone (and with nothing below them) are
NXDOMAIN; a name present without TXT gets an empty answer.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


@dataclass
class DnsServer:
    # name (lower case, no final dot) -> the TXT records there
    zone: dict[str, list[str]]
    questions: list[str] = field(default_factory=list)
    _socket: socket.socket | None = None
    _thread: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        assert self._socket is not None
        return int(self._socket.getsockname()[1])

    @property
    def address(self) -> str:
        """As DOCTOR_NAMESERVERS names it."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self._socket is not None:
            self._socket.close()

    def _serve(self) -> None:
        assert self._socket is not None
        while not self._stopping.is_set():
            try:
                wire, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            self._socket.sendto(self._answer(wire).to_wire(), peer)

    def _answer(self, wire: bytes) -> dns.message.Message:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        for question in query.question:
            name = question.name.to_text(omit_final_dot=True).lower()
            self.questions.append(name)
            if not any(known == name or known.endswith(f".{name}") for known in self.zone):
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT and self.zone.get(name):
                response.answer.append(
                    dns.rrset.from_text_list(
                        question.name,
                        300,
                        dns.rdataclass.IN,
                        dns.rdatatype.TXT,
                        [_quoted(record) for record in self.zone[name]],
                    )
                )
        return response


def _quoted(record: str) -> str:
    """A TXT record as zone text: strings of at most 255 bytes, quoted."""
    data = record.encode()
    chunks = [data[i : i + 255].decode() for i in range(0, len(data), 255)] or [""]
    escaped = (c.replace("\\", "\\\\").replace('"', '\\"') for c in chunks)
    return " ".join(f'"{chunk}"' for chunk in escaped)
