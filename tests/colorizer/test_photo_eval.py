"""Scoring on photos (photo_eval, evaluation.photo_table): the calibration subset, and gray's better side of the
0 bin edge photo by photo. The calibration itself is colorizer.release's (tests/colorizer/test_release.py)."""

import numpy as np

from colorize_utils.learning import evaluation
from colorize_utils.colorizer import photo_eval


def row(psnr, auc, colorfulness, truth=30.0):
    return {"psnr": psnr, "auc": auc, "colorfulness": colorfulness, "truth_colorfulness": truth}


def test_the_calibration_subset_keeps_every_sources_share():
    photos = {f"{source}/{index:03d}.jpg": None for source, count in (("a", 60), ("b", 30), ("c", 10))
              for index in range(count)}
    subset = photo_eval.calibration_subset(photos, 50)
    by_source = {source: sum(name.startswith(source) for name in subset) for source in "abc"}
    assert len(subset) == 50 and by_source == {"a": 30, "b": 15, "c": 5}


def test_gray_is_scored_on_its_better_side_of_the_zero_edge_photo_by_photo():
    # cool neutrals (a and b slightly below 0): ab = -0.001 lands in their bin, ab = 0 does not
    photo = np.full((16, 16, 3), (118, 122, 128), np.uint8)
    photos = {"cool_1": photo, "cool_2": photo.copy()}
    colorized = {"same_as_gray": {name: np.repeat(np.full((16, 16, 1), 122, np.uint8), 3, -1) for name in photos}}
    means, per_photo = evaluation.photo_table(photos, colorized, np.zeros(2))
    gray_mean = next(r for r in means if r["model"] == "gray")
    gray_rows = [r for r in per_photo if r["model"] == "gray"]
    assert gray_mean["accuracy_10_bins"] == 1.0  # below 0: every pixel in the right bin
    assert [r["accuracy_10_bins"] for r in gray_rows] == [1.0, 1.0]  # and so photo by photo
