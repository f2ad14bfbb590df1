"""Test photos with known faces: aligned HR faces pasted into backgrounds, and their LR.

A scene is drawn from a seed alone (:func:`compose_scene`):

1. Size: the background is resized (bicubic) so that the LR's longer side is
   ``lr_size``; the HR scene is ``SCALE`` times that.
2. Faces: 2-5 sources drawn without repeats. Each gets a face square side ``s`` in LR
   pixels, log-uniform in ``face_sizes`` but never above the source's own side / 4 (no
   face is upscaled into the HR), a roll uniform in ``+-max_roll`` degrees, and a position
   where its rolled square (with ``MARGIN`` LR pixels) overlaps neither another face nor
   the border; a face that does not fit after ``TRIES`` draws is tried 20% smaller, and
   left out below the smallest size.
3. Paste, at HR: the source's centre square, resized to ``SCALE * s`` (antialiased bicubic,
   :func:`srgan.data.transforms.prepare_hr`), rolled about its centre (bicubic), blended in
   through a soft ellipse (:data:`ELLIPSE`: radii and feather as fractions of the side), so
   there is no square edge to give the face away.
4. LR: clean, the project's antialiased bicubic x1/4 (:func:`srgan.data.transforms.degrade`);
   degraded, that LR blurred (Gaussian), noised (Gaussian, per channel) and JPEG-compressed,
   each drawn from ``blur_sigma``, ``noise_sigma``, ``jpeg_quality``.

Coordinates are continuous pixels with pixel ``i`` spanning ``[i, i + 1)``; LR ones are HR
ones divided by ``SCALE``. Each placed face keeps its square (before the roll), its roll,
its five landmarks and its face box, both located on the source by a locator (the
benchmark's is MTCNN; tests use a template) and carried through the same transform.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from PIL import Image

from srgan.data import transforms

SCALE = 4
MARGIN = 2
TRIES = 100
ELLIPSE = (0.42, 0.48, 0.12)  # x radius, y radius, feather width (fractions of the side)
LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")  # image left first


@dataclass(frozen=True)
class SceneConfig:
    """What scenes are drawn from; ranges are inclusive."""

    lr_size: int = 320
    faces_per_scene: tuple[int, int] = (2, 5)
    face_sizes: tuple[int, int] = (16, 96)
    max_roll: float = 20.0
    blur_sigma: tuple[float, float] = (0.2, 0.8)  # LR pixels
    noise_sigma: tuple[float, float] = (1.0, 4.0)  # 8-bit levels
    jpeg_quality: tuple[int, int] = (45, 75)


@dataclass(frozen=True)
class SourceFace:
    """An aligned HR face: ``image`` uint8 ``(S, S, 3)``, ``landmarks (5, 2)`` in the order
    of :data:`LANDMARKS` and ``box (4,)`` ``x0, y0, x1, y1``, both in its pixels."""

    name: str
    image: np.ndarray
    landmarks: np.ndarray
    box: np.ndarray


# A locator finds one face on an aligned face image: (landmarks (5, 2), box (4,)) or None.
Locator = Callable[[np.ndarray], Optional[tuple[np.ndarray, np.ndarray]]]


def mtcnn_locator(size: int = 256) -> Locator:
    """A :data:`Locator` running MTCNN (the ``mtcnn`` package) on the face resized to
    ``size``: the most confident face's five landmarks (pixel centres) and box, in the
    face's own pixels; None when it finds none."""
    from mtcnn import MTCNN

    detector = MTCNN()

    def locate(image: np.ndarray) -> Optional[tuple[np.ndarray, np.ndarray]]:
        found = detector.detect_faces(transforms.prepare_hr(image, size).numpy().astype(np.uint8))
        if not found:
            return None
        best = max(found, key=lambda d: d["confidence"])
        k = image.shape[0] / size
        x, y, w, h = best["box"]
        return ((np.array([best["keypoints"][n] for n in LANDMARKS], float) + 0.5) * k,
                np.array([x, y, x + w, y + h], float) * k)

    return locate


