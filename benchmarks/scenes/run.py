"""One benchmark run: compose the scenes, run every method on every LR kind, score, write.

Writes into ``options.output``: ``scenes.json`` (each scene's background, degradation and
placed faces), ``results.json`` (settings, per face and per scene scores, summaries),
``summary.md`` (one table per LR kind) and ``contact_sheet_<kind>.png``; with
``save_images`` also every scene's HR, LR and outputs as PNG.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from benchmarks.scenes import compose, methods, report, scores
from benchmarks.scenes.compose import SCALE, Scene, SceneConfig, SourceFace
from srgan import files
from srgan.evaluation import niqe
from srgan.options import DEFAULT_FACE_MODEL

LR_KINDS = ("clean", "degraded")
FACE_SPLITS = ("validation", "all")


@dataclass(frozen=True)
class SceneOptions:
    """What ``python -m benchmarks.scenes`` runs: a flag per field (``--model`` and
    ``--method`` fill ``models`` and ``methods``; of ``scene``, ``--lr-size`` alone)."""

    faces: str
    backgrounds: str
    output: str = str(Path(tempfile.gettempdir()) / "srgan-scenes")
    faces_split: str = "validation"
    scenes: int = 20
    seed: int = 0
    lr: tuple[str, ...] = LR_KINDS
    models: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    backend: str = "keras"
    tile: Optional[int] = None
    sheet_faces: int = 8
    background_margin: float = 0.25
    min_eye: float = 8.0
    save_images: bool = False
    face_model: str = DEFAULT_FACE_MODEL  # what predict.py --face-enhance uses
    face_background: Optional[str] = None
    large_faces: str = "auto"
    scene: SceneConfig = field(default_factory=SceneConfig)


def select_faces(folder: str, split: str) -> list[Path]:
    """The face files: those a training run on ``folder`` holds out for validation
    (:func:`srgan.training.validation.split_paths` with the default config), or ``all``."""
    from srgan.config import Config, DataConfig
    from srgan.data import pipeline
    from srgan.training.validation import split_paths

    paths = pipeline.find_images(folder, allow_samples=False, log=lambda m: None)
    if split == "all":
        return paths
    held = split_paths(paths, Config(data=DataConfig(data_dirs=(folder,))), log=lambda m: None)[1]
    if not held:
        raise ValueError(f"{folder}: too few images ({len(paths)}) to hold out validation "
                         f"faces; pass --faces-split all")
    return held


def load_faces(paths: list[Path], locator: compose.Locator,
               log: Callable[[str], None] = print) -> list[SourceFace]:
    """Each file's centre square with its landmarks and box; files where ``locator`` finds
    no face are left out, with a line."""
    sources = []
    for path in paths:
        image = files.read_image(path)
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        image = image[top:top + side, left:left + side]
        found = locator(image)
        if found is None:
            log(f"faces: no face located in {path.name}; left out")
            continue
        sources.append(SourceFace(path.name, image, *found))
    if not sources:
        raise ValueError("no usable faces: the locator found none")
    return sources


def load_backgrounds(folder: str, seed: int) -> list[tuple[str, np.ndarray]]:
    """The images of ``folder`` in an order drawn from ``seed``: scene ``i`` takes number
    ``i`` (modulo their count)."""
    paths = files.list_images(folder)
    if not paths:
        raise FileNotFoundError(f"{folder}: no images (jpg, jpeg, png, bmp, webp) found")
    order = np.random.default_rng(seed).permutation(len(paths))
    return [(paths[i].name, files.read_image(paths[i])) for i in order]


def _pick_faces(scenes: list[Scene], count: int) -> list[tuple[int, int]]:
    """``count`` (scene, face) pairs spread evenly from the smallest face to the largest."""
    every = sorted((s.faces[j].square[2], i, j) for i, s in enumerate(scenes)
                   for j in range(len(s.faces)))
    if not every or count < 1:
        return []
    spots = np.unique(np.linspace(0, len(every) - 1, min(count, len(every))).round().astype(int))
    return [every[k][1:] for k in spots]


def _scene_row(scene: Scene, name: str, images: dict, outs: dict, runs: dict,
               far: np.ndarray) -> dict:
    """Per-scene record of one method (or ``hr``): whole-image NIQE, and for methods the
    seconds and, against their reference, the background pixels changed."""
    row = {"scene": scene.index, "method": name, "niqe": niqe.niqe(images[name], SCALE)}
    if name == "hr":
        return row
    (out, seconds), reference = outs[name], runs[name].reference
    row["seconds"] = seconds
    if reference is not None:
        row["background_changed"] = scores.background_changes(out.sr, images[reference], far)
        if out.changed is not None:
            row["changed_outside_mask"] = scores.background_changes(
                out.sr, images[reference], ~out.changed)
    return row


def _run_methods(runs: list[methods.Method], lr: np.ndarray) -> dict:
    """``{name: (Output, seconds)}`` of every method on ``lr``."""
    outs = {}
    for method in runs:
        start = time.perf_counter()
        out = method(lr)
        outs[method.name] = (out, time.perf_counter() - start)
    return outs


def score_kind(scenes: list[Scene], kind: str, runs: list[methods.Method], options: SceneOptions,
               lpips, out_dir: Path, log: Callable[[str], None],
               bare_faces: Optional[dict] = None) -> dict:
    """Every method on the ``kind`` LR of every scene; ``bare_faces`` ``{scene index: boxes
    (m, 4)}`` are faces of the background photos themselves (:func:`background_faces`),
    which detection does not count as false positives.

    Returns:
        ``{"faces": per face and method {"scene", "face", "side", "eye_distance", "method",
        "psnr_y", "lpips"}, "scenes": per scene and method (and hr) rows, "blocks": {method
        or hr: [face NIQE features]}, "detected": {method: [(boxes, placed faces)]},
        "crops": {(scene, face): [LR, each method's, HR's face square]}}`` (crops for the
        contact sheet's faces only).
    """
    by_name, bare_faces = {m.name: m for m in runs}, bare_faces or {}
    record = {"faces": [], "scenes": [], "blocks": {n: [] for n in [*by_name, "hr"]},
              "detected": {n: [] for n in by_name}, "crops": {}}
    picks = set(_pick_faces(scenes, options.sheet_faces))
    for scene in scenes:
        lr, hr = scene.lr[kind], scene.hr
        outs = _run_methods(runs, lr)
        images = {name: out.sr for name, (out, _) in outs.items()} | {"hr": hr}
        far = scores.far_from_faces(hr.shape[:2], scene.faces, options.background_margin)
        record["scenes"] += [_scene_row(scene, n, images, outs, by_name, far) for n in images]
        for name, (out, _) in outs.items():
            if out.faces is not None:
                record["detected"][name].append((out.faces, scene.faces,
                                                 bare_faces.get(scene.index, ())))
        rows = []
        for j, face in enumerate(scene.faces):
            for name, image in images.items():
                record["blocks"][name].append(scores.face_niqe_blocks(image, face))
            rows += [{"scene": scene.index, "face": j, "side": face.square[2],
                      "eye_distance": face.eye_distance, "method": name,
                      **scores.face_scores(outs[name][0].sr, hr, face, lpips)}
                     for name in by_name]
            if (scene.index, j) in picks:
                x0, y0, side = face.square
                record["crops"][(scene.index, j)] = [lr[y0:y0 + side, x0:x0 + side]] + [
                    image[scores.face_square(face)] for image in images.values()]
        record["faces"] += rows
        if options.save_images:
            _save_images(out_dir, scene, kind, images)
        log(f"[{kind} {scene.index + 1}/{len(scenes)}] {len(scene.faces)} faces, LPIPS " +
            ", ".join(f"{n} {np.mean([r['lpips'] for r in rows if r['method'] == n]):.3f}"
                      for n in by_name))
    return record


def background_faces(scenes: list[Scene]) -> dict:
    """``{scene index: boxes (m, 4)}``: faces that the project's detector finds with a score
    of at least 0.99 in each scene's background alone (BSD68 has photos of people), in LR
    pixels."""
    from srgan.faces.detect import FaceDetector

    detect = FaceDetector()
    return {s.index: np.asarray([f.box for f in detect(s.bare_lr) if f.score >= 0.99],
                                np.float64).reshape(-1, 4)
            for s in scenes if s.bare_lr is not None}


def summarize(record: dict, runs: list[methods.Method], options: SceneOptions) -> dict:
    """Per method (and ``hr``): face LPIPS and PSNR-Y means, pooled face NIQE, whole-image
    NIQE mean, median seconds per scene, LPIPS per face size; background and detection
    counts."""
    summary = {}
    for name in [m.name for m in runs] + ["hr"]:
        faces = [f for f in record["faces"] if f["method"] == name]
        rows = [r for r in record["scenes"] if r["method"] == name]
        blocks = np.concatenate(record["blocks"][name]) if record["blocks"][name] else []
        entry = {"face_niqe": niqe.score_features(blocks),
                 "face_niqe_blocks": len(blocks),
                 "image_niqe": float(np.nanmean([r["niqe"] for r in rows]))}
        if name != "hr":
            entry |= {"face_lpips": float(np.mean([f["lpips"] for f in faces])),
                      "face_psnr_y": float(np.mean([f["psnr_y"] for f in faces])),
                      "faces": len(faces),
                      "seconds_per_scene": float(np.median([r["seconds"] for r in rows]))}
            entry["face_lpips_by_side"] = {
                f"{lo}-{hi}": float(np.mean(v)) if (v := [f["lpips"] for f in faces
                                                          if lo <= f["side"] <= hi]) else math.nan
                for lo, hi in report.SIZE_BINS}
            for key in ("background_changed", "changed_outside_mask"):
                if any(key in r for r in rows):
                    entry[key] = sum(r.get(key, 0) for r in rows)
            if record["detected"][name]:
                entry["detection"] = scores.detection_summary(record["detected"][name],
                                                              options.min_eye)
        summary[name] = entry
    return summary


def _save_images(out_dir: Path, scene: Scene, kind: str, images: dict) -> None:
    stem = f"scene_{scene.index:03d}"
    files.atomic_save_png(files.safe_output_path(out_dir, f"{stem}_{kind}_lr.png"), scene.lr[kind])
    for name, image in images.items():
        label = name if name == "hr" else f"{kind}_{name}"
        files.atomic_save_png(files.safe_output_path(out_dir, f"{stem}_{label}.png"), image)


def check_methods(runs: list[methods.Method]) -> None:
    """ValueError when two methods share a name or a reference is not among them."""
    names = [m.name for m in runs]
    twice = sorted({n for n in names if names.count(n) > 1} | ({"hr"} & set(names)))
    if twice:
        raise ValueError(f"method names must be unique and not 'hr': {', '.join(twice)}")
    for method in runs:
        if method.reference is not None and method.reference not in names:
            raise ValueError(f"method {method.name} is compared with {method.reference}, "
                             f"which this run does not have (add --model {method.reference})")


def run(options: SceneOptions, locator: compose.Locator, lpips=None, command: str = "",
        log: Callable[[str], None] = print) -> dict:
    """The whole benchmark (module docstring); returns ``{kind: summary}``.

    Raises:
        FileNotFoundError, ValueError: missing folders, images or weights; an unknown
            method; a method whose output has the wrong form.
    """
    out_dir = files.check_writable_dir(Path(options.output))
    unknown = [m for m in options.methods if m not in methods.PLUGINS]
    if unknown:
        raise ValueError(f"unknown method {', '.join(unknown)}; plugged in: "
                         f"{', '.join(methods.PLUGINS) or 'none'}")
    runs = [methods.bicubic()] + [
        methods.whole_photo(m, options.backend, options.tile) for m in options.models] + [
        methods.PLUGINS[m](options) for m in options.methods]
    check_methods(runs)
    sources = load_faces(select_faces(options.faces, options.faces_split), locator, log)
    backgrounds = load_backgrounds(options.backgrounds, options.seed)
    scenes = [compose.compose_scene(i, options.seed, backgrounds[i % len(backgrounds)],
                                    sources, options.scene) for i in range(options.scenes)]
    settings = {"command": command, **asdict(options), "scale": SCALE,
                "faces_used": [s.name for s in sources], "methods": [m.name for m in runs]}
    written = [files.atomic_write_bytes(files.safe_output_path(out_dir, "scenes.json"), json.dumps(
        [s.to_json() for s in scenes], indent=1).encode() + b"\n")]
    summaries, records = {}, {}
    bare = background_faces(scenes) if options.methods else {}
    for kind in options.lr:
        record = score_kind(scenes, kind, runs, options, lpips, out_dir, log, bare)
        summaries[kind] = summarize(record, runs, options)
        records[kind] = {k: record[k] for k in ("faces", "scenes")}
        if record["crops"]:
            written.append(files.atomic_write_bytes(files.safe_output_path(
                out_dir, f"contact_sheet_{kind}.png"),
                report.contact_sheet(record["crops"], [m.name for m in runs], scenes)))
    results = {"settings": settings, "summary": summaries, "records": records}
    written.append(files.atomic_write_bytes(files.safe_output_path(out_dir, "results.json"),
                                         json.dumps(results, indent=1).encode() + b"\n"))
    text = report.markdown(summaries, settings)
    written.append(files.atomic_write_bytes(files.safe_output_path(out_dir, "summary.md"),
                                         text.encode()))
    log(text)
    log(f"wrote {', '.join(p.name for p in written)} to {out_dir}")
    return summaries
