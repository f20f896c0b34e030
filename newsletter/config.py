"""Configuration: one table of settings, read from the environment, validated at start-up."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from newsletter.cron import parse_cron
from newsletter.ingest.classify import normalize
from newsletter.models.region import REGIONS
from newsletter.web.client import parse_trusted_proxies


class ConfigError(Exception):
    """A setting has a value the service cannot run with; the message names it."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(name, f"expected true or false, got {raw!r}")


def _int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"expected a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(name, f"must not be negative, got {value}")
    return value


def _days(name: str, raw: str) -> int:
    value = _int(name, raw)
    if value < 1:
        raise ConfigError(name, f"must be at least 1 day, got {value}")
    return value


def _float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"expected a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(name, f"must not be negative, got {value}")
    return value


def _str(name: str, raw: str) -> str:
    return raw.strip()


def _list(name: str, raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _networks(name: str, raw: str) -> list[str]:
    networks = []
    for item in _list(name, raw):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(name, f"expected IP networks like 10.0.0.0/8, got {item!r}") from None
    return networks


def _trusted_proxies(name: str, raw: str) -> Any:
    try:
        return parse_trusted_proxies(raw)
    except ValueError:
        raise ConfigError(
            name, f"expected a hop count (1) or proxy networks (10.0.0.0/8, ...), got {raw!r}"
        ) from None


def _database_url(name: str, raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(name, f"not a database URL: {raw!r}") from None
    backend = url.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise ConfigError(name, f"unsupported database {backend!r}; use sqlite or postgresql")
    if backend == "postgresql" and url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would pick psycopg2.
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return raw


def _redis_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"redis", "rediss", "unix"} or not (parts.hostname or parts.path):
        raise ConfigError(name, f"not a Redis URL (redis://host:port/db): {raw!r}")
    return raw


def _smtp_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(name, f"not an SMTP URL (smtp://user:pass@host:port): {raw!r}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(name, f"bad port in {raw!r}") from None
    return raw


def _http_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(name, f"not an http(s) URL: {raw!r}")
    return raw.rstrip("/")


def _timezone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(name, f"unknown time zone {raw!r}") from None
    return raw


def _cron(name: str, raw: str) -> str:
    try:
        parse_cron(raw)
    except ValueError as exc:
        raise ConfigError(name, str(exc)) from None
    return raw


def _rate_limit(name: str, raw: str) -> str:
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(name, f"not a rate limit (e.g. '5 per minute'): {raw!r}") from None
    return raw


def _region_aliases(name: str, raw: str) -> dict[str, str]:
    """'Europe=union-europeenne; Proche-Orient=moyen-orient': feed label -> region slug."""
    slugs = {slug for slug, _, _ in REGIONS}
    aliases: dict[str, str] = {}
    for pair in filter(None, (item.strip() for item in raw.split(";"))):
        label, sep, slug = pair.rpartition("=")
        if not sep or not normalize(label) or slug.strip() not in slugs:
            raise ConfigError(
                name, f"expected 'label=region-slug; ...' with a known slug: {pair!r}"
            )
        aliases[normalize(label)] = slug.strip()
    return aliases


def _domain(name: str, raw: str) -> str:
    """A DNS name in ASCII (an internationalised one as its xn-- A-labels), lower case."""
    domain = raw.strip().rstrip(".").lower()
    if not re.fullmatch(
        r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+", domain
    ):
        raise ConfigError(name, f"expected a domain name in ASCII (xn-- form), got {raw!r}")
    return domain


def _nameservers(name: str, raw: str) -> list[tuple[str, int]]:
    """'127.0.0.1:5353, ::1, [::1]:53': (address, port) pairs; port 53 unless given."""
    servers = []
    for item in _list(name, raw):
        host, port = item, "53"
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif item.count(":") == 1:
            host, port = item.split(":")
        try:
            servers.append((str(ipaddress.ip_address(host)), int(port)))
        except ValueError:
            raise ConfigError(
                name, f"expected IP addresses like 127.0.0.1:5353, got {item!r}"
            ) from None
        if not 0 < servers[-1][1] < 65536:
            raise ConfigError(name, f"bad port in {item!r}")
    return servers


def _environment(name: str, raw: str) -> str:
    if raw not in {"development", "production", "testing"}:
        raise ConfigError(name, f"expected development, production or testing, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Setting:
    default: Any
    parse: Callable[[str, str], Any]
    help: str


# The list of keys. A default of None means "derived at start-up" (see _derive).
SETTINGS: dict[str, Setting] = {
    "NEWSLETTER_ENV": Setting("development", _environment, "development, production or testing"),
    "DATABASE_URL": Setting(None, _database_url, "SQLAlchemy URL; SQLite file in instance/"),
    "REDIS_URL": Setting(None, _redis_url, "Redis for broker, rate limits, locks; unset: embedded"),
    "SMTP_URL": Setting(None, _smtp_url, "smtp://user:pass@host:port, smtps://, ?starttls=1"),
    "SMTP_UTF8": Setting(
        False, _bool, "the relay speaks SMTPUTF8: accept addresses with non-ASCII local parts"
    ),
    "SECRET_KEY": Setting(None, _str, "signs tokens and sessions; generated into instance/"),
    "OLD_SECRET_KEYS": Setting([], _list, "previous SECRET_KEYs, still accepted on reader links"),
    "SUPPRESSION_KEY": Setting(
        "", _str, "key of the suppression list's HMAC; empty: SECRET_KEY (keep it when rotating)"
    ),
    "BASE_URL": Setting("http://127.0.0.1:5000", _http_url, "public URL used in emails"),
    "MAIL_FROM": Setting(
        "La Revue Internationale <newsletter@revue-internationale.example>",
        _str,
        "From header of every email",
    ),
    "MAIL_REPLY_TO": Setting("", _str, "Reply-To header; empty: none"),
    "TIMEZONE": Setting("Europe/Paris", _timezone, "zone of the schedule and of dates in emails"),
    "DIGEST_SCHEDULE": Setting("0 7 * * 1", _cron, "cron line of the weekly digest"),
    "FEED_POLL_MINUTES": Setting(15, _int, "how often feeds are polled"),
    "FEED_FETCH_TIMEOUT": Setting(10.0, _float, "seconds to wait for a feed or page to answer"),
    "FEED_FETCH_DEADLINE": Setting(
        30.0, _float, "seconds one feed or page fetch may take in all (redirects, body included)"
    ),
    "FEED_MAX_BYTES": Setting(5_000_000, _int, "largest feed or page read; larger ones fail"),
    "FEED_MAX_REDIRECTS": Setting(5, _int, "redirects followed when fetching a feed or page"),
    "FEED_ALLOW_PRIVATE_HOSTS": Setting(
        False, _bool, "let feeds and pages be fetched from private or loopback addresses"
    ),
    "LEAD_LENGTH": Setting(300, _int, "characters of an article's plain-text lead"),
    "REGION_ALIASES": Setting(
        {}, _region_aliases, "extra feed labels for regions: 'Europe=union-europeenne; ...'"
    ),
    "DEV_MAILBOX_PORT": Setting(1025, _int, "port of the development mailbox (SMTP)"),
    "DEV_MAILBOX_DIR": Setting(None, _str, "Maildir of the development mailbox"),
    "CORS_ORIGINS": Setting([], _list, "origins allowed to call the subscription API"),
    "MAX_REQUEST_BYTES": Setting(
        1_048_576, _int, "largest request body (413 beyond); page upload and bounce webhook more"
    ),
    "READER_IMPORT_MAX_BYTES": Setting(
        20 * 1_048_576, _int, "largest CSV of readers an admin may upload in the console"
    ),
    "CHECK_DELIVERABILITY": Setting(False, _bool, "check the address's domain in DNS"),
    "CONFIRM_TOKEN_DAYS": Setting(7, _int, "days a confirmation link stays valid"),
    "MANAGE_LINK_DAYS": Setting(60, _days, "days a preferences link stays valid"),
    "PENDING_PURGE_DAYS": Setting(30, _int, "days after which unconfirmed readers are purged"),
    "RATELIMIT_ENABLED": Setting(True, _bool, "rate limits on public endpoints"),
    "SUBSCRIBE_IP_LIMIT": Setting(
        "5 per minute; 30 per hour", _rate_limit, "subscription requests per client IP"
    ),
    "ADDRESS_MAIL_LIMIT": Setting(
        "1 per 15 minutes; 3 per day", _rate_limit, "confirmation emails per address"
    ),
    "EDITOR_LOGIN_ACCOUNT_LIMIT": Setting(
        "5 per 15 minutes", _rate_limit, "failed editors' logins per account, from any IP"
    ),
    "EDITOR_SESSION_HOURS": Setting(12, _int, "hours an editor's login lasts"),
    "CLICK_COUNTING": Setting(
        True, _bool, "article links in digests go through /r/ and count clicks (no reader named)"
    ),
    "SEND_RATE_PER_SECOND": Setting(50.0, _float, "messages per second to the SMTP relay"),
    "SEND_RATE_PER_HOUR": Setting(0, _int, "messages per hour to the relay; 0: no hourly cap"),
    "SEND_THROTTLE_START_RATE": Setting(
        0.0,
        _float,
        "rate assumed for a domain at its first throttle reply; 0: SEND_RATE_PER_SECOND",
    ),
    "SEND_THROTTLE_MIN_RATE": Setting(
        0.5, _float, "messages per second a throttle never goes below"
    ),
    "SEND_THROTTLE_MAX_RATE": Setting(
        0.0,
        _float,
        "a throttled key recovered to this rate is no longer limited; 0: the start rate",
    ),
    "SEND_THROTTLE_DECREASE": Setting(0.7, _float, "rate multiplied by this at a throttle reply"),
    "SEND_THROTTLE_STEP": Setting(1.0, _float, "messages per second added per calm interval"),
    "SEND_THROTTLE_INTERVAL_SECONDS": Setting(
        10.0, _float, "at most one decrease, and one additive step, per interval"
    ),
    "SEND_BATCH_SIZE": Setting(200, _int, "deliveries claimed per batch"),
    "SEND_GROUP_SIZE": Setting(20, _int, "messages handed over to the relay in one ledger commit"),
    "SEND_GROUPS_IN_FLIGHT": Setting(
        2, _int, "groups with the relay at once; uncertain bound: GROUP_SIZE x this per kill"
    ),
    "SEND_PARALLEL": Setting(2, _int, "drain tasks working on one digest at once"),
    "SEND_MAX_PER_CONNECTION": Setting(1000, _int, "messages per SMTP connection, then QUIT"),
    "SEND_LEASE_SECONDS": Setting(300, _int, "how long a claimed batch stays with its worker"),
    "SEND_TASK_SECONDS": Setting(60, _int, "work of one drain task before it hands over"),
    "SEND_WORKER_TTL_SECONDS": Setting(
        15, _int, "a worker silent this long no longer counts as a drain at work"
    ),
    "SEND_SMTP_TIMEOUT": Setting(30.0, _float, "seconds to wait for one SMTP reply"),
    "SEND_RETRY_MIN_SECONDS": Setting(60.0, _float, "first delay after a 4xx reply"),
    "SEND_RETRY_MAX_SECONDS": Setting(3600.0, _float, "longest delay between two attempts"),
    "SEND_MAX_AGE_HOURS": Setting(24.0, _float, "a deferred delivery expires after this"),
    "SEND_HARD_BOUNCES": Setting(1, _int, "5xx replies after which a reader is bounced"),
    "SEND_PAUSE_AFTER_REJECTS": Setting(
        25, _int, "relay refusals (5.7.x) in a row that pause the digest"
    ),
    "SEND_RETURN_PATH": Setting("", _str, "envelope sender (MAIL FROM); empty: From address"),
    "DKIM_SELECTOR": Setting("", _str, "DKIM selector; signing is on when a key is set"),
    "DKIM_PRIVATE_KEY_PATH": Setting("", _str, "path of the PEM DKIM private key"),
    "DKIM_DOMAIN": Setting(
        "", _domain, "DKIM signing domain (d=); empty: the From domain; must align with it"
    ),
    "DOCTOR_NAMESERVERS": Setting(
        [], _nameservers, "DNS servers `newsletter doctor` asks (host or host:port); empty: system"
    ),
    "BOUNCE_WEBHOOK_SECRET": Setting("", _str, "shared secret of the bounce webhook"),
    "CHECK_DATABASE_AT_START": Setting(True, _bool, "connect to the database at start-up"),
    "TRUSTED_PROXIES": Setting(
        None,
        _trusted_proxies,
        "proxies whose X-Forwarded-For is believed: a hop count or networks; empty: none",
    ),
    "METRICS_ALLOWED_IPS": Setting(
        ["127.0.0.1/32", "::1/128"], _networks, "networks that may read /metrics without a token"
    ),
}


def load_config(
    *, environ: Mapping[str, str], instance_path: Path, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults, then the environment, then overrides (tests); validated, derived values filled."""
    config: dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        raw = environ.get(name)
        config[name] = setting.default if raw in (None, "") else setting.parse(name, raw)
    for name, value in (overrides or {}).items():
        known = SETTINGS.get(name)
        config[name] = known.parse(name, value) if known and isinstance(value, str) else value
    _derive(config, instance_path)
    return config


def _derive(config: dict[str, Any], instance_path: Path) -> None:
    instance_path.mkdir(parents=True, exist_ok=True)
    if config["TRUSTED_PROXIES"] is None:
        config["TRUSTED_PROXIES"] = _trusted_proxies("TRUSTED_PROXIES", "")
    if config["DATABASE_URL"] is None:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'newsletter.sqlite'}"
    if config["SMTP_URL"] is None:
        config["SMTP_URL"] = f"smtp://127.0.0.1:{config['DEV_MAILBOX_PORT']}"
    if config["DEV_MAILBOX_DIR"] is None:
        config["DEV_MAILBOX_DIR"] = str(instance_path / "mailbox")
    if not config["SECRET_KEY"]:
        if config["NEWSLETTER_ENV"] == "production":
            raise ConfigError("SECRET_KEY", "must be set in production")
        config["SECRET_KEY"] = _instance_secret(instance_path)
    _check_dkim(config["DKIM_SELECTOR"], config["DKIM_PRIVATE_KEY_PATH"])


def _check_dkim(selector: str, key_path: str) -> None:
    """Signing is all or nothing: a half-set or unreadable key stops the start, not each send."""
    if bool(selector) != bool(key_path):
        missing = "DKIM_PRIVATE_KEY_PATH" if selector else "DKIM_SELECTOR"
        raise ConfigError(missing, "signing needs both DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH")
    if not key_path:
        return
    try:
        pem = Path(key_path).read_bytes()
    except OSError as exc:
        problem = f"cannot read {key_path}: {exc.strerror}"
        raise ConfigError("DKIM_PRIVATE_KEY_PATH", problem) from None
    if b"PRIVATE KEY-----" not in pem:
        raise ConfigError("DKIM_PRIVATE_KEY_PATH", f"{key_path} is not a PEM private key")


def _instance_secret(instance_path: Path) -> str:
    """A key generated once per installation, kept out of the repository in instance/."""
    path = instance_path / "secret_key"
    if not path.exists():
        # Written aside then linked into place: processes starting together agree on one key.
        tmp = instance_path / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
