"""DKIM settings are checked when the service starts, not when the first digest is signed."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import ConfigError, load_config


def settings(tmp_path: Path, **environ: str) -> dict[str, object]:
    return load_config(environ=environ, instance_path=tmp_path / "instance")


def test_a_selector_without_a_key_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DKIM_PRIVATE_KEY_PATH: signing needs both"):
        settings(tmp_path, DKIM_SELECTOR="lettre2026")


def test_an_unreadable_or_wrong_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.pem"
    with pytest.raises(ConfigError, match="cannot read .*absent.pem"):
        settings(tmp_path, DKIM_SELECTOR="s", DKIM_PRIVATE_KEY_PATH=str(missing))
    wrong = tmp_path / "cert.pem"
    wrong.write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="not a PEM private key"):
        settings(tmp_path, DKIM_SELECTOR="s", DKIM_PRIVATE_KEY_PATH=str(wrong))


def test_no_dkim_settings_means_no_signing(tmp_path: Path) -> None:
    config = settings(tmp_path)

    assert config["DKIM_SELECTOR"] == "" and config["DKIM_PRIVATE_KEY_PATH"] == ""
