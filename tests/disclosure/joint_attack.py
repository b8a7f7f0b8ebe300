"""The attacker of everything the aggregate tier publishes together, written apart from the
production code (no import from models.disclosure or models.stats.suppression).

Every published number is a count of some set of people or matches. Where two tables count
the same set, the attacker sees one unknown, not two: a breakdown's dyad cell (matches of a
dyad group, for a step every match has) and the survival table's n of the same group; a
mentee cell and the survival n of the same mentee group where no mentee has two matches (the
status counts say so: no 'rematched' row); a program's matches in the funnel's 'all' row and
in the survival table. Sums tie the rest: groups to their program, programs to all programs,
gender x race to both margins, periods to the 'all' row, the statuses of matched mentees to
the program's mentees in the breakdowns, the statuses to the program's enrolled mentees
(published on the dashboards), survival endings to the ended statuses (one match each).
Counts are whole, a printed row has at least one member, endings, step successes and the
funnel's matches too early to judge on a timed step lie between 0 and their matches,
matches of a group are at least its mentees (or mentors).

For every hidden unknown: its interval (min and max over whole-number tables consistent with
all of it), and for step successes, endings and too-early matches whether a hidden group is
forced to 0 % or 100 %.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

MENTEE_DIMS = ("all", "mentee_gender", "mentee_race", "mentee_gender_race")
MENTOR_DIMS = ("mentor_gender", "mentor_race")
DYAD_DIMS = ("dyad_gender", "dyad_race")
CROSSED = {"mentee_gender_race": ("mentee_gender", "mentee_race")}
MATCHED = ("rematched", "active_lt_12m", "active_12m_plus", "ended_lt_12m", "ended_12m_plus")
ENDED = ("ended_lt_12m", "ended_12m_plus")
ACTIVE = ("active_lt_12m", "active_12m_plus")
# Funnel successes per period, by kind, and the kind of their program's 'all' row (the 'all'
# rows are the breakdowns'/survival's matches of the program: one unknown).
# Solves that push every hidden cell at once before the cell-by-cell extremes.
BATCHES = 8
FUNNEL_TOTALS = {"fstep": "matches:{step}", "ftoo": "matches:too_early"}


@dataclass
class JointFinding:
    key: tuple
    low: float
    high: float
    tables: tuple[str, ...]
    forced: str = ""  # "0 %" or "100 %" for a hidden step share


class _Model:
    """Unknowns by key; published values are constants. Relations as sparse rows."""

    def __init__(self) -> None:
        self.value: dict[tuple, float | None] = {}  # key -> published value, None = hidden
        self.where: dict[tuple, set[str]] = defaultdict(set)
        self.printed: set[tuple] = set()
        self.rows: list[tuple[dict[tuple, float], float, float]] = []  # terms, lo, hi
        self.twins: dict[tuple, set[tuple]] = defaultdict(set)  # the same count, two tables
        self.may_be_zero: set[tuple] = set()  # hidden rows that may count nobody
        self.fractional: set[tuple] = set()  # sums of per-mentor means: not whole numbers
        self.step = ""  # the untimed step the model reads

    def see(self, key: tuple, value: float | None, table: str) -> None:
        """A printed row: its number, or None when suppressed."""
        self.where[key].add(table)
        self.printed.add(key)
        if value is not None and not (isinstance(value, float) and np.isnan(value)):
            self.value[key] = float(value)
        else:
            self.value.setdefault(key, None)

    def equal(self, terms: dict[tuple, float], rhs: float = 0.0) -> None:
        self.rows.append((terms, rhs, rhs))

    def at_least(self, terms: dict[tuple, float], rhs: float = 0.0) -> None:
        self.rows.append((terms, rhs, np.inf))

    def compile(self):
        hidden = sorted(
            (k for k, v in self.value.items() if v is None), key=lambda k: tuple(map(str, k))
        )
        pos = {k: i for i, k in enumerate(hidden)}
        r, c, d, lo, hi = [], [], [], [], []
        for terms, a, b in self.rows:
            const = 0.0
            row: dict[int, float] = defaultdict(float)
            unknown = False
            for key, w in terms.items():
                if key in pos:
                    row[pos[key]] += w
                elif key in self.value:
                    const += w * self.value[key]  # type: ignore[operator]
                else:
                    unknown = True  # a quantity no table prints: the relation says nothing
            if unknown:
                continue
            row = {j: w for j, w in row.items() if w != 0}
            if not row:
                continue
            i = len(lo)
            for j, w in row.items():
                r.append(i)
                c.append(j)
                d.append(w)
            lo.append(a - const)
            hi.append(b - const)
        matrix = coo_matrix((d, (r, c)), shape=(len(lo), len(hidden))).tocsr()
        return hidden, matrix, np.array(lo), np.array(hi)


def _key(kind: str, program, dimension, group) -> tuple:
    return (kind, program, dimension, group)


def build(
    breakdown_step: pl.DataFrame,
    survival: pl.DataFrame,
    funnel: pl.DataFrame,
    status: pl.DataFrame,
    enrolled: dict[str | None, int] | None = None,
    mentors: dict[tuple, int] | None = None,
    step: str = "s3_calendar",
    timed: str = "s5_thanks",
) -> _Model:
    """The attacker's model. breakdown_step: metrics.breakdowns rows of one step every match
    has (n, value, suppressed); survival: one row per group (n, events, suppressed); funnel:
    metrics.step_funnel; status: metrics.mentee_status_counts; enrolled: mentees per program
    (None = all), as the dashboards print them (None: the four tables alone); mentors:
    distinct mentors per (program, mentor dimension), taken as known as the production audit
    takes them."""
    m = _Model()
    m.step = step
    mentors = mentors or {}
    rematched = {
        r["program_id"] for r in status.iter_rows(named=True) if r["status"] == "rematched"
    }
    enrolled = enrolled or {}
    scoped = {r["program_id"] for r in status.iter_rows(named=True)}
    one_match_each = {p for p in scoped if p not in rematched}

    def people_kind(d: str) -> str:
        return "mentees" if d in MENTEE_DIMS else "mentors" if d in MENTOR_DIMS else "matches"

    # Breakdowns: n and step successes per group.
    for r in breakdown_step.iter_rows(named=True):
        p, d, g = r["program_id"], r["dimension"], r["group"]
        kind = people_kind(d)
        n = r["n"]
        m.see(_key(kind, p, d, g), n, "breakdowns")
        # A mentor with several matches counts the mean of them: a mentor group's successes
        # are a sum of fractions, not a whole number (the attacker must not round them).
        exact = kind == "mentors"
        s = None if r["value"] is None or n is None else r["value"] * n
        if s is not None and not exact:
            s = round(s)
        m.see(_key(f"{kind}:{step}", p, d, g), s, "breakdowns")
        if exact:
            m.fractional.add(_key(f"{kind}:{step}", p, d, g))
    # Survival: matches and endings per group.
    for r in survival.iter_rows(named=True):
        p, d, g = r["program_id"], r["dimension"], r["group"]
        m.see(_key("matches", p, d, g), r["n"], "survival")
        m.see(_key("ended", p, d, g), r["events"], "survival")
    # Funnel: matches, step reached and, for a timed step, matches too early to judge per
    # period (within the row's matches like a success).
    funnel_kinds = [("fstep", f"{step}_n")]
    if f"{timed}_too_early" in funnel.columns:
        funnel_kinds.append(("ftoo", f"{timed}_too_early"))
    for r in funnel.iter_rows(named=True):
        p, period = r["program_id"], r["period"]
        key = ("fmatches", p, period) if period != "all" else _key("matches", p, "all", "all")
        m.see(key, r["matches"], "step_funnel")
        for kind, column in funnel_kinds:
            total = FUNNEL_TOTALS[kind].format(step=step)
            skey = (kind, p, period) if period != "all" else _key(total, p, "all", "all")
            m.see(skey, r[column], "step_funnel")
    for r in status.iter_rows(named=True):
        m.see(("status", r["program_id"], r["status"]), r["n"], "mentee_status_counts")
    # docs/disclosure.md: where the survival table hides a program's `all` row (and no mentee
    # has two matches), the status table has a hidden row for every ended and active status
    # of that program, which may hold 0.
    rematched = {r["program_id"] for r in status.iter_rows(named=True)
                 if r["status"] == "rematched"}  # fmt: skip
    for r in survival.iter_rows(named=True):
        if r["dimension"] == "all" and r["suppressed"] and r["program_id"] not in rematched:
            for s in (*ENDED, *ACTIVE):
                m.may_be_zero.add(("status", r["program_id"], s))

    printed = list(m.printed)
    programs = {k[1] for k in printed if k[0] in ("mentees", "matches") and k[1] is not None}
    scopes = [*sorted(programs), None]

    def present(key: tuple) -> bool:
        return key in m.printed

    # Sums over groups (absent rows are 0) and over programs, per kind of count.
    by_scope: dict[tuple, list[tuple]] = defaultdict(list)
    by_group: dict[tuple, list[tuple]] = defaultdict(list)
    for key in printed:
        if len(key) != 4:
            continue
        kind, p, d, g = key
        if d not in CROSSED and d != "all":
            by_scope[(kind, p, d)].append(key)
        if p is not None:
            by_group[(kind, d, g)].append(key)
    for (kind, p, d), members in by_scope.items():
        terms = {k: 1.0 for k in members}
        if kind == "mentors":
            if (p, d) in mentors:  # distinct mentors of a program: taken as known
                m.equal(terms, float(mentors[(p, d)]))
            continue
        total = _key(kind, p, "all", "all")
        if present(total):
            m.equal({**terms, total: -1.0})
    for (kind, d, g), members in by_group.items():
        total = _key(kind, None, d, g)
        if present(total):
            m.equal({**{k: 1.0 for k in members}, total: -1.0})
    # Crossings to both margins.
    for crossed, parents in CROSSED.items():
        for kind in ("mentees", f"mentees:{step}", "matches", "ended"):
            for position, parent in enumerate(parents):
                groups: dict[tuple, list[tuple]] = defaultdict(list)
                for key in printed:
                    if len(key) == 4 and key[0] == kind and key[2] == crossed:
                        groups[(key[1], key[3].split("|")[position])].append(key)
                for (p, part), members in groups.items():
                    whole = _key(kind, p, parent, part)
                    if present(whole):
                        m.equal({**{k: 1.0 for k in members}, whole: -1.0})
    # Funnel: periods to 'all', programs to all programs.
    for kind, total_kind in (
        ("fmatches", "matches"),
        *((k, FUNNEL_TOTALS[k].format(step=step)) for k, _ in funnel_kinds),
    ):
        periods: dict[object, list[tuple]] = defaultdict(list)
        across: dict[object, list[tuple]] = defaultdict(list)
        for key in printed:
            if key[0] == kind:
                periods[key[1]].append(key)
                if key[1] is not None:
                    across[key[2]].append(key)
        for p, members in periods.items():
            total = _key(total_kind, p, "all", "all")
            if present(total):
                m.equal({**{k: 1.0 for k in members}, total: -1.0})
        for period, members in across.items():
            total = (kind, None, period)
            if present(total):
                m.equal({**{k: 1.0 for k in members}, total: -1.0})
    # Status: programs to all programs; statuses to enrolled; matched statuses to mentees.
    statuses: dict[str, list[tuple]] = defaultdict(list)
    for key in printed:
        if key[0] == "status" and key[1] is not None:
            statuses[key[2]].append(key)
    for s, members in statuses.items():
        total = ("status", None, s)
        if present(total):
            m.equal({**{k: 1.0 for k in members}, total: -1.0})
    for p in scopes:
        own = [k for k in printed if k[0] == "status" and k[1] == p]
        if p in enrolled and own:
            m.equal({k: 1.0 for k in own}, float(enrolled[p]))
        matched = [k for k in own if k[2] in MATCHED]
        mentees = _key("mentees", p, "all", "all")
        if matched and present(mentees):
            m.equal({**{k: 1.0 for k in matched}, mentees: -1.0})
        if p in one_match_each:
            ended = [k for k in own if k[2] in ENDED]
            ended_all = _key("ended", p, "all", "all")
            if present(ended_all):
                m.equal({**{k: 1.0 for k in ended}, ended_all: -1.0})
            active = [k for k in own if k[2] in ACTIVE]
            matches_all = _key("matches", p, "all", "all")
            if active and present(ended_all) and present(matches_all):
                m.equal({**{k: 1.0 for k in active}, matches_all: -1.0, ended_all: 1.0})
    # Same people, same count: matches of a mentee group are its mentees (one match each).
    for key in printed:
        if len(key) != 4 or key[0] != "matches":
            continue
        _, p, d, g = key
        if d in MENTEE_DIMS:
            mentees = _key("mentees", p, d, g)
            if present(mentees):
                if p in one_match_each:
                    m.equal({key: 1.0, mentees: -1.0})
                    m.twins[key].add(mentees)
                    m.twins[mentees].add(key)
                    reached = _key(f"matches:{step}", p, d, g)
                    reached_by = _key(f"mentees:{step}", p, d, g)
                    if present(reached) and present(reached_by):
                        m.equal({reached: 1.0, reached_by: -1.0})
                else:
                    m.at_least({key: 1.0, mentees: -1.0})
        if d in MENTOR_DIMS:
            mentors = _key("mentors", p, d, g)
            if present(mentors):
                m.at_least({key: 1.0, mentors: -1.0})
        ended = _key("ended", p, d, g)
        if present(ended):
            m.at_least({key: 1.0, ended: -1.0})
    # Step successes within 0..their count.
    for key in printed:
        if len(key) == 4 and ":" in key[0]:
            base = _key(key[0].split(":")[0], *key[1:])
            if present(base):
                m.at_least({base: 1.0, key: -1.0})
        if key[0] in FUNNEL_TOTALS:
            base = ("fmatches", key[1], key[2])
            if present(base):
                m.at_least({base: 1.0, key: -1.0})
    return m


def _base(key: tuple) -> tuple | None:
    """The count a success total lies within (None for a count)."""
    if key[0] in FUNNEL_TOTALS:
        return ("fmatches", key[1], key[2])
    if key[0] == "ended":
        return _key("matches", *key[1:])
    if ":" in str(key[0]):
        return _key(key[0].split(":")[0], *key[1:])
    return None


def attack(model: _Model, width: float = 2.0) -> list[JointFinding]:
    """Interval of every hidden count; hidden successes (step reached, match ended) forced to
    0 % or 100 %."""
    hidden, a, lo, hi = model.compile()
    h = len(hidden)
    if h == 0:
        return []
    counts = np.array([_base(k) is None and k not in model.may_be_zero for k in hidden])
    lb = np.where(counts, 1.0, 0.0)  # every hidden count is a printed row
    ub = np.full(h, 1e6)
    cons = [LinearConstraint(a, lo, hi)] if a.shape[0] else []
    integral = np.array([0.0 if k in model.fractional else 1.0 for k in hidden])

    def solve(c: np.ndarray) -> np.ndarray:
        res = milp(c, constraints=cons, integrality=integral, bounds=Bounds(lb, ub))
        assert res.status == 0, res.message  # the truth is always consistent
        return res.x

    low = np.full(h, np.inf)
    high = np.full(h, -np.inf)
    findings = []
    pos = {k: i for i, k in enumerate(hidden)}
    # Failures (count - successes) seen for each hidden success total with a hidden count.
    pairs = [(j, pos[b]) for j, k in enumerate(hidden) if (b := _base(k)) in pos]
    failures = {j: -np.inf for j, _ in pairs}

    def seen(x: np.ndarray) -> None:
        np.minimum(low, x, out=low)
        np.maximum(high, x, out=high)
        for j, b in pairs:
            failures[j] = max(failures[j], x[b] - x[j])

    # Every solution is a table the attacker cannot rule out: a few pushes of all cells at once
    # (up, down, then random mixes) widen most intervals, and only cells still narrower than
    # `width` (or shares not yet seen off their edge) need solves of their own.
    rng = np.random.default_rng(0)
    for push in range(BATCHES):
        sign = 1.0 if push == 0 else -1.0 if push == 1 else rng.choice([-1.0, 1.0], size=h)
        seen(solve(np.full(h, 1.0) * sign))
    for j, key in enumerate(hidden):
        for sign in (1.0, -1.0):
            if high[j] - low[j] >= width:
                break
            c = np.zeros(h)
            c[j] = sign
            seen(solve(c))
        tables = tuple(sorted(model.where.get(key, ())))
        base = _base(key)
        if base is None:
            findings.append(JointFinding(key, float(low[j]), float(high[j]), tables))
            continue
        forced = ""
        if high[j] < 0.5:
            forced = "0 %"
        elif base in pos and failures[j] < 0.5:
            c = np.zeros(h)
            c[j], c[pos[base]] = 1.0, -1.0
            x = solve(c)
            seen(x)
            if x[pos[base]] - x[j] < 0.5:
                forced = "100 %"
        elif model.value.get(base) is not None and low[j] > model.value[base] - 0.5:
            forced = "100 %"
        findings.append(JointFinding(key, float(low[j]), float(high[j]), tables, forced))
    return findings


def excused(model: _Model, finding: JointFinding) -> bool:
    """A forced share that a published whole containing the group says already (its program's
    'all' row, or the all-programs row of the group, itself all-no or all-yes): no suppression
    can take it back (docs/disclosure.md)."""
    kind, *rest = finding.key
    base = _base(finding.key)
    if base is None or not finding.forced:
        return False
    if kind in FUNNEL_TOTALS:
        total = FUNNEL_TOTALS[kind].format(step=model.step)
        wholes = [_key(total, rest[0], "all", "all"), (kind, None, rest[1])]
    else:
        p, d, g = rest
        wholes = [_key(kind, p, "all", "all"), _key(kind, None, d, g)]
        if d in CROSSED:
            for position, parent in enumerate(CROSSED[d]):
                wholes.append(_key(kind, p, parent, g.split("|")[position]))
    if kind not in FUNNEL_TOTALS and rest[0] is None:
        # The all-programs group is the sum of the programs that print it; if each of them is
        # said all-no (all-yes) by its program's published 'all' row, so is the sum.
        parts = [k for k in model.printed if k[0] == kind and k[1] is not None
                 and k[2:] == tuple(rest[1:])]  # fmt: skip
        if parts and all(_said(model, _key(kind, k[1], "all", "all"), finding) for k in parts):
            return True
    return any(_said(model, whole, finding) for whole in wholes)


def _said(model: _Model, whole: tuple, finding: JointFinding) -> bool:
    """The published whole is itself all-no (all-yes), as the finding says of its part."""
    s = model.value.get(whole)
    n = model.value.get(_base(whole)) if _base(whole) else None
    if s is None or n is None or n == 0:
        return False
    return (finding.forced == "0 %" and s == 0) or (finding.forced == "100 %" and s == n)


def public(model: _Model, key: tuple) -> bool:
    """The count is printed by another table (the same people counted twice): hiding it here
    hides nothing, and the attacker recovering it learns what is published."""
    return any(model.value.get(t) is not None for t in model.twins.get(key, ()))


def timing(finding: JointFinding) -> bool:
    """A finding on the funnel's matches too early to judge (when matches met)."""
    return finding.key[0] == "ftoo" or finding.key[0] == FUNNEL_TOTALS["ftoo"]


def problems(
    model: _Model, findings: list[JointFinding], width: float = 2.0, *, timing_edges: bool = False
) -> list:
    """Counts pinned to within one person; successes forced to 0 % / 100 % (not excused).
    Too-early counts forced to none or all of a hidden row's matches only with timing_edges
    (docs/disclosure.md: they bound the counts, their edges are not protected)."""
    out = []
    for f in findings:
        pinned = _base(f.key) is None and f.high - f.low < width and not public(model, f.key)
        edge = f.forced and not excused(model, f) and (timing_edges or not timing(f))
        if pinned or edge:
            out.append(f)
    return out
