"""The photo colorizer's ablation at equal steps: the recipe against itself without the global-context branch,
with single-scale photo crops, and in mixed_bfloat16, each trained from scratch for the same steps and scored
on validation photos with the same decoding (never the test photos).

    python benchmarks/colorizer_ablation.py --data-dir ~/tiny --photos ../shared/data/photos --steps 1000

Each variant is one `train-colorizer --train-only` run in results/colorizer/ablation/<variant>/ (rerun to
resume; a finished variant is not trained again), sharing the photo run's data cache. The scores: every variant
through colorize() on the calibration subset of the validation photos (photo_eval.calibration_subset) at the
shipped settings (working size 160, prior correction 0.75, annealed T 0.38, bilinear), with paired-bootstrap
intervals over photos against the full recipe ("base"), gray and mean color. Written to
results/colorizer/ablation/ablation.json with each variant's steps, wall time and images/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {  # train-colorizer flags of each variant, beside the shared ones
    "base": [],
    "no_global_context": ["--no-global-context"],
    "single_scale": ["--photo-min-crop", "160"],  # every photo crop is the whole 160-px square
    "bfloat16": ["--precision", "mixed_bfloat16"],
}
SETTINGS = {"working_size": 160, "temperature": 0.38, "guided_filter": False}
ALPHA = 0.75


def train(variant: str, args, folder: Path) -> None:
    """Train one variant (resumes an unfinished run; a finished one returns at once)."""
    folder.mkdir(parents=True, exist_ok=True)
    cache = folder / "data"
    if not cache.exists():  # the photo run's cache: same data, same split, no second scan
        cache.symlink_to(ROOT / "results" / "colorizer" / "photo_run" / "data")
    command = [sys.executable, "-m", "colorize_utils", "train-colorizer", "--data-dir", args.data_dir,
               "--photos", args.photos, "--steps", str(args.steps), "--steps-per-epoch", "250",
               "--lr-patience", "5", "--run-dir", str(folder), "--train-only", *VARIANTS[variant]]
    print(" ".join(command), flush=True)
    with open(folder / "train_log.txt", "a") as log:
        subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--photos", required=True)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--photos-scored", type=int, default=500)
    parser.add_argument("--out", default=str(ROOT / "results" / "colorizer" / "ablation" / "ablation.json"))
    args = parser.parse_args()
    out_dir = Path(args.out).parent
    for variant in args.variants:
        train(variant, args, out_dir / variant)

    from colorize_utils import metrics
    from colorize_utils.runtime import inference
    from colorize_utils.learning import reporting
    from colorize_utils.colorizer import photo_eval, shipped_model
    from colorize_utils.config import ColorizerConfig
    from colorize_utils.binning import load_binning
    from colorize_utils.runtime.networks import load_model
    from colorize_utils.learning.training import read_history

    photo_run = json.loads((ROOT / "results" / "colorizer" / "photo_run" / "config.json").read_text())
    photos = photo_eval.split_photos(args.photos, photo_run["photo_val_size"], photo_run["photo_test_size"],
                                     photo_run["seed"], photo_run["photo_size"])["val"]
    photos = photo_eval.calibration_subset(photos, args.photos_scored)
    card = json.loads((ROOT / "colorize_utils" / "pretrained" / "colorizer.card.json").read_text())
    train_mean = card["train_ab_mean"]
    outputs, training = {}, {}
    for variant in args.variants:
        folder = out_dir / variant
        bins = load_binning(folder / "bins.json")
        colorizer = inference.Colorizer(load_model(folder / "model.keras"), bins, folder / "model.keras")
        colorizer = colorizer.with_prior_correction(ALPHA, photo_run["rebalance_lambda"], photo_run["soft_sigma"])
        started = time.perf_counter()
        outputs[variant] = photo_eval.colorize_all(photos, colorizer, **SETTINGS)
        history = read_history(folder / "history.csv")
        config = json.loads((folder / "config.json").read_text())
        seconds = float(sum(history.get("seconds", [])))
        steps = len(history.get("loss", [])) * 250
        # runs from before session 12 recorded options that were removed since (average_of)
        known = {k: v for k, v in config.items() if k in ColorizerConfig.__dataclass_fields__}
        images = steps * shipped_model.images_per_step(ColorizerConfig(**known))
        training[variant] = {"flags": VARIANTS[variant], "steps": steps, "train_seconds": seconds,
                             "images_per_second": images / seconds if seconds else None,
                             "best_val_loss": float(min(history["val_loss"])),
                             "kept_block": int(history["val_loss"].index(min(history["val_loss"])) + 1),
                             "precision": config.get("precision"), "scoring_seconds": time.perf_counter() - started}
        print(variant, training[variant], flush=True)
    comparison = photo_eval.compare(photos, outputs, train_mean,
                                    references=(metrics.GRAY, metrics.MEAN_COLOR, "base"))
    reporting.write_benchmark_record(args.out, photos=len(photos), split="validation photos (calibration subset)",
                                     settings={**SETTINGS, "prior_correction_alpha": ALPHA},
                                     training=training, **comparison)
    for row in comparison["means"]:
        print(f"{row['model']:>18}: PSNR {row['psnr']:.3f}  AuC {row['auc']:.4f}  colorfulness "
              f"{row['colorfulness']:.1f}")
    for row in comparison["intervals"]:
        if row["reference"] == "base" and row["metric"] in ("psnr", "auc", "colorfulness"):
            print(f"{row['method']} - base {row['metric']}: {row['difference']:+.4f} [{row['low']:+.4f}, "
                  f"{row['high']:+.4f}] {row['verdict']}")
    print("written:", args.out)


if __name__ == "__main__":
    main()
