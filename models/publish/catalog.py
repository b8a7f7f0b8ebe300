"""The research catalog (catalog.yaml) as typed objects, and the comments it becomes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
PUBLISH_ACTIONS = ("keep", "drop", "pseudonymise", "category")


class CatalogError(ValueError):
    """catalog.yaml is malformed."""


@dataclass(frozen=True)
class Pseudonym:
    entity: str
    prefix: str
    tag: str


@dataclass(frozen=True)
class CategorySource:
    """Where a free-text vocabulary's values come from and who holds them (see categories)."""

    vocabulary: str
    source: str  # schema.table.column of the working warehouse
    counted_by: str  # column of that table: a value needs this many distinct holders


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
    vocabulary: str | None = None  # publish: category

    def comment(self) -> str:
        parts = [self.description]
        if self.publish == "category":
            parts.append(
                "Free text: a value held by fewer than k people, or that looks like an email, "
                "web address or phone number, is published as a withheld_ code."
            )
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
    categories: dict[str, CategorySource] = field(default_factory=dict)

    def table(self, schema: str, name: str) -> TableDoc | None:
        return self.tables.get(f"{schema}.{name}")


def _column(
    table: str,
    name: str,
    raw: dict,
    pseudonyms: dict[str, Pseudonym],
    categories: dict[str, CategorySource],
) -> ColumnDoc:
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
    vocabulary = raw.get("vocabulary")
    if (publish == "category") != (vocabulary is not None):
        raise CatalogError(f"{where}: vocabulary goes with publish: category, and only there")
    if vocabulary is not None and vocabulary not in categories:
        raise CatalogError(f"{where}: unknown category vocabulary {vocabulary!r}")
    unknown = set(raw) - {
        "type",
        "description",
        "publish",
        "entity",
        "unit",
        "source",
        "suppression",
        "vocabulary",
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
        vocabulary=vocabulary,
    )


def _table(
    qualified: str,
    raw: dict,
    pseudonyms: dict[str, Pseudonym],
    categories: dict[str, CategorySource],
) -> TableDoc:
    schema, _, name = qualified.partition(".")
    for needed in ("description", "grain", "key", "columns"):
        if not raw.get(needed):
            raise CatalogError(f"{qualified}: missing {needed}")
    columns = {
        c: _column(qualified, c, spec, pseudonyms, categories) for c, spec in raw["columns"].items()
    }
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
    categories = {
        vocabulary: CategorySource(vocabulary, str(spec["source"]), str(spec["counted_by"]))
        for vocabulary, spec in (raw.get("categories") or {}).items()
    }
    for spec in categories.values():
        if len(spec.source.split(".")) != 3:
            raise CatalogError(f"categories.{spec.vocabulary}: source is schema.table.column")
    return Catalog(
        pseudonyms=pseudonyms,
        lineage_columns=tuple(raw.get("lineage_columns", ())),
        tables={q: _table(q, spec, pseudonyms, categories) for q, spec in raw["tables"].items()},
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        categories=categories,
    )
