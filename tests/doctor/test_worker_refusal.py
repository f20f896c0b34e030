"""In production the worker refuses to start on a blocking failure, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.doctor.conftest import DOMAIN, SELECTOR


def start_worker(tmp_path: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    """The worker's entry point as Celery imports it, with a production configuration."""
    env = {
        **os.environ,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "NEWSLETTER_ENV": "production",
        "SECRET_KEY": "production-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "MAIL_FROM": f"La Revue <newsletter@{DOMAIN}>",
        "BASE_URL": "https://lettre.revue.example",
        **environ,
    }
    return subprocess.run(
        [sys.executable, "-c", "import worker.celery_app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_worker_in_production_with_an_http_base_url_refuses_in_one_line(
    tmp_path: Path,
) -> None:
    result = start_worker(tmp_path, BASE_URL="http://lettre.revue.example")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newsletter: not sending in production: BASE_URL: http://lettre.revue.example is not "
        "https: readers' links would go in clear, and mailbox providers expect https one-click "
        "unsubscribe links (run `newsletter doctor`)"
    ]


def test_a_worker_in_production_signing_for_another_domain_refuses_in_one_line(
    tmp_path: Path, dkim_key: tuple[Path, str]
) -> None:
    result = start_worker(
        tmp_path,
        DKIM_SELECTOR=SELECTOR,
        DKIM_PRIVATE_KEY_PATH=str(dkim_key[0]),
        DKIM_DOMAIN="mailer.example",
    )

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "newsletter: not sending in production: DKIM domain: DKIM signs as d=mailer.example "
        f"but mail is From {DOMAIN}"
    )


@pytest.mark.parametrize("environment", ["production", "development"])
def test_a_worker_with_a_sound_configuration_starts(
    tmp_path: Path, dkim_key: tuple[Path, str], environment: str
) -> None:
    """DNS and the relay are not asked at start: the zone here does not even exist."""
    result = start_worker(
        tmp_path,
        NEWSLETTER_ENV=environment,
        DKIM_SELECTOR=SELECTOR,
        DKIM_PRIVATE_KEY_PATH=str(dkim_key[0]),
        SMTP_URL="smtp://127.0.0.1:9",
    )

    assert result.returncode == 0, result.stderr
