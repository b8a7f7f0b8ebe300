"""Suppression patterns kept between runs: an unchanged table gets its last pattern back.

Choosing a pattern for a large linked table takes seconds to minutes (the audit solves
thousands of integer programs), and the pattern is a function of the table alone: the same
counts, equations, bounds, outcomes, margins and program blocks, with the same code, give the
same pattern in every run (tests/disclosure/test_determinism.py). A run that re-publishes a
table nobody changed (a re-run, a new month that moves only some metrics, a survey file that
moves only the outcomes) can take the pattern it chose last time instead of choosing again.

The key is a SHA-256 over everything `protect()` reads and over the source of the code that
chooses (this package and models/stats/suppression.py): a changed count anywhere, a changed
equation, another k or another version of the audit gives another key, and the pattern is
chosen afresh. What is kept holds no count: three boolean vectors (hidden, primary,
unprotectable) per key, the same facts the published table shows with its `suppressed`
column. Nothing here touches storage: callers load and save a `PatternMemo`
(models/metrics/patterns.py for the warehouse).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

_PACKAGE = Path(__file__).parent
_SUPPRESSION = _PACKAGE.parent / "stats" / "suppression.py"


@cache
def code_digest() -> str:
    """SHA-256 of the sources that choose a pattern and of the solver's version: another
    version chooses afresh (its pattern may differ where several are equally cheap)."""
    import scipy

    digest = hashlib.sha256(f"numpy {np.__version__}; scipy {scipy.__version__}".encode())
    for path in [*sorted(_PACKAGE.glob("*.py")), _SUPPRESSION]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _array(digest: hashlib._Hash, values: object, dtype: type) -> None:
    array = np.ascontiguousarray(np.asarray(values, dtype=dtype))
    digest.update(str(array.shape).encode())
    digest.update(array.tobytes())


def pattern_key(
    n: NDArray,
    k: int,
    equations: Sequence[object],
    lower: NDArray | None,
    outcomes: Sequence[object],
    margin: NDArray | None,
    blocks: NDArray | None,
    forced: NDArray | None = None,
    judged: NDArray | None = None,
    linear: bool = True,
    partners: int | None = None,
    prune: bool = True,
) -> str:
    """The key of one call of models.stats.suppression.protect: its every argument, the
    equations in the one order the audit puts them in (callers build them in any order)."""
    from models.disclosure.table import canonical

    digest = hashlib.sha256(code_digest().encode())
    digest.update(f"k={k};cells={np.asarray(n).size};equations={len(equations)}".encode())
    _array(digest, n, np.float64)
    for equation in canonical(equations):  # type: ignore[arg-type]
        _array(digest, equation.cells, np.int64)  # type: ignore[attr-defined]
        _array(digest, equation.coefs, np.float64)  # type: ignore[attr-defined]
    if not linear:
        digest.update(b"no linear step")
    if partners is not None:
        digest.update(f"partners={partners}".encode())
    if not prune:
        digest.update(b"not pruned")
    arrays = (("lower", lower, np.float64), ("margin", margin, np.bool_),
              ("blocks", blocks, np.int64), ("forced", forced, np.bool_),
              ("judged", judged, np.bool_))  # fmt: skip
    for name, values, dtype in arrays:
        digest.update(name.encode())
        if values is not None:
            _array(digest, values, dtype)
    for outcome in outcomes:
        digest.update(b"outcome" if getattr(outcome, "edges", True) else b"bound")
        _array(digest, outcome.successes, np.float64)  # type: ignore[attr-defined]
        _array(digest, outcome.denominator, np.float64)  # type: ignore[attr-defined]
    return digest.hexdigest()


@dataclass(frozen=True)
class Pattern:
    """What protect() returned for one table."""

    suppressed: NDArray[np.bool_]
    primary: NDArray[np.bool_]
    unprotectable: NDArray[np.bool_]

    def pack(self) -> bytes:
        """The three vectors as bits, one after the other."""
        bits = np.concatenate([self.suppressed, self.primary, self.unprotectable]).astype(bool)
        return np.packbits(bits).tobytes()

    @classmethod
    def unpack(cls, data: bytes, cells: int) -> Pattern:
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[: 3 * cells].astype(bool)
        if bits.size != 3 * cells:
            raise ValueError(f"a kept pattern of {cells} cells holds {bits.size} bits")
        return cls(bits[:cells], bits[cells : 2 * cells], bits[2 * cells :])


class PatternMemo:
    """Patterns by key, as loaded from the last run, plus the ones chosen or reused in this
    one (`used`: what to keep for the next run). Safe to share between threads."""

    def __init__(self, kept: Mapping[str, Pattern] | None = None) -> None:
        self._kept = dict(kept or {})
        self._used: dict[str, Pattern] = {}
        self._lock = threading.Lock()
        self.reused = 0
        self.chosen = 0

    def __len__(self) -> int:
        """Patterns kept from the last run."""
        return len(self._kept)

    def get(self, key: str, cells: int) -> Pattern | None:
        with self._lock:
            pattern = self._kept.get(key)
            if pattern is None or pattern.suppressed.size != cells:
                return None
            self._used[key] = pattern
            self.reused += 1
            return pattern

    def put(self, key: str, pattern: Pattern) -> None:
        with self._lock:
            self._used[key] = pattern
            self.chosen += 1

    def used(self) -> Iterable[tuple[str, Pattern]]:
        with self._lock:
            return list(self._used.items())

    def kept(self) -> dict[str, Pattern]:
        """The patterns kept from the last run (for a worker process's own memo)."""
        with self._lock:
            return dict(self._kept)

    def absorb(self, used: Iterable[tuple[str, Pattern]], *, reused: int, chosen: int) -> None:
        """Take in what a worker process's memo used, reused and chosen."""
        with self._lock:
            self._used.update(used)
            self.reused += reused
            self.chosen += chosen
