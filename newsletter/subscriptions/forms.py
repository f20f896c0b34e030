"""The public forms (Flask-WTF: CSRF on each) and the checks shared with the JSON API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from newsletter.subscriptions.addresses import (
    AddressError,
    NonAsciiLocalPart,
    has_control_characters,
    normalize_address,
)
from newsletter.subscriptions.service import LANGUAGES, Request

MAX_NAME_LENGTH = 100
# RFC 5321's limit on a forward path; longer is no address, and not worth validating.
MAX_EMAIL_LENGTH = 254
ALL_REGIONS = "all"


def region_choices(regions: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(ALL_REGIONS, str(_l("All regions"))), *regions]


@dataclass(frozen=True)
class Problems:
    """Field name -> message in the reader's language; empty when the input is usable."""

    fields: Mapping[str, str]
    honeypot: bool = False


def check_submission(
    *,
    email: object,
    name: object,
    regions: object,
    language: object,
    honeypot: object,
    known_regions: Sequence[str],
) -> tuple[Request | None, Problems]:
    """The one validation of a subscription, for the form and the API alike."""
    problems: dict[str, str] = {}
    if honeypot:
        return None, Problems({}, honeypot=True)
    email_text = email if isinstance(email, str) else ""
    try:
        if len(email_text.strip()) > MAX_EMAIL_LENGTH:
            raise AddressError("longer than any address")
        normalized = normalize_address(
            email_text, check_deliverability=current_app.config["CHECK_DELIVERABILITY"]
        )
    except NonAsciiLocalPart:
        normalized = ""
        problems["email"] = str(
            _l(
                "We cannot deliver to addresses with accented or non-Latin letters before "
                "the @ yet. Please use another address."
            )
        )
    except AddressError:
        normalized = ""
        problems["email"] = str(_l("Please enter a valid email address."))
    name_text = name if isinstance(name, str) else ""
    if name is not None and not isinstance(name, str):
        problems["name"] = str(_l("Please enter your first name as text."))
    elif has_control_characters(name_text):
        problems["name"] = str(_l("Your first name cannot contain line breaks."))
    elif len(name_text.strip()) > MAX_NAME_LENGTH:
        problems["name"] = str(_l("Your first name is too long (100 characters at most)."))
    chosen, choice_problems = check_preferences(
        regions=regions, language=language, known_regions=known_regions
    )
    problems.update(choice_problems)
    if problems:
        return None, Problems(problems)
    return (
        Request(
            email=normalized,
            name=name_text.strip() or None,
            region_slugs=chosen,
            language=str(language),
        ),
        Problems({}),
    )


def _region_slugs(regions: object) -> list[str] | None:
    if isinstance(regions, str):
        regions = [regions]
    if not isinstance(regions, list) or not all(isinstance(s, str) for s in regions):
        return None
    return list(dict.fromkeys(regions))


def check_preferences(
    *, regions: object, language: object, known_regions: Sequence[str]
) -> tuple[tuple[str, ...], Mapping[str, str]]:
    """The preference centre's checks: the same rules as the subscription form."""
    problems: dict[str, str] = {}
    slugs = _region_slugs(regions)
    if slugs is None or any(s not in known_regions and s != ALL_REGIONS for s in slugs):
        problems["regions"] = str(_l("Please choose among the regions listed."))
    elif not slugs:
        problems["regions"] = str(_l("Please choose at least one region."))
    if language not in LANGUAGES:
        problems["language"] = str(_l("Please choose French or English."))
    chosen = tuple(known_regions) if ALL_REGIONS in (slugs or ()) else tuple(slugs or ())
    return chosen, problems


class ButtonForm(FlaskForm):
    """Only a CSRF token: the fields are rendered by hand and checked by the functions above."""
