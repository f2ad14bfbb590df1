"""The methods the scene benchmark compares, and how another one plugs in.

A :class:`Method` is a name and a callable ``run(lr)``: ``lr`` is a scene's LR photo, uint8
``(h, w, 3)``; it returns the x4 output, uint8 ``(4h, 4w, 3)``, or an :class:`Output`
that also gives the faces the method detected and where it changed the output relative to
the method its ``reference`` names (for the background check). Built in: ``bicubic``
(:func:`bicubic`) and one whole-photo generator per ``--model`` (:func:`whole_photo`,
named as given: ``srgan``, ``blind`` or a weights path).

Any other method plugs in by name: ``PLUGINS["face-enhance"] = factory``, where
``factory(options: SceneOptions) -> Method`` builds it from the run's options; ``--method
face-enhance`` then runs it beside the built-in ones, on every scene and LR kind.
:func:`face_enhance` is registered so: ``predict.py --face-enhance`` on each scene, over the
background of ``--face-background`` (default: the first ``--model``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Union

import numpy as np

from benchmarks.scenes.compose import SCALE

if TYPE_CHECKING:
    from benchmarks.scenes.run import SceneOptions


@dataclass(frozen=True)
class Output:
    """What a method gives for one LR photo ``(h, w, 3)``.

    Attributes:
        sr: uint8 ``(4h, 4w, 3)``.
        faces: float ``(n, 4)``: the faces it detected, boxes ``x0, y0, x1, y1`` in LR
            pixels (pixel ``i`` spans ``[i, i + 1)``); None for a method that detects none.
        changed: bool ``(4h, 4w)``: where ``sr`` may differ from the output of the method
            named by :attr:`Method.reference` (e.g. the pasted faces' masks); None if the
            method does not say.
    """

    sr: np.ndarray
    faces: Optional[np.ndarray] = None
    changed: Optional[np.ndarray] = None


@dataclass(frozen=True)
class Method:
    """A named way to turn an LR photo into its x4 output.

    Attributes:
        name: how tables and files call it.
        run: ``lr`` uint8 ``(h, w, 3)`` -> uint8 ``(4h, 4w, 3)`` or :class:`Output`.
        reference: the name of the method whose output this one must equal away from the
            faces (a face pipeline's background path), or None.
    """

    name: str
    run: Callable[[np.ndarray], Union[np.ndarray, Output]]
    reference: Optional[str] = None

    def __call__(self, lr: np.ndarray) -> Output:
        """Runs the method; ValueError naming it when the output has the wrong form."""
        out = self.run(lr)
        out = out if isinstance(out, Output) else Output(np.asarray(out))
        h, w = lr.shape[:2]
        if out.sr.dtype != np.uint8 or out.sr.shape != (SCALE * h, SCALE * w, 3):
            raise ValueError(f"method {self.name}: expected uint8 {(SCALE * h, SCALE * w, 3)}"
                             f" from LR {lr.shape}, got {out.sr.dtype} {out.sr.shape}")
        if out.changed is not None and out.changed.shape != out.sr.shape[:2]:
            raise ValueError(f"method {self.name}: changed mask {out.changed.shape} is not "
                             f"the output's {out.sr.shape[:2]}")
        if out.faces is None:
            return out
        faces = np.asarray(out.faces, np.float64)
        faces = faces.reshape(0, 4) if faces.size == 0 else faces
        if faces.ndim != 2 or faces.shape[1] != 4:
            raise ValueError(f"method {self.name}: faces must be (n, 4) boxes, got "
                             f"{faces.shape}")
        return Output(out.sr, faces, out.changed)


# Methods built by name from the run's options, beside the built-in ones (module docstring).
PLUGINS: dict[str, Callable[["SceneOptions"], Method]] = {}


def bicubic() -> Method:
    """Bicubic x4 of the LR (:func:`srgan.inference.upscale.interpolate`)."""
    from srgan.inference.upscale import interpolate

    return Method("bicubic", lambda lr: interpolate(lr, SCALE, "bicubic"))


def whole_photo(model: str, backend: str = "keras", tile: Optional[int] = None) -> Method:
    """The whole photo through one generator, as ``predict.py --model MODEL`` runs it.

    Args:
        model: a shipped name (``srgan``, ``blind``, ...) or a weights path
            (:func:`srgan.pretrained.resolve`); also the method's name (a path's stem).
        backend: :data:`srgan.inference.backends.BACKENDS`.
        tile: LR tile side, None for whole photos.

    Raises:
        FileNotFoundError, ValueError: missing or unreadable weights, or not an x4 model.
    """
    from srgan import pretrained
    from srgan.inference.backends import make_runner
    from srgan.inference.upscale import upscale
    from srgan.models.weights import load_generator

    generator = load_generator(pretrained.resolve(model))
    if generator.scale != SCALE:
        raise ValueError(f"{generator.path}: an x{generator.scale} model; the scenes are "
                         f"x{SCALE}")
    runner = make_runner(generator, backend)
    name = model if model in pretrained.SHIPPED else Path(model).name.split(".")[0]
    return Method(name, lambda lr: upscale(runner, lr, SCALE, tile=tile))


def face_enhance(options: "SceneOptions") -> Method:
    """``predict.py --model BACKGROUND --face-enhance --face-model FACE_MODEL``: the faces
    restored by ``options.face_model`` and pasted over the whole photo upscaled by the
    background model, which is the method's reference for the background check.

    Named ``faces:FACE_MODEL`` (``faces:FACE_MODEL:skip`` with ``--large-faces skip``).

    Raises:
        ValueError: no background model (neither ``--face-background`` nor ``--model``).
    """
    from srgan.faces import paste
    from srgan.inference.faces import load_restorer
    from srgan.options import FaceOptions

    background_name = options.face_background or (options.models[0] if options.models
                                                  else None)
    if background_name is None:
        raise ValueError("--method face-enhance needs a background: --model or "
                         "--face-background")
    background = whole_photo(background_name, options.backend, options.tile)
    restorer = load_restorer(FaceOptions(face_enhance=True, face_model=options.face_model,
                                         large_faces=options.large_faces), options.backend)

    def run(lr: np.ndarray) -> Output:
        sr = background(lr).sr
        out, results = restorer.restore(lr, sr)
        changed = np.zeros(sr.shape[:2], bool)
        boxes = []
        for r in results:
            if r.restored:
                changed |= paste.support(r.placement, r.output.shape[0], sr.shape[:2])
                boxes.append(r.face.box)
        return Output(out, np.asarray(boxes, np.float64).reshape(-1, 4), changed)

    name = f"faces:{Path(options.face_model).name.split('.')[0]}"
    if options.large_faces != "auto":
        name += f":{options.large_faces}"
    return Method(name, run, reference=background.name)


PLUGINS["face-enhance"] = face_enhance
