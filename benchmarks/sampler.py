"""Sample a process tree's CPU time and resident memory from /proc, in a thread.

psutil is not a dependency of the project, and Linux's /proc gives what the benchmark needs:
per process utime+stime (plus the reaped children's cutime+cstime) and resident pages.
Summing over every living descendant gives the tree's figures at each sample time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Sample:
    t: float  # time.time(), comparable with Dagster's event timestamps
    cpu_s: float  # user + system CPU of the whole tree so far
    rss: int  # bytes resident in the whole tree


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds including reaped children) of one process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    fields = text[text.rfind(")") + 2 :].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / TICKS


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError):
        return 0


def tree(root: int) -> dict[int, float]:
    """CPU seconds of `root` and every living descendant, by pid."""
    stats = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[int, float] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            out[pid] = stats[pid][1]
            todo += children.get(pid, [])
    return out


def sample(root: int) -> Sample:
    cpu = tree(root)
    return Sample(time.time(), sum(cpu.values()), sum(_rss(pid) for pid in cpu))


@dataclass
class TreeSampler:
    """Sample the tree under `root` every `interval` seconds until stop()."""

    root: int
    interval: float = 0.2
    max_rss: int | None = None  # kill the root (SIGKILL) when the tree goes over this
    samples: list[Sample] = field(default_factory=list)
    killed: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            snap = sample(self.root)
            if snap.rss:  # zero once the process has exited
                self.samples.append(snap)
            if self.max_rss is not None and snap.rss > self.max_rss and not self.killed:
                # Spare a shared machine: the figure (over the cap) is already the finding.
                self.killed = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.root, signal.SIGKILL)
            self._stop.wait(self.interval)

    def stop(self) -> list[Sample]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.samples


def cpu_at(samples: list[Sample], t: float) -> float:
    """The tree's CPU seconds at time t, interpolated linearly between samples."""
    if not samples:
        return 0.0
    if t <= samples[0].t:
        return samples[0].cpu_s
    for a, b in zip(samples, samples[1:], strict=False):
        if a.t <= t <= b.t:
            share = (t - a.t) / (b.t - a.t) if b.t > a.t else 1.0
            return a.cpu_s + share * (b.cpu_s - a.cpu_s)
    return samples[-1].cpu_s


def window(samples: list[Sample], start: float, end: float) -> tuple[float, int]:
    """(CPU seconds spent, peak RSS) between two times.

    CPU is interpolated at both ends, so consecutive windows add up to the whole; the peak
    is the largest sample inside the window, or of the samples around a window too short
    to hold one.
    """
    if not samples:
        return 0.0, 0
    inside = [s.rss for s in samples if start <= s.t <= end]
    if not inside:
        before = [s.rss for s in samples if s.t < start][-1:]
        after = [s.rss for s in samples if s.t > end][:1]
        inside = before + after
    return max(cpu_at(samples, end) - cpu_at(samples, start), 0.0), max(inside, default=0)
