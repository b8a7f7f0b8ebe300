"""python -m benchmarks [--scales 1 10 ...] [--incremental] [--cli] [--markdown FILE]

Generates (or reuses from benchmarks/.cache) the demo program at each scale, loads it with
DuckDB alone (the floor), runs the whole pipeline, and prints one table: stage, rows, wall
s, CPU s, peak RSS and ratio to the floor; then stage growth between scales and the targets
of issue 9, met or missed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--incremental", action="store_true", help="add a month, re-run")
    parser.add_argument("--cli", action="store_true", help="time --help and the demo")
    parser.add_argument("--steps", action="store_true", help="also list the slowest steps")
    parser.add_argument(
        "--blas-threads",
        type=int,
        help="set OPENBLAS_NUM_THREADS/OMP_NUM_THREADS in the measured processes",
    )
    parser.add_argument(
        "--max-rss-gb",
        type=float,
        default=16.0,
        help="kill a pipeline whose process tree goes over this (its stages so far are kept)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    args = parser.parse_args(argv)

    from benchmarks import runner
    from benchmarks.report import render
    from benchmarks.runner import run_benchmark

    runner.MAX_RSS = int(args.max_rss_gb * 2**30)
    if args.blas_threads:
        threads = str(args.blas_threads)
        runner.MEASURED_ENV.update(OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)

    results = run_benchmark(
        args.scales,
        args.seed,
        incremental=args.incremental,
        cli=args.cli,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    text = render(results, steps=args.steps)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(asdict(results), indent=1, default=str), encoding="utf-8")
    return 0 if all(r.success for r in results.runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
