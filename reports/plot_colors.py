"""Colours shared by the window's plots and the PDF report's charts (no plotting library here)."""
from __future__ import annotations

# Colour-blind-friendly cycle (Okabe-Ito without yellow, readable on white).
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000")
BEST_COLOR = "#D55E00"


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]
