"""Quality against interpolation baselines: PSNR/SSIM (RGB and Y), LPIPS and NIQE, per image.

How ``evaluate.py`` (and the validation during training) scores an image:

1. HR: prepared as in training (centre square, antialiased bicubic to ``hr_size``:
   :func:`srgan.data.transforms.prepare_hr`), or with ``full_image`` the whole image, its right and
   bottom edges cropped to a multiple of ``scale`` (BasicSR's ``mod_crop``).
2. LR: :func:`srgan.data.transforms.degrade`, rounded to 8-bit levels: the bicubic training
   degradation, or with ``--degradation realesrgan`` Real-ESRGAN's random one
   (:mod:`srgan.data.degradation`), image ``i`` of the sorted list drawn from seed
   ``(--seed, i)``: every model evaluated with the same ``--seed`` on the same folder
   sees the same LR faces.
3. Candidates from that LR: the generator (``sr``, :func:`srgan.inference.upscale.upscale`),
   ``nearest``, ``bilinear``, ``bicubic`` upscaling (:func:`srgan.inference.upscale.interpolate`)
   and the shipped SRCNN baseline (``srcnn``, at x4), all rounded to uint8 as saved images
   would be.
4. Against HR: PSNR and SSIM on RGB and on BT.601 Y with ``scale`` pixels cropped at each
   border, in float64 (the SR papers' and BasicSR's convention,
   :mod:`srgan.evaluation.metrics`), and LPIPS (VGG, v0.1) on the whole image.
5. Needing no reference: NIQE (:mod:`srgan.evaluation.niqe`) of each candidate and of HR, with
   ``scale`` pixels cropped at each border; NaN for images under 192x96 pixels, which the
   means leave out.

With ``--no-reference`` the images are low-resolution photos without ground truth: each is
upscaled as it is (step 3) and scored with NIQE alone.

:func:`run` takes an :class:`EvaluateOptions`; ``evaluate.py`` builds it from its flags.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from srgan import files
from srgan.data import transforms
from srgan.evaluation import figures, metrics, report
from srgan.evaluation.niqe import niqe
from srgan.inference.backends import make_runner
from srgan.inference.upscale import INTERPOLATIONS, interpolate, upscale
from srgan.models.weights import Generator
from srgan.options import BACKENDS, EvaluateOptions
from srgan.pixels import to_unit_range

logger = logging.getLogger(__name__)

METHODS = INTERPOLATIONS + ("sr",)
METRICS = ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb", "lpips", "niqe")
# How "SR beats bicubic" is measured for ranking: metric, and +1 when higher is better.
GAIN = {"psnr": ("psnr_y", 1.0), "lpips": ("lpips", -1.0), "niqe": ("niqe", -1.0)}


def load_hr(path: Path, scale: int, hr_size: Optional[int], full_image: bool,
            max_pixels: int) -> np.ndarray:
    """Reads ``path`` and returns its uint8 HR ``(H, W, 3)``: ``(hr_size, hr_size, 3)`` as in
    training, or with ``full_image`` the whole image cropped to multiples of ``scale``."""
    image = files.read_image(path, max_pixels=max_pixels)
    if not full_image:
        return transforms.prepare_hr(image, hr_size).numpy().astype(np.uint8)
    h, w = image.shape[:2]
    h, w = h - h % scale, w - w % scale
    smallest = max(16, metrics.SSIM_WINDOW + 2 * scale)  # LPIPS's VGG; SSIM after the crop
    if min(h, w) < smallest:
        raise files.ImageError(path, f"{w}x{h} after cropping to multiples of {scale} is "
                               f"too small to evaluate (needs {smallest} px a side)")
    return image[:h, :w]


def candidates(hr: np.ndarray, scale: int, generator, tile: Optional[int] = None,
               degradation: str = "bicubic", seed=None, baselines: Optional[dict] = None
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The LR of ``hr`` and every upscaled candidate.

    Args:
        hr: uint8 ``(H, W, 3)``, H and W multiples of ``scale``.
        generator: the trained generator (see :func:`srgan.inference.upscale.upscale`).
        tile: optional LR tile size for the generator.
        degradation, seed: how the LR is made (:func:`srgan.data.transforms.degrade`).
        baselines: ``{method: trained model}`` scored too (:func:`baseline_models`).

    Returns:
        ``lr`` uint8 ``(H/scale, W/scale, 3)`` and ``{method: uint8 (H, W, 3)}`` for
        :data:`METHODS` and the baselines, ``sr`` last.
    """
    lr = transforms.degrade(hr, scale, degradation, seed).numpy().astype(np.uint8)
    return lr, upscaled(lr, scale, generator, tile, baselines)


