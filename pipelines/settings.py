"""Where a run reads and writes, from the environment or the CLI's flags."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The as-of dates a run accepts. Windows, durations and calendar periods are computed by
# adding days to dates, so a date near the end of the calendar (9999-12-31) overflows deep in
# a run; anything outside this range is a typo, refused up front.
EARLIEST_AS_OF = date(1900, 1, 1)
LATEST_AS_OF = date(2199, 12, 31)


def parse_as_of(text: str | None) -> date:
    """An as-of date from YYYY-MM-DD (today when empty); ValueError with a readable message."""
    if not text:
        return date.today()
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"as-of must be a date as YYYY-MM-DD, got {text[:40]!r}") from None
    if not EARLIEST_AS_OF <= value <= LATEST_AS_OF:
        raise ValueError(
            f"as-of {value.isoformat()} is outside {EARLIEST_AS_OF.isoformat()} .. "
            f"{LATEST_AS_OF.isoformat()}"
        )
    return value


@dataclass(frozen=True)
class RunSettings:
    data_dir: Path
    warehouse: Path
    reports_dir: Path
    as_of: date

    @classmethod
    def from_env(cls) -> RunSettings:
        """Defaults point at the bundled demo program; MENTORSCOPE_* variables override."""
        env = os.environ
        as_of = env.get("MENTORSCOPE_AS_OF")
        return cls(
            data_dir=Path(env.get("MENTORSCOPE_DATA", PROJECT_ROOT / "data" / "demo")).resolve(),
            warehouse=Path(
                env.get(
                    "MENTORSCOPE_WAREHOUSE",
                    PROJECT_ROOT / "data" / "warehouse" / "mentorscope.duckdb",
                )
            ).resolve(),
            reports_dir=Path(
                env.get("MENTORSCOPE_REPORTS", PROJECT_ROOT / "reports" / "out")
            ).resolve(),
            as_of=parse_as_of(as_of),
        )

    def to_env(self) -> dict[str, str]:
        return {
            "MENTORSCOPE_DATA": str(self.data_dir),
            "MENTORSCOPE_WAREHOUSE": str(self.warehouse),
            "MENTORSCOPE_REPORTS": str(self.reports_dir),
            "MENTORSCOPE_AS_OF": self.as_of.isoformat(),
        }
