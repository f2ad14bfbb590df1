"""Pictures for people: triptychs (Low-resolution | Generated | Original), and the
evaluation's SR-vs-bicubic scatter plot and contact sheet.

Drawn with matplotlib's object API (``Figure`` + Agg canvas), so nothing depends on
pyplot's global state or a display.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from srgan.pixels import to_uint8

TRIPTYCH_TITLES = ("Low-resolution", "Generated", "Original")
CONTACT_TITLES = ("LR", "bicubic", "SR", "HR")
# Per metric of the SR-vs-bicubic plot: panel title, and +1 when higher is better.
SCATTER_PANELS = {"psnr_y": ("PSNR, Y (dB): higher is better", 1),
                  "lpips": ("LPIPS: lower is better", -1),
                  "niqe": ("NIQE (no reference): lower is better", -1)}


def triptych_figure(lr, sr, hr, suptitle: str = "") -> Figure:
    """Three panels titled Low-resolution | Generated | Original (the original Keras SRGAN code's layout).

    Args:
        lr: ``(h, w, 3)``; sr, hr: ``(H, W, 3)``; uint8, or float in [-1, 1]. The LR panel
            is drawn with nearest-neighbour interpolation, so its pixels stay visible.
        suptitle: optional title above the panels.
    """
    fig = Figure(figsize=(12, 4.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for ax, img, title in zip(fig.subplots(1, 3), (lr, sr, hr), TRIPTYCH_TITLES):
        img = img if np.asarray(img).dtype == np.uint8 else to_uint8(img).numpy()
        ax.imshow(img, interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """A figure rendered as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def triptych_png(lr, sr, hr, suptitle: str = "") -> bytes:
    """:func:`triptych_figure` rendered as PNG bytes."""
    return png_bytes(triptych_figure(lr, sr, hr, suptitle))


def sr_vs_bicubic_figure(bicubic: dict, sr: dict, title: str = "") -> Figure:
    """Per-image scores of SR against bicubic, one panel per metric of
    :data:`SCATTER_PANELS` that ``sr`` holds: one dot per image.

    Args:
        bicubic, sr: ``{metric: (N,)}`` per-image values (e.g. ``psnr_y``, ``lpips``,
            ``niqe``); NaN values are not drawn.
        title: shown above the panels.

    Dots on the green side of the diagonal are images where SR beats bicubic (higher
    PSNR, lower LPIPS or NIQE); red dots are where it loses.
    """
    panels = [(key, *SCATTER_PANELS[key]) for key in SCATTER_PANELS if key in sr]
    fig = Figure(figsize=(5.5 * len(panels), 5.2), dpi=100)
    FigureCanvasAgg(fig)
    for ax, (key, label, sign) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels):
        x, y = np.asarray(bicubic[key], float), np.asarray(sr[key], float)
        scored = ~(np.isnan(x) | np.isnan(y))
        x, y = x[scored], y[scored]
        wins = sign * (y - x) > 0
        ax.scatter(x[wins], y[wins], c="tab:green", s=18, label=f"SR better ({wins.sum()})")
        ax.scatter(x[~wins], y[~wins], c="tab:red", s=18, label=f"SR worse ({(~wins).sum()})")
        lo, hi = (min(x.min(), y.min()), max(x.max(), y.max())) if len(x) else (0.0, 1.0)
        pad = 0.05 * (hi - lo) or 0.5
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=1)
        ax.set(xlabel="bicubic", ylabel="SR (model)", title=label)
        ax.legend(loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def contact_sheet_figure(rows: list, titles=CONTACT_TITLES) -> Figure:
    """Rows of panels LR | bicubic | SR | HR, one row per image, labelled on the left.

    Args:
        rows: ``[(label, [lr (h, w, 3), bicubic, sr, hr (H, W, 3)]), ...]``, uint8, one
            image per title (without ground truth: no HR). LR is drawn with
            nearest-neighbour interpolation at the size of the others.
        titles: the column titles.
    """
    fig = Figure(figsize=(3 * len(titles), 3.1 * len(rows)), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), len(titles), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c, image in enumerate(images):
            ax = axes[r, c]
            ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[c])
        axes[r, 0].set_ylabel(label, fontsize=8)
    fig.tight_layout()
    return fig
