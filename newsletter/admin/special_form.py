"""The special edition's form: regions, window, intro, top story, when it leaves, and the
reader a preview or a test is made for. Errors read in the console's language."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from newsletter.admin.labels import moment, region_name
from newsletter.digests.choices import PinChoice, in_window, pinnable
from newsletter.digests.editions import LATEST_SCHEDULE, special_window
from newsletter.models import REGIONS, Digest, utcnow
from newsletter.web.requests import column_max

LANGUAGES = [("fr", "Français"), ("en", "English")]
LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGES]
MAX_EMAIL, MAX_INTRO, MAX_TEST_ADDRESSES = 254, 10_000, 5
# Dates a window can use: one day later and one time zone away still fit in a datetime.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
# The top stories listed in the page; the search (article_choices) reaches the others.
LISTED = 200


class RegionsField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ArticleField(SelectField):  # type: ignore[misc]
    """A <select> of articles whose posted value is an article id, or empty for none. Which
    ids are allowed is the window's business (SpecialForm.validate_pinned), not the list's:
    the search may have offered one the page did not list."""

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if raw:
            number = int(raw) if raw.isascii() and raw.isdigit() else 0
            if not 1 <= number <= column_max(Digest.pinned_article_id):
                raise ValueError(_("not an article number."))
            self.data = number

    def pre_validate(self, form: FlaskForm) -> None:
        pass


def region_choices() -> list[SelectChoice]:
    return [SelectChoice(slug, region_name(slug)) for slug, _fr, _en in REGIONS]


def _no_nul(form: FlaskForm, field: Any) -> None:
    if field.data and "\x00" in str(field.data):
        raise ValidationError(_("NUL character refused."))


def _day_in_range(form: FlaskForm, field: Any) -> None:
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(
            _(
                "between %(first)s and %(last)s.",
                first=f"{FIRST_DAY:%d/%m/%Y}",
                last=f"{LAST_DAY:%d/%m/%Y}",
            )
        )


class SpecialForm(FlaskForm):  # type: ignore[misc]
    regions = RegionsField(_l("Regions (none checked: all)"))
    since = DateField(_l("From"), validators=[Optional(), _day_in_range])
    until = DateField(_l("Until (included)"), validators=[Optional(), _day_in_range])
    intro = TextAreaField(
        _l("Introduction (plain text)"),
        validators=[
            Optional(),
            Length(max=MAX_INTRO, message=_l("%(max)d characters at most.")),
            _no_nul,
        ],
    )
    pinned = ArticleField(_l("Top story"), choices=[], coerce=lambda v: int(v) if v else None)
    when = RadioField(
        _l("When"),
        choices=[SelectChoice("now", _l("Send now")), SelectChoice("at", _l("Send at a time"))],
        default="now",
    )
    send_at = DateTimeLocalField(
        _l("Date and time"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[Optional()]
    )
    # The reader a preview or a test is made for (none checked: the edition's regions).
    reader_regions = RegionsField(_l("A reader of these regions"))
    preview_language = RadioField(_l("In"), choices=LANGUAGE_CHOICES, default="fr")
    test_addresses = TextAreaField(
        _l("Also to (up to 5 addresses, one a line)"),
        validators=[Optional(), Length(max=(MAX_EMAIL + 2) * MAX_TEST_ADDRESSES), _no_nul],
    )
    # Made when the form is shown: a double submission makes one edition.
    request_key = HiddenField(validators=[Length(max=40)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions.choices = region_choices()
        self.reader_regions.choices = region_choices()

    # Checked here too, so that the editor reads why beside the field.
    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("the end of the period is before its start."))

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        # Optional() ends the field's checks on an empty value: "send at" needs one.
        if self.when.data == "at" and self.send_at.data is None and not self.send_at.errors:
            self.send_at.errors = [_("give the date and time it leaves.")]
            return False
        return valid

    def validate_send_at(self, field: DateTimeLocalField) -> None:
        if self.when.data != "at" or field.data is None:
            return
        moment_at = self.send_at_utc()
        now = utcnow()
        if moment_at is None or moment_at <= now:
            raise ValidationError(_("this time is already past."))
        if moment_at > now + LATEST_SCHEDULE:
            raise ValidationError(_("at most %(days)d days ahead.", days=LATEST_SCHEDULE.days))

    def validate_pinned(self, field: ArticleField) -> None:
        if field.errors or field.data is None or self.since.errors or self.until.errors:
            return
        start, end = self.window()
        found = in_window(field.data, start, end)
        if found is None:
            raise ValidationError(_("no article no. %(id)d.", id=field.data))
        if not found:
            raise ValidationError(
                _("article no. %(id)d was not published in this period.", id=field.data)
            )

    def send_at_utc(self) -> datetime | None:
        """The time typed, on the newsroom's clock, in UTC; None: send now."""
        if self.when.data != "at" or self.send_at.data is None:
            return None
        try:
            return self.send_at.data.replace(tzinfo=_zone()).astimezone(UTC)
        except OverflowError:
            return None

    def window(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC: days are whole days in TIMEZONE, the last one included."""
        until = self.until.data + timedelta(days=1) if self.until.data else None
        return special_window(
            since=_day_start(self.since.data),
            until=_day_start(until),
            send_at=self.send_at_utc(),
        )

    def options(self) -> dict[str, Any]:
        """create_special's and special_draft's arguments for the edition described."""
        until = self.until.data + timedelta(days=1) if self.until.data else None
        return {
            "regions": self.regions.data or [],
            "since": _day_start(self.since.data),
            "until": _day_start(until),
            "intro": self.intro.data,
            "pinned_article_id": self.pinned.data,
        }

    def list_articles(self) -> None:
        """The top story's options: none, then the window's articles (and the one chosen)."""
        try:
            start, end = self.window()
            listed = pinnable(start, end, limit=LISTED)
        except (OverflowError, ValueError):
            listed = []
        choices = [SelectChoice("", _("— No top story —"))]
        choices += [SelectChoice(str(c.id), choice_label(c)) for c in listed]
        chosen = self.pinned.data
        if chosen is not None and all(c.id != chosen for c in listed):
            choices.insert(1, SelectChoice(str(chosen), _("Article no. %(id)d", id=chosen)))
        self.pinned.choices = choices


def choice_label(choice: PinChoice) -> str:
    regions = ", ".join(region_name(slug) for slug in choice.region_slugs) or "—"
    return f"{choice.title} — {moment(choice.published_at)} — {regions}"


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _day_start(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=_zone()).astimezone(UTC)
