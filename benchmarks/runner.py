"""Run the floor and the pipeline at given scales in one invocation, and measure each stage.

Every measured piece runs in a subprocess whose whole process tree is sampled from /proc
(CPU seconds and resident memory), so figures include Python's start-up and imports, as a
real `mentorscope run` would. Generated programs are cached under benchmarks/.cache.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks.sampler import Sample, TreeSampler, cpu_at, window
from benchmarks.stages import STAGES

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
AS_OF = date(2026, 6, 30)  # the demo generator's default
# A fixed pseudonym key for benchmark snapshots only (never the user's key file).
BENCH_KEY = "b3" * 32
# Extra environment for every measured process (e.g. OPENBLAS_NUM_THREADS), set by the CLI.
MEASURED_ENV: dict[str, str] = {}
# A pipeline whose process tree goes over this is killed (its stages so far are reported).
MAX_RSS: int | None = 16 * 2**30
# Issue 9's consortium: hundreds of programs, 1,000,000 matches, 10,000,000 meetings. The
# generator's own scale gives ~3 programs and ~5 meetings per 2,000 matches, so the shape is
# set explicitly; smaller presets keep the 300 programs (and whatever grows with them) and cut
# only the rows.
MATCHES_PER_SCALE = 2000
CONSORTIUM_MATCHES = 1_000_000
CONSORTIUM_PROGRAMS = 300
CONSORTIUM_MEETINGS_PER_MATCH = 10.0
CONSORTIUM_GROWTH = (0.01, 0.1)  # fractions of the consortium's size for growth checks


@dataclass(frozen=True)
class Shape:
    """Generator options beyond scale; the default (None, None) is the plain demo at scale."""

    programs: int | None = None
    meetings_per_match: float | None = None
    skew: float | None = None  # lognormal sigma of program sizes (issue 20's skewed shape)

    @property
    def tag(self) -> str:
        """Part of cache folder names, empty for the plain demo (so old caches stay valid)."""
        tag = "" if self.programs is None else f"-programs-{self.programs}"
        if self.meetings_per_match is not None:
            tag += f"-mpm-{self.meetings_per_match:g}"
        if self.skew is not None:
            tag += f"-skew-{self.skew:g}"
        return tag

    def describe(self) -> str:
        parts = [] if self.programs is None else [f"{self.programs} programs"]
        if self.meetings_per_match is not None:
            parts.append(f"{self.meetings_per_match:g} meetings per match")
        if self.skew is not None:
            parts.append(f"program sizes skewed (sigma {self.skew:g})")
        return ", ".join(parts)

    def generator_args(self) -> list[str]:
        args = [] if self.programs is None else ["--programs", str(self.programs)]
        if self.meetings_per_match is not None:
            args += ["--meetings-per-match", f"{self.meetings_per_match:g}"]
        if self.skew is not None:
            args += ["--skew", f"{self.skew:g}"]
        return args


CONSORTIUM = Shape(CONSORTIUM_PROGRAMS, CONSORTIUM_MEETINGS_PER_MATCH)


def consortium_scale(fraction: float = 1.0) -> float:
    """Generator scale of the consortium at `fraction` of its matches (1.0 -> 500)."""
    return CONSORTIUM_MATCHES * fraction / MATCHES_PER_SCALE


@dataclass
class Measured:
    """One row of the table."""

    scale: float
    stage: str
    rows: int
    wall_s: float
    cpu_s: float
    peak_rss: int  # bytes
    floor_s: float = 0.0

    @property
    def ratio(self) -> float:
        return self.wall_s / self.floor_s if self.floor_s else float("nan")


@dataclass
class ScaleRun:
    scale: float
    program: dict  # rows per file, from the generator's manifest
    floor: Measured
    stages: list[Measured]
    total: Measured
    success: bool
    errors: list[str] = field(default_factory=list)
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    steps: list[Measured] = field(default_factory=list)  # stage "group/step", slowest first
    shape: str = ""  # the generator options beyond scale, in words ("" for the plain demo)

    def stage(self, name: str) -> Measured | None:
        return next((m for m in self.stages if m.stage == name), None)


@dataclass
class Incremental:
    scale: float
    added_rows: int
    run: ScaleRun  # the second run, on the loaded warehouse
    full_s: float

    @property
    def share(self) -> float:
        return self.run.total.wall_s / self.full_s


@dataclass
class CliTimes:
    help_s: float
    generate_s: float
    run_s: float
    run_success: bool

    @property
    def demo_s(self) -> float:
        return self.generate_s + self.run_s


@dataclass
class Results:
    machine: dict
    runs: list[ScaleRun] = field(default_factory=list)
    incremental: Incremental | None = None
    cli: CliTimes | None = None


def machine() -> dict:
    mem = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        mem = int(meminfo.read_text().split()[1]) * 1024
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import duckdb
    import polars

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "env": dict(MEASURED_ENV),
    }


def _env(work: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a measured process. Its Dagster state is its own (under `work`): runs
    of one instance share the `warehouse` pool, so two benchmarks would wait on each other."""
    env = dict(os.environ)
    env.update(
        {
            "DAGSTER_HOME": str(ROOT),
            "MENTORSCOPE_DAGSTER_STATE": str(work / "dagster" / "storage"),
            "MENTORSCOPE_DAGSTER_LOGS": str(work / "dagster" / "logs"),
            "DAGSTER_TELEMETRY_DISABLED": "1",
            "GX_ANALYTICS_ENABLED": "False",
            "MENTORSCOPE_PSEUDONYM_KEY": BENCH_KEY,
        }
    )
    env.update(MEASURED_ENV)
    env.update(extra or {})
    return env


