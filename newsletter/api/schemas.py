"""What the API accepts: one pydantic model per request body or query string.

spectree validates each request with these models and writes the OpenAPI document from them, so
the document and the checks cannot drift apart. A rule that needs the site's data or settings
(a region's aliases, a slug that exists) is a validator here too, so that one request hears
about every problem at once. What a refusal looks like is each resource's own (refusals.py).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from newsletter.ingest.articles import MAX_URL
from newsletter.ingest.classify import SECTION_ALIASES, classify, normalize
from newsletter.ingest.feeds import IngestOptions
from newsletter.ingest.payload import LIMITS, MAX_LABEL_LENGTH, MAX_LABELS, parse_since
from newsletter.models import Region, Section, db
from newsletter.subscriptions.forms import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH
from newsletter.web.requests import ID_MAX

# A rule of ours broken: its messages travel in the error's context (refusals.py reads them).
OURS = "newsletter"
MAX_LIST, DEFAULT_LIMIT = 500, 100
# An introduction is a paragraph or two above the articles; the regions are seven.
MAX_INTRO, MAX_REGIONS, MAX_DATE = 10_000, 50, 40


def reject(*messages: str) -> PydanticCustomError:
    return PydanticCustomError(OURS, "; ".join(messages), {"messages": list(messages)})


class Body(BaseModel):
    """A JSON body: no coercion ("12" is not 12, true is not 1), text stripped."""

    model_config = ConfigDict(strict=True, str_strip_whitespace=True)


# --- articles -----------------------------------------------------------------------------


def _http_url(value: str | None) -> str | None:
    if value and urlsplit(value).scheme not in {"http", "https"}:
        raise reject("must be an absolute http(s) URL")
    return value


def _published_at(value: Any) -> datetime | None:
    """ISO 8601 with a zone, as UTC: our words, not pydantic's (which also takes a space)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise reject("must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise reject("must be an ISO 8601 date-time, e.g. 2022-05-18T09:30:00+02:00") from None
    if moment.tzinfo is None:
        raise reject("must include a time zone (Z or +hh:mm)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC date
        raise reject("is out of range") from None


def _section(value: Any) -> Section | None:
    """A section by its slug or its name on the site ("Grand Angle")."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and normalize(value) in SECTION_ALIASES:
        return SECTION_ALIASES[normalize(value)]
    raise reject(f"one of: {', '.join(s.value for s in Section)}")


Label = Annotated[StrictStr, Field(max_length=MAX_LABEL_LENGTH)]
Labels = Annotated[list[Label], Field(max_length=MAX_LABELS)]
HttpUrl = Annotated[StrictStr, Field(max_length=MAX_URL), AfterValidator(_http_url)]


class ArticleIn(Body):
    """An article; posting the same guid (or URL) again updates it."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(min_length=1, description="The article's page; its guid when none.")
    title: StrictStr = Field(min_length=1, max_length=LIMITS["title"])
    guid: StrictStr | None = Field(None, max_length=LIMITS["guid"])
    published_at: Annotated[datetime | None, BeforeValidator(_published_at)] = Field(
        None, description="ISO 8601 with a time zone; now when absent."
    )
    summary: StrictStr | None = Field(
        None, max_length=LIMITS["summary"], description="HTML, sanitized; the lead is cut from it."
    )
    author: StrictStr | None = Field(None, max_length=LIMITS["author"])
    section: Annotated[Section | None, BeforeValidator(_section)] = None
    regions: Labels = Field(
        default_factory=list, description="Region slugs or names, as the feeds write them."
    )
    tags: Labels = Field(default_factory=list)
    image_url: HttpUrl | None = None

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, labels: list[str]) -> list[str]:
        """The labels as region slugs (aliases from REGION_ALIASES), in order, once each."""
        aliases = IngestOptions.from_config().region_aliases
        slugs: list[str] = []
        unknown = []
        for label in labels:
            found = classify([label], aliases=aliases).region_slugs
            if not found:
                unknown.append(f"unknown region: {label}")
            slugs += [slug for slug in found if slug not in slugs]
        if unknown:
            raise reject(*unknown)
        return slugs


