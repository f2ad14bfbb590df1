"""The scene benchmark's summary table (Markdown) and contact sheet (PNG)."""

from __future__ import annotations

from benchmarks.scenes.compose import SCALE, Scene
from srgan.evaluation import figures

SIZE_BINS = ((16, 31), (32, 63), (64, 96))  # LR face square sides, for LPIPS by size


def contact_sheet(crops: dict, names: list[str], scenes: list[Scene]) -> bytes:
    """PNG: one row per face, smallest first, LR | each method | HR.

    Args:
        crops: ``{(scene, face): [LR square, each method's face square..., HR's]}``, uint8.
        names: the methods, in the order of the crops.
        scenes: the scenes, for the labels.
    """
    rows = []
    for (i, j), crop in sorted(crops.items(), key=lambda kv: kv[1][0].shape[0]):
        face = scenes[i].faces[j]
        rows.append((f"scene {i}, face {j}\n{face.square[2]} px, eyes {face.eye_distance:.0f} px",
                     crop))
    titles = ["LR"] + list(names) + ["HR"]
    return figures.png_bytes(figures.contact_sheet_figure(rows, titles))


def markdown(summaries: dict, settings: dict) -> str:
    """The summaries as Markdown tables, one per LR kind."""
    lines = ["# Scene benchmark", "", f"`{settings['command']}`", "",
             f"{settings['scenes']} scenes, {len(settings['faces_used'])} faces "
             f"({settings['faces_split']} split of {settings['faces']}), backgrounds "
             f"{settings['backgrounds']}, x{SCALE}.", ""]
    bins = " | ".join(f"LPIPS {lo}-{hi} px" for lo, hi in SIZE_BINS)
    for kind, summary in summaries.items():
        lines += [f"## {kind} LR", "", f"| method | face LPIPS | face PSNR-Y | face NIQE | "
                  f"image NIQE | {bins} | s/scene |", "|---" + "|---:" * (5 + len(SIZE_BINS)) + "|"]
        for name, s in summary.items():
            if name == "hr":
                cells = ["HR", "", "", f"{s['face_niqe']:.3f}", f"{s['image_niqe']:.3f}"] + \
                        [""] * (len(SIZE_BINS) + 1)
            else:
                cells = [name, f"{s['face_lpips']:.4f}", f"{s['face_psnr_y']:.2f}",
                         f"{s['face_niqe']:.3f}", f"{s['image_niqe']:.3f}"] + [
                    f"{v:.4f}" for v in s["face_lpips_by_side"].values()] + [
                    f"{s['seconds_per_scene']:.2f}"]
            lines.append("| " + " | ".join(cells) + " |")
        for name, s in summary.items():
            if "detection" in s:
                d = s["detection"]
                lines.append(f"\n{name} detection: recall {d['recall']:.3f} ({d['found']}/"
                             f"{d['eligible']} faces with eyes >= {settings['min_eye']:g} LR px), "
                             f"{d['false_positives']} false positives in {settings['scenes']} "
                             f"scenes, precision {d['precision']:.3f}; "
                             f"{d.get('background_faces', 0)} faces of the background photos "
                             f"themselves found")
            for key in ("background_changed", "changed_outside_mask"):
                if key in s:
                    lines.append(f"\n{name} {key.replace('_', ' ')}: {s[key]} pixels")
        lines.append("")
    return "\n".join(lines) + "\n"
