"""Benchmark: the editors' dashboard with N confirmed readers on PostgreSQL.

    .venv/bin/python bench/dashboard.py --readers 100000

Seeds readers over all 127 region sets (bench/send.py's seed), logs an admin in, then times
GET /admin/ (the whole page) and its heaviest parts one by one: the next weekly edition as it
would leave now (a dry run over every confirmed reader), readers week by week, confirmed readers
per region. Prints the median and the worst of --rounds runs of each.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _send_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_send", ROOT / "bench" / "send.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(rounds: int, call: Callable[[], object]) -> tuple[float, float]:
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), max(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--database", default="postgresql://postgres@127.0.0.1:5432/newsletter_bench_dash"
    )
    args = parser.parse_args()
    send = _send_module()
    instance = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    os.environ.update(
        {
            "SECRET_KEY": "bench-secret-key-bench-secret-key",
            "DATABASE_URL": send.fresh_database(args.database),
            "INSTANCE_PATH": str(instance),
            "BASE_URL": "https://www.revue-internationale.example",
        }
    )
    from flask_migrate import upgrade

    from newsletter.admin import overview
    from newsletter.app import create_app
    from newsletter.models import Editor, db

    app = create_app(instance_path=instance)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        upgrade()
        send.seed(args.readers, 3)
        editor = Editor(email="chef@revue-internationale.example", is_admin=True)
        editor.set_password("a long enough password")
        db.session.add(editor)
        db.session.commit()

        client = app.test_client()
        client.post(
            "/admin/login",
            data={"email": editor.email, "password": "a long enough password"},
        )
        assert client.get("/admin/").status_code == 200

        print(f"readers {args.readers}, rounds {args.rounds}, PostgreSQL")
        parts: list[tuple[str, Callable[[], object]]] = [
            ("GET /admin/ (whole page)", lambda: client.get("/admin/")),
            ("next weekly (dry run)", overview.next_weekly),
            ("readers week by week", overview.weekly_flows),
            ("confirmed per region", overview.confirmed_per_region),
        ]
        for name, call in parts:
            median, worst = timed(args.rounds, call)
            print(f"{name:28} median {median * 1000:8.1f} ms   worst {worst * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
