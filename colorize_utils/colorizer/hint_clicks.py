"""One click on one object: does the click change that object, and leave the rest of the photo alone?

The random-point curve (hint_release.hint_curve) reveals points of the truth scattered over a photo. Such
points also tell the photo's overall color cast, so the curve rewards a model that tints the whole photo with
its hints. A user instead clicks one object whose color is wrong and expects that object, and only that
object, to change. This check places such a click:

- The object is a region of the truth: the pixels connected to a seed whose ab (smoothed) lies within
  REGION_TOLERANCE of the seed's, covering REGION_SHARES of the photo (`object_click`; the seed is drawn
  at random, with CLICK_SEED, until a region fits). The click is the region's most interior pixel.
- Two clicks are scored, each alone: the truth's color there (the region's mean ab at the click's L), and
  a recolor (chroma RECOLOR_CHROMA, hue at least 90 degrees away from the truth's), as when a user wants
  another color than the model's.
- Per photo and method, against the same method without hints (`click_scores`): `reach`, how far the
  region's ab moved towards the hint (1: all the way); `leak`, the mean ab change outside the region (a
  band of MARGIN_SHARE x the short side around it is left out: boundaries are the model's to place);
  and for the truthful click the ab error to the truth inside and outside, before and after.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np

from colorize_utils import metrics
from colorize_utils.color import uint8_rgb_to_lab_np
from colorize_utils.runtime import hints as hint_points
from colorize_utils.runtime import inference

REGION_TOLERANCE = 10.0  # ab units
REGION_SHARES = (0.03, 0.35)  # the object's share of the photo
MARGIN_SHARE = 0.03
RECOLOR_CHROMA = 45.0
CLICK_SEED = 35
SEED_TRIES = 60

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Method = Callable[[np.ndarray, list], np.ndarray]  # (rgb, hints) -> rgb


class Click(NamedTuple):
    """One object of a photo and the two clicks on it."""

    region: np.ndarray  # H x W bool: the object
    outside: np.ndarray  # H x W bool: the rest of the photo, less a band around the object
    truth: hint_points.Hint  # the truth's color at the click
    recolor: hint_points.Hint  # another color at the same place


def object_click(rgb: np.ndarray, seed: int) -> Click | None:
    """A click on one object of `rgb` (module docstring), or None when no seed of SEED_TRIES gives a region of
    REGION_SHARES of the photo."""
    import cv2

    lab = uint8_rgb_to_lab_np(rgb)
    height, width = rgb.shape[:2]
    sigma = max(1.0, 0.01 * min(height, width))
    ab = cv2.GaussianBlur(lab[..., 1:].astype(np.float32), (0, 0), sigma)
    rng = np.random.default_rng(seed)
    margin = max(1, int(round(MARGIN_SHARE * min(height, width))))
    for _ in range(SEED_TRIES):
        y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
        close = (np.hypot(*(ab - ab[y, x]).transpose(2, 0, 1)) <= REGION_TOLERANCE).astype(np.uint8)
        _, labels = cv2.connectedComponents(close, connectivity=4)
        region = labels == labels[y, x]
        if not REGION_SHARES[0] <= region.mean() <= REGION_SHARES[1]:
            continue
        inner = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 5)
        cy, cx = np.unravel_index(int(np.argmax(inner)), inner.shape)
        band = cv2.dilate(region.astype(np.uint8), np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) > 0
        mean_ab = lab[region, 1:].mean(axis=0)
        truth = hint_from_lab(float(lab[cy, cx, 0]), mean_ab, cx, cy)
        hue = np.arctan2(mean_ab[1], mean_ab[0])
        # the recolor's hue: at least 90 degrees from the truth's (any hue for a grayish object)
        offset = rng.uniform(np.pi / 2, 3 * np.pi / 2) if np.hypot(*mean_ab) > 8 else rng.uniform(0, 2 * np.pi)
        other = RECOLOR_CHROMA * np.array([np.cos(hue + offset), np.sin(hue + offset)])
        recolor = hint_from_lab(float(np.clip(lab[cy, cx, 0], 30, 80)), other, cx, cy)
        return Click(region, ~band, truth, recolor)
    return None


def hint_from_lab(lightness: float, ab, x: int, y: int) -> hint_points.Hint:
    """A hint at (x, y) whose color is Lab (lightness, a, b), brought into sRGB's gamut."""
    rgb = inference.lab_to_rgb_uint8(np.array([lightness], np.float32), np.asarray(ab, np.float32)[None])[0]
    return hint_points.Hint(float(x), float(y), tuple(int(c) for c in rgb))


def click_scores(before: np.ndarray, after: np.ndarray, click: Click, hint: hint_points.Hint,
                 truth: np.ndarray | None = None) -> dict:
    """`reach` (how far the object's ab moved from `before` towards the hint's ab, pooled over its pixels: the
    sum of each pixel's move along its way to the hint over the sum of its squared way, so the pixels furthest
    from the hint's color weigh most; 1 is all the way), `leak` (the mean ab change outside it) and, given the
    `truth`, the mean ab error to it inside and outside, before and after."""
    ab_before, ab_after = uint8_rgb_to_lab_np(before)[..., 1:], uint8_rgb_to_lab_np(after)[..., 1:]
    towards = np.asarray(hint.ab, np.float32) - ab_before[click.region]
    moved = ab_after[click.region] - ab_before[click.region]
    reach = float(np.sum(moved * towards) / max(np.sum(towards * towards), 1e-6))
    change = np.hypot(*(ab_after - ab_before).transpose(2, 0, 1))
    scores = {"reach": reach, "leak": float(change[click.outside].mean()) if click.outside.any() else 0.0}
    if truth is not None:
        ab_truth = uint8_rgb_to_lab_np(truth)[..., 1:]
        for where, mask in (("inside", click.region), ("outside", click.outside)):
            for when, ab in (("before", ab_before), ("after", ab_after)):
                error = np.hypot(*(ab - ab_truth).transpose(2, 0, 1))
                scores[f"error_{where}_{when}"] = float(error[mask].mean()) if mask.any() else 0.0
    return scores


