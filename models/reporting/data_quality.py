"""The data-quality report: what was read, kept and quarantined, and what to fix in the export."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from models.reporting.common import footer, nav
from models.reporting.frames import get
from models.reporting.markup import (
    Table,
    esc,
    fmt_number,
    note,
    render_page,
    render_table,
    section,
)

ADVICE_PATH = Path(__file__).with_name("fix_advice.yaml")
TOP_RULES = 25
GENERIC_ADVICE = "Check these rows against the data contract; the example shows what was wrong."
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
COUNT_COLUMNS = ("rows_read", "rows_kept", "rows_quarantined", "rows_duplicate")


_QUOTED = re.compile(r"'[^'\n]*'")


# A quoted value is shown when it cannot be a person: short, no @, no run of 5+ digits (ids,
# phone numbers), not two capitalised words (a name). Shown, a wrong value is easy to fix in
# the export ('vidoe'); masked, the page says only how long it was.
_PERSON_LIKE = re.compile(r"@|\d{5,}|\b[A-Z][a-z]+\s+[A-Z][a-z]+")
SHOWN_VALUE_CHARS = 24


def _shown(match: re.Match[str]) -> str:
    value = match.group()[1:-1]
    if len(value) <= SHOWN_VALUE_CHARS and not _PERSON_LIKE.search(value):
        return match.group()
    return f"'…' ({len(value)} characters, not shown: it may identify someone)"


def mask_ids(text: object) -> str:
    """Quoted values that could identify someone are masked; the others are shown as typed."""
    return _QUOTED.sub(_shown, "" if text is None else str(text))


def scrub(text: object, limit: int = 160) -> str:
    """Defence in depth for producer-written text: no e-mail address, bounded length."""
    clean = _EMAIL.sub("[e-mail removed]", "" if text is None else str(text))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


@cache
def _advice_entries() -> tuple[tuple[tuple[str, ...], str], ...]:
    import yaml

    entries = yaml.safe_load(ADVICE_PATH.read_text(encoding="utf-8"))
    return tuple((tuple(e["match"]), e["advice"]) for e in entries)


def advice_for(rule: str) -> str:
    name = rule.lower()
    for words, advice in _advice_entries():
        if all(w in name for w in words):
            return advice
    return GENERIC_ADVICE


def reconciles(row: Mapping[str, Any]) -> bool:
    """Producer's flag and our own arithmetic must agree: read = kept + quarantined + duplicates."""
    counts = [row.get(c) for c in COUNT_COLUMNS]
    if any(c is None for c in counts):
        return False
    read, kept, quarantined, duplicate = counts
    return bool(row.get("reconciled")) and read == kept + quarantined + duplicate


def tick(ok: bool, yes: str = "yes", no: str = "no") -> str:
    return f"✓ {yes}" if ok else f"✗ {no}"


def file_table(data_quality: pl.DataFrame) -> Table:
    rows = data_quality.sort(["table_name", "source_file"], nulls_last=True).to_dicts()
    return Table(
        ("Table", "File", "Rows read", "Kept", "Quarantined", "Exact duplicates", "Reconciled"),
        tuple(
            (
                r["table_name"],
                r.get("source_file") or "—",
                *(fmt_number(r.get(c)) for c in COUNT_COLUMNS),
                tick(reconciles(r), "adds up", "does not add up"),
            )
            for r in rows
        ),
    )


@dataclass(frozen=True)
class RuleSummary:
    table_name: str
    rule: str
    n: int
    files: tuple[str, ...]
    example: str


