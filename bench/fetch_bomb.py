"""Benchmark: how much a gzip bomb makes the fetching process grow before the size cap stops it.

    .venv/bin/python bench/fetch_bomb.py [--expanded-mb 1000] [--runs 3]

A local HTTP server answers with about 1 MB of gzip that expands to about 1 GB of zeros
(`Content-Encoding: gzip`, no Content-Length). Each run is a fresh process that fetches it
with FEED_MAX_BYTES' default (5 MB) and reports its peak RSS growth (ru_maxrss after the fetch
minus ru_maxrss before it), so one run's peak never hides in another's.

Two readers side by side:
  current        newsletter.ingest.fetch.fetch (raw bytes inflated by at most 64 KiB at a time)
  httpx-decoder  the former way: response.iter_bytes(), httpx inflating each raw chunk whole
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MAX_BYTES = 5_000_000


def bomb(expanded_mb: int) -> bytes:
    """gzip of `expanded_mb` MB of zeros, built in slices so building it stays small too."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1_000_000)
    parts = [compressor.compress(zeros) for _ in range(expanded_mb)]
    return b"".join([*parts, compressor.flush()])


def serve(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def child(url: str, mode: str) -> None:
    """One fetch in this fresh process; prints its peak RSS growth as JSON."""
    import httpx

    from newsletter.ingest.fetch import FetchError, FetchLimits, fetch

    limits = FetchLimits(max_bytes=MAX_BYTES, allow_private_hosts=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = ""
    try:
        if mode == "current":
            fetch(url, limits=limits)
        else:
            with httpx.Client() as client, client.stream("GET", url) as response:
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise FetchError(f"larger than {MAX_BYTES} bytes; stopped reading")
    except FetchError as exc:
        error = str(exc)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"growth_kb": after - before, "error": error}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expanded-mb", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("URL", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    body = bomb(args.expanded_mb)
    httpd = serve(body)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/feed/"
    print(f"bomb: {len(body):,} bytes of gzip -> {args.expanded_mb:,} MB; cap {MAX_BYTES:,} bytes")
    for mode in ("httpx-decoder", "current"):
        growths, errors = [], set()
        for _ in range(args.runs):
            run = subprocess.run(
                [sys.executable, __file__, "--child", url, mode], capture_output=True, text=True
            )
            if run.returncode:
                sys.exit(f"{mode}: the fetching process failed:\n{run.stderr}")
            result = json.loads(run.stdout.strip().splitlines()[-1])
            growths.append(result["growth_kb"] / 1024)
            errors.add(result["error"])
        figures = ", ".join(f"{g:.1f}" for g in growths)
        print(
            f"{mode:14} peak RSS growth: median {statistics.median(growths):.1f} MB"
            f" ({figures}); stopped with: {' | '.join(sorted(errors))}"
        )
    httpd.shutdown()


if __name__ == "__main__":
    main()
