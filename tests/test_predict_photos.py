"""predict.py on photos: names, formats, outscale, metadata, skipping, batching (tiny model)."""

from __future__ import annotations

import io as bytes_io

import numpy as np
import pytest
from PIL import Image

from srgan import console
from srgan.inference import backends, photos
from srgan.inference.photos import predict_folder
from srgan.options import PredictOptions

ICC = b"not really a profile, but Pillow carries the bytes as they are"


@pytest.fixture(scope="module")
def generator(tiny_generator):
    return tiny_generator


def _photo(path, size=(12, 10), mode="RGB", **save):
    rng = np.random.default_rng(0)
    channels = {"RGB": 3, "RGBA": 4}[mode]
    array = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    Image.fromarray(array, mode).save(path, **save)
    return path


def _run(generator, tmp_path, **options) -> int:
    """predict_folder with its lines on the terminal, as predict.py shows them."""
    with console.to_terminal():
        return predict_folder(generator, PredictOptions(output=str(tmp_path / "out"),
                                                        **options))


def test_names_formats_and_outscale(generator, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    _photo(src / "a.jpg")
    _photo(src / "b.png", mode="RGBA")
    _photo(src / "c.webp")
    assert _run(generator, tmp_path, input=str(src), ext="auto", suffix="up",
                outscale=2.5) == 0
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["a_up.jpg", "b_up.png", "c_up.webp"]
    for name, mode in [("a_up.jpg", "RGB"), ("b_up.png", "RGBA"), ("c_up.webp", "RGB")]:
        with Image.open(out / name) as im:
            assert im.size == (30, 25) and im.mode == mode


def test_jpeg_quality_is_used(generator, tmp_path):
    _photo(tmp_path / "a.png", size=(32, 32))
    sizes = []
    for quality in (20, 95):
        _run(generator, tmp_path, input=str(tmp_path / "a.png"), ext="jpg",
             jpeg_quality=quality, overwrite=True)
        sizes.append((tmp_path / "out" / "a_x4.jpg").stat().st_size)
    assert sizes[0] < sizes[1] / 2


def test_png_compression_is_used_and_lossless(generator, tmp_path):
    ramp = np.linspace(0, 255, 32).round().astype(np.uint8)
    smooth = np.stack([np.repeat(ramp[:, None], 32, 1), np.repeat(ramp[None], 32, 0),
                       np.full((32, 32), 128, np.uint8)], axis=-1)
    Image.fromarray(smooth).save(tmp_path / "a.png")
    sizes, pixels = [], []
    for level in (0, 9):
        _run(generator, tmp_path, input=str(tmp_path / "a.png"), png_compression=level,
             overwrite=True)
        sizes.append((tmp_path / "out" / "a_x4.png").stat().st_size)
        pixels.append(np.asarray(Image.open(tmp_path / "out" / "a_x4.png")))
    assert sizes[1] < 0.8 * sizes[0] and np.array_equal(*pixels)  # level 0 stores raw


def test_icc_profile_and_exif_are_kept(generator, tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"  # Make
    exif[0x0112] = 6  # rotated: the pixels are turned upright, the tag reset
    _photo(tmp_path / "a.jpg", icc_profile=ICC, exif=exif.tobytes())
    assert _run(generator, tmp_path, input=str(tmp_path / "a.jpg"), ext="jpg") == 0
    with Image.open(tmp_path / "out" / "a_x4.jpg") as im:
        assert im.info.get("icc_profile") == ICC
        assert im.getexif()[0x010F] == "Camera Maker" and im.getexif()[0x0112] == 1
        assert im.size == (40, 48)  # 12x10, rotated by its EXIF, then x4


def test_existing_outputs_are_skipped_unless_overwrite(generator, tmp_path, capsys):
    _photo(tmp_path / "a.png")
    target = tmp_path / "out" / "a_x4.png"
    target.parent.mkdir()
    target.write_bytes(b"mine")
    assert _run(generator, tmp_path, input=str(tmp_path / "a.png")) == 0
    assert target.read_bytes() == b"mine" and "1 skipped" in capsys.readouterr().out
    assert _run(generator, tmp_path, input=str(tmp_path / "a.png"), overwrite=True) == 0
    assert Image.open(target).size == (48, 40)


def test_batches_give_the_same_images(generator, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (10, 12, 3), np.uint8)
                        ).save(src / f"{i}.png")
    _photo(src / "odd.png", size=(7, 9))
    outputs = {}
    for batch in (1, 3):
        out = tmp_path / f"out{batch}"
        predict_folder(generator, PredictOptions(input=str(src), output=str(out),
                                                 batch_size=batch))
        outputs[batch] = {p.name: np.asarray(Image.open(p)) for p in out.iterdir()}
    assert outputs[1].keys() == outputs[3].keys() and len(outputs[1]) == 4
    for name, image in outputs[1].items():
        np.testing.assert_array_equal(image, outputs[3][name])


def test_alpha_cannot_go_to_jpeg(generator, tmp_path, capsys):
    _photo(tmp_path / "a.png", mode="RGBA")
    assert _run(generator, tmp_path, input=str(tmp_path / "a.png"), ext="jpg") == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "a.png" in err and "--ext png" in err


@pytest.mark.parametrize("field, value", [("jpeg_quality", 0), ("png_compression", 10),
                                          ("outscale", -1.0), ("batch_size", 0),
                                          ("max_memory", 0)])
def test_bad_options_are_refused(field, value):
    with pytest.raises(ValueError, match=field.split("_")[0]):
        PredictOptions(**{field: value})


def test_metadata_of_a_file_without_any_is_empty(tmp_path):
    from srgan.files import read_metadata

    _photo(tmp_path / "a.png")
    assert read_metadata(tmp_path / "a.png") == {}
    buffer = bytes_io.BytesIO(b"junk")
    assert read_metadata(buffer) == {}


@pytest.fixture
def runners_used(monkeypatch):
    """``[(runner, calls)]``: each runner predict_folder built, and how many batches it ran."""
    used = []

    def spy(generator, backend, window=64, self_ensemble=False):
        runner = backends.make_runner(generator, backend, window, self_ensemble)
        used.append([runner, 0])
        return runner

    for cls in (backends.KerasRunner, backends.OnnxRunner, backends.TFLiteRunner):
        def counting(self, batch, _call=cls.__call__):
            for entry in used:
                entry[1] += entry[0] is self
            return _call(self, batch)
        monkeypatch.setattr(cls, "__call__", counting)
    monkeypatch.setattr(photos, "make_runner", spy)
    return used


def _is_xla(runner) -> bool:
    """Whether a KerasRunner's graph is compiled by XLA (TensorFlow marks the function)."""
    function = runner._run.get_concrete_function().function_def
    return "_XlaMustCompile" in function.attr and function.attr["_XlaMustCompile"].b


@pytest.mark.parametrize("backend, kind, tolerance", [
    ("keras-xla", backends.KerasRunner, 1), ("onnx", backends.OnnxRunner, 1),
    ("tflite", backends.TFLiteRunner, 1), ("tflite-int8", backends.TFLiteRunner, 12)])
def test_backends_give_the_keras_image(generator, tmp_path, runners_used, backend, kind,
                                       tolerance):
    """Each backend runs (its own runner, called), and gives Keras's image. TFLite runs a
    fixed 64-pixel window: a 70x40 photo takes several tiles, each smaller image is padded
    to it. The mirrored margin is the tiny model's receptive radius (10), so what lies
    beyond it (TFLite's edge padding, Keras's zeros) cannot reach the image."""
    _photo(tmp_path / "a.png", size=(70, 40))
    images = {}
    for name in ("keras", backend):
        out = tmp_path / name
        assert predict_folder(generator, PredictOptions(
            input=str(tmp_path / "a.png"), output=str(out), backend=name, pre_pad=10)) == 0
        images[name] = np.asarray(Image.open(out / "a_x4.png")).astype(int)
    (keras, keras_calls), (runner, calls) = runners_used
    assert type(runner) is kind and runner is not keras and calls > 0 and keras_calls > 0
    assert not _is_xla(keras)
    if kind is backends.KerasRunner:
        assert _is_xla(runner)
    if kind is backends.TFLiteRunner:
        assert runner.window == 64
    difference = np.abs(images[backend] - images["keras"])
    assert images[backend].shape == (160, 280, 3) and difference.max() <= tolerance
    # Float32 paths round a few values the other way; int8 weights move many.
    changed = (difference > 0).mean()
    assert changed > 0.01 if backend == "tflite-int8" else changed < 0.001


def test_unknown_backend_is_an_error(generator):
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'.*keras, keras-xla"):
        backends.make_runner(generator, "tensorrt")
