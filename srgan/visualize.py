"""Pictures for people: triptychs (Low-resolution | Generated | Original).

Drawn with matplotlib's object API (``Figure`` + Agg canvas), so nothing depends on
pyplot's global state or a display.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TRIPTYCH_TITLES = ("Low-resolution", "Generated", "Original")


def to_uint8(img) -> np.ndarray:
    """[-1, 1] float array -> uint8 [0, 255], rounded."""
    return np.clip(np.round((np.asarray(img, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def triptych_figure(lr, sr, hr, suptitle: str = "") -> Figure:
    """Three panels titled Low-resolution | Generated | Original (seed 003's layout).

    Args:
        lr: ``(h, w, 3)``; sr, hr: ``(H, W, 3)``; uint8, or float in [-1, 1]. The LR panel
            is drawn with nearest-neighbour interpolation, so its pixels stay visible.
        suptitle: optional title above the panels.
    """
    fig = Figure(figsize=(12, 4.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for ax, img, title in zip(fig.subplots(1, 3), (lr, sr, hr), TRIPTYCH_TITLES):
        img = img if np.asarray(img).dtype == np.uint8 else to_uint8(img)
        ax.imshow(img, interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def triptych_png(lr, sr, hr, suptitle: str = "") -> bytes:
    """:func:`triptych_figure` rendered as PNG bytes."""
    fig = triptych_figure(lr, sr, hr, suptitle)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
