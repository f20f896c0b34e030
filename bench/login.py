"""Benchmark: how long a failed editors' login takes for a known and for an unknown address.

    .venv/bin/python bench/login.py [--rounds 20]

The real login view on a SQLite file in a temporary folder (rate limits and CSRF off, so every
request reaches the password check). Prints the median of ROUNDS logins with a known address
and a wrong password, of ROUNDS with an address no editor has and of ROUNDS with a malformed
one: a large gap tells an attacker which addresses are editors'.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from newsletter.admin.accounts import save_editor
    from newsletter.app import create_app

    instance = Path(tempfile.mkdtemp(prefix="bench-login-"))
    app = create_app(
        {
            "NEWSLETTER_ENV": "testing",
            "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite'}",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        },
        instance_path=instance,
    )
    with app.app_context():
        upgrade()
        save_editor("chef@example.com", "correct-horse-battery")
    client = app.test_client()

    def median_ms(email: str) -> float:
        timings = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            response = client.post("/admin/login", data={"email": email, "password": "wrong"})
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        return statistics.median(timings) * 1000

    median_ms("chef@example.com")  # warm-up: templates, connections
    known = median_ms("chef@example.com")
    unknown = median_ms("nobody@example.com")
    malformed = median_ms("not-an-address")
    print(f"known address, wrong password: median {known:.1f} ms over {args.rounds}")
    print(f"unknown address:               median {unknown:.1f} ms over {args.rounds}")
    print(f"malformed address:             median {malformed:.1f} ms over {args.rounds}")


if __name__ == "__main__":
    main()
