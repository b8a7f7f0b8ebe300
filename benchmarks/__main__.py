"""python -m benchmarks [--scales 1 10 ... | --consortium [F ...] | --consortium-growth]
[--programs N] [--meetings-per-match F] [--skew S] [--seed N] [--generate-only] [--incremental]
[--cli] [--markdown FILE]

Generates (or reuses from benchmarks/.cache) the demo program at each scale, loads it with
DuckDB alone (the floor), runs the whole pipeline, and prints one table: stage, rows, wall
s, CPU s, peak RSS and ratio to the floor; then stage growth between scales and the targets
of issue 9, met or missed.

--consortium is issue 9's program: 1,000,000 matches, ~10,000,000 meetings, 300 programs
(generator scale 500 with --programs 300 --meetings-per-match 10). Fractions give the same
300 programs and 10 meetings per match with fewer matches: `--consortium 0.01 0.1 1` is a
growth check up to the full size, `--consortium-growth` is 0.01 and 0.1 only.
--generate-only generates (or finds) the programs in the cache and prints their shape.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", help="default: 1 10")
    parser.add_argument(
        "--consortium",
        type=float,
        nargs="*",
        metavar="FRACTION",
        help="issue 9's consortium shape at these fractions of its size (no value: 1)",
    )
    parser.add_argument(
        "--consortium-growth",
        action="store_true",
        help="the consortium shape at 1/100 and 1/10 of its size",
    )
    parser.add_argument("--programs", type=int, help="generator: fixed number of programs")
    parser.add_argument(
        "--meetings-per-match", type=float, help="generator: mean meetings per match"
    )
    parser.add_argument(
        "--skew", type=float, help="generator: lognormal sigma of program sizes (e.g. 1.5)"
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="generate into the cache, print the shape"
    )
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

    scales, shape = _scales_and_shape(parser, args)
    if args.generate_only:
        for scale in scales:
            folder, _ = runner.ensure_program(scale, args.seed, shape=shape)
            print(json.dumps(runner.program_summary(folder), indent=1))
        return 0

    runner.MAX_RSS = int(args.max_rss_gb * 2**30)
    if args.blas_threads:
        threads = str(args.blas_threads)
        runner.MEASURED_ENV.update(OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)

    results = run_benchmark(
        scales,
        args.seed,
        incremental=args.incremental,
        cli=args.cli,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
        shape=shape,
    )
    text = render(results, steps=args.steps)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(asdict(results), indent=1, default=str), encoding="utf-8")
    return 0 if all(r.success for r in results.runs) else 1


def _scales_and_shape(parser: argparse.ArgumentParser, args: argparse.Namespace):
    """Scales and generator shape from --scales or a consortium preset (not both)."""
    from benchmarks.runner import CONSORTIUM, CONSORTIUM_GROWTH, Shape, consortium_scale

    fractions = list(args.consortium or []) if args.consortium is not None else []
    if args.consortium is not None and not fractions:
        fractions = [1.0]
    if args.consortium_growth:
        fractions = sorted({*fractions, *CONSORTIUM_GROWTH})
    if not fractions:
        shape = Shape(args.programs, args.meetings_per_match, args.skew)
        return args.scales or [1.0, 10.0], shape
    if args.scales or any(
        v is not None for v in (args.programs, args.meetings_per_match, args.skew)
    ):
        parser.error("a consortium preset sets scale, programs and meetings per match itself")
    return [consortium_scale(f) for f in fractions], CONSORTIUM


if __name__ == "__main__":
    raise SystemExit(main())
