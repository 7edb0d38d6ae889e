"""The canonical report: kinds, channels, privacy flags and the report itself."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ReportKind(enum.Enum):
    ASPIRATION = "ASPIRATION"
    COMPLAINT = "COMPLAINT"
    INFORMATION_REQUEST = "INFORMATION_REQUEST"


class ComplaintSubKind(enum.Enum):
    """Only complaints have a sub-kind; it sets the completion limit."""

    SUPERVISORY = "SUPERVISORY"
    """Berkadar pengawasan: needs an investigation."""
    NON_SUPERVISORY = "NON_SUPERVISORY"
    """Tidak berkadar pengawasan."""


class Channel(enum.Enum):
    WEB = "WEB"
    SMS_1708 = "SMS_1708"
    MOBILE_APP = "MOBILE_APP"
    TWITTER = "TWITTER"
    INTEGRATED_APP = "INTEGRATED_APP"
    FACE_TO_FACE = "FACE_TO_FACE"


class ArchiveReason(enum.Enum):
    UNCLEAR = "UNCLEAR"
    TOO_GENERAL = "TOO_GENERAL"
    NOT_PUBLIC_SERVICE = "NOT_PUBLIC_SERVICE"
    SPAM = "SPAM"
    DUPLICATE = "DUPLICATE"


class ActorRole(enum.Enum):
    REPORTER = "REPORTER"
    NATIONAL_ADMIN = "NATIONAL_ADMIN"
    INSTITUTION_ADMIN = "INSTITUTION_ADMIN"
    LIAISON_ADMIN = "LIAISON_ADMIN"
    NODE_SYSTEM = "NODE_SYSTEM"
    """A node's own complaint system: a change its connector pulled, or one its service
    account sent through the hub's API. That node already knows it."""
    SYSTEM = "SYSTEM"
    """The hub's own jobs (the auto-close)."""


@dataclass(frozen=True, slots=True)
class PrivacyFlags:
    """Two independent flags; they can be combined."""

    anonymous: bool = False
    """Anonim: the reporter's identity is hidden from all but verifying admins."""
    confidential: bool = False
    """Rahasia: the report is hidden from the public and from uninvolved nodes."""

    def tightened(self, other: PrivacyFlags) -> PrivacyFlags:
        """Flags that are at least as strict as both ``self`` and ``other``."""
        return PrivacyFlags(
            self.anonymous or other.anonymous, self.confidential or other.confidential
        )

    def loosens(self, new: PrivacyFlags) -> bool:
        """Whether moving from ``self`` to ``new`` clears a flag (needs the reporter)."""
        return (self.anonymous and not new.anonymous) or (
            self.confidential and not new.confidential
        )


def validate_kind(kind: ReportKind, sub_kind: ComplaintSubKind | None) -> str | None:
    """Explains why a kind/sub-kind pair is invalid, or None when it is valid."""
    if kind is ReportKind.COMPLAINT and sub_kind is None:
        return "a complaint needs a complaintSubKind (SUPERVISORY or NON_SUPERVISORY)"
    if kind is not ReportKind.COMPLAINT and sub_kind is not None:
        return f"only complaints have a complaintSubKind, not {kind.value}"
    return None
