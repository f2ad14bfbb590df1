"""Builds a small tree of good, odd and broken image files for tests and reports.

``make_bad_images(root)`` writes every fixture (each a few bytes to a few KB, built in
well under a second) and returns ``{kind: path}``. ``EXPECTED`` says what ``read_image``
must do with each file kind, ``SHAPES`` the (H, W) of the ok ones, and ``NOT_LISTED`` the
kinds that ``list_images`` must not return. ``DIR_KINDS`` are folders, only for listing.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, features

BOMB_SIZE = 9000  # 81 M pixels: above read_image's default 64 M, below Pillow's warning
HUGE_BOMB_SIZE = 40000  # 1.6 G pixels: above Pillow's own hard limit as well

EXPECTED = {
    "empty": "error",
    "truncated_jpeg": "error",
    "truncated_png": "error",
    "text_as_jpg": "error",
    "png_as_jpg": "ok",
    "grayscale": "ok",
    "bilevel": "ok",
    "gray_alpha": "ok",
    "cmyk_jpeg": "ok",
    "rgba": "ok",
    "palette_transparency": "ok",
    "png16": "ok",
    "exif_rot6": "ok",
    "one_px": "ok",
    "tiny": "ok",
    "bmp": "ok",
    "webp": "ok",
    "gif_animated": "error",
    "gif_as_png": "error",
    "bomb": "error",
    "bomb_huge": "error",
    "unicode_space_name": "ok",
    "upper_jpg": "ok",
    "upper_png": "ok",
    "nested": "ok",
    "via_symlink": "ok",
    "hidden": "ok",
    "text_ext": "ok",
}
SHAPES = {  # (H, W) that read_image returns for the ok kinds
    "png_as_jpg": (20, 30), "grayscale": (24, 20), "bilevel": (9, 13),
    "gray_alpha": (8, 8), "cmyk_jpeg": (16, 16), "rgba": (12, 10),
    "palette_transparency": (8, 6), "png16": (8, 64), "exif_rot6": (40, 24),
    "one_px": (1, 1), "tiny": (10, 12), "bmp": (5, 7), "webp": (16, 16),
    "unicode_space_name": (6, 6), "upper_jpg": (16, 16), "upper_png": (6, 6),
    "nested": (6, 6), "via_symlink": (6, 6), "hidden": (6, 6), "text_ext": (6, 6),
}
NOT_LISTED = frozenset({"gif_animated", "hidden", "text_ext"})
DIR_KINDS = ("nested_dir", "symlink_loop", "empty_dir", "linked_dir")


def _noise(h: int, w: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Returns uint8 noise HxWxC, which compresses badly so truncation hits pixel data."""
    return np.random.default_rng(seed).integers(0, 256, (h, w, channels), dtype=np.uint8)


def _rgb(path: Path, h: int, w: int, fmt: str | None = None, **kw) -> Path:
    """Saves an HxW RGB noise image (format from ``fmt`` or the suffix); returns path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_noise(h, w)).save(path, format=fmt, **kw)
    return path


def _truncated(path: Path, fmt: str) -> Path:
    """Saves a 64x64 noise image and keeps only the first half of its bytes."""
    _rgb(path, 64, 64, fmt)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """Writes a tiny 1-bit PNG whose header declares ``width`` x ``height`` pixels."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(
            ">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b""))
    return path


def _animated_gif(path: Path) -> Path:
    """Saves a 3-frame 8x8 animated GIF (whatever the suffix says)."""
    frames = [Image.new("P", (8, 8), i) for i in range(3)]
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:],
                   duration=50, loop=0)
    return path


def _exif_rot6(path: Path) -> Path:
    """Saves a 24-high x 40-wide JPEG tagged orientation 6, a red block at stored top-left.

    Displayed (rotated 90 degrees clockwise) it is 40 high x 24 wide, red at top-right.
    """
    pixels = np.zeros((24, 40, 3), np.uint8)
    pixels[:8, :8] = (255, 0, 0)
    im = Image.fromarray(pixels)
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(path, quality=95, exif=exif.tobytes())
    return path


