"""The published research snapshot: pseudonymised core and metrics tables, documented.

No Dagster here: `publish_snapshot` can be called from a notebook or a script as well as from
the pipeline's publish asset.
"""

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
