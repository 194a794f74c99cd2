"""Two trained colorizers, image by image: paired-bootstrap intervals of (new - old) on the test split and the
hold-out, beside the gray and mean-color baselines. Each model decodes as it would ship (annealed mean, its own
calibrated prior correction).

    COLORIZE_DATA_DIR=~/tiny python benchmarks/compare_colorizers.py --new runs/colorizer_bf16 \
        [--old colorize_utils/pretrained/colorizer.keras] [--out results/colorizer/compare_bf16.json]

Used to decide whether a new training recipe (here: mixed_bfloat16) may replace the shipped model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METRICS = {"accuracy_10_bins": True, "auc": True, "psnr": True, "ssim": True, "colorfulness": True,
           "frobenius_ab": False}  # name: higher is better


def compare(old, new, images, mean_ab, label: str) -> dict:
    """Metrics of both models and the baselines on uint8 images, with paired intervals."""
    from keras import ops

    from colorize_utils import metrics
    from colorize_utils.runtime import networks
    from colorize_utils.learning import evaluation
    from colorize_utils.binning import UniformBins
    from colorize_utils.learning.pipeline import rgb_uint8_to_model_pair

    lightness, ab_true = (ops.convert_to_numpy(t) for t in rgb_uint8_to_model_pair(images))
    predictions = metrics.baseline_predictions(ab_true, mean_ab)
    for name, colorizer in (("old", old), ("new", new)):
        predictions[name] = networks.predict_ab(colorizer.model, lightness, colorizer.binning, 100, "annealed", 0.38)
    rows, per_image = evaluation.build_metrics_table(lightness, ab_true, predictions,
                                                     {n: UniformBins(n) for n in (10, 30, 50)}, interval_metrics=())
    out = {"split": label, "images": len(images), "rows": rows, "new_minus_old": {}, "vs_gray": {}}
    for metric, higher_is_better in METRICS.items():
        mean, low, high = metrics.paired_bootstrap(per_image["new"][metric], per_image["old"][metric])
        out["new_minus_old"][metric] = {"mean": mean, "low": low, "high": high,
                                        "verdict": metrics.verdict(low, high, higher_is_better)}
        for name in ("old", "new"):
            mean, low, high = metrics.paired_bootstrap(per_image[name][metric], per_image[metrics.GRAY][metric])
            out["vs_gray"].setdefault(name, {})[metric] = {
                "mean": mean, "low": low, "high": high, "verdict": metrics.verdict(low, high, higher_is_better)}
        print(f"{label}: {metric:17s} new - old {out['new_minus_old'][metric]['mean']:+.4f} "
              f"[{out['new_minus_old'][metric]['low']:+.4f}, {out['new_minus_old'][metric]['high']:+.4f}] "
              f"{out['new_minus_old'][metric]['verdict']}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=str(ROOT / "colorize_utils" / "pretrained" / "colorizer.keras"))
    parser.add_argument("--new", required=True, help="a run folder (model.keras, bins.calibrated.json) or .keras")
    parser.add_argument("--out", default=str(ROOT / "results" / "colorizer" / "compare.json"))
    parser.add_argument("--limit", type=int, default=None, help="first N images of each split (a quick check)")
    args = parser.parse_args()

    import numpy as np

    from colorize_utils import files
    from colorize_utils.runtime import inference
    from colorize_utils.colorizer import shipped_model

    old, new = inference.load_colorizer(args.old), inference.load_colorizer(args.new)
    cfg = shipped_model.ColorizerConfig(data_dir=os.environ.get("COLORIZE_DATA_DIR", os.path.expanduser("~/tiny")),
                                    run_dir=str(ROOT / "results" / "colorizer" / "run"))  # the Tiny-only run
    arrays, report = shipped_model.load_image_arrays(cfg)
    mean_ab = np.asarray(old.card["train_ab_mean"])  # both models train on the same split
    holdout = shipped_model.holdout_test_images(cfg, arrays["test"])[:args.limit]
    result = {"old": str(args.old), "new": str(args.new),
              "old_training": old.card.get("training"),
              "new_training": json.loads((Path(args.new) / "card.json").read_text()).get("training")
              if (Path(args.new) / "card.json").is_file() else None,
              "decoding": "annealed mean, T 0.38, each model's calibrated prior correction",
              "bootstrap": {"samples": 2000, "seed": 0, "level": 0.95},
              "git_commit": files.git_commit(), "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "splits": [compare(old, new, np.asarray(arrays["test"])[:args.limit], mean_ab, "test"),
                         compare(old, new, holdout, mean_ab,
                                 f"hold-out ({len(holdout)} labelled val/ images not in the test split)")]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(files.json_safe(result), indent=1))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