@dataclass(frozen=True)
class PlacedFace:
    """A face in a scene, in LR pixels: ``square`` ``(x0, y0, side)`` is its aligned square
    before the roll (centred on it, integers), ``angle`` the roll in degrees
    (anticlockwise), ``landmarks (5, 2)`` and ``box (4,)`` (the axis-aligned box around the
    rolled source box)."""

    source: str
    square: tuple[int, int, int]
    angle: float
    landmarks: np.ndarray
    box: np.ndarray

    @property
    def eye_distance(self) -> float:
        """Distance between the eye centres, LR pixels."""
        return float(np.hypot(*(self.landmarks[1] - self.landmarks[0])))

    def to_json(self) -> dict:
        x0, y0, side = self.square
        return {"source": self.source, "square": [x0, y0, side], "angle": round(self.angle, 3),
                "eye_distance": round(self.eye_distance, 3),
                "landmarks": {k: [round(float(v), 3) for v in p]
                              for k, p in zip(LANDMARKS, self.landmarks)},
                "box": [round(float(v), 3) for v in self.box]}


@dataclass(frozen=True)
class Scene:
    """One composed photo: ``hr`` uint8 ``(H, W, 3)``; ``lr`` ``{"clean", "degraded"}`` ->
    uint8 ``(H/4, W/4, 3)``; the faces placed; the degradation drawn."""

    index: int
    background: str
    hr: np.ndarray
    lr: dict[str, np.ndarray]
    faces: list[PlacedFace]
    degradation: dict = field(default_factory=dict)
    bare_lr: Optional[np.ndarray] = None  # the clean LR of the background alone

    def to_json(self) -> dict:
        h, w = self.hr.shape[:2]
        return {"index": self.index, "background": self.background,
                "lr_size": [w // SCALE, h // SCALE], "hr_size": [w, h],
                "degradation": self.degradation, "faces": [f.to_json() for f in self.faces]}


def _rotation(angle: float) -> np.ndarray:
    """``(2, 2)`` matrix of an anticlockwise roll as seen on screen (y points down)."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return np.array([[c, s], [-s, c]])


def _place(rng, side: int, angle: float, size: tuple[int, int], taken: list) -> Optional[tuple]:
    """An integer square ``(x0, y0, side)`` whose rolled footprint (with MARGIN) fits in
    ``size`` ``(w, h)`` beside the footprints ``taken`` ``(x0, y0, x1, y1)``; or None."""
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    half = side * (c + s) / 2 + MARGIN
    for _ in range(TRIES):
        cx, cy = (rng.uniform(half, n - half) if n > 2 * half else None for n in size)
        if cx is None or cy is None:
            return None
        x0, y0 = round(cx - side / 2), round(cy - side / 2)
        cx, cy = x0 + side / 2, y0 + side / 2
        foot = (cx - half, cy - half, cx + half, cy + half)
        if (min(foot[:2]) >= 0 and foot[2] <= size[0] and foot[3] <= size[1] and
                all(foot[2] <= t[0] or t[2] <= foot[0] or foot[3] <= t[1] or t[3] <= foot[1]
                    for t in taken)):
            taken.append(foot)
            return x0, y0, side
    return None


def paste(hr: np.ndarray, face: np.ndarray, centre: tuple[float, float], angle: float) -> None:
    """Blend the square ``face`` uint8 ``(n, n, 3)`` into ``hr`` (in place), centred on
    ``centre`` (HR pixels), rolled by ``angle`` degrees, through the :data:`ELLIPSE` mask."""
    n = face.shape[0]
    inverse = _rotation(angle).T
    reach = n * math.sqrt(2) / 2 + 2
    x0, y0 = (max(0, math.floor(c - reach)) for c in centre)
    x1, y1 = min(hr.shape[1], math.ceil(centre[0] + reach)), min(hr.shape[0],
                                                                   math.ceil(centre[1] + reach))
    # Source point of patch point (x, y): n/2 + inverse @ ((x, y) + (x0, y0) - centre).
    shift = n / 2 + inverse @ (np.array([x0, y0]) - np.asarray(centre))
    coeffs = (inverse[0, 0], inverse[0, 1], shift[0], inverse[1, 0], inverse[1, 1], shift[1])
    warped = np.asarray(Image.fromarray(face).transform(
        (x1 - x0, y1 - y0), Image.Transform.AFFINE, coeffs, Image.Resampling.BICUBIC),
        np.float64)
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    u, v = np.tensordot(inverse, np.stack([xs - centre[0], ys - centre[1]]), axes=1) / n
    rx, ry, feather = ELLIPSE
    radius = np.hypot(u / rx, v / ry)
    alpha = np.clip((1 - radius) / feather, 0, 1)[..., None]
    region = hr[y0:y1, x0:x1].astype(np.float64)
    hr[y0:y1, x0:x1] = np.round(region + alpha * (warped - region)).astype(np.uint8)


def degrade_lr(lr: np.ndarray, rng, config: SceneConfig) -> tuple[np.ndarray, dict]:
    """Slight Gaussian blur, light Gaussian noise, then JPEG, each drawn from ``rng``:
    uint8 ``(h, w, 3)`` -> (uint8 ``(h, w, 3)``, the values drawn)."""
    sigma = float(rng.uniform(*config.blur_sigma))
    noise = float(rng.uniform(*config.noise_sigma))
    quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    image = lr.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        padded = np.pad(image, pad, mode="reflect")
        n = image.shape[axis]
        image = sum(t * np.take(padded, np.arange(k, k + n), axis=axis)
                    for k, t in enumerate(taps))
    image = image + rng.normal(0, noise, image.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.round(image), 0, 255).astype(np.uint8)).save(
        buf, format="JPEG", quality=quality)
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out, {"blur_sigma": round(sigma, 4), "noise_sigma": round(noise, 4),
                 "jpeg_quality": quality}


def _scene_size(background: np.ndarray, lr_size: int) -> tuple[int, int]:
    """LR ``(w, h)``: the background's aspect, longer side ``lr_size``."""
    h, w = background.shape[:2]
    short = max(1, round(min(h, w) * lr_size / max(h, w)))
    return (lr_size, short) if w >= h else (short, lr_size)


def compose_scene(index: int, seed: int, background: tuple[str, np.ndarray],
                  sources: list[SourceFace], config: SceneConfig) -> Scene:
    """Scene ``index`` of the run seeded ``seed`` (module docstring), over ``background``
    ``(name, uint8 (h, w, 3))`` with faces from ``sources``; the same arguments give the
    same scene, byte for byte."""
    rng = np.random.default_rng([seed, index])
    lr_w, lr_h = _scene_size(background[1], config.lr_size)
    hr = np.array(Image.fromarray(background[1]).resize(
        (SCALE * lr_w, SCALE * lr_h), Image.Resampling.BICUBIC))
    bare = transforms.degrade(hr, SCALE).numpy().astype(np.uint8)
    count = int(rng.integers(config.faces_per_scene[0], config.faces_per_scene[1] + 1))
    picks = rng.choice(len(sources), size=count, replace=len(sources) < count)
    taken, faces = [], []
    for source in (sources[i] for i in picks):
        low, high = config.face_sizes[0], min(config.face_sizes[1],
                                              source.image.shape[0] // SCALE)
        side = round(math.exp(rng.uniform(math.log(low), math.log(max(low, high)))))
        angle = float(rng.uniform(-config.max_roll, config.max_roll))
        square = None
        while square is None and side >= low:
            square = _place(rng, side, angle, (lr_w, lr_h), taken)
            side = side if square else math.floor(side * 0.8)
        if square is None:
            continue
        faces.append(_paste_face(hr, source, square, angle))
    lr = transforms.degrade(hr, SCALE).numpy().astype(np.uint8)
    degraded, drawn = degrade_lr(lr, np.random.default_rng([seed, index, 1]), config)
    return Scene(index, background[0], hr, {"clean": lr, "degraded": degraded}, faces, drawn,
                 bare)


def _paste_face(hr: np.ndarray, source: SourceFace, square: tuple[int, int, int],
                angle: float) -> PlacedFace:
    """Pastes ``source`` into ``hr`` on its LR ``square``; the face as placed."""
    x0, y0, side = square
    n = SCALE * side
    centre = (SCALE * (x0 + side / 2), SCALE * (y0 + side / 2))
    paste(hr, transforms.prepare_hr(source.image, n).numpy().astype(np.uint8), centre, angle)
    rotation, size = _rotation(angle), source.image.shape[0]

    def to_lr(points: np.ndarray) -> np.ndarray:
        """Source pixels ``(k, 2)`` -> LR pixels of the scene."""
        return ((points * n / size - n / 2) @ rotation.T + centre) / SCALE

    x_0, y_0, x_1, y_1 = source.box
    corners = to_lr(np.array([[x_0, y_0], [x_1, y_0], [x_1, y_1], [x_0, y_1]], np.float64))
    box = np.concatenate([corners.min(axis=0), corners.max(axis=0)])
    return PlacedFace(source.name, square, angle, to_lr(np.asarray(source.landmarks, float)),
                      box)
