"""Mentorscope's demo program export: realistic rows with planted, documented effects.

generate() writes one export folder in the contract's canonical CSV format plus
demo_manifest.json (seed, planted effects with their true values, realised sample values,
rows per file, every bad row with its rule) and, unless disabled,
_truth/match_steps.parquet (the demo's own match_steps reference with dyads and outcome
probabilities, one row per good match).

Matches are generated and written in blocks of whole programs, so memory stays bounded at any
scale; every block has its own random stream derived from the seed, so output is deterministic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from models.demo import render
from models.demo.bad_rows import Ids, Templates, append_bad_rows
from models.demo.block import Block, simulate_block
from models.demo.calibrate import meetings_mu_for
from models.demo.export import CsvSink, ids
from models.demo.params import Planted, planted_effects
from models.demo.programs import blocks, day_number, plan_programs
from models.demo.summary import Tally
from models.demo.truth import TRUTH_DIR, TRUTH_FILE, TruthWriter

MANIFEST = "demo_manifest.json"


@dataclass
class Written:
    """A block's rendered text and the row number its first row got in each file."""

    first_row: dict[str, int]
    participants: pl.DataFrame
    matches: pl.DataFrame
    meetings: dict[str, pl.DataFrame]  # by file name
    activities: pl.DataFrame
    surveys: pl.DataFrame


def generate(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    as_of: date = date(2026, 6, 30),
    bad_rows: bool = True,
    *,
    write_truth: bool = True,
    n_programs: int | None = None,
    meetings_per_match: float | None = None,
    skew: float | None = None,
) -> dict:
    """Write the demo export into out_dir and return its manifest (also demo_manifest.json).

    By default everything grows with scale (about 3 programs and 5 meetings per 2,000
    matches). n_programs fixes the number of programs and meetings_per_match the mean of
    written meetings per match, so a benchmark can ask for a consortium's shape (e.g. 300
    programs, 10 meetings per match) at any number of matches. skew sets the spread of program
    sizes (the sigma of their lognormal weights, 0.5 by default): a few large programs and
    many small ones.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir)
    p = Planted()
    if skew is not None:
        if not skew >= 0:
            raise ValueError(f"skew is a lognormal sigma, 0 or more, not {skew}")
        p = replace(p, population=replace(p.population, program_size_sigma=skew))
    as_of_day = day_number(as_of)
    programs = plan_programs(_rng(seed, 0), scale, as_of, p, n_programs)
    shape: dict = {}
    if n_programs is not None:
        shape["programs"] = n_programs
    if skew is not None:
        shape["skew"] = skew
    if meetings_per_match is not None:
        mu = meetings_mu_for(meetings_per_match, programs, p, seed)
        p = replace(p, process=replace(p.process, meetings_mu=mu))
        shape["meetings_per_match"] = meetings_per_match
        shape["meetings_mu"] = mu
    sink = CsvSink(out_dir)
    truth = TruthWriter(out_dir) if write_truth else None
    tally = Tally()
    next_id = {"P": 1, "M": 1, "MT": 1, "A": 1, "R": 1}
    templates: Templates | None = None
    bad: list[dict] = []
    exact: list[dict] = []
    try:
        sink.write("programs.csv", render.programs_frame(programs))
        for b, progs in enumerate(blocks(programs)):
            block = simulate_block(_rng(seed, b + 1), programs, progs, p, as_of_day, next_id)
            written = _write_block(sink, block)
            tally.add(block)
            if truth is not None:
                truth.write(block)
            if b == 0:
                templates = _templates(block, written)
        if bad_rows and templates is not None:
            program_width = len(programs.program_id[0]) - len("PRG")
            bad, exact = append_bad_rows(
                sink, templates, programs, Ids(next_id), program_width, as_of
            )
    finally:
        sink.close()
        if truth is not None:
            truth.close()
    manifest = {
        "seed": seed,
        "scale": scale,
        "as_of": as_of.isoformat(),
        "generator": "models.demo",
        "timestamps": "naive local wall-clock time in the program's timezone",
        "planted_effects": planted_effects(
            p, programs.program_id, programs.retained_u, programs.promoted_u
        ),
        "realised": tally.summary(),
        "files": dict(sorted(sink.rows.items())),
        "bad_rows": bad,
        "exact_duplicates": exact,
    }
    if shape:
        # Only when asked for, so that a default export's manifest keeps its exact bytes.
        manifest["shape"] = shape
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def _clear_previous(out_dir: Path) -> None:
    """Remove the files a previous demo run listed, so stale year files cannot linger."""
    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return
    for name in json.loads(manifest.read_text(encoding="utf-8")).get("files", {}):
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / TRUTH_DIR / TRUTH_FILE).unlink(missing_ok=True)
    manifest.unlink()


def _write_block(sink: CsvSink, block: Block) -> Written:
    progs, people, matches = block.programs, block.people, block.matches
    first: dict[str, int] = {}
    participants = render.participants_frame(block.rng, progs, people)
    first["participants.csv"] = sink.write("participants.csv", participants, bom=True)
    match_rows = render.matches_frame(progs, people, matches, block.closure)
    first["matches.csv"] = sink.write("matches.csv", match_rows)
    meetings = render.meetings_frame(progs, matches, block.meetings, block.first["MT"])
    by_file = {}
    for (year,), part in meetings.partition_by("_year", as_dict=True, maintain_order=True).items():
        name = f"meetings_{year}.csv"
        by_file[name] = part.drop("_year")
        first[name] = sink.write(name, by_file[name])
    acts = render.activities_frame(matches, block.activities, block.first["A"])
    first["activities.csv"] = sink.write("activities.csv", acts)
    surveys = render.survey_frame(people, block.responses, block.first["R"])
    first["survey_responses.csv"] = sink.write("survey_responses.csv", surveys)
    outcomes = render.outcomes_frame(people, matches, block.outcomes)
    first["outcomes.csv"] = sink.write("outcomes.csv", outcomes)
    return Written(first, participants, match_rows, by_file, acts, surveys)


def _templates(block: Block, written: Written) -> Templates:
    """Good rows of the first block that bad rows are modelled on (all start at row 1)."""
    people, matches = block.people, block.matches
    in_first = people.prog == block.progs[0]
    mentors = ids("P", people.number[in_first & (people.role == 0)][:2]).to_list()
    matched = np.zeros(len(people.number), bool)
    matched[matches.mentee] = True
    unmatched = people.number[in_first & (people.role == 1) & ~matched][:4]
    meeting_file = min(written.meetings) if written.meetings else "meetings.csv"
    return Templates(
        programs=render.programs_frame(block.programs).head(1),
        participants=written.participants,
        matches=written.matches.head(1),
        meetings_file=meeting_file,
        meetings=written.meetings.get(meeting_file, pl.DataFrame()).head(2),
        activities=written.activities.head(1),
        surveys=written.surveys.head(1),
        mentors=mentors,
        unmatched=ids("P", unmatched).to_list(),
        matched_mentee=ids("P", people.number[matches.mentee[:1]]).to_list()[0],
    )