class ArticleQuery(BaseModel):
    """Filters of the articles' list (a query string: text, converted)."""

    region: str = Field("", description="A region's slug, or `none` for those awaiting one.")
    since: str = Field("", description="ISO 8601 date or date-time (UTC when no zone is given).")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIST)

    @field_validator("region")
    @classmethod
    def _region_exists(cls, slug: str) -> str:
        slug = slug.strip()
        if slug in {"", "none"}:
            return slug
        if db.session.execute(db.select(Region.id).where(Region.slug == slug)).first() is None:
            raise reject("unknown region slug")
        return slug

    @field_validator("since")
    @classmethod
    def _since_is_a_date(cls, since: str) -> str:
        if since.strip():
            try:
                parse_since(since)
            except ValueError:
                raise reject("must be an ISO 8601 date or date-time") from None
        return since.strip()

    @field_validator("limit", mode="wrap")
    @classmethod
    def _limit_in_digits(cls, raw: Any, within: ValidatorFunctionWrapHandler) -> int:
        # "²" and "١" are digits to str.isdigit() and to int(): refused here, by our words.
        if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 6:
            with suppress(ValidationError):
                return int(within(raw))
        raise reject(f"a whole number from 1 to {MAX_LIST}")


class FeedIn(BaseModel):
    """A feed to poll; registering a known URL again answers the same feed."""

    model_config = ConfigDict(strict=True, str_strip_whitespace=True)

    url: StrictStr = Field(min_length=1, max_length=MAX_URL, description="Absolute http(s) URL.")


# --- digests ------------------------------------------------------------------------------


class DigestIn(Body):
    """An edition to start. A weekly one takes no other field; a special one any of them."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["special", "weekly"] = "special"
    regions: list[StrictStr] = Field(
        default_factory=list,
        max_length=MAX_REGIONS,
        description="Region slugs; every region when empty.",
    )
    since: StrictStr | None = Field(
        None,
        max_length=MAX_DATE,
        description="YYYY-MM-DD or ISO 8601; a bare date or time is in the site's TIMEZONE.",
    )
    until: StrictStr | None = Field(
        None, max_length=MAX_DATE, description="As `since`; a bare date includes that day."
    )
    intro: StrictStr | None = Field(None, max_length=MAX_INTRO)
    pinned_article_id: StrictInt | None = Field(None, ge=1, le=ID_MAX)
    request_key: StrictStr | None = Field(
        None,
        description="1-40 letters, digits, '-' or '_': the same key the same day makes one "
        "edition (or the Idempotency-Key header).",
    )
    send_at: StrictStr | None = Field(
        None,
        max_length=MAX_DATE,
        description="When a special edition leaves: ISO 8601 date and time with a UTC offset "
        "(2026-12-01T08:00:00+01:00), in the future and within 366 days. Absent: at once. "
        "Until then it stays `planned` and may be cancelled.",
        examples=["2026-12-01T08:00:00+01:00"],
    )

    @model_validator(mode="after")
    def _weekly_takes_nothing(self) -> DigestIn:
        extra = sorted(self.model_fields_set - {"kind"})
        if self.kind == "weekly" and extra:
            raise reject(f"a weekly digest takes no {', '.join(extra)}")
        return self


class SettleIn(BaseModel):
    """The Message-IDs the relay's log shows accepted."""

    model_config = ConfigDict(strict=True)

    message_ids: list[StrictStr] = Field(examples=[["<id@revue-internationale.example>"]])


# --- subscriptions ------------------------------------------------------------------------


class SubscriptionIn(BaseModel):
    """The site's newsletter block. Other fields are ignored. Not stripped: the form's checks
    (subscriptions/forms.py) judge the text as sent, line breaks included."""

    model_config = ConfigDict(strict=True)

    email: StrictStr = Field(max_length=MAX_EMAIL_LENGTH)
    name: StrictStr | None = Field(None, max_length=MAX_NAME_LENGTH)
    regions: list[StrictStr] | StrictStr = Field(
        description="Region slugs, or `all`.", examples=[["asie", "russie"]]
    )
    language: Literal["fr", "en"] = "fr"
    website: StrictStr = Field("", description="Leave empty: a trap for robots.")
