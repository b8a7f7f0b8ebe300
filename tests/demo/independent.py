"""An independent reading of a demo export: rule checks with Polars, step flags in DuckDB SQL.

Written separately from models/demo so the tests compare two implementations, not one with
itself. Only the contract (tables.yaml) and the spellings table are shared.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parents[2]
TABLES = yaml.safe_load((ROOT / "models/contract/tables.yaml").read_text(encoding="utf-8"))
SPELLINGS = yaml.safe_load((ROOT / "models/demo/spellings.yaml").read_text(encoding="utf-8"))
BOOLS = {"yes", "no", "y", "n", "true", "false", "1", "0"}
FREE_TEXT_ENUMS = {"gender", "race_ethnicity"}  # normalised through lookups, not enum-checked
ITEM_RANGE = (1, 5)


def read_table(folder: Path, table: str) -> pl.DataFrame:
    """All files of a table as text, in file-name order, with _file and _row (1-based)."""
    parts = []
    for path in sorted(folder.glob(f"{table}*.csv")):
        frame = pl.read_csv(path, infer_schema=False)
        parts.append(
            frame.with_columns(
                _file=pl.lit(path.name), _row=pl.int_range(1, frame.height + 1, dtype=pl.Int64)
            )
        )
    return pl.concat(parts, how="vertical") if parts else pl.DataFrame()


def read_all(folder: Path) -> dict[str, pl.DataFrame]:
    return {t: read_table(folder, t) for t in TABLES}


def _bad_type(col: str, kind: str) -> pl.Expr:
    c = pl.col(col)
    if kind == "date":
        parsed = c.str.to_date("%Y-%m-%d", strict=False)
    elif kind == "timestamp":
        parsed = c.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    elif kind == "int":
        parsed = c.cast(pl.Int64, strict=False)
    elif kind == "float":
        parsed = c.cast(pl.Float64, strict=False)
    elif kind == "bool":
        return c.is_not_null() & ~c.str.to_lowercase().is_in(sorted(BOOLS))
    else:
        return pl.lit(False)
    return c.is_not_null() & parsed.is_null()


def violations(data: dict[str, pl.DataFrame], as_of: date) -> pl.DataFrame:
    """One row per input row: table, _file, _row, and the list of rules it breaks
    (plus 'exact' for an identical copy of an earlier row)."""
    out = []
    first_rows: dict[str, pl.DataFrame] = {}
    for table, spec in TABLES.items():
        df = data[table]
        if df.is_empty():
            continue
        cols = [c for c in spec["columns"] if c in df.columns]
        df = df.sort("_file", "_row")
        rules: dict[str, pl.Expr] = {}
        required = [c for c, s in spec["columns"].items() if s.get("required")]
        rules["required"] = pl.any_horizontal([pl.col(c).is_null() for c in required])
        rules["type"] = pl.any_horizontal(
            [_bad_type(c, spec["columns"][c]["type"]) for c in cols] + [pl.lit(False)]
        )
        enums = [
            c for c in cols if spec["columns"][c]["type"] == "enum" and c not in FREE_TEXT_ENUMS
        ]
        rules["enum"] = pl.any_horizontal(
            [
                pl.col(c).is_not_null() & ~pl.col(c).is_in(spec["columns"][c]["values"])
                for c in enums
            ]
            + [pl.lit(False)]
        )
        ranges = []
        for c in cols:
            s = spec["columns"][c]
            if "min" in s or "max" in s:
                v = pl.col(c).cast(pl.Float64, strict=False)
                ranges.append((v < s.get("min", float("-inf"))) | (v > s.get("max", float("inf"))))
        if table == "survey_responses":
            v = pl.col("value").cast(pl.Float64, strict=False)
            ranges.append((v < ITEM_RANGE[0]) | (v > ITEM_RANGE[1]))
        rules["range"] = pl.any_horizontal([r.fill_null(False) for r in ranges] + [pl.lit(False)])
        refs = []
        for c in cols:
            target = spec["columns"][c].get("references")
            if target:
                t_table, t_col = target.split(".")
                known = data[t_table][t_col].drop_nulls().unique()
                refs.append(pl.col(c).is_not_null() & ~pl.col(c).is_in(known.implode()))
        rules["reference"] = pl.any_horizontal(refs + [pl.lit(False)])
        if table == "matches":
            roles = first_rows["participants"].select("participant_id", "role")
            df = df.join(
                roles.rename({"participant_id": "mentor_id", "role": "_mentor_role"}),
                on="mentor_id",
                how="left",
                maintain_order="left",
            ).join(
                roles.rename({"participant_id": "mentee_id", "role": "_mentee_role"}),
                on="mentee_id",
                how="left",
                maintain_order="left",
            )
            rules["role"] = (
                pl.col("_mentor_role").is_not_null() & (pl.col("_mentor_role") != "mentor")
            ) | (pl.col("_mentee_role").is_not_null() & (pl.col("_mentee_role") != "mentee"))
        futures = []
        for c in cols:
            kind = spec["columns"][c]["type"]
            if kind in ("date", "timestamp"):
                d = pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
                futures.append((d > as_of).fill_null(False))
        rules["future"] = pl.any_horizontal(futures + [pl.lit(False)])
        content = pl.concat_str([pl.col(c).fill_null("\x00") for c in cols], separator="\x1f")
        key = spec["key"]
        df = df.with_columns(_content=content, _order=pl.int_range(pl.len()))
        df = df.with_columns(
            _first_content=pl.col("_content").first().over(key, order_by="_order"),
            _is_first=pl.col("_order") == pl.col("_order").min().over(key),
        )
        key_complete = pl.all_horizontal([pl.col(k).is_not_null() for k in key])
        rules["exact"] = (
            key_complete & ~pl.col("_is_first") & (pl.col("_content") == pl.col("_first_content"))
        )
        rules["duplicate_key"] = (
            key_complete & ~pl.col("_is_first") & (pl.col("_content") != pl.col("_first_content"))
        )
        df = df.with_columns(**{f"_r_{k}": v.fill_null(False) for k, v in rules.items()})
        first_rows[table] = df.filter(pl.col("_is_first"))
        names = list(rules)
        out.append(
            df.select(
                pl.lit(table).alias("table"),
                "_file",
                "_row",
                pl.concat_list([pl.when(pl.col(f"_r_{k}")).then(pl.lit(k)) for k in names])
                .list.drop_nulls()
                .alias("rules"),
            )
        )
    return pl.concat(out)


def clean(data: dict[str, pl.DataFrame], v: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Rows that break no rule and are not exact copies."""
    ok = v.filter(pl.col("rules").list.len() == 0)
    return {
        t: df.join(ok.filter(pl.col("table") == t).select("_file", "_row"), on=["_file", "_row"])
        for t, df in data.items()
        if not df.is_empty()
    }


def canonical(column: str) -> dict[str | None, str]:
    """Raw spelling -> canonical category, from the demo's spellings table."""
    return {
        (None if raw is None else str(raw)): cat
        for cat, table in SPELLINGS[column].items()
        for raw in table
    }


STEPS_SQL = (Path(__file__).with_name("steps.sql")).read_text(encoding="utf-8")


def step_flags(good: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per match step flags computed in SQL from the export's good rows."""
    import duckdb

    con = duckdb.connect()
    for name in ("matches", "meetings", "activities", "survey_responses"):
        con.register(name, good[name].drop("_file", "_row"))
    return con.sql(STEPS_SQL).pl()
