"""A run's settings, typed once: where it reads and writes, and its as-of date.

The environment (``MENTORSCOPE_*``) and the CLI's flags are read here and nowhere else; inside
the code the as-of date is a ``datetime.date``. Dagster's resource config (strings) is the
other boundary: ``pipelines.resources.RunConfig`` parses it with ``parse_as_of``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The project's Dagster instance: dagster.yaml at the repository root, state in .dagster/.
STATE_DIR = PROJECT_ROOT / ".dagster"
AS_OF_ENV = "MENTORSCOPE_AS_OF"
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


def pinned_as_of() -> date | None:
    """The as-of date MENTORSCOPE_AS_OF pins (the demo does), or None: runs use their day."""
    text = os.environ.get(AS_OF_ENV)
    return parse_as_of(text) if text else None


def _path(value: Path | str | None, env: str, default: Path) -> Path:
    return Path(value if value is not None else os.environ.get(env, default)).resolve()


@dataclass(frozen=True)
class RunSettings:
    data_dir: Path
    warehouse: Path
    reports_dir: Path
    as_of: date

    @classmethod
    def from_env(
        cls,
        *,
        data_dir: Path | None = None,
        warehouse: Path | None = None,
        reports_dir: Path | None = None,
        as_of: date | None = None,
    ) -> RunSettings:
        """The given values (the CLI's flags); the others from MENTORSCOPE_* variables, else
        the bundled demo program's folders and today."""
        return cls(
            data_dir=_path(data_dir, "MENTORSCOPE_DATA", PROJECT_ROOT / "data" / "demo"),
            warehouse=_path(
                warehouse,
                "MENTORSCOPE_WAREHOUSE",
                PROJECT_ROOT / "data" / "warehouse" / "mentorscope.duckdb",
            ),
            reports_dir=_path(reports_dir, "MENTORSCOPE_REPORTS", PROJECT_ROOT / "reports" / "out"),
            as_of=as_of or pinned_as_of() or date.today(),
        )


def instance_env() -> dict[str, str]:
    """Environment that points Dagster at this project's dagster.yaml and state folder."""
    return {
        "DAGSTER_HOME": str(PROJECT_ROOT),
        "MENTORSCOPE_DAGSTER_STATE": str(STATE_DIR / "storage"),
        "MENTORSCOPE_DAGSTER_LOGS": str(STATE_DIR / "logs"),
    }


def use_project_instance() -> None:
    for key, value in instance_env().items():
        os.environ.setdefault(key, value)
    STATE_DIR.mkdir(exist_ok=True)
