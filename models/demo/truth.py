"""_truth/match_steps.parquet: the reference's match_steps plus dyads and outcome draws."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from models.demo.block import DYADS, Block
from models.demo.export import ids, labels
from models.demo.params import GENDERS, RACES

TRUTH_DIR = "_truth"
TRUTH_FILE = "match_steps.parquet"


class TruthWriter:
    """Appends one row group per block, so the file never has to sit in memory whole."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / TRUTH_DIR / TRUTH_FILE
        self._writer = None

    def write(self, block: Block) -> None:
        import pyarrow.parquet as pq

        people, matches, truth = block.people, block.matches, block.truth
        frame = block.steps.with_columns(
            match_id=ids("M", matches.number),
            program_id=labels(matches.prog, block.programs.program_id),
            mentor_id=ids("P", people.number[matches.mentor]),
            mentee_id=ids("P", people.number[matches.mentee]),
            mentee_gender=labels(people.gender[matches.mentee], GENDERS),
            mentor_gender=labels(people.gender[matches.mentor], GENDERS),
            mentee_race=labels(people.race[matches.mentee], RACES),
            mentor_race=labels(people.race[matches.mentor], RACES),
            dyad_gender=labels(block.g_dyad, DYADS),
            dyad_race=labels(block.r_dyad, DYADS),
            p_retained=pl.Series(truth.p_retained).fill_nan(None),
            retained=pl.Series(truth.retained).replace(-1, None),
            p_promoted=pl.Series(truth.p_promoted).fill_nan(None),
            promoted=pl.Series(truth.promoted).replace(-1, None),
        ).to_arrow()
        if self._writer is None:
            self.path.parent.mkdir(exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, frame.schema)
        self._writer.write_table(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
