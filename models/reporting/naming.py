"""Deterministic, filesystem-safe report file names and in-page anchors."""

from __future__ import annotations

import hashlib
import re

ALL = "all"
DASHBOARD_GLOB = "dashboard_*.html"  # every dashboard a run may write, this scheme or older


def safe_token(value: str) -> str:
    """A file-name token for an id or period label.

    Characters outside [A-Za-z0-9_-] become '-'; when that changed anything (or the id is
    literally 'all', which names the cross-program dashboard) a short hash of the original keeps
    two different ids from ever sharing a file.
    """
    token = re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-")[:60]
    if token != value or token.lower() == ALL or not token:
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
        token = f"{token or 'id'}-{digest}"
    return token


def dashboard_name(program_id: str | None) -> str:
    """One page per program (all periods in it); None is the all-programs dashboard."""
    return f"dashboard_{ALL if program_id is None else safe_token(program_id)}.html"


def period_anchor(period: str) -> str:
    """Id of a period's view inside a dashboard: the fragment that opens the page on it."""
    return f"period-{ALL if period == ALL else safe_token(period)}"


def dashboard_link(program_id: str | None, period: str) -> str:
    return f"{dashboard_name(program_id)}#{period_anchor(period)}"
