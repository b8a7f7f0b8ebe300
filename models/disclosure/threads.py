"""How many threads the disclosure steps use: MENTORSCOPE_DISCLOSURE_THREADS.

The breakdowns protect that many families at once (models.stats.cells.family_threads, default
two); a windowed audit proves its counts and its outcomes' successes two at a time, or one
after another where the setting is 1 or the machine has one core (models.disclosure.audit).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

THREADS_ENV = "MENTORSCOPE_DISCLOSURE_THREADS"
PASS_THREADS = 2


def pass_threads(env: Mapping[str, str] | None = None, cores: int | None = None) -> int:
    """Passes of one windowed audit run at once."""
    env = os.environ if env is None else env
    if (cores or os.cpu_count() or 1) < 2 or env.get(THREADS_ENV, "").strip() == "1":
        return 1
    return PASS_THREADS
