"""Shared fixtures: the real data in ../shared/data (skipped with a reason when absent), and image files made
here for the tests of several modules."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize_utils import config
from helpers import photo

SHARED_DATA = Path(os.environ.get("COLORIZE_SHARED_DATA", config.PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data with real Tiny ImageNet and CIFAR-10 files."""
    if not (SHARED_DATA / "tiny-imagenet-200" / "train").is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (set COLORIZE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_imagenet_files(shared_data) -> list[Path]:
    """A few hundred real 64x64 Tiny ImageNet JPEGs, from many classes."""
    return sorted((shared_data / "tiny-imagenet-200" / "train").glob("*/images/*_1*.JPEG"))[:400]


def _photo(height=48, width=64):
    import skimage.data

    return np.asarray(Image.fromarray(skimage.data.coffee()).resize((width, height), Image.BILINEAR))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's calling card)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (len(payload).to_bytes(4, "big") + kind + payload
                + zlib.crc32(kind + payload).to_bytes(4, "big"))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")  # read only: made once for every file that uses it
def inputs(tmp_path_factory):
    """Photos of every size, mode and format, for the command line and colorize()."""
    folder = tmp_path_factory.mktemp("inputs")
    astronaut = photo(120, 90)
    Image.fromarray(astronaut).convert("L").save(folder / "gray.png")
    Image.fromarray(astronaut).save(folder / "color.jpg", quality=90)
    rgba = np.dstack([astronaut, np.tile(np.linspace(0, 255, 90, dtype=np.uint8), (120, 1))])
    Image.fromarray(rgba, "RGBA").save(folder / "alpha.png")
    sixteen = (np.asarray(Image.fromarray(astronaut).convert("L"), np.uint16) * 257)
    Image.fromarray(sixteen).save(folder / "sixteen.png")
    assert Image.open(folder / "sixteen.png").mode.startswith("I")
    Image.fromarray(photo(2000, 3000)).save(folder / "large.jpg", quality=85)
    Image.fromarray(photo(9, 17)).save(folder / "small.png")
    return folder


@pytest.fixture(scope="session")  # read only: made once for every file that uses it
def corpus(tmp_path_factory):
    """A bad-input corpus (made here, nothing committed): the files test_cli.CORPUS lists, a symlink loop
    and a folder without images."""
    folder = tmp_path_factory.mktemp("corpus")
    rgb = _photo()
    (folder / "empty.jpg").write_bytes(b"")
    Image.fromarray(rgb).save(folder / "whole.jpg", quality=90)
    whole = (folder / "whole.jpg").read_bytes()
    (folder / "whole.jpg").unlink()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    Image.fromarray(rgb).save(folder / "corrupt_chunk.png")
    raw = bytearray((folder / "corrupt_chunk.png").read_bytes())
    raw[60:80] = b"\xff" * 20  # inside the image data: its CRC no longer matches
    (folder / "corrupt_chunk.png").write_bytes(bytes(raw))
    (folder / "text.jpg").write_text("this is a text file, not a JPEG")
    Image.fromarray(rgb[:1, :1]).save(folder / "one_pixel.png")
    Image.fromarray(np.asarray(Image.fromarray(rgb).resize((200, 2)))).save(folder / "thin.png")
    Image.new("RGB", (12000, 9000), (90, 140, 60)).save(folder / "huge.jpg", quality=50)
    (folder / "bomb.png").write_bytes(_png_claiming(100_000, 100_000))
    Image.fromarray((np.asarray(Image.fromarray(rgb).convert("L"), np.uint16) * 257)).save(folder / "sixteen_bit.png")
    Image.fromarray(rgb).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE).save(folder / "palette.gif")
    frames = [Image.fromarray(np.roll(rgb, shift, axis=1)) for shift in (0, 8, 16)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
    rgba = Image.fromarray(rgb).convert("RGBA")
    rgba.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))))
    rgba.save(folder / "alpha.png")
    Image.fromarray(rgb).convert("L").save(folder / "gray.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    Image.fromarray(rgb).save(folder / "rotated.jpg", exif=exif.tobytes())
    Image.fromarray(rgb).save(folder / "with spaces ünïcode.png")
    (folder / "loop").mkdir()
    os.symlink(folder / "loop", folder / "loop" / "again")  # a symlink loop
    (folder / "no_images").mkdir()
    return folder
