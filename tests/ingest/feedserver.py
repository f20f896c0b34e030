"""A real HTTP server in a thread, serving whatever each test puts at a path."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # when set, a matching If-None-Match gets 304
    delay: float = 0.0  # seconds to wait before answering (a server that hangs)


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]
    status: int


Route = Reply | Callable[[BaseHTTPRequestHandler], None]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                route = server.routes.get(self.path)
                if callable(route):
                    route(self)
                    return
                reply = route or Reply(status=404, body=b"not found")
                status = reply.status
                if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                    status = 304
                server.requests.append(SeenRequest(self.path, dict(self.headers), status))
                if reply.delay and server.stopping.wait(reply.delay):
                    return
                self.send_response(status)
                headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                if reply.etag:
                    headers["ETag"] = reply.etag
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if status != 304:
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.stopping = self.stopping  # type: ignore[attr-defined]  # for trickle()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def trickle(body: bytes, *, interval: float, in_headers: bool = False) -> Route:
    """A route that sends one byte every `interval` seconds: of its body, or of everything."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    )
    slow = head + body if in_headers else body

    def route(handler: BaseHTTPRequestHandler) -> None:
        stopping: threading.Event = handler.server.stopping  # type: ignore[attr-defined]
        try:
            if not in_headers:
                handler.wfile.write(head)
            for index in range(len(slow)):
                handler.wfile.write(slow[index : index + 1])
                if stopping.wait(interval):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass

    return route
