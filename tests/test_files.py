"""Tests for srgan.files: listing, safe decoding of odd/broken files, atomic and safe output."""

from __future__ import annotations

import errno
import os
import time

import numpy as np
import pytest
from PIL import Image, ImageFile

from scripts.bad_images import DIR_KINDS, EXPECTED, NOT_LISTED, SHAPES, make_bad_images
from srgan import files


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_images")
    return root, make_bad_images(root)


def _kinds(outcome):
    return sorted(k for k, v in EXPECTED.items() if v == outcome)


def _get(fixtures, kind):
    paths = fixtures[1]
    if kind not in paths:
        pytest.skip(f"{kind} fixture not available in this Pillow build")
    return paths[kind]


def test_list_images_tree(fixtures):
    root, paths = fixtures
    expected = sorted(paths[k] for k in EXPECTED if k in paths and k not in NOT_LISTED)
    start = time.perf_counter()
    assert files.list_images(root) == expected  # also proves the symlink loop terminates
    assert time.perf_counter() - start < 2
    assert paths["via_symlink"] in expected and paths["upper_jpg"] in expected


def test_list_images_non_recursive_empty_and_single(fixtures):
    root, paths = fixtures
    top = files.list_images(root, recursive=False)
    assert paths["nested"] not in top and paths["png_as_jpg"] in top
    assert files.list_images(paths["empty_dir"]) == []
    assert files.list_images(paths["tiny"]) == [paths["tiny"]]
    with pytest.raises(files.ImageError, match="picture.txt: extension"):
        files.list_images(paths["text_ext"])


def test_image_error_forms():
    both = files.ImageError("a/b.png", "bad\nthing")
    assert str(both) == "a/b.png: bad thing" and both.reason == "bad thing"
    whole = files.ImageError("a/b.png: too many bad images")
    assert whole.path.name == "b.png" and str(whole) == "a/b.png: too many bad images"


def test_list_images_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope") as info:
        files.list_images(tmp_path / "nope")
    assert "\n" not in str(info.value)


def test_fixture_table_is_complete(fixtures):
    paths = fixtures[1]
    assert set(paths) <= set(EXPECTED) | set(DIR_KINDS)
    assert set(SHAPES) == set(_kinds("ok"))


@pytest.mark.parametrize("kind", _kinds("ok"))
def test_read_ok_kinds(fixtures, kind):
    path = _get(fixtures, kind)
    start = time.perf_counter()
    image = files.read_image(path)
    assert time.perf_counter() - start < 2
    assert image.dtype == np.uint8 and image.shape == (*SHAPES[kind], 3)
    assert image.flags.writeable and image.flags.c_contiguous


@pytest.mark.parametrize("kind", _kinds("error"))
def test_read_error_kinds(fixtures, kind):
    path = _get(fixtures, kind)
    start = time.perf_counter()
    with pytest.raises(files.ImageError) as info:
        files.read_image(path)
    assert time.perf_counter() - start < 2
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert isinstance(info.value, ValueError) and info.value.path == path


@pytest.mark.parametrize("kind, reason", [
    ("empty", "empty file"),
    ("text_as_jpg", "not an image"),
    ("truncated_jpeg", "truncated or corrupt"),
    ("truncated_png", "truncated or corrupt"),
    ("gif_animated", "format GIF is not supported"),
    ("gif_as_png", "format GIF is not supported"),
    ("bomb_huge", "decompression bomb"),
])
def test_read_error_reasons(fixtures, kind, reason):
    with pytest.raises(files.ImageError, match=reason):
        files.read_image(_get(fixtures, kind))


def test_bomb_refused_before_decoding(fixtures, monkeypatch):
    def no_decode(self):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    bomb = _get(fixtures, "bomb")
    with pytest.raises(files.ImageError, match="81000000 pixels exceeds max_pixels=64000000"):
        files.read_image(bomb)
    with pytest.raises(files.ImageError, match="12x10 = 120 pixels exceeds max_pixels=99"):
        files.read_image(_get(fixtures, "tiny"), max_pixels=99)


def test_pillow_bomb_warning_becomes_error(fixtures, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)
    with pytest.raises(files.ImageError, match="decompression bomb"):
        files.read_image(_get(fixtures, "tiny"))  # 120 px: above 50, below 2 * 50


def test_truncation_is_not_tolerated_globally():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_exif_orientation_applied(fixtures):
    image = files.read_image(_get(fixtures, "exif_rot6")).astype(int)
    assert image.shape == (40, 24, 3)
    top_right, top_left = image[2, -3], image[2, 2]
    assert top_right[0] > 200 and top_right[1:].max() < 60
    assert top_left.max() < 60


def test_16_bit_png_scaled_not_clipped(fixtures):
    row = files.read_image(_get(fixtures, "png16"))[0, :, 0].astype(int)
    assert row.min() == 0 and row.max() == 255
    assert np.all(np.diff(row) >= 0) and len(np.unique(row)) > 50


