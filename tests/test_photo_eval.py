"""Scoring on photos (photo_eval, evaluation.photo_table): the rule that picks the defaults, the subset it is
applied on, and gray's better side of the 0 bin edge photo by photo."""

import numpy as np

from colorize_utils import evaluation, photo_eval


def row(psnr, auc, colorfulness, truth=30.0):
    return {"psnr": psnr, "auc": auc, "colorfulness": colorfulness, "truth_colorfulness": truth}


def test_the_rule_prefers_a_qualifying_candidate_and_weighs_fidelity_against_vividness():
    gray = row(23.0, 0.90, 0.1)
    faithful_but_faint = row(23.6, 0.905, 12.0)  # PSNR and AuC above gray, but under 0.6 x the truth's colors
    vivid = row(22.9, 0.902, 24.0)  # within 0.3 dB of gray, above its AuC, 0.8 x the truth's colors
    too_lossy = row(22.5, 0.91, 30.0)  # the truth's colorfulness, but 0.5 dB below gray
    rows = [{**candidate, "name": name, **dict(zip(("qualifies", "score"), photo_eval.rule_score(candidate, gray)))}
            for name, candidate in (("faint", faithful_but_faint), ("vivid", vivid), ("lossy", too_lossy))]
    assert [r["qualifies"] for r in rows] == [False, True, False]
    winner, qualified = photo_eval.choose(rows)
    assert winner["name"] == "vivid" and qualified
    # with no qualifying candidate, the best score of all wins, and the caller is told
    winner, qualified = photo_eval.choose([r for r in rows if r["name"] != "vivid"])
    assert not qualified and winner["score"] == max(r["score"] for r in rows if r["name"] != "vivid")


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