def make_bad_images(root: Path, bomb_size: int = BOMB_SIZE) -> dict[str, Path]:
    """Writes every fixture kind under ``root``.

    Args:
        root: an existing (empty) folder, e.g. pytest's ``tmp_path``.
        bomb_size: side of the square "bomb" PNG; pick it above your max_pixels.

    Returns:
        ``{kind: path}`` for every key of ``EXPECTED`` plus ``DIR_KINDS``.
    """
    root = Path(root)
    p: dict[str, Path] = {}
    p["empty"] = root / "empty.jpg"
    p["empty"].write_bytes(b"")
    p["truncated_jpeg"] = _truncated(root / "truncated.jpg", "JPEG")
    p["truncated_png"] = _truncated(root / "truncated.png", "PNG")
    p["text_as_jpg"] = root / "notes.jpg"
    p["text_as_jpg"].write_text("this is not a picture\n")
    p["png_as_jpg"] = _rgb(root / "really_png.jpg", 20, 30, "PNG")
    p["grayscale"] = root / "gray.png"
    Image.fromarray(_noise(24, 20, 1)[..., 0]).save(p["grayscale"])
    p["bilevel"] = root / "bilevel.png"
    Image.fromarray(_noise(9, 13, 1)[..., 0] > 127).save(p["bilevel"])
    p["gray_alpha"] = root / "gray_alpha.png"
    Image.new("LA", (8, 8), (128, 64)).save(p["gray_alpha"])
    p["cmyk_jpeg"] = root / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(p["cmyk_jpeg"], quality=95)
    p["rgba"] = root / "rgba.png"
    Image.fromarray(_noise(12, 10, 4)).save(p["rgba"])
    p["palette_transparency"] = root / "palette.png"
    pal = Image.new("P", (6, 8), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255])
    pal.putpixel((0, 0), 0)
    pal.save(p["palette_transparency"], transparency=0)
    p["png16"] = root / "gray16.png"
    ramp = np.linspace(0, 65535, 64).round().astype(np.uint16)
    Image.fromarray(np.tile(ramp, (8, 1))).save(p["png16"])
    p["exif_rot6"] = _exif_rot6(root / "exif_rot6.jpg")
    p["one_px"] = _rgb(root / "one_px.png", 1, 1)
    p["tiny"] = _rgb(root / "tiny.png", 10, 12)
    p["bmp"] = _rgb(root / "image.bmp", 5, 7)
    if features.check("webp"):  # Pillow built without libwebp: the kind is left out
        p["webp"] = _rgb(root / "image.webp", 16, 16, lossless=True)
    p["gif_animated"] = _animated_gif(root / "anim.gif")
    p["gif_as_png"] = _animated_gif(root / "anim_gif.png")
    p["bomb"] = _png_header_only(root / "bomb.png", bomb_size, bomb_size)
    p["bomb_huge"] = _png_header_only(root / "bomb_huge.png", HUGE_BOMB_SIZE, HUGE_BOMB_SIZE)
    p["unicode_space_name"] = _rgb(root / "visage été 01.png", 6, 6)
    p["upper_jpg"] = _rgb(root / "UPPER.JPG", 16, 16)
    p["upper_png"] = _rgb(root / "Upper.PNG", 6, 6)
    p["nested_dir"] = root / "nested" / "a" / "b"
    p["nested"] = _rgb(p["nested_dir"] / "deep.png", 6, 6)
    p["symlink_loop"] = root / "nested" / "a" / "loop"
    p["symlink_loop"].symlink_to("..", target_is_directory=True)
    p["empty_dir"] = root / "empty_dir"
    p["empty_dir"].mkdir()
    p["hidden"] = _rgb(root / ".store" / "kept.png", 6, 6)
    p["linked_dir"] = root / "linked"
    p["linked_dir"].symlink_to(".store", target_is_directory=True)
    p["via_symlink"] = p["linked_dir"] / "kept.png"
    p["text_ext"] = _rgb(root / "picture.txt", 6, 6, "PNG")
    return p
