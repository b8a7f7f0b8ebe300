"""The research catalog (catalog.yaml) as typed objects, and the comments it becomes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
PUBLISH_ACTIONS = ("keep", "drop", "pseudonymise")


class CatalogError(ValueError):
    """catalog.yaml is malformed."""


@dataclass(frozen=True)
class Pseudonym:
    entity: str
    prefix: str
    tag: str


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    description: str
    publish: str = "keep"
    entity: str | None = None
    unit: str | None = None
    source: str | None = None
    suppression: str | None = None

    def comment(self) -> str:
        parts = [self.description]
        if self.unit:
            parts.append(f"Unit: {self.unit}.")
        if self.source:
            parts.append(f"Source: {self.source}.")
        if self.suppression:
            parts.append(f"Suppression: {self.suppression}.")
        return " ".join(parts)


@dataclass(frozen=True)
class TableDoc:
    schema: str
    name: str
    description: str
    grain: str
    key: tuple[str, ...]
    columns: dict[str, ColumnDoc]
    publish: str = "keep"
    generated: bool = False  # built by the publisher (meta.*), not copied from the warehouse
    suppression: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def comment(self) -> str:
        parts = [self.description, f"Grain: {self.grain}.", f"Key: {', '.join(self.key)}."]
        if self.suppression:
            parts.append(f"Suppression: {self.suppression}")
        return " ".join(parts)


@dataclass(frozen=True)
class Catalog:
    pseudonyms: dict[str, Pseudonym]
    lineage_columns: tuple[str, ...]
    tables: dict[str, TableDoc]  # by "schema.table"
    sha256: str = field(default="")

    def table(self, schema: str, name: str) -> TableDoc | None:
        return self.tables.get(f"{schema}.{name}")


def _column(table: str, name: str, raw: dict, pseudonyms: dict[str, Pseudonym]) -> ColumnDoc:
    where = f"{table}.{name}"
    if not isinstance(raw, dict) or not raw.get("description") or not raw.get("type"):
        raise CatalogError(f"{where}: every column needs a type and a description")
    publish = raw.get("publish", "keep")
    if publish not in PUBLISH_ACTIONS:
        raise CatalogError(f"{where}: publish must be one of {PUBLISH_ACTIONS}, got {publish!r}")
    entity = raw.get("entity")
    if (publish == "pseudonymise") != (entity is not None):
        raise CatalogError(f"{where}: entity goes with publish: pseudonymise, and only there")
    if entity is not None and entity not in pseudonyms:
        raise CatalogError(f"{where}: unknown pseudonym entity {entity!r}")
    unknown = set(raw) - {
        "type",
        "description",
        "publish",
        "entity",
        "unit",
        "source",
        "suppression",
    }
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}")
    return ColumnDoc(
        name=name,
        type=str(raw["type"]).upper(),
        description=str(raw["description"]).strip(),
        publish=publish,
        entity=entity,
        unit=raw.get("unit"),
        source=raw.get("source"),
        suppression=raw.get("suppression"),
    )


def _table(qualified: str, raw: dict, pseudonyms: dict[str, Pseudonym]) -> TableDoc:
    schema, _, name = qualified.partition(".")
    for needed in ("description", "grain", "key", "columns"):
        if not raw.get(needed):
            raise CatalogError(f"{qualified}: missing {needed}")
    columns = {c: _column(qualified, c, spec, pseudonyms) for c, spec in raw["columns"].items()}
    missing_key = [k for k in raw["key"] if k not in columns]
    if missing_key:
        raise CatalogError(f"{qualified}: key columns {missing_key} are not described")
    return TableDoc(
        schema=schema,
        name=name,
        description=str(raw["description"]).strip(),
        grain=str(raw["grain"]),
        key=tuple(raw["key"]),
        columns=columns,
        publish=raw.get("publish", "keep"),
        generated=bool(raw.get("generated", False)),
        suppression=raw.get("suppression"),
    )


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    text = path.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    pseudonyms = {
        entity: Pseudonym(entity, str(spec["prefix"]), str(spec.get("tag") or ""))
        for entity, spec in raw["pseudonyms"].items()
    }
    prefixes = [p.prefix for p in pseudonyms.values()]
    if len(set(prefixes)) != len(prefixes):
        raise CatalogError("pseudonym prefixes must differ between entities")
    return Catalog(
        pseudonyms=pseudonyms,
        lineage_columns=tuple(raw.get("lineage_columns", ())),
        tables={q: _table(q, spec, pseudonyms) for q, spec in raw["tables"].items()},
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
