"""The one module that talks HTTP to feeds and pages: conditional GET, limits, redirects."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from flask import current_app

USER_AGENT = "LaRevueInternationale-Newsletter/0.1 (+feed reader)"
ACCEPT_FEED = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8"
ACCEPT_PAGE = "text/html, application/xhtml+xml;q=0.9"


class FetchError(Exception):
    """The resource could not be fetched; the message says why, for the editors."""


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 10.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    # Editors type these URLs, the server fetches them: by default never inside our network.
    allow_private_hosts: bool = False

    @classmethod
    def from_config(cls) -> FetchLimits:
        config = current_app.config
        return cls(
            timeout=config["FEED_FETCH_TIMEOUT"],
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
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with (
            httpx.Client(
                follow_redirects=True,
                max_redirects=limits.max_redirects,
                timeout=limits.timeout,
                headers=headers,
                # Checked before every request, redirects included.
                event_hooks={"request": [] if limits.allow_private_hosts else [_public_only]},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code == 304:
                return _fetched(response, b"", not_modified=True)
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
            return _fetched(response, _read_capped(response, limits), not_modified=False)
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {limits.max_redirects} redirects") from None
    except httpx.TimeoutException:
        raise FetchError(f"no answer within {limits.timeout:g} seconds") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"could not fetch: {exc}") from None


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


def _read_capped(response: httpx.Response, limits: FetchLimits) -> bytes:
    """The body, stopping as soon as it exceeds the cap or the time budget (a trickling server)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(f"larger than {limits.max_bytes} bytes ({declared} announced)")
    deadline = time.monotonic() + 3 * limits.timeout
    chunks, size = [], 0
    # Counted after decompression: a small gzip bomb is still a huge response.
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_bytes:
            raise FetchError(f"larger than {limits.max_bytes} bytes; stopped reading")
        if time.monotonic() > deadline:
            raise FetchError(f"still sending after {3 * limits.timeout:g} seconds; stopped")
        chunks.append(chunk)
    return b"".join(chunks)


def _fetched(response: httpx.Response, content: bytes, *, not_modified: bool) -> Fetched:
    return Fetched(
        not_modified=not_modified,
        content=content,
        url=str(response.url),
        content_type=response.headers.get("Content-Type"),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )
