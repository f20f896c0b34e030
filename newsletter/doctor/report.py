"""What a check says: a verdict, what was found, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Verdict
    detail: str
    fix: str = ""

    def line(self) -> str:
        """`FAIL     DMARC: no record at _dmarc.example.org; fix: publish ...` on one line."""
        text = f"{self.verdict.value:<8} {self.name}: {self.detail}"
        return f"{text}; fix: {self.fix}" if self.fix else text


def ok(name: str, detail: str) -> Check:
    return Check(name, Verdict.OK, detail)


def warning(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, Verdict.WARNING, detail, fix)


def fail(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, Verdict.FAIL, detail, fix)
