"""Keyed pseudonyms: HMAC-SHA256 of an id under the pseudonym key, computed in DuckDB.

A pseudonym is prefix + the first 16 hex chars of HMAC-SHA256(key, tag || id): stable for one
key, unrelated across keys, and impossible to recompute from a list of candidate ids without
the key (a plain hash of employee numbers could be reversed by hashing them all).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from pathlib import Path

import duckdb

from models.publish.catalog import Pseudonym

HEX_LENGTH = 16  # 64 bits: with 10M ids a collision has odds of about 3 in a million
KEY_TABLE = "__pseudonym_key"
SQL = (Path(__file__).with_name("sql") / "pseudonym_map.sql").read_text(encoding="utf-8")
SCHEME = f"prefix || left(hex(HMAC-SHA256(key, tag || id)), {HEX_LENGTH})"


class PseudonymCollision(RuntimeError):
    """Two ids of one entity got the same pseudonym: never publish such a snapshot."""


def pseudonym(key: bytes, spec: Pseudonym, raw_id: str) -> str:
    """One pseudonym in Python: for staff looking up a person, and as the reference in tests."""
    digest = hmac.new(key, (spec.tag + raw_id).encode("utf-8"), hashlib.sha256).hexdigest()
    return spec.prefix + digest[:HEX_LENGTH]


def _literal(text: str) -> str:
    return text.replace("'", "''")


def map_table(entity: str) -> str:
    return f"__pseudonyms_{entity}"


def load_key_table(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in block)
    opad = bytes(b ^ 0x5C for b in block)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {KEY_TABLE} AS SELECT ?::BLOB AS ipad, ?::BLOB AS opad",
        [ipad, opad],
    )


def build_map(
    con: duckdb.DuckDBPyConnection, spec: Pseudonym, sources: Sequence[tuple[str, str]]
) -> None:
    """Temp table map_table(entity): raw_id -> pseudonym for every id in `sources`.

    `sources` are (qualified table, column) pairs holding ids of the entity. Needs
    load_key_table first. Raises PseudonymCollision when two ids share a pseudonym.
    """
    every = " UNION ALL ".join(
        f'SELECT CAST("{column}" AS VARCHAR) AS raw_id FROM {table} WHERE "{column}" IS NOT NULL'
        for table, column in sources
    )
    distinct = f"SELECT DISTINCT raw_id FROM ({every})"
    name = map_table(spec.entity)
    con.execute(
        SQL.format(
            map_table=name,
            prefix=_literal(spec.prefix),
            tag=_literal(spec.tag),
            length=HEX_LENGTH,
            distinct_ids=distinct,
        )
    )
    ids, unique = con.sql(f"SELECT count(*), count(DISTINCT pseudonym) FROM {name}").fetchall()[0]
    if ids != unique:
        raise PseudonymCollision(
            f"{ids - unique} {spec.entity} pseudonym collision(s); lengthen HEX_LENGTH"
        )


def drop_temp_tables(con: duckdb.DuckDBPyConnection, entities: Sequence[str]) -> None:
    for table in [KEY_TABLE, *(map_table(e) for e in entities)]:
        con.execute(f"DROP TABLE IF EXISTS temp.{table}")
