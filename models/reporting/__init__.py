"""HTML reports (HR dashboard, research report, data-quality report, index) as pure functions.

Rendering needs no Plotly Python objects: figures are plain JSON dicts and plotly.js is inlined
from reports/templates/plotly, so importing this package stays fast.
"""

from models.reporting.build import build_reports

__all__ = ["build_reports"]
