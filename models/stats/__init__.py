"""Diversity breakdowns with disclosure control, homophily and outcome models.

Pure functions over Polars frames; statsmodels is imported inside the functions that fit.
"""

from models.stats.breakdowns import BREAKDOWN_SCHEMA, DIMENSIONS, breakdowns
from models.stats.dyads import dyad_composition
from models.stats.homophily import HOMOPHILY_SCHEMA, homophily
from models.stats.regression import MODEL_SCHEMA, fit_models
from models.stats.wish import same_group_wish

__all__ = [
    "BREAKDOWN_SCHEMA",
    "DIMENSIONS",
    "HOMOPHILY_SCHEMA",
    "MODEL_SCHEMA",
    "breakdowns",
    "dyad_composition",
    "fit_models",
    "homophily",
    "same_group_wish",
]