def test_colour_conversions(fixtures):
    cmyk = files.read_image(_get(fixtures, "cmyk_jpeg")).astype(int)
    assert cmyk[..., 0].min() > 200 and cmyk[..., 1:].max() < 60  # CMYK (0,255,255,0) = red
    gray = files.read_image(_get(fixtures, "grayscale"))
    assert np.array_equal(gray[..., 0], gray[..., 2])
    bilevel = files.read_image(_get(fixtures, "bilevel"))
    assert set(np.unique(bilevel)) <= {0, 255}


@pytest.mark.parametrize("kind, channels", [
    ("rgba", 4), ("palette_transparency", 4), ("gray_alpha", 4), ("grayscale", 3),
    ("png_as_jpg", 3),
])
def test_keep_alpha(fixtures, kind, channels):
    image = files.read_image(_get(fixtures, kind), keep_alpha=True)
    assert image.dtype == np.uint8 and image.shape[-1] == channels
    if kind == "palette_transparency":
        assert image[0, 0, 3] == 0 and image[1, 1, 3] == 255


@pytest.mark.parametrize("mode, value, expected", [
    ("I", 65535, 255), ("I", 257 * 100, 100), ("F", 300.0, 255), ("F", 12.4, 12),
    ("I;16", 0, 0), ("1", 1, 255), ("P", 0, 0),
])
def test_mode_normalisation(mode, value, expected):
    image = files._to_uint8_array(Image.new(mode, (3, 2), value), keep_alpha=True)
    assert image.shape == (2, 3, 3) and image.dtype == np.uint8
    assert np.all(image == expected)


def test_atomic_path_keeps_suffix_and_replaces(tmp_path):
    target = tmp_path / "gen.weights.h5"
    target.write_bytes(b"old")
    with files.atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".gen.tmp-")
        assert tmp.name.endswith(".weights.h5") and not tmp.exists()
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["gen.weights.h5"]


@pytest.mark.parametrize("error", [RuntimeError("boom"), OSError(errno.ENOSPC, "No space")])
def test_atomic_path_failure_keeps_old_file(tmp_path, error):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    with pytest.raises(type(error)) as info:
        with files.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise error
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    if isinstance(error, OSError):
        assert str(info.value) == f"{target}: cannot write (No space)"
        assert info.value.errno == errno.ENOSPC


def test_atomic_writes_and_unwritable_folder(tmp_path):
    image = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    png = files.atomic_save_png(tmp_path / "x.png", image)
    assert np.array_equal(np.asarray(Image.open(png)), image)
    files.atomic_save_png(tmp_path / "g.png", image[..., 0])
    with pytest.raises(ValueError, match="uint8"):
        files.atomic_save_png(tmp_path / "f.png", image.astype(np.float32))
    assert files.atomic_write_bytes(tmp_path / "b.bin", b"abc").read_bytes() == b"abc"
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(OSError, match=r"file/sub/y.png: cannot write \(Not a directory\)"):
        files.atomic_write_bytes(blocker / "sub" / "y.png", b"abc")
    with pytest.raises(OSError, match="nothing was written"):
        with files.atomic_path(tmp_path / "never.png"):
            pass


@pytest.mark.parametrize("name, expected", [
    ("../../x.png", "x.png"), ("/etc/passwd", "passwd"), ("a\\..\\b.jpg", "b.jpg"),
    ("..hidden.png", "hidden.png"), ("visage été 01.jpg", "visage été 01.jpg"),
    ("bad*na?me\n<>|.png", "bad_na_me____.png"),
])
def test_safe_output_path_sanitises(tmp_path, name, expected):
    out = tmp_path / "out"
    assert files.safe_output_path(out, name) == out.resolve() / expected


def test_safe_output_path_refusals(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert files.safe_output_path(out, "dir/face_x4.png").name == "face_x4.png"
    for name in ("..", "../", "", "..."):
        with pytest.raises(ValueError):
            files.safe_output_path(out, name)
    (out / "evil.png").symlink_to(tmp_path / "elsewhere.png")
    with pytest.raises(ValueError, match="outside"):
        files.safe_output_path(out, "evil.png")
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ValueError, match="link: output folder is a symlink"):
        files.safe_output_path(tmp_path / "link", "x.png")


def test_check_writable_dir(tmp_path):
    made = files.check_writable_dir(tmp_path / "a" / "b")
    assert made.is_dir() and list(made.iterdir()) == []
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(OSError) as info:
        files.check_writable_dir(blocker / "sub")
    assert str(info.value) == f"{blocker / 'sub'}: not writable (Not a directory)"


def test_check_writable_dir_read_only(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:  # root ignores the mode bits: simulate the refusal instead

        def refuse(**kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    try:
        with pytest.raises(OSError) as info:
            files.check_writable_dir(locked)
        assert str(info.value) == f"{locked}: not writable (Permission denied)"
    finally:
        locked.chmod(0o700)