def rule_summaries(rejected: pl.DataFrame) -> list[RuleSummary]:
    """Rules by rejected rows, largest first; one example reason per rule."""
    grouped = (
        rejected.sort(["table_name", "rule", "source_file"], nulls_last=True)
        .group_by(["table_name", "rule"], maintain_order=True)
        .agg(
            pl.col("n").sum(),
            pl.col("source_file").drop_nulls().unique(maintain_order=True),
            pl.col("example_reason").drop_nulls().first(),
        )
        .sort(["n", "table_name", "rule"], descending=[True, False, False])
    )
    return [
        RuleSummary(
            r["table_name"],
            r["rule"],
            int(r["n"]),
            tuple(r["source_file"]),
            scrub(mask_ids(r["example_reason"])),
        )
        for r in grouped.to_dicts()
    ]


def rules_table(summaries: list[RuleSummary]) -> Table:
    return Table(
        ("Table", "Rule", "Rows rejected", "Files", "Example reason"),
        tuple(
            (s.table_name, s.rule, fmt_number(s.n), ", ".join(s.files), s.example)
            for s in summaries[:TOP_RULES]
        ),
    )


def expectations_table(expectations: pl.DataFrame) -> Table:
    """Six columns, so the table fits a laptop screen: where (table.column) and what (the
    rule, else the expectation) are one column each."""
    rows = expectations.sort(
        ["success", "severity", "table_name", "expectation"], nulls_last=True
    ).to_dicts()
    return Table(
        ("Result", "Where", "Check", "Observed", "Unexpected rows", "What failed"),
        tuple(
            (
                tick(bool(r.get("success")), "pass", "FAIL")
                + ("" if r.get("success") else f" ({r.get('severity') or 'error'})"),
                ".".join(str(p) for p in (r["table_name"], r.get("column_name")) if p),
                r.get("rule") or r["expectation"],
                scrub(r.get("observed"), 80),
                fmt_number(r.get("unexpected_count")),
                "—" if r.get("success") else scrub(mask_ids(r.get("message")), 240),
            )
            for r in rows
        ),
    )


def rows_text(n: int | None, what: str = "row") -> str:
    """'1 row', '2,000 rows'."""
    count = 0 if n is None else int(n)
    return f"{fmt_number(count)} {what}{'' if count == 1 else 's'}"


def fixes(summaries: list[RuleSummary], expectations: pl.DataFrame | None) -> list[str]:
    """Plain-language fixes, biggest first: one per (table, advice), then failed checks."""
    items: dict[tuple[str, str], list[RuleSummary]] = {}
    for s in summaries:
        items.setdefault((s.table_name, advice_for(s.rule)), []).append(s)
    out = []
    for (table, advice), group in sorted(
        items.items(), key=lambda kv: (-sum(s.n for s in kv[1]), kv[0])
    ):
        n = sum(s.n for s in group)
        files = sorted({f for s in group for f in s.files})
        example = next((s.example for s in group if s.example), "")
        out.append(
            f"<li><strong>{esc(table)}</strong>: {esc(advice)} "
            f"({esc(rows_text(n))} rejected by "
            f"{', '.join(f'<code>{esc(s.rule)}</code>' for s in group)}"
            f"{' in ' + esc(', '.join(files)) if files else ''})."
            f"{' Example: ' + esc(example) if example else ''}</li>"
        )
    if expectations is not None:
        failed = expectations.filter(~pl.col("success").fill_null(False)).sort(
            ["severity", "table_name", "expectation"]
        )
        for r in failed.to_dicts():
            where = (
                f"{r['table_name']}.{r['column_name']}" if r.get("column_name") else r["table_name"]
            )
            out.append(
                f"<li><strong>{esc(r['table_name'])}</strong>: check "
                f"<code>{esc(where)}</code>, which failed <code>{esc(r['expectation'])}</code> "
                f"({esc(r.get('severity') or 'error')}; "
                f"{esc(rows_text(r.get('unexpected_count')))} unexpected; "
                f"observed {esc(scrub(r.get('observed'), 80))}).</li>"
            )
    return out