def run_sampled(
    cmd: list[str], env: dict[str, str], interval: float = 0.2, max_rss: int | None = None
) -> tuple[subprocess.CompletedProcess, list[Sample], float, float]:
    """Run cmd, sampling its process tree; (result, samples, start time, end time)."""
    began = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid, interval, max_rss).start()
    out, err = proc.communicate()
    ended = time.time()
    samples = sampler.stop()
    stderr = err.decode()
    if sampler.killed:
        stderr += f"\nkilled by the benchmark: process tree over {max_rss / 2**30:.0f} GB RSS"
    result = subprocess.CompletedProcess(cmd, proc.returncode, out.decode(), stderr)
    return result, samples, began, ended


def program_dir(scale: float, seed: int, shape: Shape = Shape()) -> Path:
    return CACHE / "programs" / f"scale-{scale:g}{shape.tag}-seed-{seed}"


def ensure_program(
    scale: float, seed: int = 7, as_of: date = AS_OF, shape: Shape = Shape()
) -> tuple[Path, dict]:
    """The generated program at `scale`, from the cache or generated once (with bad rows)."""
    out = program_dir(scale, seed, shape)
    manifest = out / "demo_manifest.json"
    if not manifest.exists():
        cmd = [sys.executable, "-m", "models.demo", "--out", str(out), "--seed", str(seed)]
        cmd += ["--scale", f"{scale:g}", "--as-of", as_of.isoformat(), "--no-truth"]
        cmd += shape.generator_args()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return out, json.loads(manifest.read_text())["files"]


def program_summary(data_dir: Path) -> dict:
    """Matches, meetings, programs, rows and bytes per file of a generated (cached) program."""
    manifest = json.loads((data_dir / "demo_manifest.json").read_text())
    files = manifest["files"]
    bad = {}
    for row in manifest["bad_rows"]:
        bad[row["file"]] = bad.get(row["file"], 0) + 1
    for row in manifest["exact_duplicates"]:
        bad[row["file"]] = bad.get(row["file"], 0) + 1
    meetings = sum(n - bad.get(f, 0) for f, n in files.items() if f.startswith("meetings"))
    return {
        "folder": str(data_dir),
        "matches": manifest["realised"]["matches"],
        "meetings": meetings,
        "programs": files["programs.csv"] - bad.get("programs.csv", 0),
        "shape": manifest.get("shape", {}),
        "rows": files,
        "bytes": {f: (data_dir / f).stat().st_size for f in files},
    }


