"""Image files and arrays as uint8 RGB: decoding (alpha on white, palette, CMYK, 16-bit), the size limit, the
checks a candidate training image gets (unreadable, gray), and centre squares."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps


def integer_to_uint8(array: np.ndarray) -> np.ndarray:
    """Integer pixels as uint8: 16-bit ones (any value above 255) scaled from 0..65535, others from 0..255."""
    peak = 65535.0 if array.max(initial=0) > 255 else 255.0
    return np.round(np.clip(array.astype(np.float64) / peak, 0, 1) * 255).astype(np.uint8)


# Formats and modes TensorFlow's decode_image reads exactly as we want; anything else goes via PIL.
_TF_FORMATS = {"JPEG", "PNG", "BMP"}
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_GRAY_SPREAD = 3  # an RGB image whose 99th-percentile max-min channel spread is <= this is gray

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file must fail to load, so it can be skipped
# Larger images are refused from their header, before decoding (8000 x 8000 fits). PIL warns above its own
# limit and refuses twice it; ours is documented and checked first, with a clear reason.
MAX_PIXELS = 64_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


# ----------------------------------------------------------------------------- decoding


def pil_to_rgb(image: Image.Image) -> np.ndarray:
    """Any PIL image -> uint8 RGB array: alpha composited on white, palette/CMYK/16-bit converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit (or 32-bit int) gray: scale to 8 bits instead of PIL's clipping convert("L").
        return np.repeat(integer_to_uint8(np.asarray(image))[..., None], 3, axis=-1)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode one image file to uint8 RGB with PIL (first frame of animations)."""
    with Image.open(path) as image:
        image.seek(0)
        image.load()
        return pil_to_rgb(image)


def is_grayscale(rgb: np.ndarray) -> bool:
    """True when an RGB image carries no color to learn (all channels about equal)."""
    spread = rgb.max(axis=-1).astype(np.int16) - rgb.min(axis=-1).astype(np.int16)
    return bool(np.percentile(spread, 99) <= _GRAY_SPREAD)


@dataclass
class ScanResult:
    """What a look at one image found: 'ok', 'corrupt' or 'gray', and whether TF can decode it."""

    status: str
    needs_pil: bool = False
    mode: str = ""
    error: str = ""
    image_format: str = ""
    shape: tuple = ()  # (height, width)


def scan_image(item) -> ScanResult:
    """Check one candidate (a file path or an in-memory uint8 array) before it joins a split."""
    if isinstance(item, np.ndarray):
        return ScanResult("gray" if is_grayscale(item) else "ok", mode="array", shape=item.shape[:2])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked just below
            opened = Image.open(item)
        with opened as image:
            mode, image_format = image.mode, image.format
            shape = (image.height, image.width)  # as stored, before any reduced decoding
            if image.width * image.height > MAX_PIXELS:
                return ScanResult("corrupt", error=f"{image.width}x{image.height} pixels is above the limit of "
                                                   f"{MAX_PIXELS:,}")
            image.seek(0)
            # A check needs no full resolution: JPEGs decode at up to 1/8 scale (bounded memory for huge files).
            image.draft("RGB", (512, 512))
            image.load()
            rgb = pil_to_rgb(image)
    except Exception as error:  # any decoder failure means the file is unusable: skip and count
        return ScanResult("corrupt", error=f"{type(error).__name__}: {error}")
    needs_pil = not (image_format in _TF_FORMATS and mode in ("RGB", "L"))
    gray = mode in _GRAY_MODES or is_grayscale(rgb)
    return ScanResult("gray" if gray else "ok", needs_pil=needs_pil, mode=mode,
                      image_format=image_format, shape=shape)


def fit_to_size(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize the shorter side to `size` and centre-crop to size x size (no-op when already so)."""
    height, width = rgb.shape[:2]
    if (height, width) == (size, size):
        return rgb
    scale = size / min(height, width)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    resized = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.BILINEAR))
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return resized[top:top + size, left:left + size]


class UnusableImage(ValueError):
    """A file that cannot be colorized, with the reason in words."""


def read_image_file(path: str | os.PathLike) -> np.ndarray:
    """A file -> uint8 RGB as a viewer shows it (EXIF orientation applied, alpha on white, first frame).

    Raises UnusableImage with a plain reason (unreadable, truncated, too large, not an image).
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            # PIL warns between its limit and twice it; the size is checked just below, with a clear message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(path)
        with opened as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnusableImage(f"{width}x{height} pixels is above the limit of {MAX_PIXELS:,}; downscale it")
            image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image) or image
            return pil_to_rgb(image)
    except UnusableImage:
        raise
    except Image.DecompressionBombError as error:
        raise UnusableImage(f"its header claims more than {2 * MAX_PIXELS:,} pixels, above the limit of "
                            f"{MAX_PIXELS:,} (a possible decompression bomb); refused") from error
    except FileNotFoundError as error:
        raise UnusableImage("file not found") from error
    except PermissionError as error:
        raise UnusableImage("no permission to read it") from error
    except IsADirectoryError as error:
        raise UnusableImage("is a directory") from error
    except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError) as error:
        reason = "not an image PIL can read" if isinstance(error, Image.UnidentifiedImageError) else \
            f"unreadable or truncated ({type(error).__name__}: {error})"
        raise UnusableImage(reason) from error
