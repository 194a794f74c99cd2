"""colorizer/hint_release.py: the revealed points, the propagation baseline without a network, the curve with its
intervals (an oracle hint model from tests/helpers.py, which follows its hints exactly)."""

import numpy as np

from colorize_utils.color import uint8_rgb_to_lab_np
from colorize_utils.colorizer import hint_release
from colorize_utils.runtime import inference
from tests.helpers import oracle_hint_colorizer, photo


def two_halves() -> np.ndarray:
    """A photo whose left half is green and right half blue, with an edge in lightness between them."""
    image = np.zeros((60, 80, 3), np.uint8)
    image[:, :40] = (40, 170, 40)
    image[:, 40:] = (40, 60, 200)
    return image


def test_revealed_points_carry_the_truths_colour_and_repeat_with_their_seed():
    image = photo(60, 80)
    points = hint_release.reveal_points(image, 5, hint_release.point_seed(3, 5))
    assert points == hint_release.reveal_points(image, 5, hint_release.point_seed(3, 5))
    assert points != hint_release.reveal_points(image, 5, hint_release.point_seed(4, 5))
    assert all(tuple(image[int(p.y), int(p.x)]) == p.rgb for p in points)


def test_propagation_spreads_each_point_over_its_own_side_of_an_edge():
    image = two_halves()
    gray = hint_release.propagate_hints(image, [])
    assert np.abs(uint8_rgb_to_lab_np(gray)[..., 1:]).max() < 1.5
    points = [hint_release.hint_points.Hint(10, 30, (40, 170, 40)), hint_release.hint_points.Hint(70, 30, (40, 60, 200))]
    spread = uint8_rgb_to_lab_np(hint_release.propagate_hints(image, points, radius_share=0.25, eps=1e-4))
    truth = uint8_rgb_to_lab_np(image)
    # far from both points, each side takes its own point's colour
    assert np.abs(spread[5, 30, 1:] - truth[5, 30, 1:]).max() < 12
    assert np.abs(spread[55, 50, 1:] - truth[55, 50, 1:]).max() < 12


def test_the_curve_scores_every_method_on_the_same_points_with_intervals():
    photos = {f"p{i}": np.roll(photo(64, 96), 7 * i, axis=1) for i in range(4)}
    automatic = oracle_hint_colorizer()  # with no hints: gray at the oracle's bins
    curve = hint_release.hint_curve(photos, oracle_hint_colorizer(), automatic,
                                    {"radius_share": 0.12, "eps": 1e-3}, (0.0, 0.0), counts=(0, 10))
    first, ten = curve["rows"]
    assert first["points"] == 0 and abs(first["hint_model"] - first["automatic"]) < 1e-9  # no points: no change
    assert ten["hint_model"] > first["hint_model"]  # the oracle colours its points' cells with the truth
    assert {"gray", "mean_color", "propagation"} <= set(ten) and ten["vs_automatic"]["low"] <= ten["vs_automatic"]["high"]
    assert len(hint_release.curve_table(curve)) == 2


def test_the_no_hints_check_compares_with_the_automatic_model_and_applies_its_rule():
    photos = {f"p{i}": np.roll(photo(64, 96), 5 * i, axis=0) for i in range(6)}
    same = hint_release.automatic_check(photos, oracle_hint_colorizer(), oracle_hint_colorizer(), (0.0, 0.0),
                                        log=lambda *_: None)
    assert same["not_worse"] and set(same["verdicts"]) == {"psnr", "auc"}