def targeted_check(photos: dict[str, np.ndarray], methods: dict[str, Method], reference: str | None = None,
                   log: Callable[[str], None] = print) -> dict:
    """Every method on every photo's object click (module docstring): per-photo scores, their means, and, for
    each method against `reference`, paired bootstrap intervals of the differences in leak and reach."""
    clicks = {name: object_click(rgb, CLICK_SEED + index) for index, (name, rgb) in enumerate(photos.items())}
    names = [name for name, click in clicks.items() if click is not None]
    if not names:
        raise ValueError(f"none of the {len(photos)} photos has an object to click (a region of near-constant color "
                         f"covering {REGION_SHARES[0]:.0%}-{REGION_SHARES[1]:.0%} of it): give other or more photos.")
    per_photo: dict[str, dict[str, list]] = {method: {} for method in methods}
    started = time.perf_counter()
    for name in names:  # photos outside, methods inside: methods that share a model share its predictions
        rgb, click = photos[name], clicks[name]
        for method_name, method in methods.items():
            before = method(rgb, [])
            for kind, hint in (("truth", click.truth), ("recolor", click.recolor)):
                after = method(rgb, [(hint.x, hint.y, hint.rgb)])
                for key, value in click_scores(before, after, click, hint, rgb if kind == "truth" else None).items():
                    per_photo[method_name].setdefault(f"{kind}_{key}", []).append(value)
    for method_name, rows in per_photo.items():
        log(f"targeted clicks: {method_name}: " + ", ".join(
            f"{key} {np.mean(values):.2f}" for key, values in rows.items() if "error" not in key))
    log(f"targeted clicks: {len(names)} photos, {len(methods)} methods ({time.perf_counter() - started:.0f} s)")
    means = {method: {key: float(np.mean(values)) for key, values in rows.items()} for method, rows in per_photo.items()}
    comparisons = {}
    if reference is not None:
        for method in methods:
            if method == reference:
                continue
            comparisons[method] = {}
            for key in ("truth_leak", "recolor_leak", "truth_reach", "recolor_reach"):
                difference, low, high = metrics.paired_bootstrap(per_photo[method][key], per_photo[reference][key])
                comparisons[method][key] = {"difference": difference, "low": low, "high": high,
                                            "verdict": metrics.verdict(low, high, higher_is_better="reach" in key)}
    return {"photos": len(names), "skipped": len(photos) - len(names), "names": names, "means": means,
            "reference": reference, "comparisons": comparisons, "per_photo": per_photo,
            "region_tolerance": REGION_TOLERANCE, "region_shares": list(REGION_SHARES), "margin_share": MARGIN_SHARE,
            "recolor_chroma": RECOLOR_CHROMA, "seed": CLICK_SEED}


def click_figure(photos: dict[str, np.ndarray], methods: dict[str, Method], count: int = 6) -> "Figure":
    """One recolor click per photo (`count` photos with an object click, one per source in turn: every kind of
    photo, none picked by eye): the gray input with the click marked and the object outlined | each method
    before and after the click | truth."""
    import itertools

    import cv2

    from colorize_utils.learning.plots import image_grid

    by_source: dict[str, list] = {}
    for index, name in enumerate(photos):
        by_source.setdefault(name.split("/")[0], []).append((index, name))
    order = [item for group in itertools.zip_longest(*by_source.values()) for item in group if item]
    columns: dict[str, list] = {"gray input, the click": []}
    labels = []
    for index, name in order:
        rgb = photos[name]
        click = object_click(rgb, CLICK_SEED + index)  # the same click as targeted_check's
        if click is None:
            continue
        marked = hint_points.mark_hints(np.repeat(inference.gray_of(rgb)[..., None], 3, axis=-1), [click.recolor])
        contours, _ = cv2.findContours(click.region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        columns["gray input, the click"].append(cv2.drawContours(np.ascontiguousarray(marked), contours, -1,
                                                                 (255, 255, 0), 1))
        hints = [(click.recolor.x, click.recolor.y, click.recolor.rgb)]
        for method_name, method in methods.items():
            columns.setdefault(f"{method_name}: before", []).append(method(rgb, []))
            columns.setdefault(f"{method_name}: after", []).append(method(rgb, hints))
        columns.setdefault("truth", []).append(rgb)
        labels.append(name.split("/")[0])
        if len(labels) == count:
            break
    return image_grid(columns, row_labels=labels, cell_size=2.6)


def clicks_table(result: dict) -> list[dict]:
    """targeted_check's result as table rows: per method, the recolor click's reach and leak, the truthful
    click's ab error inside and outside the object (before -> after), and the leak's difference from the
    reference with its 95% interval."""
    rows = []
    for method, means in result["means"].items():
        row = {"method": method, "recolor reach": round(means["recolor_reach"], 2),
               "recolor leak": round(means["recolor_leak"], 2),
               "truthful: error inside": f"{means['truth_error_inside_before']:.1f} -> {means['truth_error_inside_after']:.1f}",
               "truthful: error outside": f"{means['truth_error_outside_before']:.1f} -> "
                                          f"{means['truth_error_outside_after']:.1f}"}
        leak = result.get("comparisons", {}).get(method, {}).get("recolor_leak")
        row[f"leak - {result.get('reference')}"] = (
            f"{leak['difference']:+.2f} [{leak['low']:+.2f}, {leak['high']:+.2f}] {leak['verdict']}" if leak else "")
        rows.append(row)
    return rows
