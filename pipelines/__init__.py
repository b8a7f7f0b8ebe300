"""Mentorscope's Dagster code location and CLI."""

import os

# numpy's BLAS threads fight Polars and DuckDB for the same two cores: one thread made the
# breakdowns step 12x faster at scale 10 (docs/performance.md). Set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
