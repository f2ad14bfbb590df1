"""Faces in photos: detection guards, which faces are kept, paste-back, and predict.py
--face-enhance end to end (a stand-in face model and detector where the real ones would
only add time; the real MTCNN where detection itself is tested)."""

import numpy as np
import pytest
from PIL import Image

from srgan.faces import align, paste
from srgan.faces.detect import DetectionError, DetectOptions, Face, _pyramid, plausible
from srgan.options import FaceOptions
from srgan.faces.restore import FaceRestorer
from srgan.faces.track import FaceTracker


class _Brighter:
    """A face model stand-in: nearest-neighbour x4, with ``shift`` added to each channel
    (a colour cast for the colour matching to remove)."""

    def __init__(self, shift=(0, 0, 0)):
        self.shift = np.array(shift)

    def __call__(self, batch):
        up = np.repeat(np.repeat(batch, 4, axis=1), 4, axis=2).astype(int) + self.shift
        return np.clip(up, 0, 255).astype(np.uint8)


class _Detector:
    """Returns the given faces, whatever the image; or raises, like a broken detector."""

    def __init__(self, faces=(), fail=False):
        self.faces, self.fail, self.options = list(faces), fail, DetectOptions(score=0.5)

    def __call__(self, image):
        if self.fail:
            raise DetectionError("face detection failed: a stand-in failure")
        return self.faces


def _face_at(cx, cy, eye_distance, degrees=0.0, score=0.99):
    """A face whose landmarks are the template's, scaled to ``eye_distance``, rotated and
    centred on (cx, cy)."""
    t = align.TEMPLATE - align.TEMPLATE.mean(0)
    s = eye_distance / np.linalg.norm(align.TEMPLATE[1] - align.TEMPLATE[0])
    c, n = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    marks = (t * s) @ np.array([[c, n], [-n, c]]) + [cx, cy]
    half = 1.3 * eye_distance
    return Face((cx - half, cy - half, cx + half, cy + half), marks, score)


def _restorer(faces=(), shift=(0, 0, 0), fail=False, aligned=True, **options):
    return FaceRestorer(_Brighter(shift), 4, 64, FaceOptions(face_enhance=True, **options),
                        aligned, detector=_Detector(faces, fail))


