"""What an adapter hands back instead of a row it could not turn into a canonical one."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rejection:
    """One input unit (a file, a response row, a calendar event) that became no canonical row.

    `where` says which unit in human terms ("row 3", "event 2 (uid ...)", "" for a whole file);
    `source_row` is the 1-based data row (after any header rows) for tabular sources, so the
    ingest can write it to `quarantine.rejected_rows` next to `rule` and `reason`.
    """

    file: str
    where: str
    rule: str
    reason: str
    source_row: int | None = None
    record: dict[str, str | None] = field(default_factory=dict)
