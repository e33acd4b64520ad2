"""Shared pieces of tagwise's self-contained HTML reports: figures and CSS."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BASE_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
       color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd;
       padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
tr.main td { font-weight: 600; }
.small { color: #666; font-size: .85rem; }
.fail { color: #a00; } .pass { color: #070; }
img { max-width: 100%; } .plots { display: flex; flex-wrap: wrap; gap: 1rem; }
code { background: #f4f4f4; padding: 0 .2rem; }
"""


def new_figure(width: float, height: float) -> Figure:
    """A figure bound to the Agg canvas directly.

    Using ``Figure`` + ``FigureCanvasAgg`` instead of pyplot selects the Agg backend for
    this figure only: no global backend switch, no GUI, no figure registry to leak.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_data_uri(fig: Figure) -> str:
    """PNG of a figure as a ``data:`` URI, so the report needs no other file."""
    buf = io.BytesIO()
    # No "Software" metadata: it would embed a URL and make the bytes version-dependent.
    fig.savefig(buf, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