def _photo(h=48, w=64, seed=0, channels=3):
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 200, (h // 8, w // 8, channels), np.uint8)
    image = Image.fromarray(small[..., 0] if channels == 1 else small).resize(
        (w, h), Image.BICUBIC)
    return np.asarray(image)


def _nearest_x4(image):
    return np.repeat(np.repeat(image, 4, axis=0), 4, axis=1)


def _changed(a, b):
    return np.any(a != b, axis=-1)


def _mask_support(face, shape, size=64, scale=4):
    """Output pixels whose mask weight is above 0, for a face restored on ``size`` crops."""
    m = align.similarity(face.landmarks, align.template(size))
    m_out = np.hstack([m[:, :2], m[:, 2:] * scale])
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    points = np.stack([xs, ys], -1) @ m_out[:, :2].T + m_out[:, 2]
    return paste.face_mask(points, size * scale) > 0


def test_pyramid_never_goes_below_the_first_stage_input():
    """MTCNN 1.0.0's own pyramid for 640x480 at min_face_size 40 reaches 6.5 px levels; the
    guarded one stops at the last level of at least 12 px and is otherwise the same."""
    from mtcnn.utils.images import build_scale_pyramid

    stock = build_scale_pyramid(640, 480, 40, 0.709) * 480
    ours = _pyramid(480, 40, 0.709) * 480
    assert stock.min() < 12 <= ours.min()
    np.testing.assert_allclose(ours, stock[stock >= 12])


def test_detector_finds_the_face_where_the_stock_pyramid_fails():
    """640x480 with min_face_size 40: the stock detector swallows the first stage's error
    and reports no face at all; the guarded one finds the face."""
    from srgan.data.pipeline import sample_face_paths
    from srgan.faces.detect import FaceDetector

    face = Image.open(sample_face_paths()[0]).convert("RGB").resize((200, 240))
    canvas = Image.new("RGB", (640, 480), (90, 110, 100))
    canvas.paste(face, (220, 120))
    faces = FaceDetector(DetectOptions(min_size=40, upsample_to=0))(np.asarray(canvas))
    assert len(faces) == 1 and faces[0].score > 0.9
    assert 220 < faces[0].landmarks[:, 0].mean() < 420
    assert align.misfit(faces[0].landmarks) < 0.2


def test_plausible_drops_micro_faces_low_scores_small_faces_and_profiles():
    big = _face_at(50, 50, 20)
    in_eye = _face_at(42, 46, 4, score=0.99)  # a "face" found in the big face's eye
    low = _face_at(150, 50, 12, score=0.5)
    tiny = _face_at(150, 150, 2)
    profile = _face_at(250, 50, 12)
    profile.landmarks[2] = profile.landmarks[1] + [6, 0]  # the nose beyond the far eye
    options = DetectOptions(score=0.9, min_size=8)
    kept, skipped = plausible([in_eye, big, low, tiny, profile], (300, 300), options,
                              align.misfit)
    assert kept == [big]
    reasons = {id(f): why for f, why in skipped}
    assert "inside a larger face" in reasons[id(in_eye)]
    assert "score" in reasons[id(low)] and "face-min-size" in reasons[id(tiny)]
    assert "frontal" in reasons[id(profile)]


def test_plausible_max_faces_and_only_center_face():
    faces = [_face_at(30, 30, 10), _face_at(100, 100, 14), _face_at(170, 170, 12)]
    kept, skipped = plausible(faces, (200, 200), DetectOptions(max_faces=2), align.misfit)
    assert [f.eye_distance for f in kept] == pytest.approx([14, 12])
    kept, _ = plausible(faces, (200, 200), DetectOptions(only_center_face=True),
                        align.misfit)
    assert kept[0].landmarks.mean(0) == pytest.approx([100, 100], abs=3)


@pytest.mark.parametrize("large", ["auto", "native", "skip"])
def test_background_beyond_the_masks_is_identical(large):
    image = _photo(80, 96)
    faces = [_face_at(30, 35, 14), _face_at(70, 45, 24, degrees=15)]  # the 2nd is large
    upscaled = _nearest_x4(image)
    out, results = _restorer(faces, shift=(30, -20, 10), large_faces=large).restore(
        image, upscaled)
    support = np.zeros(out.shape[:2], bool)
    for r in results:
        if r.restored:
            support |= _mask_support(r.face, out.shape, size=r.crop.shape[0])
    assert support.any()
    assert not _changed(out, upscaled)[~support].any()
    assert _changed(out, upscaled)[support].mean() > 0.3
    assert [r.restored for r in results] == ([True, False] if large == "skip" else
                                             [True, True])


def test_auto_restores_large_faces_up_to_twice_the_crop_and_leaves_larger_ones():
    image = _photo(320, 320)
    faces = [_face_at(80, 80, 24), _face_at(200, 200, 40)]  # about 1.6 and 2.6 crops
    upscaled = _nearest_x4(image)
    sizes = {}
    for large in ("auto", "native"):
        _, results = _restorer(faces, large_faces=large).restore(image, upscaled)
        sizes[large] = {r.face.eye_distance: (r.restored, r.crop.shape[0] if r.restored
                                              else r.reason) for r in results}
    assert sizes["native"][24][0] and sizes["native"][40][0]
    assert 64 < sizes["native"][24][1] <= 128 < sizes["native"][40][1]
    assert sizes["auto"][24] == sizes["native"][24]
    assert sizes["auto"][40] == (
        False, f"a {sizes['native'][40][1]} px crop, over the 128 px --large-faces auto "
        "restores")


def test_a_model_not_trained_on_aligned_faces_sees_the_pixels_as_they_are():
    """Unaligned mode: the face square is cut on the pixel grid (with context) and pasted
    back unresampled, so a face model equal to the background's changes nothing, where an
    aligned warp of the same rolled face would resample it."""
    image = _photo(64, 80, seed=5)
    face = _face_at(40, 30, 10, degrees=12)
    upscaled = _nearest_x4(image)
    plain, results = _restorer([face], aligned=False).restore(image, upscaled)
    assert results[0].restored and results[0].crop.shape[0] == 64 * 10 // 16 + 1
    assert np.abs(plain.astype(int) - upscaled).max() <= 1
    warped, _ = _restorer([face], aligned=True).restore(image, upscaled)
    assert np.abs(warped.astype(int) - upscaled).max() > 10


def test_colour_of_the_face_is_matched_to_the_background():
    """A face model with a colour cast: matched under the mask, the cast all but goes."""
    image = _photo(64, 64, seed=3)
    face = _face_at(32, 32, 16)
    upscaled = _nearest_x4(image)
    m = align.similarity(face.landmarks, align.template(64))
    m_out = np.hstack([m[:, :2], m[:, 2:] * 4])
    restored = _Brighter((40, -30, 20))(align.extract(image, m, 64)[None])[0]
    support = _mask_support(face, upscaled.shape)
    casts = []
    for match in (True, False):
        out = upscaled.copy()
        paste.paste(out, restored, m_out, match_colour=match)
        casts.append(np.abs(out[support].mean(0) - upscaled[support].mean(0)).max())
    assert casts[1] > 15 and casts[0] < 0.15 * casts[1]


def test_grayscale_stays_gray_and_alpha_is_kept():
    gray = _photo(48, 48, channels=1)
    face = _face_at(24, 24, 14)
    upscaled = np.repeat(_nearest_x4(gray)[..., None], 3, axis=2)
    out, _ = _restorer([face], shift=(30, 0, -30)).restore(gray, upscaled)
    assert _changed(out, upscaled).any()
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])
    rgba = np.dstack([_photo(48, 48), np.full((48, 48), 77, np.uint8)])
    up = _nearest_x4(rgba)
    out, _ = _restorer([face]).restore(rgba, up)
    assert out.shape == up.shape and np.array_equal(out[..., 3], up[..., 3])


