"""The one module that talks HTTP to feeds and pages: conditional GET, limits, redirects.

Limits hold against a hostile server too: the size cap counts decoded bytes as they are
inflated (newsletter.ingest.inflate), and one time budget covers the whole fetch
(newsletter.ingest.deadline), not only each socket operation.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from flask import current_app

from newsletter.ingest import inflate
from newsletter.ingest.deadline import Budget, transport

USER_AGENT = "LaRevueInternationale-Newsletter/0.1 (+feed reader)"
ACCEPT_FEED = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8"
ACCEPT_PAGE = "text/html, application/xhtml+xml;q=0.9"


class FetchError(Exception):
    """The resource could not be fetched; the message says why, for the editors."""


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 10.0  # each connect or read
    deadline: float = 30.0  # the whole fetch, redirects and body included
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    # Editors type these URLs, the server fetches them: by default never inside our network.
    allow_private_hosts: bool = False

    @classmethod
    def from_config(cls) -> FetchLimits:
        config = current_app.config
        return cls(
            timeout=config["FEED_FETCH_TIMEOUT"],
            deadline=config["FEED_FETCH_DEADLINE"],
            max_bytes=config["FEED_MAX_BYTES"],
            max_redirects=config["FEED_MAX_REDIRECTS"],
            allow_private_hosts=config["FEED_ALLOW_PRIVATE_HOSTS"],
        )


@dataclass(frozen=True)
class Fetched:
    not_modified: bool  # 304: the validators still hold, nothing was sent
    content: bytes
    url: str  # after redirects
    content_type: str | None
    etag: str | None
    last_modified: str | None


def fetch(
    url: str,
    *,
    limits: FetchLimits,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = ACCEPT_FEED,
) -> Fetched:
    """GET `url`, conditionally when validators are given; raises FetchError."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise FetchError(f"not an http(s) URL: {url}")
    headers = {"User-Agent": USER_AGENT, "Accept": accept}
    # Explicit: httpx would also announce br and zstd when their packages are installed.
    headers["Accept-Encoding"] = inflate.ACCEPT_ENCODING
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    budget = Budget(limits.deadline)
    try:
        with httpx.Client(
            transport=transport(budget),
            timeout=limits.timeout,
            headers=headers,
            # Checked before every request, redirects included.
            event_hooks={"request": [] if limits.allow_private_hosts else [_public_only]},
        ) as client:
            return _follow(client, client.build_request("GET", url), limits, budget)
    except httpx.TimeoutException:
        if budget.over():
            raise FetchError(_too_long(limits)) from None
        raise FetchError(f"no answer within {limits.timeout:g} seconds") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"could not fetch: {exc}") from None


def _follow(
    client: httpx.Client, request: httpx.Request, limits: FetchLimits, budget: Budget
) -> Fetched:
    """Redirects followed by hand: a redirect's body is never read (httpx would read it all)."""
    for _ in range(limits.max_redirects + 1):
        response = client.send(request, stream=True)
        try:
            if response.next_request is None:
                return _answer(response, limits, budget)
            request = response.next_request
        finally:
            response.close()
    raise FetchError(f"more than {limits.max_redirects} redirects")


def _answer(response: httpx.Response, limits: FetchLimits, budget: Budget) -> Fetched:
    if response.status_code == 304:
        return _fetched(response, b"", not_modified=True)
    if response.status_code >= 400:
        raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
    return _fetched(response, _read_capped(response, limits, budget), not_modified=False)


def _too_long(limits: FetchLimits) -> str:
    return f"took longer than {limits.deadline:g} s; stopped"


def _public_only(request: httpx.Request) -> None:
    """Refuse hosts that resolve to loopback, private, link-local or reserved addresses.

    The name is resolved again when connecting; this guards against an editor's typo or a
    redirect into our network, not against a hostile DNS server (rebinding).
    """
    host = request.url.host
    try:
        infos = socket.getaddrinfo(host, request.url.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"cannot resolve host {host}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise FetchError(f"refused: {host} is a private or local address ({address})")


def _read_capped(response: httpx.Response, limits: FetchLimits, budget: Budget) -> bytes:
    """The decoded body, stopping as soon as it exceeds the cap or the time budget."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(f"larger than {limits.max_bytes} bytes ({declared} announced)")
    chunks: list[bytes] = []
    size = 0
    try:
        decoders = inflate.layers(response.headers.get("Content-Encoding", ""))
        # Raw bytes, inflated here by small steps; an empty chunk last flushes the decoders.
        for raw, last in _with_end(response.iter_raw()):
            # Counted after decompression: a small gzip bomb is still a huge response.
            for piece in inflate.decode(decoders, raw, last=last):
                size += len(piece)
                if size > limits.max_bytes:
                    raise FetchError(f"larger than {limits.max_bytes} bytes; stopped reading")
                chunks.append(piece)
            # Sockets keep to the budget by themselves, except through a proxy.
            if budget.over():
                raise FetchError(_too_long(limits))
    except inflate.EncodingError as exc:
        raise FetchError(str(exc)) from None
    return b"".join(chunks)


def _with_end(chunks: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    for chunk in chunks:
        yield chunk, False
    yield b"", True


def _fetched(response: httpx.Response, content: bytes, *, not_modified: bool) -> Fetched:
    return Fetched(
        not_modified=not_modified,
        content=content,
        url=str(response.url),
        content_type=response.headers.get("Content-Type"),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )
