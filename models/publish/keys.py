"""The pseudonym key: where it lives, how it is created, and its public fingerprint.

The key never enters the repository, the warehouse, a snapshot or a log. Only its
fingerprint (an HMAC of a fixed word) is published, so researchers can tell whether two
snapshots share a key (and so share pseudonyms) without learning anything about it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import shlex
import stat
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

KEY_ENV = "MENTORSCOPE_PSEUDONYM_KEY"
KEY_FILE_ENV = "MENTORSCOPE_PSEUDONYM_KEY_FILE"
NEW_KEY_ENV = "MENTORSCOPE_NEW_PSEUDONYM_KEY"  # "1": a new key may replace a published one
DEFAULT_KEY_FILE = Path("~/.config/mentorscope/pseudonym.key")
KEY_BYTES = 32
MIN_KEY_BYTES = 16
REPO_ROOT = Path(__file__).resolve().parents[2]


class PseudonymKeyError(ValueError):
    """The pseudonym key is missing, malformed or stored somewhere it must not be."""


class PseudonymKeyWarning(UserWarning):
    """Something the evaluator must know about the key, though the run can go on."""


class NewPseudonymKeyWarning(PseudonymKeyWarning):
    """No key existed, so a new one was created: every pseudonym differs from earlier runs'."""


def key_fingerprint(key: bytes) -> str:
    """First 8 hex chars of HMAC-SHA256(key, "fingerprint"): identifies a key, reveals nothing."""
    return hmac.new(key, b"fingerprint", hashlib.sha256).hexdigest()[:8]


def _parse_hex(text: str, origin: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        # Never echo the text: it is (a malformed copy of) the secret.
        raise PseudonymKeyError(f"{origin}: the pseudonym key must be hex digits") from None
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"{origin}: the pseudonym key must be at least {MIN_KEY_BYTES} bytes"
        )
    return key


def key_file_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE).expanduser().resolve()


def _refuse_inside(path: Path, forbidden: Iterable[Path]) -> None:
    for folder in (REPO_ROOT, *forbidden):
        folder = Path(folder).expanduser().resolve()
        if path == folder or folder in path.parents:
            raise PseudonymKeyError(
                f"pseudonym key file {path} lies inside {folder}; keep it outside the "
                f"repository and the warehouse (set {KEY_FILE_ENV})"
            )


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # O_EXCL: two first runs at once must not overwrite each other's key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(KEY_BYTES) + "\n")


def published_fingerprint(snapshot: Path) -> str | None:
    """The key fingerprint a published snapshot was built with (None: no readable snapshot)."""
    import duckdb

    if not snapshot.is_file():
        return None
    try:
        con = duckdb.connect(str(snapshot), read_only=True)
    except duckdb.Error:
        return None
    try:
        rows = con.sql("SELECT key_fingerprint FROM meta.snapshot_info").fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return rows[0][0] if rows else None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes"}


def continuity_problem(
    published: Path, env: Mapping[str, str] | None = None
) -> PseudonymKeyError | None:
    """The error load_key would raise for a missing key file beside a published snapshot, found
    without creating anything: the CLI checks it before a run starts."""
    env = os.environ if env is None else env
    if env.get(KEY_ENV) or _truthy(env.get(NEW_KEY_ENV)) or key_file_path(env).exists():
        return None
    if published_fingerprint(published) is None:
        return None  # nothing published yet: a first run may create the key
    try:  # raises before it would create a file: the key file is missing, a snapshot is not
        load_key(env, published=published)
    except PseudonymKeyError as exc:
        return exc
    return None


def load_key(
    env: Mapping[str, str] | None = None,
    *,
    forbidden_dirs: Iterable[Path] = (),
    published: Path | None = None,
) -> bytes:
    """The pseudonym key: MENTORSCOPE_PSEUDONYM_KEY (hex), else the key file.

    The key file is MENTORSCOPE_PSEUDONYM_KEY_FILE or ~/.config/mentorscope/pseudonym.key,
    created with a random 32-byte key (mode 0600) on first use. A key file inside the
    repository or any of `forbidden_dirs` (the warehouse and snapshot folders) is refused.
    Warns (PseudonymKeyWarning) when the key file can be read by group or others, and
    (NewPseudonymKeyWarning) when it was just created, as every pseudonym then changes.

    `published` is the research snapshot this run will replace. When it exists and no key
    file does, no key is created (a lost or moved key file would silently break every
    researcher's links between snapshots) unless MENTORSCOPE_NEW_PSEUDONYM_KEY=1 says so.
    A given key whose fingerprint differs from the published snapshot's is warned about.
    """
    env = os.environ if env is None else env
    before = published_fingerprint(published) if published is not None else None
    if env.get(KEY_ENV):
        key = _parse_hex(env[KEY_ENV], KEY_ENV)
        _warn_if_other_key(key, before)
        return key
    path = key_file_path(env)
    _refuse_inside(path, forbidden_dirs)
    created = False
    if not path.exists() and before is not None and not _truthy(env.get(NEW_KEY_ENV)):
        raise PseudonymKeyError(
            f"no pseudonym key file at {path}, but the published snapshot {published} was "
            f"built with key {before}: restore that key file (or point {KEY_FILE_ENV} at it) "
            f"so pseudonyms stay the same; to start new pseudonyms on purpose, set "
            f"{NEW_KEY_ENV}=1"
        )
    if not path.exists():
        # Another process may create it between the check and the call: use theirs.
        with contextlib.suppress(FileExistsError):
            _create_key_file(path)
            created = True
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        warnings.warn(
            f"pseudonym key file {path} can be read by other users (mode {mode:03o}): "
            f"run `chmod 600 {shlex.quote(str(path))}`",
            PseudonymKeyWarning,
            stacklevel=2,
        )
    key = _parse_hex(path.read_text(encoding="ascii"), str(path))
    if created:
        warnings.warn(
            f"created a new pseudonym key in {path} (fingerprint {key_fingerprint(key)}): "
            "pseudonyms from now on will not link with earlier snapshots made with another key. "
            "Keep this file and back it up apart from the data (losing it changes every "
            f"pseudonym); to reuse an earlier key, point {KEY_FILE_ENV} at its file",
            NewPseudonymKeyWarning,
            stacklevel=2,
        )
    else:
        _warn_if_other_key(key, before)
    return key


def _warn_if_other_key(key: bytes, published: str | None) -> None:
    if published is not None and key_fingerprint(key) != published:
        warnings.warn(
            f"the pseudonym key (fingerprint {key_fingerprint(key)}) is not the one the "
            f"published snapshot was built with ({published}): every pseudonym will change",
            PseudonymKeyWarning,
            stacklevel=3,
        )
