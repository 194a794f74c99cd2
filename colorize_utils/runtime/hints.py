"""A user's color hints: points (x, y, color) that steer a hint colorizer (user-guided colorization).

A hint is a pixel of the input image, in its own pixel coordinates (x across, y down, from 0), and a color,
an RGB triple (0..255) or "#rrggbb". Only the color's a and b (Lab) are used: the photo keeps its own
lightness. `hint_planes()` turns hints into the three planes a hint model takes at its working resolution
(encoder_colorizer.build_encoder_colorizer's `hint_scales`): hint a and b over HINT_AB_SCALE, and a mask.
JSON files hold a list of {"x": .., "y": .., "color": "#rrggbb"} (or of [x, y, color]), optionally under
a "hints" key; `hints_to_json()` writes that form.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from colorize_utils.color import uint8_rgb_to_lab_np
from colorize_utils.runtime.encoder_colorizer import HINT_AB_SCALE

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


class Hint(NamedTuple):
    """One hint: image pixel (x, y) and its color as an sRGB triple of ints in 0..255."""

    x: float
    y: float
    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        """The color as "#rrggbb"."""
        return "#" + "".join(f"{c:02x}" for c in self.rgb)

    @property
    def ab(self) -> tuple[float, float]:
        """The color's Lab a and b."""
        lab = uint8_rgb_to_lab_np(np.asarray(self.rgb, np.uint8)[None])[0]
        return float(lab[1]), float(lab[2])


def parse_color(color) -> tuple[int, int, int]:
    """An RGB triple of ints in 0..255 from "#rrggbb" (or "rrggbb") or a sequence of three numbers in 0..255;
    ValueError that says which forms are accepted otherwise."""
    if isinstance(color, str):
        match = _HEX.match(color.strip())
        if not match:
            raise ValueError(f"color {color!r} is not '#rrggbb'; give a hex color such as '#c0392b' or an RGB "
                             "triple such as (192, 57, 43).")
        value = match.group(1)
        return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))
    try:
        values = [float(c) for c in color]
    except (TypeError, ValueError):
        raise ValueError(f"color {color!r} is neither '#rrggbb' nor an RGB triple of numbers in 0..255.") from None
    if len(values) != 3 or not all(np.isfinite(values)) or min(values) < 0 or max(values) > 255:
        raise ValueError(f"color {color!r} must be three numbers in 0..255 (R, G, B) or '#rrggbb'.")
    return tuple(int(round(c)) for c in values)


def check_hints(hints, height: int, width: int) -> list[Hint]:
    """Hints as given to colorize() ((x, y, color) items, Hint or dicts with x, y, color) -> [Hint], each inside
    a height x width image; a ValueError names the first bad hint, what is wrong and the fix."""
    if hints is None:
        return []
    if isinstance(hints, (str, bytes)) or not isinstance(hints, Sequence) and not hasattr(hints, "__iter__"):
        raise ValueError(f"hints must be a list of (x, y, color) items; got {type(hints).__name__}.")
    checked = []
    for number, item in enumerate(hints):
        if isinstance(item, dict):
            missing = {"x", "y", "color"} - set(item)
            if missing:
                raise ValueError(f"hint {number} ({item}) lacks {sorted(missing)}: give x, y and color.")
            item = (item["x"], item["y"], item["color"])
        if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != 3:
            raise ValueError(f"hint {number} ({item!r}) must be (x, y, color), e.g. (120, 80, '#c0392b').")
        x, y, color = item
        try:
            x, y = float(x), float(y)
        except (TypeError, ValueError):
            raise ValueError(f"hint {number}: x and y must be numbers (pixels); got {item[0]!r}, {item[1]!r}.") from None
        if not (np.isfinite(x) and np.isfinite(y) and 0 <= x < width and 0 <= y < height):
            raise ValueError(f"hint {number} at (x={x:g}, y={y:g}) is outside the {width} x {height} image: x must "
                             f"be in [0, {width}) and y in [0, {height}) (x across, y down, in the image's pixels).")
        try:
            rgb = parse_color(color)
        except ValueError as error:
            raise ValueError(f"hint {number}: {error}") from None
        checked.append(Hint(x, y, rgb))
    return checked


def parse_hint_text(text: str) -> tuple[float, float, str]:
    """'120,80,#c0392b' (the command line's --hint) -> (120.0, 80.0, '#c0392b')."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) == 5:  # x,y,r,g,b
        parts = [parts[0], parts[1], tuple(parts[2:])]
    if len(parts) != 3:
        raise ValueError(f"--hint {text!r} must be X,Y,#RRGGBB (or X,Y,R,G,B), e.g. 120,80,#c0392b.")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"--hint {text!r}: X and Y must be numbers (pixels), e.g. 120,80,#c0392b.") from None
    if isinstance(parts[2], str):
        return x, y, parts[2]
    try:
        return x, y, tuple(float(v) for v in parts[2])
    except ValueError:
        raise ValueError(f"--hint {text!r} must be X,Y,#RRGGBB (or X,Y,R,G,B with numbers 0..255), e.g. "
                         "120,80,#c0392b.") from None


def read_hints_file(path: str | os.PathLike) -> list:
    """The hints in a JSON file (a list, or {"hints": [...]}) as (x, y, color) items, unchecked against an
    image; ValueError naming the file and the problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read the hints file {path}: {error.strerror or error}.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"the hints file {path} is not valid JSON ({error}); write a list of "
                         '{"x": 120, "y": 80, "color": "#c0392b"} items.') from None
    if isinstance(data, dict):
        if "hints" not in data:
            raise ValueError(f"the hints file {path} holds an object without a 'hints' list; write a list of "
                             '{"x": .., "y": .., "color": ..} items, or {"hints": [...]}.')
        data = data["hints"]
    if not isinstance(data, list):
        raise ValueError(f"the hints file {path} must hold a list of hints; got {type(data).__name__}.")
    return data


