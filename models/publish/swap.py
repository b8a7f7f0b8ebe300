"""Replace published files without a moment where readers see half of one.

A file is written beside its target and renamed over it (rename is atomic on POSIX): a reader
that opened the old file keeps reading the old inode, the next open gets the new one. A folder
cannot be renamed over a non-empty folder, so the published name is a symlink to a versioned
folder, and the symlink is what gets replaced.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = ".publish.lock"


@contextmanager
def publisher_lock(folder: Path) -> Iterator[None]:
    """One publisher per folder at a time; readers never take this lock."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        fsync_path(path)
    fsync_path(folder)


def replace_file(new: Path, target: Path) -> None:
    """Move the finished file `new` onto `target` atomically (same folder, so same filesystem)."""
    fsync_path(new)
    os.replace(new, target)
    fsync_path(target.parent)


def swap_folder(new: Path, link: Path) -> Path | None:
    """Point the symlink `link` at the finished folder `new`; return the folder it pointed at."""
    previous = (link.parent / os.readlink(link)) if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        # A real folder from elsewhere: moved aside once, not deleted (it is not ours).
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        link.rename(link.with_name(f".{link.name}.moved-{stamp}"))
    fsync_tree(new)
    temporary = link.with_name(f".{link.name}.link-{uuid.uuid4().hex[:8]}")
    os.symlink(new.name, temporary)  # relative: the whole folder can be moved or copied
    os.replace(temporary, link)
    fsync_path(link.parent)
    return previous


def remove_stale(folder: Path, patterns: Iterable[str], keep: Iterable[Path]) -> None:
    """Delete leftovers matching `patterns`, except `keep` (current and previous versions)."""
    kept = {p.resolve() for p in keep}
    for pattern in patterns:
        for path in folder.glob(pattern):
            if path.resolve() in kept:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
