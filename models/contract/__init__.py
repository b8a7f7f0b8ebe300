"""The input contract as typed objects, read from ``tables.yaml``."""

from models.contract.spec import ColumnSpec, TableSpec, load_contract

__all__ = ["ColumnSpec", "TableSpec", "load_contract"]