def test_a_face_cut_by_the_image_edge_and_overlapping_faces():
    image = _photo(48, 64)
    edge = _face_at(4, 20, 14)  # its aligned crop reaches well past the left edge
    a, b = _face_at(36, 24, 14), _face_at(46, 26, 16)  # overlapping faces
    upscaled = _nearest_x4(image)
    out, results = _restorer([edge, a, b]).restore(image, upscaled)
    assert all(r.restored for r in results) and len(results) == 3
    support = np.zeros(out.shape[:2], bool)
    for face in (edge, a, b):
        support |= _mask_support(face, out.shape)
    assert not _changed(out, upscaled)[~support].any()
    # The mirrored border fed the model real pixels, so the pasted edge face is not dark.
    left = out[:, :8][_mask_support(edge, out.shape)[:, :8]]
    assert left.mean() > 0.7 * upscaled[:, :8].mean()


def test_tracker_smooths_jitter_follows_motion_and_bridges_a_miss():
    track = FaceTracker()
    first = track([_face_at(50, 50, 20)])[0]
    jittered = track([_face_at(50.6, 50, 20)])[0]
    assert 50 < jittered.landmarks[:, 0].mean() < 50.4
    moved = track([_face_at(58, 50, 20)])[0]
    assert moved.landmarks[:, 0].mean() == pytest.approx(58, abs=1e-6)
    held = track([])
    assert len(held) == 1 and held[0].landmarks[:, 0].mean() == pytest.approx(58, abs=1e-6)
    assert track([]) and not track([])  # dropped after HOLD missed frames
    assert first.score == 0.99


def _photo_files(folder, n=2):
    folder.mkdir()
    for i in range(n):
        Image.fromarray(_photo(24, 32, seed=i)).save(folder / f"p{i}.png")
    return folder


def test_predict_face_enhance_writes_json_faces_and_names_a_failing_file(
        tiny_generator, tmp_path, capsys):
    from srgan import console
    from srgan.options import PredictOptions
    from srgan.inference.photos import predict_folder

    src = _photo_files(tmp_path / "in")
    out = tmp_path / "out"
    options = PredictOptions(input=str(src), output=str(out))
    restorer = _restorer([_face_at(16, 12, 8)], faces_json=str(tmp_path / "faces.json"),
                         save_faces=str(tmp_path / "saved"))
    with console.to_terminal():  # as predict.py shows it
        assert predict_folder(tiny_generator, options, restorer) == 0
    import json

    record = json.loads((tmp_path / "faces.json").read_text())
    assert len(record) == 2 and all(v[0]["restored"] for v in record.values())
    for sub in ("cropped_faces", "restored_faces", "cmp"):
        assert len(list((tmp_path / "saved" / sub).glob("*.png"))) == 2
    assert "1 face restored" in capsys.readouterr().out

    before = {p.name: p.read_bytes() for p in out.iterdir()}
    options = PredictOptions(input=str(src), output=str(out), overwrite=True)
    with console.to_terminal():
        assert predict_folder(tiny_generator, options, _restorer(fail=True)) == 1
    err = capsys.readouterr().err
    assert f"{src / 'p0.png'}: face detection failed" in err and "nothing written" in err
    # Nothing lost: the outputs of the earlier run are untouched.
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_predict_cli_face_enhance_with_no_face_writes_the_plain_output(tmp_path):
    """The real detector on a photo with no face: the output is byte for byte the run
    without --face-enhance."""
    from srgan.cli import predict_main

    src = _photo_files(tmp_path / "in", n=1)
    common = ["-i", str(src), "--model", "srcnn", "--pre-pad", "0"]
    assert predict_main(common + ["-o", str(tmp_path / "plain")]) == 0
    assert predict_main(common + ["-o", str(tmp_path / "faces"), "--face-enhance",
                                  "--face-model", "srcnn"]) == 0
    assert ((tmp_path / "plain" / "p0_x4.png").read_bytes()
            == (tmp_path / "faces" / "p0_x4.png").read_bytes())


def test_align_faces_zoom_enlarges_about_the_centre_and_leaves_plain_crops_as_they_were():
    from scripts.align_faces import _jitter

    rng = np.random.default_rng(0)
    scales = []
    for _ in range(200):
        m = _jitter(rng, 64, 0.0, 0.0, 0.0, zoom=2.0)
        assert np.allclose(m[:2, :2] @ [32, 32] + m[:2, 2], [32, 32])  # the centre stays
        scales.append(m[0, 0])
    assert 1.0 <= min(scales) < 1.05 and 1.95 < max(scales) <= 2.0
    # Without zoom the random stream is the one crops were made with before --zoom existed:
    # angle, scale and a 2-D shift, nothing more.
    rng, plain = np.random.default_rng(1), np.random.default_rng(1)
    m = _jitter(rng, 64, 4.0, 0.05, 4.0)
    a = np.radians(plain.uniform(-4, 4))
    s = plain.uniform(0.95, 1.05)
    shift = plain.uniform(-4, 4, 2)
    assert np.allclose(m[:2, :2], s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]))
    assert np.allclose(m[:2, 2], 32 - m[:2, :2] @ [32, 32] + shift)
    assert rng.uniform() == plain.uniform()
