"""PNG charts for /trend (matplotlib, headless)."""

from __future__ import annotations

import datetime as dt
import io

import matplotlib.dates as mdates
from matplotlib.figure import Figure  # Figure directly, not pyplot: no GUI backend, no global state
from matplotlib.ticker import MaxNLocator

__all__ = ["trend_png"]


def trend_png(series: list[tuple[dt.date, int]]) -> bytes:
    """A bar chart of daily counts as PNG bytes.

    Labels are dates and numbers only, so no CJK font is needed on the server; the Chinese keyword goes
    in the photo's caption.
    """
    figure = Figure(figsize=(8, 3.6), dpi=110)
    axes = figure.add_subplot()
    days = [d for d, _ in series]
    counts = [c for _, c in series]
    axes.bar(mdates.date2num(days), counts, width=0.8, color="#2f6fb3")  # type: ignore[no-untyped-call]
    axes.xaxis_date()
    axes.set_ylabel("articles / day")
    axes.set_ylim(bottom=0, top=max([*counts, 1]) * 1.15)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.autofmt_xdate()
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
