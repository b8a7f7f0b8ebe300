"""The codebook of a published version: codebook.csv, codebook.json and codebook.md.

One source, the catalog (models/publish/catalog.yaml), read through what was actually written:
the published tables and DuckDB types, and the .dta/.sav plan of labelled.py (export names,
value labels, conversions). The Markdown page is self-contained (no styles or scripts to fetch).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from models.publish.catalog import Catalog, TableDoc
from models.publish.formulas import safe_csv
from models.publish.labelled import ExportTable

CSV_FIELDS = (
    "table",
    "column",
    "export_name",
    "data_type",
    "export_kind",
    "label",
    "description",
    "unit",
    "source",
    "suppression",
    "value_labels",
    "tier",
    "export_note",
)
TIERS = {
    "microdata": "row-level: one row per person, match or record; pseudonymised, not suppressed",
    "aggregate, disclosure-controlled": "groups below suppression_k suppressed (column suppressed)",
    "aggregate": "counts or statistics over groups, not suppressed",
    "metadata": "about the snapshot itself",
}


def tier(doc: TableDoc) -> str:
    """meta.* is metadata; core.* and tables with pseudonymised ids are microdata; tables with a
    `suppressed` column are disclosure-controlled aggregates; the rest are aggregates."""
    if doc.schema == "meta":
        return "metadata"
    if doc.schema == "core" or any(c.publish == "pseudonymise" for c in doc.columns.values()):
        return "microdata"
    if "suppressed" in doc.columns:
        return "aggregate, disclosure-controlled"
    return "aggregate"


def _value_labels_text(labels: Mapping[int, str]) -> str:
    return "; ".join(f"{code} = {label}" for code, label in labels.items())


def codebook_tables(catalog: Catalog, exports: list[ExportTable]) -> list[dict[str, Any]]:
    """One record per table, its columns nested: the JSON codebook, and what the others print."""
    tables = []
    for export in sorted(exports, key=lambda e: (e.schema, e.name)):
        doc = catalog.table(export.schema, export.name)
        if doc is None:
            raise RuntimeError(f"{export.qualified} is not in the catalog")
        columns = []
        for c in export.columns:
            col = doc.columns[c.name]
            columns.append(
                {
                    "column": c.name,
                    "export_name": c.export_name,
                    "data_type": c.data_type,
                    "export_kind": c.kind,
                    "label": c.label,
                    "description": col.description,
                    "unit": col.unit,
                    "source": col.source,
                    "suppression": col.suppression,
                    "value_labels": {str(k): v for k, v in c.value_labels.items()},
                    "export_note": c.note or None,
                }
            )
        tables.append(
            {
                "table": export.qualified,
                "description": doc.description,
                "grain": doc.grain,
                "key": list(doc.key),
                "suppression": doc.suppression,
                "tier": tier(doc),
                "rows": export.rows,
                "files": {"stata": export.stata_file, "spss": export.spss_file},
                "columns": columns,
            }
        )
    return tables


def codebook_csv(tables: list[dict[str, Any]]) -> str:
    """One row per column; text that a spreadsheet would run as a formula is neutralised, as in
    every CSV the project writes."""
    rows = []
    for table in tables:
        for c in table["columns"]:
            row = {k: c.get(k) for k in CSV_FIELDS}
            row["table"] = table["table"]
            row["tier"] = table["tier"]
            row["value_labels"] = _value_labels_text(c["value_labels"])
            rows.append({k: None if v is None else str(v) for k, v in row.items()})
    return safe_csv(pl.DataFrame(rows, schema={k: pl.String() for k in CSV_FIELDS}))


def _cell(text: Any) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def codebook_markdown(tables: list[dict[str, Any]], about: Mapping[str, Any]) -> str:
    lines = [
        f"# Codebook: Mentorscope research snapshot {about.get('version_id', '')}".rstrip(),
        "",
        "Generated from the catalog (models/publish/catalog.yaml). The same content is in",
        "codebook.csv (one row per column) and codebook.json.",
        "",
    ]
    lines += [f"- **{k}**: {_cell(v)}" for k, v in about.items()]
    lines += [
        "",
        "## Tiers",
        "",
        "| tier | meaning |",
        "|---|---|",
        *[f"| {name} | {meaning} |" for name, meaning in TIERS.items()],
        "",
        "## Formats",
        "",
        "Every table is in research.duckdb, parquet/<schema>/<table>.parquet,",
        "stata/<schema>/<table>.dta and spss/<schema>/<table>.sav. In .dta and .sav: coded",
        "columns are numeric codes with value labels, booleans 0 = false / 1 = true, a missing",
        "text value is an empty string, time stamps keep milliseconds, and variable labels are",
        "the first 80 characters of the description. `export_name` is the variable's name there",
        "(Stata allows 32 characters); `note` says what else differs from DuckDB.",
        "",
        "## Contents",
        "",
        *[
            f"- [{t['table']}](#{t['table'].replace('.', '')}) ({t['tier']}, {t['rows']} rows)"
            for t in tables
        ],
    ]
    for t in tables:
        lines += [
            "",
            f"## {t['table']}",
            "",
            _cell(t["description"]),
            "",
            f"- grain: {_cell(t['grain'])}",
            f"- key: {', '.join(t['key'])}",
            f"- tier: {t['tier']}",
            f"- rows: {t['rows']}",
            f"- files: {t['files']['stata']}, {t['files']['spss']}",
        ]
        if t["suppression"]:
            lines.append(f"- suppression: {_cell(t['suppression'])}")
        lines += [
            "",
            "| column | export name | type | description | unit | value labels | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in t["columns"]:
            lines.append(
                "| "
                + " | ".join(
                    _cell(v)
                    for v in (
                        c["column"],
                        c["export_name"] if c["export_name"] != c["column"] else "",
                        c["data_type"],
                        c["description"],
                        c["unit"],
                        _value_labels_text({int(k): v for k, v in c["value_labels"].items()}),
                        c["export_note"],
                    )
                )
                + " |"
            )
    return "\n".join(lines) + "\n"


def write_codebook(
    folder: Path, catalog: Catalog, exports: list[ExportTable], about: Mapping[str, Any]
) -> list[Path]:
    """folder/codebook.csv, codebook.json and codebook.md; `about` (version id, as-of date, ...)
    heads the JSON and Markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = codebook_tables(catalog, exports)
    paths = [folder / "codebook.csv", folder / "codebook.json", folder / "codebook.md"]
    paths[0].write_text(codebook_csv(tables), encoding="utf-8")
    document = {"about": dict(about), "tiers": TIERS, "tables": tables}
    paths[1].write_text(
        json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    paths[2].write_text(codebook_markdown(tables, about), encoding="utf-8")
    return paths
