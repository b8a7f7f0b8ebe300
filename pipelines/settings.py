"""Where a run reads and writes, from the environment or the CLI's flags."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


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
            as_of=date.fromisoformat(as_of) if as_of else date.today(),
        )

    def to_env(self) -> dict[str, str]:
        return {
            "MENTORSCOPE_DATA": str(self.data_dir),
            "MENTORSCOPE_WAREHOUSE": str(self.warehouse),
            "MENTORSCOPE_REPORTS": str(self.reports_dir),
            "MENTORSCOPE_AS_OF": self.as_of.isoformat(),
        }
