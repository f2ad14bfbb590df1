"""The options of face restoration in photos (``--face-enhance``): one frozen dataclass, one
flag per field (see :mod:`srgan.cli`). Importing this module does not import TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from srgan.config import flag

# The face model --face-enhance uses unless --face-model names another: the best measured
# on degraded faces (docs/real_world.md).
DEFAULT_FACE_MODEL = "blind"
LARGE_FACES = ("native", "skip")


@dataclass(frozen=True)
class FaceOptions:
    """Which faces are found in a photo, how each is restored, and what is written."""

    face_enhance: bool = flag(False, help="find the faces in each image, restore each one "
                              "aligned with --face-model and paste it back over the "
                              "upscaled photo (as GFPGAN and Real-ESRGAN's --face_enhance "
                              "do)")
    face_model: str = flag(DEFAULT_FACE_MODEL, help="the face model: srgan, srresnet, blind "
                           "or a .weights.h5 file with its card")
    face_min_size: float = flag(10.0, help="smallest face to restore: its box side in input "
                                "pixels")
    face_score: float = flag(0.9, help="lowest detector confidence to restore (0-1)")
    max_faces: Optional[int] = flag(None, help="restore at most this many faces per image, "
                                    "the largest first")
    only_center_face: bool = flag(False, help="restore only the face nearest the centre")
    large_faces: str = flag("native", choices=LARGE_FACES, help="faces larger than the face "
                            "model's aligned crop: restore them at their own scale "
                            "(native) or leave them to --model (skip)")
    faces_json: Optional[str] = flag(None, help="write each image's faces (box, five "
                                     "landmarks, score, restored or why not) to this JSON "
                                     "file")
    save_faces: Optional[str] = flag(None, help="write each face's aligned input, its "
                                     "restoration and the two side by side to "
                                     "DIR/cropped_faces, DIR/restored_faces and DIR/cmp")

    def __post_init__(self):
        if not 0 <= self.face_score <= 1:
            raise ValueError(f"face_score must be in [0, 1], got {self.face_score}")
        if self.face_min_size <= 0:
            raise ValueError(f"face_min_size must be positive, got {self.face_min_size}")
        if self.max_faces is not None and self.max_faces < 1:
            raise ValueError(f"max_faces must be positive, got {self.max_faces}")
        if self.large_faces not in LARGE_FACES:
            raise ValueError(f"large_faces must be one of {LARGE_FACES}, got "
                             f"{self.large_faces!r}")
