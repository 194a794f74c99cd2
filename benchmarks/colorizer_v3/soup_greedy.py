# Run from the repository root: python benchmarks/colorizer_v3/soup_greedy.py
"""Validation photos only (session 6): which further ingredient improves the soup of version 2 and the
photo-heavy run's kept checkpoint, at version 2's card settings (no mirror)."""
import json, time
from pathlib import Path
import numpy as np
from colorize_utils.runtime import inference, networks
from colorize_utils.colorizer import photo_eval
from colorize_utils.binning import load_binning

t0 = time.time()
shipped = inference.default_colorizer()
card = shipped.card
runs = Path("results/colorizer")
v2 = networks.load_model(runs / "photo_run/model.keras")
heavy = networks.load_model(runs / "photo_heavy_run/model.keras")
heavy_last = networks.load_model(runs / "photo_run/model.keras")
heavy_last.load_weights(runs / "photo_heavy_run/backup/latest.weights.h5", skip_mismatch=True)
print("heavy_last differs from v2:", not np.allclose(heavy_last.get_weights()[0], v2.get_weights()[0]),
      "from heavy:", not np.allclose(heavy_last.get_weights()[0], heavy.get_weights()[0]), flush=True)
ingredients = {"v2": v2, "heavy": heavy, "heavy_last": heavy_last}


def soup(weighting):
    model = networks.load_model(runs / "photo_run/model.keras")
    total = sum(weighting.values())
    weights = {n: ingredients[n].get_weights() for n in weighting}
    model.set_weights([sum(weighting[n] * weights[n][i] for n in weighting) / total for i in range(len(v2.get_weights()))])
    return model


run_config = json.loads((runs / "photo_run/config.json").read_text())
bins = load_binning(runs / "photo_run/bins.json").with_prior_correction(
    card["default_decoding"]["prior_correction_alpha"], run_config["rebalance_lambda"], run_config["soft_sigma"])
soups = {"heavy_alone": {"heavy": 1}, "v2+heavy": {"v2": 1, "heavy": 1}, "v2+heavy+heavy_last": {"v2": 1, "heavy": 1, "heavy_last": 1},
         "v2+2heavy": {"v2": 1, "heavy": 2}}
photos = photo_eval.calibration_subset(photo_eval.split_photos("../shared/data/photos", 1000, 1000, 42, 160)["val"])
outputs = {"version2": photo_eval.colorize_all(photos, shipped)}
for name, weighting in soups.items():
    outputs[name] = photo_eval.colorize_all(photos, inference.Colorizer(soup(weighting), bins, runs / "photo_run/model.keras",
                                                                        card={"default_decoding": card["default_decoding"]}))
comparison = photo_eval.compare(photos, outputs, np.asarray(card["train_ab_mean"]), references=("gray", "version2"), keys=("psnr", "auc"))
for row in comparison["means"]:
    print(row["model"], round(row["psnr"], 3), round(row["auc"], 4), round(row["colorfulness"], 1), flush=True)
for row in comparison["intervals"]:
    if row["reference"] == "version2":
        print(row["method"], row["metric"], f"{row['difference']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}")
(Path("results/colorizer/soup_probe") / "greedy.json").write_text(json.dumps({"soups": soups, **comparison, "seconds": time.time() - t0}, indent=1, default=float))
print("seconds", time.time() - t0)
