"""Steady faces in video: landmarks smoothed from frame to frame, brief misses bridged.

Detected per frame, a face's landmarks jitter by a pixel or so and the detector misses a
face now and then; restored per frame, the face would then shimmer and blink. The
tracker matches each frame's faces to the last frame's (nearest eye centre, within 3/4 of an
eye distance) and moves each track only part of the way towards a small change (jitter),
all the way for a large one (real motion). A face missed in up to :data:`HOLD` frames
keeps its last landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srgan.faces.detect import Face

HOLD = 2
# A change of this fraction of the eye distance or more is motion: followed at once.
MOTION = 0.15
# The least a track moves towards its new detection (the jitter filter).
MIN_STEP = 0.3


@dataclass
class _Track:
    face: Face
    missed: int = 0


class FaceTracker:
    """Call it with each frame's detected faces (kept ones); it returns the faces to
    restore in that frame."""

    def __init__(self):
        self.tracks: list[_Track] = []

    def __call__(self, faces: list[Face]) -> list[Face]:
        unmatched = list(self.tracks)
        updated = []
        for face in faces:
            track = _nearest(face, unmatched)
            if track is None:
                updated.append(_Track(face))
                continue
            unmatched.remove(track)
            old = track.face.landmarks
            change = np.abs(face.landmarks - old).mean() / max(face.eye_distance, 1e-6)
            step = float(np.clip(change / MOTION, MIN_STEP, 1.0))
            moved = old + step * (face.landmarks - old)
            shift = (moved - face.landmarks).mean(0)
            box = tuple(float(v) for v in np.asarray(face.box) + np.tile(shift, 2))
            updated.append(_Track(Face(box, moved, face.score)))
        held = [_Track(t.face, t.missed + 1) for t in unmatched if t.missed < HOLD]
        self.tracks = updated + held
        return [t.face for t in self.tracks]


def _nearest(face: Face, tracks: list[_Track]):
    """The track whose eye centre is nearest ``face``'s, within 3/4 of an eye distance."""
    centre = face.landmarks[:2].mean(0)
    best, best_d = None, 0.75 * face.eye_distance
    for track in tracks:
        d = float(np.linalg.norm(track.face.landmarks[:2].mean(0) - centre))
        if d < best_d:
            best, best_d = track, d
    return best
