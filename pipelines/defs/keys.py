"""Every asset key of the graph, in one place: stages import their neighbours' keys from here.

A key names the warehouse table an asset writes (``schema.table``), so the keys follow the
contract (``models/contract/tables.yaml``) and the metrics' table names.
"""

from __future__ import annotations

import dagster as dg

from models.contract import load_contract

INBOX_PROGRAM = dg.AssetKey(["inbox", "program"])
CONSTRUCT_SCORES = dg.AssetKey(["core", "construct_scores"])
DATA_QUALITY = dg.AssetKey(["metrics", "data_quality"])
MODEL_ESTIMATES = dg.AssetKey(["metrics", "model_estimates"])
REPORTS = dg.AssetKey(["reports", "html"])
RESEARCH_SNAPSHOT = dg.AssetKey(["publish", "research_snapshot"])


def raw_key(table: str) -> dg.AssetKey:
    """The landed rows of a contract table: ``raw.<table>``."""
    return dg.AssetKey(["raw", table])


def core_key(table: str) -> dg.AssetKey:
    """The typed table of a contract table: ``core.<core_name>``."""
    return dg.AssetKey(["core", load_contract()[table].core_name])


def table_key(schema: str, name: str) -> dg.AssetKey:
    return dg.AssetKey([schema, name])


def metric_key(name: str) -> dg.AssetKey:
    """A table of the metrics schema: ``metrics.<name>``."""
    return table_key("metrics", name)
