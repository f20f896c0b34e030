"""One notion of the client's address: the TCP peer, unless the peer is a trusted proxy.

Every per-IP limit, the metrics allow-list, login throttling and the consent evidence read
`request.remote_addr`; this middleware is the only code that may change it. With no trusted
proxy (the default), `X-Forwarded-For`, `Forwarded` and `X-Real-IP` change nothing: a client
that reaches gunicorn directly cannot pick its own address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WSGIApp = Any


@dataclass(frozen=True)
class TrustedProxies:
    """TRUSTED_PROXIES parsed: a hop count, or the networks proxies connect from."""

    hops: int = 0
    networks: tuple[Network, ...] = ()

    @property
    def none(self) -> bool:
        return not self.hops and not self.networks


def parse_trusted_proxies(raw: str) -> TrustedProxies:
    """'' -> none; '1' -> one hop (whatever the peer); '10.0.0.0/8, 127.0.0.1' -> networks."""
    text = raw.strip()
    if not text:
        return TrustedProxies()
    if text.isdigit():
        return TrustedProxies(hops=int(text))
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))  # ValueError: caller says
    return TrustedProxies(networks=tuple(networks))


def wrap(app: WSGIApp, trusted: TrustedProxies) -> WSGIApp:
    """The WSGI app with the client address resolved as `trusted` says."""
    if trusted.hops:
        # A fixed chain (gunicorn behind exactly N proxies that each append the peer).
        return ProxyFix(app, x_for=trusted.hops, x_proto=trusted.hops, x_host=trusted.hops)
    if trusted.networks:
        return _FromTrustedNetworks(app, trusted.networks)
    return app


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; networks are written in IPv4.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def in_networks(address: str | None, networks: Iterable[Network | str]) -> bool:
    """Whether an address (as a peer or a proxy reports it) lies in one of the networks."""
    ip = _ip(address or "")
    return ip is not None and any(
        ip in (ipaddress.ip_network(n, strict=False) if isinstance(n, str) else n) for n in networks
    )


class _FromTrustedNetworks:
    """X-Forwarded-For read right to left while each hop is a trusted proxy.

    The first address that is not a proxy is the client; anything to its left was written by
    the client itself and is ignored. A peer outside the networks is the client, whatever it
    sent.
    """

    def __init__(self, app: WSGIApp, networks: Iterable[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)

    def _trusted(self, address: str | None) -> bool:
        return in_networks(address, self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        peer = environ.get("REMOTE_ADDR")
        if self._trusted(peer):
            client = self._client(environ.get("HTTP_X_FORWARDED_FOR", ""))
            if client is not None:
                environ["werkzeug.proxy_fix.orig_remote_addr"] = peer
                environ["REMOTE_ADDR"] = client
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in {"http", "https"}:
                environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)

    def _client(self, header: str) -> str | None:
        hops = [hop.strip() for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            ip = _ip(hop)
            if ip is None:
                return None  # a malformed chain: keep the proxy's own address
            if not self._trusted(hop):
                return str(ip)
        return str(_ip(hops[0])) if hops else None
