"""A total time budget for one fetch: connect, TLS, redirects, headers and body together.

httpx's timeouts bound each socket operation, so a server that sends one byte a second,
in its headers or its body, is never cut. Here every connect, read and write of the fetch's
connections waits at most for what is left of the budget, whatever httpx asked for.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import httpcore
import httpx


class Budget:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.spent = False  # set once an operation was cut because the budget ran out

    def left(self) -> float:
        return self.ends - time.monotonic()

    def over(self) -> bool:
        self.spent = self.spent or self.left() <= 0
        return self.spent

    @contextmanager
    def bound(self, timeout: float | None, expired: type[Exception]) -> Iterator[float]:
        """The timeout to use: httpx's, or what is left when that is less."""
        left = self.left()
        if left <= 0:
            self.spent = True
            raise expired(f"no time left of the {self.seconds:g} s budget")
        cut = timeout is None or left < timeout
        try:
            yield left if cut else timeout  # type: ignore[misc]
        except httpcore.TimeoutException:
            self.spent = self.spent or cut
            raise


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, budget: Budget) -> None:
        self.stream, self.budget = stream, budget

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with self.budget.bound(timeout, httpcore.ReadTimeout) as seconds:
            return self.stream.read(max_bytes, seconds)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with self.budget.bound(timeout, httpcore.WriteTimeout) as seconds:
            self.stream.write(buffer, seconds)

    def close(self) -> None:
        self.stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        with self.budget.bound(timeout, httpcore.ConnectTimeout) as seconds:
            return _Stream(
                self.stream.start_tls(ssl_context, server_hostname, seconds), self.budget
            )

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, budget: Budget) -> None:
        self.backend, self.budget = httpcore.SyncBackend(), budget

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self.budget.bound(timeout, httpcore.ConnectTimeout) as seconds:
            stream = self.backend.connect_tcp(host, port, seconds, local_address, socket_options)
        return _Stream(stream, self.budget)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self.budget.bound(timeout, httpcore.ConnectTimeout) as seconds:
            stream = self.backend.connect_unix_socket(path, seconds, socket_options)
        return _Stream(stream, self.budget)

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


def transport(budget: Budget) -> httpx.HTTPTransport:
    """httpx's transport on connections that keep to `budget`.

    httpx offers no setting for httpcore's network backend, so its pool is replaced by one
    built the same way (same TLS context) with ours. Proxies from the environment get
    httpx's own transport: through one, only the checks between body chunks apply.
    """
    context = _tls_context()
    made = httpx.HTTPTransport(verify=context)
    made._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=_Backend(budget))
    return made


@cache
def _tls_context() -> ssl.SSLContext:
    """Loading the CA bundle costs more than fetching a small feed: once per process."""
    return httpx.create_ssl_context()
