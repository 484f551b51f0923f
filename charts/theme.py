"""One palette and one set of number formats for every chart."""
from __future__ import annotations

# Okabe-Ito, safe for the common colour-vision deficiencies (also in .streamlit/config.toml).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000"]
SEQUENTIAL = "Cividis"
FONT_SIZE = 15


def fmt_value(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "minutes":
        return f"{value:,.1f} min"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def layout(fig, title: str | None = None):
    fig.update_layout(template="plotly_white", font_size=FONT_SIZE, colorway=PALETTE,
                      title=title, margin=dict(l=10, r=10, t=50 if title else 10, b=10),
                      legend_title_text="")
    return fig
