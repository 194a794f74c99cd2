"""Training's photo validation loss of a finished run's kept model, measured on another run's validation data.

Why: a run that changes the validation photos' size (`--photo-val-image-size`) starts a new loss scale, so its
first blocks cannot be compared with the run it started from. This scores the starting model on the new run's own
validation batches (same cache, bins and loss), which is that run's block 0.

    python benchmarks/val_loss_at.py results/colorizer/v4_fixres results/colorizer/v4_stage1 \
        --out results/colorizer/v4_fixres/start_val_loss.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from colorize_utils.binning import load_binning
from colorize_utils.colorizer import shipped_model
from colorize_utils.config import ColorizerConfig
from colorize_utils.files import git_commit
from colorize_utils.runtime.networks import load_model


def validation_loss(data_run: Path, model_run: Path) -> dict:
    """The loss of `model_run`'s model.keras on `data_run`'s photo validation images, with `data_run`'s bins."""
    cfg = ColorizerConfig(**json.loads((data_run / "config.json").read_text()))
    if cfg.photos_dir is None:
        raise ValueError(f"{data_run} trained without --photos: its validation loss is not on photos.")
    arrays, _ = shipped_model.load_image_arrays(cfg)
    images = arrays["photos_val"]
    bins = load_binning(data_run / "bins.json")
    data, steps = shipped_model.validation_batches(cfg, images)
    model = load_model(model_run / "model.keras")
    model.compile(loss=shipped_model.run_loss(cfg, bins))
    start = time.time()
    loss = float(model.evaluate(data, steps=steps, verbose=0))
    return {"data_run": str(data_run), "model_run": str(model_run), "images": int(len(images)),
            "image_size": int(images.shape[1]), "batch_size": cfg.batch_size, "val_loss": loss,
            "seconds": round(time.time() - start, 1), "git_commit": git_commit()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_run", type=Path, help="the run whose validation photos, bins and loss are used")
    parser.add_argument("model_run", type=Path, help="the finished run whose kept model is scored")
    parser.add_argument("--out", type=Path, help="write the result here as JSON")
    args = parser.parse_args()
    result = validation_loss(args.data_run, args.model_run)
    print(json.dumps(result, indent=1))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