def measure_floor(scale: float, data_dir: Path, work: Path) -> Measured:
    work.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "benchmarks.floor", str(data_dir), str(work / "floor.duckdb")]
    result, samples, _, _ = run_sampled(cmd, _env(work))
    if result.returncode != 0:
        raise RuntimeError(f"floor failed: {result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    cpu, peak = window(samples, figures["began"], figures["ended"])
    rows = sum(figures["rows"].values())
    return Measured(scale, "floor", rows, figures["total_s"], cpu, peak, figures["total_s"])


def measure_pipeline(
    scale: float,
    data_dir: Path,
    work: Path,
    as_of: date = AS_OF,
    fresh: bool = True,
    floor_s: float = 0.0,
) -> ScaleRun:
    """One full run in a subprocess; per-stage wall, CPU and peak RSS from the event log."""
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    settings = {
        "data_dir": str(data_dir),
        "warehouse": str(work / "warehouse" / "mentorscope.duckdb"),
        "reports_dir": str(work / "reports"),
        "as_of": as_of.isoformat(),
    }
    out = work / "run.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "benchmarks.pipeline_worker", json.dumps(settings), str(out)]
    load = os.getloadavg()
    env = _env(work, {"MENTORSCOPE_RESEARCH_DIR": str(work / "research")})
    result, samples, began, ended = run_sampled(cmd, env, max_rss=MAX_RSS)
    if out.exists():
        run = json.loads(out.read_text())
    else:
        run = _unfinished(result, env, work, ended, samples)
    steps = sorted(run["steps"], key=lambda s: s["start"])
    finished = run["finished"]
    rows = run["rows"]
    stages: list[Measured] = []
    for name in STAGES:
        if name == "startup":
            spans = [(began, steps[0]["start"] if steps else finished)]
        elif name == "teardown":
            spans = [(steps[-1]["end"] if steps else began, finished)]
        else:
            spans = [(s["start"], s["end"]) for s in steps if s["stage"] == name]
        if not spans:
            continue
        figures = [window(samples, a, b) for a, b in spans]
        wall = sum(b - a for a, b in spans)
        cpu = sum(c for c, _ in figures)
        peak = max(p for _, p in figures)
        stages.append(Measured(scale, name, rows.get(name, 0), wall, cpu, peak, floor_s))
    total_wall = finished - began
    gaps = total_wall - sum(m.wall_s for m in stages)
    stages.append(Measured(scale, "between steps", 0, max(gaps, 0.0), 0.0, 0, floor_s))
    in_run = [s for s in samples if s.t <= finished]
    total = Measured(
        scale,
        "end to end",
        rows.get("ingest", 0),
        total_wall,
        cpu_at(samples, finished) - (samples[0].cpu_s if samples else 0.0),
        max([s.rss for s in in_run] + [run["peak_rss_self"]]),
        floor_s,
    )
    del ended
    by_step = []
    for s in steps:
        cpu, peak = window(samples, s["start"], s["end"])
        name = f"{s['stage']}/{s['step']}"
        by_step.append(Measured(scale, name, 0, s["end"] - s["start"], cpu, peak, floor_s))
    by_step.sort(key=lambda m: m.wall_s, reverse=True)
    return ScaleRun(
        scale=scale,
        program={},
        floor=Measured(scale, "floor", 0, floor_s, 0.0, 0, floor_s),
        stages=stages,
        total=total,
        success=run["success"],
        errors=run["errors"] + run["failed_checks"],
        load=load,
        steps=by_step,
    )


def _unfinished(
    result: subprocess.CompletedProcess,
    env: dict[str, str],
    work: Path,
    ended: float,
    samples: list[Sample],
) -> dict:
    """What a killed or crashed worker ran, from its Dagster event log."""
    events = work / "events.json"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.pipeline_worker", "--events", str(events)],
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    steps = json.loads(events.read_text())["steps"] if events.exists() else []
    for step in steps:  # a step running when the worker died counts up to the worker's end
        if step["end"] is None:
            step["end"] = ended
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    return {
        "finished": ended,
        "success": False,
        "errors": [f"worker ended with {result.returncode}: " + (lines[-1] if lines else "")],
        "failed_checks": [],
        "steps": steps,
        "rows": {},
        "peak_rss_self": max((s.rss for s in samples), default=0),
    }


def measure_scale(scale: float, seed: int = 7, shape: Shape = Shape()) -> ScaleRun:
    data_dir, files = ensure_program(scale, seed, shape=shape)
    work = CACHE / "runs" / f"scale-{scale:g}{shape.tag}"
    floor = measure_floor(scale, data_dir, work / "floor")
    run = measure_pipeline(scale, data_dir, work / "pipeline", floor_s=floor.wall_s)
    run.floor = floor
    run.program = files
    run.shape = shape.describe()
    return run


def add_month(data_dir: Path, out_dir: Path, as_of: date = AS_OF) -> tuple[Path, int, date]:
    """An export folder = the program's files (hard-linked) + one month of new meetings.

    The new month copies the program's last month of meetings (same matches), moved 31 days
    later with new meeting ids; the new as-of date is the end of that month.
    """
    import duckdb

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for path in data_dir.iterdir():
        if path.is_file():
            # Hard links: the same files at no cost, and not links out of the folder (the
            # ingest refuses symbolic links that point outside the export folder).
            try:
                os.link(path, out_dir / path.name)
            except OSError:
                shutil.copy2(path, out_dir / path.name)
    new_file = out_dir / "meetings_increment.csv"
    meetings = sorted(str(p) for p in data_dir.glob("meetings*.csv"))
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * REPLACE ('N' || meeting_id AS meeting_id, "
        "strftime(started_at::TIMESTAMP + INTERVAL 31 DAY, '%Y-%m-%d %H:%M:%S') AS started_at) "
        "FROM read_csv(?, all_varchar = true) "
        "WHERE try_cast(started_at AS TIMESTAMP) > ?::DATE - INTERVAL 30 DAY "
        "AND try_cast(started_at AS TIMESTAMP) < ?::DATE + INTERVAL 1 DAY) TO ? (HEADER)",
        [meetings, as_of, as_of, str(new_file)],
    )
    added = con.execute("SELECT count(*) FROM read_csv(?)", [str(new_file)]).fetchall()[0][0]
    con.close()
    return out_dir, int(added), as_of.fromordinal(as_of.toordinal() + 31)


def measure_incremental(full: ScaleRun, seed: int = 7, shape: Shape = Shape()) -> Incremental:
    """Re-run on the warehouse the full run loaded, with one more month of meetings."""
    data_dir = program_dir(full.scale, seed, shape)
    work = CACHE / "runs" / f"scale-{full.scale:g}{shape.tag}"
    folder, added, as_of = add_month(data_dir, work / "increment")
    run = measure_pipeline(
        full.scale, folder, work / "pipeline", as_of=as_of, fresh=False, floor_s=full.floor.wall_s
    )
    return Incremental(full.scale, added, run, full.total.wall_s)


def _wall(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True)
    return time.perf_counter() - t0, done.returncode


def measure_cli() -> CliTimes:
    """`mentorscope --help`, and `mentorscope demo`'s two parts on a fresh folder.

    `demo` itself writes the project's data/demo; the benchmark runs the same two commands
    it chains (generate, then run on the generated folder) into the cache instead.
    """
    exe = str(Path(sys.executable).with_name("mentorscope"))
    work = CACHE / "runs" / "cli"
    if work.exists():
        shutil.rmtree(work)
    env = _env(work, {"MENTORSCOPE_RESEARCH_DIR": str(work / "research")})
    helps = sorted(_wall([exe, "--help"], env)[0] for _ in range(3))
    generate_s, _ = _wall([exe, "generate", "--out", str(work / "demo")], env)
    run_cmd = [exe, "run", "--data", str(work / "demo"), "--as-of", AS_OF.isoformat()]
    run_cmd += ["--warehouse", str(work / "warehouse.duckdb"), "--reports", str(work / "reports")]
    run_s, code = _wall(run_cmd, env)
    return CliTimes(helps[1], generate_s, run_s, code == 0)


def run_benchmark(
    scales: list[float],
    seed: int = 7,
    incremental: bool = False,
    cli: bool = False,
    progress=None,
    shape: Shape = Shape(),
) -> Results:
    """Measure every scale (floor then pipeline), then optionally the increment and the CLI."""
    results = Results(machine())
    for scale in scales:
        if progress:
            progress(f"scale {scale:g}: generating (cached) and measuring")
        results.runs.append(measure_scale(scale, seed, shape))
    if incremental and results.runs:
        if progress:
            progress("incremental: one more month on the largest warehouse")
        results.incremental = measure_incremental(results.runs[-1], seed, shape)
    if cli:
        if progress:
            progress("cli: --help and demo")
        results.cli = measure_cli()
    return results
