# Run from the repository root: python results/colorizer/photo_run_stage2/quick_validation.py (writes quick_validation.json)
"""Stage 2's kept checkpoint against the shipped version 2 on validation only (500 calibration photos, 1000 Tiny
val images), both at version 2's card settings (and stage 2 at the small-image grid points), paired intervals."""
import json, sys, time
from pathlib import Path
import numpy as np
from colorize_utils import inference, photo_eval, models, metrics, shipped_model
from colorize_utils.binning import load_binning
from colorize_utils.config import ColorizerConfig

t0 = time.time()
shipped = inference.default_colorizer()
card = shipped.card
run = Path("results/colorizer/photo_run_stage2")
model = models.load_model(run / "model.keras")
bins = load_binning(run / "bins.json").with_prior_correction(0.75, 0.5, 5.0)
stage2 = inference.Colorizer(model, bins, run / "model.keras", card={"default_decoding": card["default_decoding"]})
photos = photo_eval.split_photos("../shared/data/photos", 1000, 1000, 42, 160)
val = photo_eval.calibration_subset(photos["val"])
mean = np.asarray(card["train_ab_mean"])
out = {}
for name, photo_set in (("photo_val_500", val),
                        ("tiny_val_1000", photo_eval.as_photos(np.load(run / "data" / "val.npy"), "tiny_val_"))):
    outputs = {m: photo_eval.colorize_all(photo_set, c) for m, c in (("stage2", stage2), ("version2", shipped))}
    comparison = photo_eval.compare(photo_set, outputs, mean, references=("gray", "version2"), keys=("psnr", "auc"))
    out[name] = comparison
    for row in comparison["means"]:
        print(name, row["model"], round(row["psnr"], 3), round(row["auc"], 4), round(row["colorfulness"], 1),
              round(row["truth_colorfulness"], 1), flush=True)
    for row in comparison["intervals"]:
        print(name, row["method"], "vs", row["reference"], row["metric"],
              f"{row['difference']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}", flush=True)
out["seconds"] = time.time() - t0
import subprocess
out["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
out["kept_block"] = "block 5 (index 4) of stage 2, lowest photo validation loss 3.2254"
Path("results/colorizer/photo_run_stage2/quick_validation.json").write_text(json.dumps(out, indent=1, default=float))
print("seconds", out["seconds"])