def upscaled(lr: np.ndarray, scale: int, generator, tile: Optional[int] = None,
             baselines: Optional[dict] = None) -> dict[str, np.ndarray]:
    """Every candidate from uint8 ``lr (h, w, 3)``: ``{method: uint8 (h*scale, w*scale, 3)}``
    for :data:`METHODS` and the baselines, ``sr`` last (arguments as :func:`candidates`)."""
    outs = {m: interpolate(lr, scale, m) for m in INTERPOLATIONS}
    outs.update({m: upscale(model, lr, scale, tile=tile)
                 for m, model in (baselines or {}).items()})
    outs["sr"] = upscale(generator, lr, scale, tile=tile)
    return outs


def pixel_scores(out: np.ndarray, hr: np.ndarray, scale: int) -> dict[str, float]:
    """PSNR (dB) and SSIM on Y and on RGB, ``scale`` border pixels cropped, float64."""
    return {f"{name}_{space}": fn(out, hr, crop_border=scale, y_only=space == "y")
            for space in ("y", "rgb") for name, fn in (("psnr", metrics.psnr),
                                                       ("ssim", metrics.ssim))}


def lpips_distances(lpips: Optional[metrics.LPIPS], outs: np.ndarray, hrs: np.ndarray,
                    batch: int = 8) -> np.ndarray:
    """LPIPS of uint8 ``outs`` against ``hrs``, both ``(N, H, W, 3)``, ``batch`` at a time.

    Returns ``(N,)`` float64; NaN when ``lpips`` is None (LPIPS unavailable).
    """
    if lpips is None:
        return np.full(len(outs), np.nan)
    return np.concatenate([
        np.asarray(lpips(to_unit_range(outs[i:i + batch]), to_unit_range(hrs[i:i + batch])),
                   np.float64)
        for i in range(0, len(outs), batch)])


def score_image(hr: Optional[np.ndarray], outs: dict[str, np.ndarray], scale: int,
                lpips: Optional[metrics.LPIPS]) -> dict[str, dict[str, float]]:
    """``{method: {metric: value}}`` for every candidate in ``outs`` against ``hr``
    (:data:`METRICS`), or with ``hr`` None NIQE alone.
    NIQE crops ``scale`` pixels at each border, as PSNR does."""
    if hr is None:
        return {method: {"niqe": niqe(out, scale)} for method, out in outs.items()}
    return {method: {**pixel_scores(out, hr, scale),
                     "lpips": float(lpips_distances(lpips, out[None], hr[None])[0]),
                     "niqe": niqe(out, scale)}
            for method, out in outs.items()}


