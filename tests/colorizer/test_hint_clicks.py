"""colorizer/hint_clicks.py: one click on one object, its reach inside the object and its leak outside."""

import numpy as np
import pytest

from colorize_utils.color import uint8_rgb_to_lab_np
from colorize_utils.colorizer import hint_clicks
from colorize_utils.runtime import inference


def square_on_blue() -> np.ndarray:
    """A red square (a tenth of the photo) on a blue background."""
    image = np.zeros((100, 120, 3), np.uint8)
    image[:] = (40, 60, 200)
    image[30:65, 40:75] = (200, 40, 40)
    return image


def paint(rgb: np.ndarray, mask: np.ndarray, color) -> np.ndarray:
    """`rgb` with the pixels of `mask` given `color`'s ab, their own L kept."""
    lab = uint8_rgb_to_lab_np(rgb)
    target = uint8_rgb_to_lab_np(np.asarray([color], np.uint8))[0, 1:]
    ab = lab[..., 1:].copy()
    ab[mask] = target
    return inference.lab_to_rgb_uint8(lab[..., 0], ab)


def test_the_object_is_the_clicked_region_and_the_recolor_another_hue():
    image = square_on_blue()
    click = None
    for seed in range(20):  # a seed on the background gives a region too large: the check draws again
        click = hint_clicks.object_click(image, seed)
        if click is not None:
            break
    assert click is not None
    assert click.region[45, 55] and not click.region[5, 5] and not click.outside[45, 55]
    assert click.region.sum() == pytest.approx(35 * 35, rel=0.15)
    assert click.region[int(click.truth.y), int(click.truth.x)]
    assert not click.outside[30:65, 40:75].any() and click.outside[5, 5]  # the band around the object is left out
    truth_ab, recolor_ab = np.asarray(click.truth.ab), np.asarray(click.recolor.ab)
    assert np.linalg.norm(truth_ab - uint8_rgb_to_lab_np(image)[45, 55, 1:]) < 5
    cosine = truth_ab @ recolor_ab / (np.linalg.norm(truth_ab) * np.linalg.norm(recolor_ab))
    assert cosine <= 0.05  # at least 90 degrees of hue away
    assert hint_clicks.object_click(np.full((50, 50, 3), 128, np.uint8), 0) is None  # one flat region: no object


def test_reach_and_leak_tell_a_local_change_from_a_global_tint():
    image = square_on_blue()
    click = next(c for c in (hint_clicks.object_click(image, s) for s in range(20)) if c is not None)
    before = paint(image, np.ones(image.shape[:2], bool), (128, 128, 128))  # a gray guess everywhere
    hint = click.recolor
    local = paint(before, click.region, hint.rgb)
    tint = paint(before, np.ones(image.shape[:2], bool), hint.rgb)
    kept = hint_clicks.click_scores(before, local, click, hint, image)
    tinted = hint_clicks.click_scores(before, tint, click, hint, image)
    nothing = hint_clicks.click_scores(before, before, click, hint, image)
    assert kept["reach"] == pytest.approx(1.0, abs=0.1) and kept["leak"] < 1
    assert tinted["reach"] == pytest.approx(1.0, abs=0.1) and tinted["leak"] > 20
    assert nothing["reach"] == pytest.approx(0.0, abs=0.02) and nothing["leak"] == 0
    assert kept["error_outside_after"] == pytest.approx(kept["error_outside_before"], abs=1)


def test_the_check_scores_every_method_on_the_same_clicks():
    photos = {f"p{i}": np.roll(square_on_blue(), 9 * i, axis=1) for i in range(3)}

    def local(rgb, hints):
        if not hints:
            return rgb
        click = hint_clicks.object_click(rgb, hint_clicks.CLICK_SEED + list(photos).index(
            next(n for n, p in photos.items() if p is rgb)))
        return paint(rgb, click.region, hints[0][2])

    def tint(rgb, hints):
        return paint(rgb, np.ones(rgb.shape[:2], bool), hints[0][2]) if hints else rgb

    result = hint_clicks.targeted_check(photos, {"local": local, "tint": tint}, reference="local", log=lambda *_: None)
    assert result["photos"] + result["skipped"] == 3 and result["photos"] >= 2
    assert result["means"]["local"]["recolor_leak"] < 1 < 20 < result["means"]["tint"]["recolor_leak"]
    assert result["comparisons"]["tint"]["recolor_leak"]["verdict"] == "worse"