def quality_summary(
    data_quality: pl.DataFrame | None, expectations: pl.DataFrame | None
) -> tuple[str, Table]:
    """A one-line verdict and a totals table (also used by the research report)."""
    rows: list[tuple[str, str]] = []
    verdict = []
    if data_quality is not None:
        totals = {c: data_quality.get_column(c).sum() for c in COUNT_COLUMNS}
        ok = sum(reconciles(r) for r in data_quality.to_dicts())
        rows += [
            ("Rows read", fmt_number(totals["rows_read"])),
            ("Rows kept", fmt_number(totals["rows_kept"])),
            ("Rows quarantined", fmt_number(totals["rows_quarantined"])),
            ("Exact duplicates dropped", fmt_number(totals["rows_duplicate"])),
            ("Files reconciled", f"{ok} of {data_quality.height}"),
        ]
        verdict.append(
            "every file reconciles"
            if ok == data_quality.height
            else f"{data_quality.height - ok} file(s) do not reconcile"
        )
    if expectations is not None:
        failed = expectations.filter(~pl.col("success").fill_null(False))
        errors = failed.filter(pl.col("severity") == "error").height
        rows += [
            ("Checks run", fmt_number(expectations.height)),
            ("Checks failed (error)", fmt_number(errors)),
            ("Checks failed (warning)", fmt_number(failed.height - errors)),
        ]
        verdict.append(f"{failed.height} of {expectations.height} checks failed")
    text = "; ".join(verdict).capitalize() + "." if verdict else "No data-quality records."
    return text, Table(("Measure", "Value"), tuple(rows))


CHECKS_INTRO = (
    "Failures first. Errors stop a table from being trusted; warnings are worth a look. "
    "Checks that passed are listed under the failures, folded."
)


def _checks(expectations: pl.DataFrame | None) -> str:
    if expectations is None:
        return note("No checks were recorded.", "warn")
    ok = pl.col("success").fill_null(False)
    failed, passed = expectations.filter(~ok), expectations.filter(ok)
    html = (
        render_table(expectations_table(failed))
        if failed.height
        else note(f"All {expectations.height} checks passed.")
    )
    if passed.height:
        html += (
            f"<details><summary>{passed.height} checks passed</summary>"
            f"{render_table(expectations_table(passed))}</details>"
        )
    return html


def render_data_quality(frames: Mapping[str, pl.DataFrame], run_info: Mapping[str, Any]) -> str:
    dq = get(frames, "data_quality")
    rejected = get(frames, "rejected_rows")
    expectations = get(frames, "expectation_results")
    verdict, totals = quality_summary(dq, expectations)
    parts = [section("Summary", render_table(totals), verdict)]
    summaries = rule_summaries(rejected) if rejected is not None else []
    fix_items = fixes(summaries, expectations)
    # What to do comes first, straight after the verdict; the evidence follows.
    parts.append(
        section(
            "What to fix in your export",
            f'<ol class="fixes">{"".join(fix_items)}</ol>'
            if fix_items
            else note("Nothing to fix: every row was kept and every check passed."),
            "Biggest problems first. Fixing these at the source brings the quarantined rows "
            "back into the analysis on the next run.",
        )
    )
    more = len(summaries) - TOP_RULES
    parts.append(
        section(
            "Why rows were quarantined",
            (render_table(rules_table(summaries)) if summaries else note("No rows were rejected."))
            + (note(f"{more} smaller rules not shown.") if more > 0 else ""),
            "Rules ordered by the number of rows they rejected, with one example reason each.",
        )
    )
    parts.append(
        section(
            "Rows per table and file",
            render_table(file_table(dq)) if dq is not None else note("Not provided.", "warn"),
            "Every input row ends up either kept or quarantined, or is dropped as an exact "
            "duplicate; a file reconciles when rows read = kept + quarantined + duplicates.",
        )
    )
    parts.append(section("Every check", _checks(expectations), CHECKS_INTRO))
    return render_page(
        "Data quality",
        f"Input checks for data as of {run_info.get('as_of', '—')}",
        "".join(parts),
        footer(run_info),
        nav("data_quality.html"),
    )
