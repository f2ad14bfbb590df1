"""predict.py on a video: a 1-second synthetic clip keeps its frames, rate and audio."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import pytest

from srgan import console
from srgan.inference.predict import run
from srgan.options import PredictOptions


@pytest.fixture(scope="module")
def generator(tiny_generator):
    return tiny_generator


def _clip(path, audio: bool, fps: int = 10, size: str = "16x12"):
    """A 1-second testsrc clip (H.264), with a sine tone when ``audio``."""
    inputs = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}:duration=1"]
    if audio:
        inputs += ["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", "-shortest"]
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *inputs,
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def _probe(path) -> tuple[dict, int]:
    frames = imageio_ffmpeg.read_frames(str(path))
    meta = next(frames)
    return meta, sum(1 for _ in frames)


@pytest.mark.parametrize("audio, batch", [(True, 3), (False, 1)])
def test_clip_keeps_frames_rate_and_audio(generator, tmp_path, audio, batch):
    src = _clip(tmp_path / "clip.mp4", audio)
    out = tmp_path / "out"
    assert run(generator, PredictOptions(input=str(src), output=str(out),
                                         batch_size=batch)) == 0
    meta, count = _probe(out / "clip_x4.mp4")
    assert count == 10 and meta["size"] == (64, 48) and meta["fps"] == 10
    assert meta["codec"] == "h264"
    assert (meta.get("audio_codec") == "aac") == audio
    assert [p.name for p in out.iterdir()] == ["clip_x4.mp4"]  # no temp file left


def test_outscale_and_skip(generator, tmp_path, capsys):
    src = _clip(tmp_path / "clip.mp4", audio=False)
    options = dict(input=str(src), output=str(tmp_path / "out"), outscale=2.0)
    assert run(generator, PredictOptions(**options)) == 0
    assert _probe(tmp_path / "out" / "clip_x4.mp4")[0]["size"] == (32, 24)
    with console.to_terminal():  # as predict.py shows it
        assert run(generator, PredictOptions(**options)) == 0
    assert "skipped" in capsys.readouterr().out


def test_not_a_video_is_one_line(generator, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(OSError, match="bad.mp4: cannot read as a video"):
        run(generator, PredictOptions(input=str(bad), output=str(tmp_path / "out")))
    assert not any((tmp_path / "out").iterdir())


def test_face_enhance_runs_per_frame_through_the_tracker(generator, tmp_path):
    """Each frame's faces are found, steadied by the tracker and restored: a detector that
    jitters by a pixel from frame to frame is smoothed before the faces are pasted."""
    import numpy as np

    from srgan.faces.detect import DetectOptions, Face
    from srgan.faces.restore import FaceRestorer
    from srgan.options import FaceOptions

    seen = []

    class Jittery:
        options = DetectOptions(score=0.5, min_size=2)

        def __call__(self, image):
            x = 8.0 + (len(seen) % 2)  # 8, 9, 8, 9...
            marks = np.array([[x - 2, 5.0], [x + 2, 5.0], [x, 7.0], [x - 1.5, 9.0],
                              [x + 1.5, 9.0]])
            seen.append(x)
            return [Face((x - 5, 1.0, x + 5, 11.0), marks, 0.99)]

    pasted = []

    def model(crops):
        pasted.append(len(crops))
        return np.repeat(np.repeat(crops, 4, axis=1), 4, axis=2)

    restorer = FaceRestorer(model, 4, 8, FaceOptions(face_enhance=True), detector=Jittery())
    smoothed = []
    restore = restorer.restore
    restorer.restore = lambda frame, sr, faces=None: (
        smoothed.append(faces[0][0].landmarks[:, 0].mean()), restore(frame, sr, faces))[1]
    src = _clip(tmp_path / "clip.mp4", audio=False)
    assert run(generator, PredictOptions(input=str(src), output=str(tmp_path / "out")),
               restorer) == 0
    assert _probe(tmp_path / "out" / "clip_x4.mp4")[1] == 10 and len(pasted) == 10
    # The detections swing by 1 px; the restored faces by less than half of that.
    assert np.ptp(seen) == 1 and np.ptp(smoothed[2:]) < 0.5
