"""The one place that touches image files and output files: list and safely decode
images; write outputs atomically, never outside their folder; fail early in one line."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import tempfile
import unicodedata
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "BMP", "WEBP"})
# The content types a browser or client declares for those formats.
IMAGE_CONTENT_TYPES = frozenset({"image/jpeg", "image/pjpeg", "image/png", "image/bmp",
                                 "image/x-ms-bmp", "image/webp"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_WIDE_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_ODD_CHARS = re.compile(r"[^\w .+,()-]")


def _one_line(path: os.PathLike | str, reason: object) -> str:
    """Returns ``"<path>: <reason>"`` on one line, even for odd names or messages."""
    return f"{str(path).replace(chr(10), '?')}: {' '.join(str(reason).split())}"


class ImageError(ValueError):
    """An unusable image file; ``str()`` is one line ``"<path>: <reason>"``. Built as
    ``ImageError(path, reason)`` or ``ImageError("<path>: <reason>")``."""

    def __init__(self, path: os.PathLike | str, reason: str | None = None):
        if reason is None:
            path, _, reason = str(path).partition(": ")
        self.path, self.reason = Path(path), " ".join(str(reason).split())
        super().__init__(_one_line(path, reason))


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _os_error(path: Path, what: str, exc: OSError) -> OSError:
    """Returns ``OSError("<path>: <what> (<reason>)")`` with the errno of ``exc``."""
    err = OSError(_one_line(path, f"{what} ({exc.strerror or exc})"))
    err.errno = exc.errno
    return err


def list_images(root: os.PathLike | str, recursive: bool = True) -> list[Path]:
    """Lists image files (by extension, any case) under a folder, or one file, sorted.

    Follows folder symlinks, each real folder once (loops end); skips hidden entries
    (``.git``, ``._x.jpg``, ``atomic_path`` temp files).

    Raises:
        FileNotFoundError: ``root`` does not exist.
        ImageError: ``root`` is a file without an image extension.
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such file or folder")
    if not root.is_dir():
        if root.suffix.lower() not in IMAGE_EXTENSIONS:
            raise ImageError(root, f"extension is not one of {', '.join(IMAGE_EXTENSIONS)}")
        return [root]
    found, visited, stack = [], set(), [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in visited:
                continue
            visited.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            logger.warning(f"skipping {folder}: {exc.strerror or exc}")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if recursive and entry.is_dir():  # follows symlinks
                stack.append(Path(entry.path))
            elif entry.is_file() and Path(entry.name).suffix.lower() in IMAGE_EXTENSIONS:
                found.append(Path(entry.path))
    return sorted(found)


def _to_uint8_array(im: Image.Image, keep_alpha: bool) -> np.ndarray:
    """Any loaded Pillow mode -> writable uint8 HxWx3, or HxWx4 if ``keep_alpha`` and alpha.

    ``I;16*``/``I`` are scaled from 0..65535 (not clipped); ``F`` is clipped as Pillow does.
    """
    if im.mode in _WIDE_MODES:  # 65535 / 257 = 255
        gray = np.asarray(im, np.float64) / (1.0 if im.mode == "F" else 257.0)
        gray = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = np.array(im.convert("RGBA"), dtype=np.uint8)
        return rgba if keep_alpha else np.ascontiguousarray(rgba[..., :3])
    return np.array(im.convert("RGB"), dtype=np.uint8)


def read_image(path: os.PathLike | str, max_pixels: int = 64_000_000,
               keep_alpha: bool = False, max_bytes: int | None = None) -> np.ndarray:
    """Decodes a JPEG/PNG/BMP/WebP file (format from content; first frame if animated).

    Args:
        path: image file.
        max_pixels: refuse a header declaring more pixels, before decoding; Pillow's own
            bomb warning/error also becomes ``ImageError``.
        keep_alpha: return RGBA when the source has alpha or a transparency key.
        max_bytes: refuse a larger file before reading it (None: any size).

    Returns:
        uint8 HxWx3 (HxWx4 with ``keep_alpha``), EXIF orientation applied.

    Raises:
        ImageError: empty, unreadable, not an image, bad format, too large or corrupt.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise ImageError(path, "empty file")
            if max_bytes is not None and size > max_bytes:
                raise ImageError(path, f"{size} bytes exceeds the limit of {max_bytes} bytes")
            with warnings.catch_warnings():  # process-wide filter before Python 3.14
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = Image.open(fh)
            if im.format not in ALLOWED_FORMATS:
                raise ImageError(path, f"format {im.format} is not supported")
            width, height = im.size
            if width * height > max_pixels:
                raise ImageError(path, f"{width}x{height} = {width * height} pixels exceeds "
                                 f"max_pixels={max_pixels}; refused before decoding")
            im.load()  # full decode now, so truncated data raises here
    except (ImageError, MemoryError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(path, f"refused as a decompression bomb: {exc}") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageError(path, "not an image (or not a supported format)") from exc
    except Exception as exc:  # OSError with errno: the file; anything else: Pillow decoding
        if isinstance(exc, OSError) and exc.strerror:
            raise ImageError(path, f"cannot read file ({exc.strerror})") from exc
        raise ImageError(path, f"truncated or corrupt image data ({exc})") from exc
    with contextlib.suppress(Exception):  # corrupt EXIF loses the orientation, not the image
        ImageOps.exif_transpose(im, in_place=True)
    try:
        return _to_uint8_array(im, keep_alpha)
    except (ValueError, OSError) as exc:
        raise ImageError(path, f"unsupported color mode {im.mode} ({exc})") from exc


@contextlib.contextmanager
def atomic_path(path: os.PathLike | str) -> Iterator[Path]:
    """Yields a temp path beside ``path`` (``a.weights.h5`` -> ``.a.tmp-1a2b3c4d.weights.h5``),
    fsynced and ``os.replace``d onto ``path`` only if the block succeeds, else removed with
    ``path`` untouched. ``OSError`` is re-raised as one line naming ``path``."""
    path = Path(path)
    base, dot, rest = path.name.lstrip(".").partition(".")
    tmp = path.with_name(f".{base}.tmp-{secrets.token_hex(4)}{dot}{rest}")
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(2, "nothing was written")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _os_error(path, "cannot write", exc) from exc
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where possible
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: os.PathLike | str, data: bytes) -> Path:
    """Writes ``data`` to ``path`` atomically (see ``atomic_path``); returns ``path``."""
    with atomic_path(path) as tmp, open(tmp, "xb") as fh:
        fh.write(data)
    return Path(path)


def atomic_save_png(path: os.PathLike | str, array: np.ndarray) -> Path:
    """Saves uint8 HxW, HxWx3 or HxWx4 as PNG atomically; returns ``path``; ValueError else."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim < 2 or array.shape[2:] not in ((), (3,), (4,)):
        raise ValueError(f"{path}: need uint8 HxW/HxWx3/HxWx4, got {array.dtype} {array.shape}")
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")
    return Path(path)


def safe_output_path(out_dir: os.PathLike | str, name: str) -> Path:
    """Returns ``out_dir.resolve() / clean_name``, never anywhere else.

    Args:
        out_dir: output folder (need not exist yet).
        name: file name or path; only the base name is kept (``../../x.png`` -> ``x.png``),
            without leading dots, characters other than word, space, ``._-+,()`` made ``_``.

    Raises:
        ValueError: ``out_dir`` is a symlink, the target resolves outside it, or no name left.
    """
    out_dir = Path(out_dir)
    if out_dir.is_symlink():
        raise ValueError(f"{out_dir}: output folder is a symlink (to {os.readlink(out_dir)})")
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", str(name)))[-1]
    clean = _ODD_CHARS.sub("_", base).strip(" ").lstrip(".")
    stem, ext = os.path.splitext(clean)
    clean = stem.encode()[:200].decode(errors="ignore") + ext[:20]  # names cap at 255 bytes
    if not stem:
        raise ValueError(f"{name!r}: no usable file name left after sanitising")
    root = out_dir.resolve()
    target = root / clean
    if target.resolve().parent != root:
        raise ValueError(f"{target}: resolves to {target.resolve()}, outside {root}")
    return target


def check_writable_dir(path: os.PathLike | str) -> Path:
    """Creates ``path`` (``mkdir -p``) and proves a file can be written there; returns it.

    Raises ``OSError("<path>: not writable (<reason>)")`` (one line) otherwise."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _os_error(path, "not writable", exc) from exc
    return path


def read_metadata(path: os.PathLike | str) -> dict:
    """The colour profile and EXIF of an image file, to carry over to its upscaled copy.

    Returns ``{"icc_profile": bytes, "exif": bytes}`` with only the keys the file has. The
    EXIF orientation is reset to 1, since :func:`read_image` already applied it to the
    pixels. Metadata that cannot be read is left out, never an error.
    """
    found = {}
    with contextlib.suppress(Exception), Image.open(path) as im:
        if im.info.get("icc_profile"):
            found["icc_profile"] = im.info["icc_profile"]
        exif = im.getexif()
        if exif:
            exif[0x0112] = 1  # Orientation: pixels are already upright
            found["exif"] = exif.tobytes()
    return found


SAVE_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}


def atomic_save_image(path: os.PathLike | str, array: np.ndarray, quality: int = 95,
                      metadata: dict | None = None, png_compression: int = 6) -> Path:
    """Saves uint8 HxWx3 or HxWx4 atomically as PNG, JPEG or WebP (from the suffix of
    ``path``), with ``quality`` for JPEG and WebP, zlib level ``png_compression`` (0-9)
    for PNG, and ``metadata`` from :func:`read_metadata`; returns ``path``.

    Raises:
        ValueError: a suffix other than .png/.jpg/.webp, alpha for JPEG, or a bad array.
    """
    path, array = Path(path), np.asarray(array)
    fmt = SAVE_FORMATS.get(path.suffix.lower().lstrip("."))
    if fmt is None:
        raise ValueError(f"{path}: can save only {', '.join(SAVE_FORMATS)}")
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"{path}: need uint8 HxWx3/HxWx4, got {array.dtype} {array.shape}")
    if fmt == "JPEG" and array.shape[2] == 4:
        raise ValueError(f"{path}: JPEG has no alpha channel; use png or webp")
    extra = {"quality": quality} if fmt != "PNG" else {"compress_level": png_compression}
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format=fmt, **extra, **(metadata or {}))
    return path
