"""The evaluation's tables and files: terminal table, Markdown, CSV and JSON.

Inputs come from :mod:`srgan.evaluation.evaluate`: ``results`` (one dict per image, with
``scores[method][metric]``), ``summary`` (``{method: {metric: mean}}``) and ``settings``
(what was evaluated, and how).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from srgan.files import atomic_write_bytes, safe_output_path

METHOD_NAMES = {"nearest": "nearest", "bilinear": "bilinear", "bicubic": "bicubic",
                "srcnn": "SRCNN (shipped)", "sr": "SR (model)"}
COLUMNS = (("psnr_y", "PSNR-Y", "{:.2f}"), ("ssim_y", "SSIM-Y", "{:.4f}"),
           ("psnr_rgb", "PSNR-RGB", "{:.2f}"), ("ssim_rgb", "SSIM-RGB", "{:.4f}"),
           ("lpips", "LPIPS", "{:.4f}"), ("niqe", "NIQE", "{:.3f}"))
# Per metric, the win count of the caption: its name, and +1 when higher is better.
WINS = (("psnr_y", "higher PSNR-Y", 1), ("lpips", "lower LPIPS", -1),
        ("niqe", "lower NIQE", -1))


def _columns(summary: dict) -> list[tuple[str, str, str]]:
    """The :data:`COLUMNS` that were scored (without ground truth: NIQE alone)."""
    scored = next(iter(summary.values()))
    return [column for column in COLUMNS if column[0] in scored]


def _cells(summary: dict) -> list[list[str]]:
    """Header and one row per method, as strings."""
    columns = _columns(summary)
    return [["method"] + [title for _, title, _ in columns]] + [
        [METHOD_NAMES[m]] + [fmt.format(scores[key]) for key, _, fmt in columns]
        for m, scores in summary.items()]


def _caption(results: list[dict], settings: dict) -> tuple[str, str]:
    """What was measured (first line) and how often SR beat bicubic (last line)."""
    n = len(results)
    lr = settings.get("degradation", "bicubic")
    lr += f" (seed {settings['seed']})" if "seed" in settings else ""
    head = (f"{settings['data']}: {n} images, x{settings['scale']}; HR: {settings['hr']}; "
            f"LR: {lr}; scored with {settings['crop_border']} px borders cropped, in float64")
    if "hr_niqe" in settings:
        head += f"; NIQE of HR {settings['hr_niqe']:.3f}"
    sr, bic = ([r["scores"][m] for r in results] for m in ("sr", "bicubic"))
    wins = [f"{name} on {sum(sign * (s[k] - b[k]) > 0 for s, b in zip(sr, bic))}/{n}"
            for k, name, sign in WINS if k in sr[0]]
    return head, "SR vs bicubic: " + ", ".join(wins)


def table(summary: dict, results: list[dict], settings: dict) -> str:
    """The summary as an aligned plain-text table with a caption line above and below."""
    cells = _cells(summary)
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    head, tail = _caption(results, settings)
    return "\n".join([head, *lines, tail])


def markdown(summary: dict, results: list[dict], settings: dict) -> str:
    """The summary as Markdown: caption, a pipe table, the win counts."""
    cells = _cells(summary)
    head, tail = _caption(results, settings)
    rows = ["| " + " | ".join(row) + " |" for row in cells]
    rows.insert(1, "|---" + "|---:" * (len(cells[0]) - 1) + "|")
    return "\n".join(["# Evaluation", "", head, "", *rows, "", tail, ""])


def _csv_bytes(header: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def write_reports(out_dir: Path, results: list[dict], summary: dict,
                  settings: dict) -> list[Path]:
    """Writes ``per_image.csv`` (image x method), ``summary.csv`` (method means),
    ``results.json`` (settings, per image, summary) and ``summary.md``, atomically.

    Returns the paths written.
    """
    keys = [key for key, _, _ in _columns(summary)]
    per_image = _csv_bytes(["image", "width", "height", "method", *keys], [
        [r["image"], r["width"], r["height"], m, *(r["scores"][m][k] for k in keys)]
        for r in results for m in summary])
    means = _csv_bytes(["method", *keys, "images"],
                       [[m, *(s[k] for k in keys), len(results)] for m, s in summary.items()])
    record = {"settings": settings, "summary": summary,
              "images": [{k: v for k, v in r.items() if k not in ("path", "index")}
                         for r in results]}
    outputs = {"per_image.csv": per_image, "summary.csv": means,
               "results.json": json.dumps(record, indent=2).encode() + b"\n",
               "summary.md": markdown(summary, results, settings).encode()}
    return [atomic_write_bytes(safe_output_path(out_dir, name), content)
            for name, content in outputs.items()]
