"""The floor: DuckDB's own load of the same export files, one table per contract table.

``python -m benchmarks.floor DATA_DIR DB_PATH`` creates each table with
``CREATE TABLE t AS SELECT * FROM read_csv([...files])`` in a fresh database file and prints
one JSON object: seconds per table, rows per table and the total. Run it in a subprocess so
its memory is measured on its own. Columns are read as text (``all_varchar``), as the
pipeline lands them: typed sniffing stops at the export's deliberately bad rows.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def input_files(data_dir: Path, tables: list[str]) -> dict[str, list[Path]]:
    """Every CSV of the export by contract table: names start with the table's name."""
    files = sorted(data_dir.glob("*.csv"))
    # Longest names first, so `survey_responses_x.csv` never counts as a `survey` file.
    by_table: dict[str, list[Path]] = {t: [] for t in tables}
    for path in files:
        for table in sorted(tables, key=len, reverse=True):
            if path.name.startswith(table):
                by_table[table].append(path)
                break
    return {t: found for t, found in by_table.items() if found}


def load(data_dir: Path, db_path: Path, tables: list[str]) -> dict:
    import duckdb

    db_path.unlink(missing_ok=True)
    con = duckdb.connect(str(db_path))
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    began = time.time()
    started = time.perf_counter()
    for table, paths in input_files(data_dir, tables).items():
        t0 = time.perf_counter()
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true)",
            [[str(p) for p in paths]],
        )
        seconds[table] = time.perf_counter() - t0
        rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    total = time.perf_counter() - started
    con.close()
    db_path.unlink(missing_ok=True)
    return {
        "seconds": seconds,
        "rows": rows,
        "total_s": total,
        "began": began,
        "ended": began + total,
    }


def main(argv: list[str]) -> int:
    from models.contract import load_contract

    data_dir, db_path = Path(argv[0]), Path(argv[1])
    print(json.dumps(load(data_dir, db_path, list(load_contract()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