def hints_to_json(hints: Sequence[Hint]) -> str:
    """Hints as the JSON text read_hints_file reads back."""
    return json.dumps({"hints": [{"x": h.x, "y": h.y, "color": h.hex} for h in hints]}, indent=1)


def hint_planes(hints: Sequence[Hint], image_shape: tuple[int, int], working_shape: tuple[int, int],
                patch: int = 1) -> np.ndarray:
    """(h, w, 3) float32 planes for a hint model at working size (h, w) of an image of `image_shape` (H, W):
    each hint's a and b (over HINT_AB_SCALE) and a mask of 1 on a `patch` x `patch` square at its place.
    A later hint on the same pixels replaces an earlier one."""
    height, width = image_shape[:2]
    work_h, work_w = working_shape
    planes = np.zeros((work_h, work_w, 3), np.float32)
    for hint in hints:
        # pixel centres map to pixel centres: (x + 0.5) * w / W - 0.5
        col = int(np.clip(np.floor((hint.x + 0.5) * work_w / width), 0, work_w - 1))
        row = int(np.clip(np.floor((hint.y + 0.5) * work_h / height), 0, work_h - 1))
        top, left = max(0, row - (patch - 1) // 2), max(0, col - (patch - 1) // 2)
        a, b = hint.ab
        planes[top:top + patch, left:left + patch] = (a / HINT_AB_SCALE, b / HINT_AB_SCALE, 1.0)
    return planes


def mark_hints(rgb: np.ndarray, points: Sequence[Hint], size: int = 3) -> np.ndarray:
    """The image with each point drawn as a small square of its color in a white-black frame."""
    out = rgb.copy()
    for point in points:
        x, y = int(point.x), int(point.y)
        for ring, value in ((size + 2, 0), (size + 1, 255)):
            out[max(0, y - ring):y + ring + 1, max(0, x - ring):x + ring + 1] = value
        out[max(0, y - size):y + size + 1, max(0, x - size):x + size + 1] = point.rgb
    return out


def guided_spread(lightness: np.ndarray, hints: Sequence[Hint], radius_share: float, eps: float,
                  with_ab: bool = False) -> tuple[np.ndarray, int]:
    """What hint_reach and propagate_ab share: the hints' mask (preceded, `with_ab`, by a x mask and b x mask)
    guided-filtered by L (H x W, 0..100) with radius `radius_share` x the longer side and `eps` on (L/100)^2, as
    H x W x C float32, and that radius in pixels. Hints must be given."""
    import cv2

    height, width = lightness.shape
    sparse = np.zeros((height, width, 3 if with_ab else 1), np.float32)
    for hint in hints:
        sparse[int(hint.y), int(hint.x)] = (*hint.ab, 1.0) if with_ab else 1.0
    radius = max(1, int(round(radius_share * max(height, width))))
    filtered = cv2.ximgproc.guidedFilter(np.asarray(lightness, np.float32) / 100.0, sparse, radius, float(eps))
    return filtered.reshape(height, width, -1), radius


def hint_reach(lightness: np.ndarray, hints: Sequence[Hint], radius_share: float, eps: float) -> np.ndarray:
    """Where the hints reach, edge-aware: the hints' mask guided-filtered by L (radius `radius_share` x the
    longer side, `eps` on (L/100)^2) times the window's pixel count, clipped to [0, 1]. In a flat area a lone
    hint gives a tent: 1 at the hint, falling linearly to 0 at twice the radius; across an edge of L it falls
    much sooner. H x W x 1 float32; no hints: 0."""
    if not hints:
        return np.zeros(lightness.shape + (1,), np.float32)
    spread, radius = guided_spread(lightness, hints, radius_share, eps)
    return np.clip(spread * (2 * radius + 1) ** 2, 0.0, 1.0).astype(np.float32)


def propagate_ab(lightness: np.ndarray, hints: Sequence[Hint], radius_share: float, eps: float) -> np.ndarray:
    """The hints' ab spread over the image edge-aware, without a network (the classic "propagate the scribbles"
    step): normalized convolution with OpenCV's guided filter led by L (H x W, 0..100), ab = GF(ab x mask) /
    GF(mask), radius `radius_share` x the longer side, `eps` on (L/100)^2. Where the filter gives (almost) no
    support, the hints' mean ab; no hints: 0 (gray). Returns H x W x 2 float32."""
    if not hints:
        return np.zeros(lightness.shape + (2,), np.float32)
    filtered, radius = guided_spread(lightness, hints, radius_share, eps, with_ab=True)
    support = filtered[..., 2:3]
    fallback = np.mean([hint.ab for hint in hints], axis=0).astype(np.float32)
    floor = 0.05 / (np.pi * radius * radius)  # about a twentieth of one point's weight spread over the window
    ab = np.where(support > floor, filtered[..., :2] / np.maximum(support, floor), fallback)
    return np.clip(ab, -110.0, 110.0).astype(np.float32)
