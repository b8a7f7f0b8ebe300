"""The published research snapshot: pseudonymised core and metrics tables, documented.

No Dagster here: `publish_snapshot` can be called from a notebook or a script as well as from
the pipeline's publish asset.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.publish.catalog import Catalog, load_catalog
    from models.publish.keys import key_fingerprint, load_key
    from models.publish.pseudonyms import pseudonym
    from models.publish.snapshot import (
        PublishResult,
        publish,
        publish_snapshot,
        publish_with_connection,
        research_dir,
    )

# Where each name lives: imported on first use, so a command that needs one module of the
# package (`mentorscope sql` needs the shell, not the models) starts without the rest.
_HOME = {
    "Catalog": "models.publish.catalog",
    "load_catalog": "models.publish.catalog",
    "key_fingerprint": "models.publish.keys",
    "load_key": "models.publish.keys",
    "pseudonym": "models.publish.pseudonyms",
    "PublishResult": "models.publish.snapshot",
    "publish": "models.publish.snapshot",
    "publish_snapshot": "models.publish.snapshot",
    "publish_with_connection": "models.publish.snapshot",
    "research_dir": "models.publish.snapshot",
}

__all__ = [
    "Catalog",
    "PublishResult",
    "key_fingerprint",
    "load_catalog",
    "load_key",
    "pseudonym",
    "publish",
    "publish_snapshot",
    "publish_with_connection",
    "research_dir",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
