"""Typed SQLAlchemy 2 models, one module per aggregate."""

from newsletter.models.article import Article, Feed, Section, article_regions
from newsletter.models.base import Base, db, utcnow
from newsletter.models.click import ClickCount
from newsletter.models.delivery import (
    OPEN_STATES,
    BounceEvent,
    Delivery,
    DeliveryState,
    in_digests,
)
from newsletter.models.digest import Digest, DigestKind, DigestStatus
from newsletter.models.editor import ApiToken, Editor, EditorSession
from newsletter.models.leave_reason import LeaveComment, LeaveReason, LeaveReasonCount
from newsletter.models.page_import import ImportState, PageImport
from newsletter.models.reader_import import (
    ReaderImport,
    ReaderImportRejection,
    ReaderImportState,
)
from newsletter.models.region import REGIONS, Region
from newsletter.models.send_rate import SendRate, SendRateSample
from newsletter.models.subscriber import (
    ConsentEvent,
    ConsentKind,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    subscriber_regions,
)

__all__ = [
    "LeaveComment",
    "LeaveReason",
    "LeaveReasonCount",
    "OPEN_STATES",
    "REGIONS",
    "ApiToken",
    "Article",
    "Base",
    "BounceEvent",
    "ClickCount",
    "ConsentEvent",
    "ConsentKind",
    "Delivery",
    "DeliveryState",
    "in_digests",
    "Digest",
    "DigestKind",
    "DigestStatus",
    "Editor",
    "EditorSession",
    "Feed",
    "ImportState",
    "PageImport",
    "ReaderImport",
    "ReaderImportRejection",
    "ReaderImportState",
    "Region",
    "SendRate",
    "SendRateSample",
    "Section",
    "Subscriber",
    "SubscriberStatus",
    "Suppression",
    "SuppressionReason",
    "article_regions",
    "db",
    "subscriber_regions",
    "utcnow",
]
