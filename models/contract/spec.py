"""Typed view of ``tables.yaml``: the canonical tables a program export is mapped onto."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CONTRACT_FILE = Path(__file__).with_name("tables.yaml")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = False
    values: tuple[str, ...] = ()
    default: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    references: tuple[str, str] | None = None  # (table, column)
    role: str | None = None  # the referenced participant must have this role
    lookup: str | None = None  # free-text normalisation lookup (gender, race_ethnicity)
    restricted: bool = False
    not_before_match_days: int | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    required_table: bool = False
    core_name: str = ""
    parents: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def public_columns(self) -> list[str]:
        return [c.name for c in self.columns if not c.restricted]

    @property
    def restricted_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.restricted]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def _column(name: str, raw: dict) -> ColumnSpec:
    ref = raw.get("references")
    return ColumnSpec(
        name=name,
        type=raw["type"],
        required=bool(raw.get("required", False)),
        values=tuple(raw.get("values", ())),
        default=raw.get("default"),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        references=tuple(ref.split(".", 1)) if ref else None,  # type: ignore[arg-type]
        role=raw.get("role"),
        lookup=raw.get("lookup"),
        restricted=bool(raw.get("restricted", False)),
        not_before_match_days=raw.get("not_before_match_days"),
    )


@cache
def load_contract(path: Path = CONTRACT_FILE) -> dict[str, TableSpec]:
    """Tables in load order (parents before children)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables: dict[str, TableSpec] = {}
    for name, body in raw.items():
        columns = tuple(_column(c, spec) for c, spec in body["columns"].items())
        parents = tuple(
            dict.fromkeys(
                c.references[0] for c in columns if c.references and c.references[0] != name
            )
        )
        tables[name] = TableSpec(
            name=name,
            key=tuple(body["key"]),
            columns=columns,
            required_table=bool(body.get("required_table", False)),
            core_name=body.get("core_name", name),
            parents=parents,
        )
    return tables
