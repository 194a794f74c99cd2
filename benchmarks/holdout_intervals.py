"""Paired-bootstrap intervals of the shipped colorizer against gray on the hold-out; writes results/colorizer/holdout_intervals.json.

    COLORIZE_DATA_DIR=~/tiny python benchmarks/holdout_intervals.py
"""
import json, os, time
import numpy as np
from colorize_utils import config, metrics, files
from colorize_utils.runtime import inference
from colorize_utils.colorizer import shipped_model
cfg = shipped_model.ColorizerConfig(data_dir=os.environ.get("COLORIZE_DATA_DIR", os.path.expanduser("~/tiny")),
                                run_dir=str(config.PROJECT_ROOT / "results" / "colorizer" / "run"))  # the Tiny-only run
arrays, report = shipped_model.load_image_arrays(cfg)
holdout = shipped_model.holdout_test_images(cfg, arrays["test"])
shipped = inference.load_colorizer()
mean_ab = np.asarray(shipped.card["train_ab_mean"])
rows, per_image = shipped_model.evaluate_colorizer(shipped.model, shipped.binning, holdout, mean_ab,
                                               decodings=(("annealed", 0.38),))
out = {"split": f"hold-out: {len(holdout)} labelled val/ images not in the test split", "seed": 0,
       "bootstrap_samples": 2000, "git_commit": files.git_commit(),
       "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "differences_vs_gray": {}}
for metric in ("accuracy_10_bins", "auc", "psnr", "colorfulness", "frobenius_ab"):
    mean, low, high = metrics.paired_bootstrap(per_image["colorizer"][metric], per_image["gray"][metric])
    out["differences_vs_gray"][metric] = {"mean": mean, "low": low, "high": high,
                                          "verdict": metrics.verdict(low, high, metric != "frobenius_ab")}
    print(metric, f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]", out["differences_vs_gray"][metric]["verdict"])
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results", "colorizer", "holdout_intervals.json"), "w").write(json.dumps(files.json_safe(out), indent=1))
