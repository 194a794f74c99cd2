"""The colorizer on real photos: the photo split, and scores with paired intervals (colorizer.release calibrates).

Photos are read from the run's photo folder at their own size (data.stratified_folder_splits gives the same
val/test files on any machine) and colorized through `inference.colorize()`, the path users' photos take, so
the working size, the decoding and the upsampling are scored as users get them. Every score is per photo
(evaluation.photo_table), beside gray and the training mean color; differences between two methods are
paired bootstrap intervals over photos (metrics.paired_bootstrap).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np

from colorize_utils import images, metrics
from colorize_utils.runtime import inference
from colorize_utils.learning import evaluation
from colorize_utils.learning.data import stratified_folder_splits
from colorize_utils.learning.plots import image_grid

CALIBRATION_PHOTOS = 500  # validation photos a calibration subset holds by default


def split_photos(photos_dir: str | os.PathLike, val_size: int, test_size: int, seed: int,
                 image_size: int = 160, limit: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """{'val': {relative path: uint8 RGB at its own size}, 'test': {...}}: the run's photo split, read whole.

    `limit` reads only the first photos of each split (in the split's order): quicker looks, never a choice.
    """
    splits = stratified_folder_splits(photos_dir, val_size, test_size, seed, image_size)
    root = Path(photos_dir).expanduser()  # the split's paths lie under it as written: a photo may be a link
    photos = {}
    for name in ("val", "test"):
        paths = splits[name].paths[:limit] if limit else splits[name].paths
        photos[name] = {Path(path).relative_to(root).as_posix(): images.read_image_file(path)
                        for path in paths}
    return photos


def colorize_all(photos: dict[str, np.ndarray], colorizer: inference.Colorizer, **settings) -> dict:
    """Every photo through inference.colorize() with `settings` (the card's defaults where absent)."""
    return {name: inference.colorize(rgb, colorizer, **settings) for name, rgb in photos.items()}


def score(photos: dict[str, np.ndarray], colorized: dict[str, dict], train_ab_mean: np.ndarray,
          baselines: bool = True) -> tuple[list[dict], list[dict]]:
    """Mean rows (gray, mean color, then each method) and per-photo rows: evaluation.photo_table, with the
    ground truth's mean colorfulness in every mean row."""
    means, per_photo = evaluation.photo_table(photos, colorized, train_ab_mean, baselines=baselines)
    for row in means:
        row["truth_colorfulness"] = row["colorfulness"] - row["colorfulness_gap"]
    return means, per_photo


def calibration_subset(photos: dict[str, np.ndarray], count: int | None = None) -> dict[str, np.ndarray]:
    """`count` (default CALIBRATION_PHOTOS) validation photos spread evenly over the split's order, which is
    by source: every source keeps its share."""
    count = CALIBRATION_PHOTOS if count is None else count
    names = list(photos)
    stride = max(1, -(-len(names) // max(1, count)))
    return {name: photos[name] for name in names[::stride][:count]}


def compare(photos: dict[str, np.ndarray], colorized: dict[str, dict], train_ab_mean: np.ndarray,
            references: tuple[str, ...] = (metrics.GRAY, metrics.MEAN_COLOR),
            keys: tuple[str, ...] = ("psnr", "auc", "ssim", "colorfulness", "accuracy_10_bins")) -> dict:
    """Mean rows for every method and baseline, and each method's paired interval against each reference
    (gray, mean color, and any other method named in `references`), per metric, over photos."""
    means, per_photo = score(photos, colorized, train_ab_mean)
    gray_row = next(row for row in means if row["model"] == metrics.GRAY)
    values = {}
    for row in per_photo:
        values.setdefault(row["model"], {}).setdefault("photos", []).append(row["photo"])
        for key in keys:
            values[row["model"]].setdefault(key, []).append(row[key])
    intervals = []
    for method in colorized:
        for reference in references:
            if reference == method:
                continue
            for key in keys:
                mean, low, high = metrics.paired_bootstrap(np.asarray(values[method][key]),
                                                           np.asarray(values[reference][key]))
                intervals.append({"method": method, "reference": reference, "metric": key, "difference": mean,
                                  "low": low, "high": high,
                                  "verdict": metrics.verdict(low, high, higher_is_better=True)
                                  if key != "colorfulness" else "n/a"})
    return {"means": means, "intervals": intervals, "gray_psnr": gray_row["psnr"]}


def as_photos(images: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """uint8 images (N, H, W, 3) as a {name: image} photo set (for the Tiny ImageNet hold-out)."""
    return {f"{prefix}{index:05d}": np.asarray(image) for index, image in enumerate(images)}


def verdicts(comparison: dict, method: str, reference: str, metrics_: tuple[str, ...] = ("psnr", "auc")) -> dict:
    """{metric: 'better' | 'worse' | 'tie'} of `method` against `reference` in a compare() result."""
    return {row["metric"]: row["verdict"] for row in comparison["intervals"]
            if row["method"] == method and row["reference"] == reference and row["metric"] in metrics_}


def photo_figure(photos: dict[str, np.ndarray], methods: dict, count: int = 6, cell_size: float = 3.2):
    """Gray input | each method's output | truth for `count` photos (the first photo of each source in turn:
    every kind of photo, none picked by eye), each at its own size. `methods`: {column: rgb -> rgb}."""
    by_source: dict[str, list[str]] = {}
    for name in photos:
        by_source.setdefault(Path(name).parent.name, []).append(name)
    names = [name for group in itertools.zip_longest(*by_source.values()) for name in group if name][:count]
    columns = {"gray input": [inference.gray_of(photos[name]) for name in names]}
    for column, method in methods.items():
        columns[column] = [method(photos[name]) for name in names]
    columns["truth"] = [photos[name] for name in names]
    return image_grid(columns, row_labels=[Path(name).parent.name for name in names], cell_size=cell_size)
