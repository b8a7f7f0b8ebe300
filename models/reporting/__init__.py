"""HTML reports (HR dashboard, research report, data-quality report, index) as pure functions.

Plotly is imported only inside the figure builders, so importing this package stays fast.
"""

from models.reporting.build import build_reports

__all__ = ["build_reports"]
