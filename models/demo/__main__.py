"""python -m models.demo --out DIR [--seed N] [--scale F] [--as-of YYYY-MM-DD] [--no-bad-rows]
[--no-truth] [--programs N] [--meetings-per-match F] [--skew SIGMA]"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.demo", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="export folder to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 is about 2,000 matches")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--no-bad-rows", action="store_true", help="write only good rows")
    parser.add_argument("--no-truth", action="store_true", help="skip _truth/match_steps.parquet")
    parser.add_argument(
        "--programs", type=int, help="fixed number of programs (default: about 3 per scale unit)"
    )
    parser.add_argument(
        "--meetings-per-match",
        type=float,
        help="mean written meetings per match (default: about 5); sets the meeting process",
    )
    parser.add_argument(
        "--skew",
        type=float,
        metavar="SIGMA",
        help="spread of program sizes: sigma of their lognormal weights (default 0.5); "
        "1.5 gives a few large programs and many small ones",
    )
    args = parser.parse_args(argv)

    from models.demo.generator import generate

    started = time.perf_counter()
    manifest = generate(
        args.out,
        seed=args.seed,
        scale=args.scale,
        as_of=args.as_of,
        bad_rows=not args.no_bad_rows,
        write_truth=not args.no_truth,
        n_programs=args.programs,
        meetings_per_match=args.meetings_per_match,
        skew=args.skew,
    )
    took = time.perf_counter() - started
    for name, rows in manifest["files"].items():
        print(f"{name:28s} {rows:>12,d} rows")
    if "shape" in manifest:
        shape = ", ".join(f"{k} {v:g}" for k, v in manifest["shape"].items())
        realised = manifest["realised"]["meetings_per_match"]
        print(f"{shape}; realised {realised:.2f} meetings per match")
    print(
        f"{len(manifest['bad_rows'])} bad rows, {len(manifest['exact_duplicates'])} exact "
        f"duplicates; {took:.1f} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