def load_candidates(path: Path, scale: int, generator, hr_size: Optional[int],
                    options: EvaluateOptions, index: int, baselines: Optional[dict] = None
                    ) -> tuple[Optional[np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """``(hr, lr, candidates)`` of image number ``index`` of the folder, as ``options``
    asks: HR read and degraded (:func:`load_hr`, :func:`candidates`), or without reference
    the file read as LR (``hr`` None)."""
    if not options.reference:
        lr = files.read_image(path, max_pixels=options.max_pixels)
        return None, lr, upscaled(lr, scale, generator, options.tile, baselines)
    hr = load_hr(path, scale, hr_size, options.full_image, options.max_pixels)
    lr, outs = candidates(hr, scale, generator, options.tile, options.degradation,
                          lr_seed(options.seed, index), baselines)
    return hr, lr, outs


def evaluate_folder(paths: list[Path], root: Path, generator, scale: int,
                    hr_size: Optional[int],
                    lpips: Optional[metrics.LPIPS], options: EvaluateOptions,
                    log: Callable[[str], None] = logger.info,
                    baselines: Optional[dict] = None) -> tuple[list[dict], list[str]]:
    """Scores every image; an image that fails gets one ``error:`` line and is skipped.

    ``hr_size`` is the HR side when ``options.full_image`` is off. Returns
    ``(results, failures)``: per image ``{"image": relative name, "path", "width",
    "height" (of the output), "scores": {method: {metric: value}}}`` (with reference also
    ``"hr_niqe"``), and the one-line failure reasons.
    """
    results, failures = [], []
    for i, path in enumerate(paths, 1):
        name = path.relative_to(root).as_posix() if root.is_dir() else path.name
        try:
            hr, _, outs = load_candidates(path, scale, generator, hr_size, options, i - 1,
                                          baselines)
            scores = score_image(hr, outs, scale, lpips)
        except (files.ImageError, ValueError) as e:
            failures.append(str(e) if isinstance(e, files.ImageError) else f"{path}: {e}")
            logger.error(failures[-1])
            continue
        height, width = outs["sr"].shape[:2]
        results.append({"image": name, "path": str(path), "index": i - 1, "width": width,
                        "height": height, "scores": scores})
        sr, bic = scores["sr"], scores["bicubic"]
        line = f"NIQE {sr['niqe']:.3f} (bicubic {bic['niqe']:.3f})"
        if hr is not None:
            results[-1]["hr_niqe"] = niqe(hr, scale)
            line = (f"PSNR-Y {sr['psnr_y']:.2f} (bicubic {bic['psnr_y']:.2f}), LPIPS "
                    f"{sr['lpips']:.4f} (bicubic {bic['lpips']:.4f}), {line}")
        log(f"[{i}/{len(paths)}] {name}: {line}")
    return results, failures


def lr_seed(seed: int, index: int):
    """The stateless seed ``(2,)`` of the LR of image ``index`` (realesrgan degradation)."""
    return np.array([seed, index], np.int64)


def mean_score(values) -> float:
    """The mean of per-image scores, NaNs (NIQE of a too small image) left out; NaN when
    no value is left."""
    values = np.asarray(values, np.float64)
    values = values[~np.isnan(values)]
    return float(np.mean(values)) if len(values) else float("nan")


def summarize(results: list[dict]) -> dict[str, dict[str, float]]:
    """Means over images (:func:`mean_score`): ``{method: {metric: mean}}``, methods in
    the order scored, metrics those scored."""
    return {m: {k: mean_score([r["scores"][m][k] for r in results]) for k in scores}
            for m, scores in results[0]["scores"].items()}


def baseline_models(generator: Generator, options: EvaluateOptions,
                    log: Callable[[str], None] = logger.info) -> dict:
    """``{"srcnn": model}`` when ``options.srcnn`` asks for it and the shipped SRCNN can
    score this run (same scale, not the model evaluated); else ``{}``, with a line why."""
    from srgan import pretrained
    from srgan.models.weights import load_generator

    path = pretrained.shipped_path("srcnn")
    if not options.srcnn or generator.config.generator == "srcnn":
        return {}
    if not path.is_file():
        log(f"baseline: {path} not found; no SRCNN row")
        return {}
    srcnn = load_generator(path)
    if srcnn.scale != generator.scale:
        log(f"baseline: the shipped SRCNN is x{srcnn.scale}, not x{generator.scale}; "
            f"no SRCNN row")
        return {}
    return {"srcnn": srcnn.model}


def gain(result: dict, by: str) -> float:
    """How much SR beats bicubic on one image: PSNR-Y difference (dB) for ``psnr``,
    bicubic minus SR LPIPS (NIQE) for ``lpips`` (``niqe``); positive means SR is better."""
    metric, sign = GAIN[by]
    return sign * (result["scores"]["sr"][metric] - result["scores"]["bicubic"][metric])


def contact_rows(results: list[dict], by: str, count: int) -> list[tuple[str, dict]]:
    """The ``count`` images where SR gains most over bicubic and the ``count`` where it
    gains least (no image twice), as ``(label, result)``, best first; images without a
    score (NIQE of a too small image) are left out."""
    ranked = sorted((r for r in results if not np.isnan(gain(r, by))),
                    key=lambda r: gain(r, by), reverse=True)
    count = min(count, (len(ranked) + 1) // 2)
    picked = [("best", r) for r in ranked[:count]] + [
        ("worst", r) for r in ranked[max(count, len(ranked) - count):]]
    unit = " dB" if by == "psnr" else ""
    return [(f"{kind}: {r['image']}\n{by} gain {gain(r, by):+.3f}{unit}", r)
            for kind, r in picked]


def run(generator: Generator, options: EvaluateOptions) -> int:
    """What ``evaluate.py`` does; returns 1 when an image failed, else 0.

    Writes into ``options.output``: ``per_image.csv``, ``summary.csv``, ``results.json``,
    ``summary.md``, ``sr_vs_bicubic.png`` and ``contact_sheet.png``; prints the table.

    Raises:
        FileNotFoundError: no images under ``options.data``.
        ValueError: no image could be scored, ``--rank-by`` needs a reference the run has
            not, or no HR size is known (neither ``options.hr_size`` nor the generator's
            card gives one, without ``full_image``).
    """
    scale = generator.scale
    hr_size = options.hr_size or generator.hr_size
    rank_by = options.ranking()
    if hr_size is None and not options.full_image and options.reference:
        raise ValueError(f"{generator.path}: its model card has no hr_size; pass --hr-size "
                         f"or --full-image")
    out_dir = files.check_writable_dir(Path(options.output))
    root = Path(options.data)
    paths = files.list_images(root)
    if not paths:
        raise FileNotFoundError(f"{root}: no images (jpg, jpeg, png, bmp, webp) found")
    lpips = metrics.LPIPS() if options.reference else None
    baselines = baseline_models(generator, options)
    model = make_runner(generator, BACKENDS[0], self_ensemble=options.self_ensemble)
    results, failures = evaluate_folder(paths, root, model, scale, hr_size, lpips,
                                        options, baselines=baselines)
    if not results:
        raise ValueError(f"{root}: none of the {len(paths)} images could be evaluated")
    settings = {"data": str(root), "model": str(generator.path), "scale": scale,
                "hr": "whole image, cropped to a multiple of the scale" if options.full_image
                else f"centre square resized to {hr_size} (as in training)",
                "crop_border": scale, "images": len(results), "failed": failures,
                "degradation": options.degradation}
    if options.degradation != "bicubic":
        settings["seed"] = options.seed
    if options.self_ensemble:
        settings["self_ensemble"] = "left-right flip"
    if options.reference:
        settings["hr_niqe"] = mean_score([r["hr_niqe"] for r in results])
    else:
        settings.update(hr="none", degradation="the images as they are")
    summary = summarize(results)
    logger.info(report.table(summary, results, settings))
    written = report.write_reports(out_dir, results, summary, settings)
    per_image = {m: {k: [r["scores"][m][k] for r in results] for k in summary[m]}
                 for m in ("bicubic", "sr")}
    figure = figures.sr_vs_bicubic_figure(per_image["bicubic"], per_image["sr"],
                                          f"{root.name}: SR vs bicubic, x{scale}")
    written.append(files.atomic_write_bytes(
        files.safe_output_path(out_dir, "sr_vs_bicubic.png"), figures.png_bytes(figure)))
    rows = []
    for label, r in contact_rows(results, rank_by, options.sheet_rows):
        hr, lr, outs = load_candidates(Path(r["path"]), scale, model, hr_size,
                                       options, r["index"])
        rows.append((label, [lr, outs["bicubic"], outs["sr"]] + ([] if hr is None else [hr])))
    if rows:
        sheet = figures.contact_sheet_figure(rows, figures.CONTACT_TITLES[:len(rows[0][1])])
        written.append(files.atomic_write_bytes(files.safe_output_path(out_dir, "contact_sheet.png"),
                                             figures.png_bytes(sheet)))
    logger.info(f"wrote {', '.join(p.name for p in written)} to {out_dir}")
    return 1 if failures else 0
