"""The pseudonym key: loading, first-use creation, fingerprints, stability and rotation."""

from __future__ import annotations

import stat
import warnings

import pytest

from models.publish import key_fingerprint, load_key, publish
from models.publish.keys import (
    REPO_ROOT,
    NewPseudonymKeyWarning,
    PseudonymKeyError,
    PseudonymKeyWarning,
)

from .conftest import AS_OF, KEY, OTHER_KEY, Published, query


def test_key_from_hex_environment_variable():
    assert load_key({"MENTORSCOPE_PSEUDONYM_KEY": KEY.hex()}) == KEY


def test_key_file_is_created_once_private_and_reused(tmp_path):
    path = tmp_path / "config" / "mentorscope" / "pseudonym.key"
    env = {"MENTORSCOPE_PSEUDONYM_KEY_FILE": str(path)}
    with pytest.warns(NewPseudonymKeyWarning, match="new pseudonym key"):
        first = load_key(env)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_key(env) == first
    with pytest.warns(NewPseudonymKeyWarning):
        other = load_key({"MENTORSCOPE_PSEUDONYM_KEY_FILE": str(tmp_path / "other.key")})
    assert other != first


def test_key_file_inside_the_repository_or_snapshot_folder_is_refused(tmp_path):
    inside_repo = REPO_ROOT / "data" / "pseudonym.key"
    with pytest.raises(PseudonymKeyError, match="outside the repository"):
        load_key({"MENTORSCOPE_PSEUDONYM_KEY_FILE": str(inside_repo)})
    assert not inside_repo.exists()
    research = tmp_path / "research"
    with pytest.raises(PseudonymKeyError):
        load_key(
            {"MENTORSCOPE_PSEUDONYM_KEY_FILE": str(research / "k.key")},
            forbidden_dirs=[research],
        )


def test_malformed_key_error_does_not_echo_the_secret():
    secret = "not-hex-but-secret-" + "z" * 20
    with pytest.raises(PseudonymKeyError) as info:
        load_key({"MENTORSCOPE_PSEUDONYM_KEY": secret})
    assert secret not in str(info.value)
    with pytest.raises(PseudonymKeyError, match="at least 16 bytes"):
        load_key({"MENTORSCOPE_PSEUDONYM_KEY": "abcd"})


def test_fingerprints_tell_keys_apart():
    assert key_fingerprint(KEY) != key_fingerprint(OTHER_KEY)
    assert len(key_fingerprint(KEY)) == 8


def _ids(path, sql):
    return sorted(r[0] for r in query(path, sql))


def test_same_key_same_pseudonyms_other_key_other_pseudonyms(published: Published, tmp_path):
    again = publish(published.warehouse, tmp_path / "again", KEY, {"as_of": AS_OF})
    rotated = publish(published.warehouse, tmp_path / "rotated", OTHER_KEY, {"as_of": AS_OF})
    sql = "SELECT participant_id FROM core.participants"
    original = _ids(published.snapshot, sql)
    assert _ids(again.path, sql) == original
    rotated_ids = _ids(rotated.path, sql)
    assert len(rotated_ids) == len(original)
    assert not set(rotated_ids) & set(original)
    match_sql = "SELECT match_id FROM core.matches"
    assert _ids(again.path, match_sql) == _ids(published.snapshot, match_sql)
    assert not set(_ids(rotated.path, match_sql)) & set(_ids(published.snapshot, match_sql))
    # Joins hold under any key: the derived tables use the same pseudonyms as core.
    dyads_sql = "SELECT count(*) FROM metrics.match_dyads ANTI JOIN core.matches USING (match_id)"
    assert query(rotated.path, dyads_sql) == [(0,)]
    fingerprints = [
        query(p, "SELECT key_fingerprint FROM meta.snapshot_info")[0][0]
        for p in (published.snapshot, again.path, rotated.path)
    ]
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]


def test_no_new_key_silently_replaces_the_one_a_published_snapshot_used(
    tmp_path, published: Published
):
    missing = tmp_path / "moved-away" / "pseudonym.key"
    env = {"MENTORSCOPE_PSEUDONYM_KEY_FILE": str(missing)}
    with pytest.raises(PseudonymKeyError) as refused:
        load_key(env, published=published.snapshot)
    # The message names the key the researchers' snapshot needs and the way to go on.
    assert key_fingerprint(KEY) in str(refused.value)
    assert "MENTORSCOPE_NEW_PSEUDONYM_KEY=1" in str(refused.value)
    assert not missing.exists()
    # Said on purpose, a new key is made (and announced).
    with pytest.warns(NewPseudonymKeyWarning):
        new = load_key({**env, "MENTORSCOPE_NEW_PSEUDONYM_KEY": "1"}, published=published.snapshot)
    assert missing.exists() and key_fingerprint(new) != key_fingerprint(KEY)
    # A key given outright is used, with a warning when it is not the published one.
    with pytest.warns(PseudonymKeyWarning, match="every pseudonym will change"):
        load_key({"MENTORSCOPE_PSEUDONYM_KEY": OTHER_KEY.hex()}, published=published.snapshot)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_key({"MENTORSCOPE_PSEUDONYM_KEY": KEY.hex()}, published=published.snapshot)


def test_the_cli_finds_a_missing_key_before_a_run_without_creating_one(
    tmp_path, published: Published
):
    from models.publish.keys import continuity_problem

    missing = tmp_path / "gone" / "pseudonym.key"
    env = {"MENTORSCOPE_PSEUDONYM_KEY_FILE": str(missing)}
    problem = continuity_problem(published.snapshot, env)
    assert problem is not None and key_fingerprint(KEY) in str(problem)
    assert not missing.exists()
    # Nothing published yet, a key given, or a new key asked for: nothing to say.
    assert continuity_problem(tmp_path / "none" / "research.duckdb", env) is None
    assert (
        continuity_problem(published.snapshot, {**env, "MENTORSCOPE_PSEUDONYM_KEY": KEY.hex()})
        is None
    )
    assert (
        continuity_problem(published.snapshot, {**env, "MENTORSCOPE_NEW_PSEUDONYM_KEY": "1"})
        is None
    )
    assert not missing.exists()
