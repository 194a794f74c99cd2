# Run from the repository root: python benchmarks/colorizer_v3/quick_validation.py RUN_DIR (writes RUN_DIR/quick_validation.json)
"""A trained run's kept checkpoint against the shipped version 2 on validation only (500 calibration photos, 1000
Tiny val images), both at version 2's card settings, paired intervals. Written for photo_run_stage2 (session 4),
given the run folder as an argument in session 5 (wide_run); the run's data/ cache supplies the Tiny val images."""
import json, subprocess, sys, time
from pathlib import Path
import numpy as np
from colorize_utils.runtime import inference, networks
from colorize_utils.colorizer import photo_eval, shipped_model
from colorize_utils.binning import load_binning

t0 = time.time()
shipped = inference.default_colorizer()
card = shipped.card
run = Path(sys.argv[1] if len(sys.argv) > 1 else "results/colorizer/photo_run_stage2")
model = networks.load_model(run / "model.keras")
run_config = json.loads((run / "config.json").read_text())  # the run's own rebalancing settings
bins = load_binning(run / "bins.json").with_prior_correction(card["default_decoding"]["prior_correction_alpha"],
                                                            run_config["rebalance_lambda"], run_config["soft_sigma"])
candidate = inference.Colorizer(model, bins, run / "model.keras", card={"default_decoding": card["default_decoding"]})
photos = photo_eval.split_photos("../shared/data/photos", 1000, 1000, 42, 160)
val = photo_eval.calibration_subset(photos["val"])
mean = np.asarray(card["train_ab_mean"])
out = {}
for name, photo_set in (("photo_val_500", val),
                        ("tiny_val_1000", photo_eval.as_photos(np.load(run / "data" / "val.npy"), "tiny_val_"))):
    outputs = {m: photo_eval.colorize_all(photo_set, c) for m, c in ((run.name, candidate), ("version2", shipped))}
    comparison = photo_eval.compare(photo_set, outputs, mean, references=("gray", "version2"), keys=("psnr", "auc"))
    out[name] = comparison
    for row in comparison["means"]:
        print(name, row["model"], round(row["psnr"], 3), round(row["auc"], 4), round(row["colorfulness"], 1),
              round(row["truth_colorfulness"], 1), flush=True)
    for row in comparison["intervals"]:
        print(name, row["method"], "vs", row["reference"], row["metric"],
              f"{row['difference']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}", flush=True)
out["seconds"] = time.time() - t0
out["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
val_loss = shipped_model.read_history(run / "history.csv")["val_loss"]
kept = int(np.argmin(val_loss))
out["kept_block"] = f"block {kept + 1} (index {kept}) of {run.name}, lowest photo validation loss {val_loss[kept]:.4f}"
(run / "quick_validation.json").write_text(json.dumps(out, indent=1, default=float))
print("seconds", out["seconds"])
