"""A composer double: the DigestComposer interface, assembling small messages as plain bytes.

Used where the test is about the ledger under kills and restarts, not about the message; it
keeps those tests fast on two cores. The real composer runs in the other delivery tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate


@dataclass(frozen=True)
class Body:
    subject: str
    text: str
    html: str
    article_ids: tuple[int, ...]
    sections: int = 0  # which sections the letter has, as the real composer's body says


class BytesComposer:
    def __init__(self, digest_id: int) -> None:
        self.digest_id = digest_id
        self._bodies: dict[tuple[tuple[str, ...], str], Body | None] = {}

    @classmethod
    def load(cls, digest_id: int) -> BytesComposer:
        return cls(digest_id)

    def body_for(self, region_slugs: tuple[str, ...], language: str) -> Body | None:
        key = (region_slugs, language)
        if key not in self._bodies:
            self._bodies[key] = (
                Body(
                    subject=f"Digest {self.digest_id} ({language})",
                    text="Bonjour NAME,\r\n" + ", ".join(region_slugs) + "\r\n",
                    html="<p>" + "Les pourparlers reprennent.\r\n" * 40 + "</p>",
                    article_ids=(1,),
                )
                if region_slugs
                else None
            )
        return self._bodies[key]

    def message_for(
        self, body: Body, *, email: str, name: str | None, subscriber_id: int, message_id: str
    ) -> bytes:
        text = body.text.replace("NAME", name or "lecteur")
        return (
            f"From: newsletter@revue-internationale.example\r\nTo: <{email}>\r\n"
            f"Subject: {body.subject}\r\nDate: {formatdate()}\r\nMessage-ID: {message_id}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{text}{body.html}\r\n"
        ).encode()
