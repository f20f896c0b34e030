"""Configuration: defaults that need no server, and one clear line for a wrong value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.config import ConfigError, load_config
from newsletter.cron import parse_cron

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [NEWSLETTER, *args],
        env={**clean, "INSTANCE_PATH": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_need_no_server(tmp_path: Path) -> None:
    config = load_config(environ={}, instance_path=tmp_path)
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'newsletter.sqlite'}"
    assert config["REDIS_URL"] is None
    assert config["SMTP_URL"] == "smtp://127.0.0.1:1025"
    assert config["TIMEZONE"] == "Europe/Paris"
    assert config["DIGEST_SCHEDULE"] == "0 7 * * 1"


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    first = load_config(environ={}, instance_path=tmp_path)["SECRET_KEY"]
    second = load_config(environ={}, instance_path=tmp_path)["SECRET_KEY"]
    assert len(first) >= 40
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(environ={"NEWSLETTER_ENV": "production"}, instance_path=tmp_path)


def test_postgresql_urls_use_the_shipped_driver(tmp_path: Path) -> None:
    config = load_config(environ={"DATABASE_URL": "postgresql://u@db/news"}, instance_path=tmp_path)
    assert config["DATABASE_URL"] == "postgresql+psycopg://u@db/news"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("REDIS_URL", "http://localhost:6379"),
        ("SMTP_URL", "localhost:25"),
        ("SMTP_URL", "smtp://host:notaport"),
        ("BASE_URL", "newsletter.example"),
        ("TIMEZONE", "Europe/Atlantis"),
        ("DIGEST_SCHEDULE", "every monday"),
        ("DIGEST_SCHEDULE", "0 25 * * 1"),
        ("FEED_POLL_MINUTES", "soon"),
        ("CHECK_DELIVERABILITY", "maybe"),
    ],
)
def test_a_wrong_value_names_its_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ={name: value}, instance_path=tmp_path)
    assert caught.value.name == name
    assert str(caught.value).startswith(f"{name}: ")


def test_cron_lines_become_crontab_fields() -> None:
    assert parse_cron("0 7 * * 1") == {
        "minute": "0",
        "hour": "7",
        "day_of_month": "*",
        "month_of_year": "*",
        "day_of_week": "1",
    }
    assert parse_cron("*/15 6-8 1,15 jan mon-fri")["day_of_week"] == "mon-fri"


def test_a_bad_database_url_is_one_line_naming_it(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "routes", DATABASE_URL="nonsense://")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_line_naming_it(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "routes", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("newsletter: configuration error: DATABASE_URL: cannot connect")


def test_the_worker_entry_point_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import worker.celery_app"],
        env={**os.environ, "INSTANCE_PATH": str(tmp_path), "REDIS_URL": "http://nope"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newsletter: configuration error: REDIS_URL: not a Redis URL (redis://host:port/db): "
        "'http://nope'"
    ]
