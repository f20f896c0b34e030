"""Cron lines (as in DIGEST_SCHEDULE) turned into Celery crontab fields."""

from __future__ import annotations

import re

_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
_RANGES = {
    "minute": (0, 59),
    "hour": (0, 23),
    "day_of_month": (1, 31),
    "month_of_year": (1, 12),
    "day_of_week": (0, 7),
}
_NAMES = {
    "day_of_week": {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
    "month_of_year": {
        m: i + 1
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        )
    },
}
_TOKEN = re.compile(r"^(\*|[0-9a-z]+(-[0-9a-z]+)?)(/[0-9]+)?$")


def parse_cron(line: str) -> dict[str, str]:
    """Five cron fields as crontab() keyword arguments; ValueError says what is wrong."""
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 cron fields (minute hour day month weekday), got {line!r}")
    return {name: _check_field(name, value) for name, value in zip(_FIELDS, fields, strict=True)}


def _check_field(name: str, value: str) -> str:
    low, high = _RANGES[name]
    names = _NAMES.get(name, {})
    for part in value.lower().split(","):
        if not _TOKEN.match(part):
            raise ValueError(f"bad cron {name.replace('_', ' ')}: {value!r}")
        bounds = part.split("/")[0]
        if bounds == "*":
            continue
        for item in bounds.split("-"):
            number = names.get(item) if item in names else _number(name, item)
            if number is None or not low <= number <= high:
                raise ValueError(f"cron {name.replace('_', ' ')} out of range: {value!r}")
    return value.lower()


def _number(name: str, item: str) -> int | None:
    return int(item) if item.isdigit() else None
