"""Closure types: a match's free-text closure_reason as planned, unplanned or unknown.

The codebook is closure_types.yaml beside this module (its header documents the rules); a
program overrides it by recoding its own wordings in mapping.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

CODEBOOK = Path(__file__).with_name("closure_types.yaml")
CLOSURE_TYPES: tuple[str, ...] = ("planned", "unplanned", "unknown")


@dataclass(frozen=True)
class ClosureCodebook:
    exact: dict[str, str]
    unplanned: tuple[str, ...]
    planned: tuple[str, ...]

    def pattern(self, phrases: tuple[str, ...]) -> str:
        """One regex matching any of the phrases as whole words on normalised text."""
        parts = []
        for phrase in phrases:
            stem = phrase.endswith("*")
            words = [re.escape(w) for w in normalise(phrase.rstrip("*")).split()]
            parts.append(r"\s".join(words) + (r"[a-z0-9]*" if stem else ""))
        return r"(?:^|\s)(?:" + "|".join(parts) + r")(?:\s|$)"


def normalise(text: str) -> str:
    """Lower case, '&' as 'and', every other non-alphanumeric as a space, spaces collapsed."""
    text = text.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def load_codebook(path: Path = CODEBOOK) -> ClosureCodebook:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    exact = {normalise(str(k)): str(v) for k, v in (raw.get("exact") or {}).items()}
    bad = sorted({v for v in exact.values() if v not in CLOSURE_TYPES})
    if bad:
        raise ValueError(f"{path}: exact entries must map to {CLOSURE_TYPES}, got {bad}")
    return ClosureCodebook(
        exact=exact,
        unplanned=tuple(str(p) for p in raw.get("unplanned") or ()),
        planned=tuple(str(p) for p in raw.get("planned") or ()),
    )


def _normalised(reason: pl.Expr) -> pl.Expr:
    # The same rules as normalise(), as a vectorised expression (tested to agree).
    return (
        reason.str.to_lowercase()
        .str.replace_all("&", " and ", literal=True)
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )


def closure_type(reason: pl.Expr, codebook: ClosureCodebook | None = None) -> pl.Expr:
    """planned / unplanned / unknown for a String expression of closure reasons."""
    book = codebook or load_codebook()
    text = _normalised(reason)
    exact = text.replace_strict(book.exact, default=None, return_dtype=pl.String)
    return (
        pl.when(exact.is_not_null())
        .then(exact)
        .when(text.str.contains(book.pattern(book.unplanned)))
        .then(pl.lit("unplanned"))
        .when(text.str.contains(book.pattern(book.planned)))
        .then(pl.lit("planned"))
        .otherwise(pl.lit("unknown"))
    )
