"""``predict.py -i clip.mp4 -o out/``: upscale a video frame by frame.

Frames stream from ffmpeg's decoder through the generator (``batch_size`` frames at a
time) into ffmpeg's H.264 encoder, so memory holds one batch, never the video. The output
``OUTPUT/NAME_SUFFIX.mp4`` has the input's frame rate and its first audio track copied
as it is. ffmpeg comes with the ``imageio-ffmpeg`` package; no system ffmpeg is needed.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Optional

import numpy as np
from tqdm import tqdm

from srgan import files
from srgan.faces.restore import FaceRestorer
from srgan.faces.track import FaceTracker
from srgan.inference.backends import make_runner
from srgan.inference.photos import resize
from srgan.inference.upscale import upscale_kwargs, upscale_stack
from srgan.models.weights import Generator
from srgan.options import PredictOptions

logger = logging.getLogger(__name__)

# x264's constant-quality setting: 18 is visually lossless for most content.
_CRF = "18"


def output_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """The ``(width, height)`` of the upscaled video, rounded to even numbers (H.264 with
    4:2:0 chroma needs them)."""
    return tuple(max(2, 2 * round(side * factor / 2)) for side in (width, height))


def predict_video(generator: Generator, options: PredictOptions,
                  restorer: Optional[FaceRestorer] = None) -> int:
    """Upscale the video ``options.input`` into ``options.output``; returns 0.

    With a ``restorer``, each frame's faces are restored; a :class:`FaceTracker` steadies
    their landmarks from frame to frame, so the faces neither shimmer nor blink.

    Raises:
        FileNotFoundError: no such input file.
        OSError: ffmpeg cannot read the input or write the output (one line, named).
    """
    import imageio_ffmpeg

    src, scale = Path(options.input), generator.scale
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no such video file")
    out_dir = files.check_writable_dir(Path(options.output))
    suffix = f"x{scale}" if options.suffix is None else options.suffix
    target = files.safe_output_path(out_dir, f"{src.stem}_{suffix}.mp4")
    if target.exists() and not options.overwrite:
        logger.info(f"{target} exists; skipped (--overwrite replaces it)")
        return 0
    try:
        frames = imageio_ffmpeg.read_frames(str(src))
        meta = next(frames)
    except (RuntimeError, OSError, StopIteration) as e:
        raise OSError(f"{src}: cannot read as a video ({files.first_line(e)})") from None
    (width, height), fps = meta["size"], meta["fps"]
    size = output_size(width, height, options.outscale or scale)
    runner = make_runner(generator, options.backend, self_ensemble=options.self_ensemble)
    kwargs = upscale_kwargs(options)
    audio = {"audio_path": str(src), "audio_codec": "copy"} if meta.get("audio_codec") else {}
    total = round(meta["duration"] * fps) if meta.get("duration") else None
    count, tracker = 0, FaceTracker()
    with files.atomic_path(target) as tmp, tqdm(total=total, unit="frame",
                                            disable=None) as bar:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), size, fps=fps, codec="libx264", quality=None, macro_block_size=1,
            output_params=["-crf", _CRF], ffmpeg_log_level="error", **audio)
        writer.send(None)  # start ffmpeg
        try:
            while batch := list(itertools.islice(frames, options.batch_size)):
                lr = np.stack([np.frombuffer(f, np.uint8).reshape(height, width, 3)
                               for f in batch])
                for frame, sr in zip(lr, upscale_stack(runner, lr, scale, **kwargs)):
                    if restorer is not None:
                        kept, skipped = restorer.find(frame)
                        sr, _ = restorer.restore(frame, sr, (tracker(kept), skipped))
                    writer.send(np.ascontiguousarray(resize(sr, size)).tobytes())
                count += len(batch)
                bar.update(len(batch))
        finally:
            writer.close()
            frames.close()
    logger.info(f"{src} -> {target} ({count} frames, {width}x{height} -> {size[0]}x"
                f"{size[1]}, {fps:g} fps{', audio copied' if audio else ''})")
    return 0
