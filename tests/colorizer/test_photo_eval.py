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


def test_split_photos_names_photos_by_their_path_in_the_folder_even_when_they_are_links(tmp_path):
    from PIL import Image

    originals, linked = tmp_path / "originals", tmp_path / "photos"
    for source in ("a", "b"):
        (originals / source).mkdir(parents=True)
        (linked / source).mkdir(parents=True)
        for number in range(5):
            original = originals / source / f"{number}.png"
            pixels = np.random.default_rng(number).integers(0, 256, (20, 30, 3), dtype=np.uint8)  # color: gray is skipped
            Image.fromarray(pixels).save(original)
            (linked / source / f"{number}.png").symlink_to(original)
    photos = photo_eval.split_photos(linked, 2, 2, seed=0, image_size=16)
    names = sorted(photos["val"]) + sorted(photos["test"])
    assert len(names) == 4 and all(name.split("/")[0] in ("a", "b") and name.endswith(".png") for name in names)
    assert all(photos["val"][name].shape == (20, 30, 3) for name in photos["val"])
