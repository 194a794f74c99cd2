"""Evaluating saved models side by side: discovery, all-metrics tables, best/worst picks, categories.

The category groups test the paper's claim that outdoor scenes and landscapes colorize well and indoor
scenes badly. Tiny ImageNet has no scene labels, so the groups below are hand-picked from its synsets
(listed here, in the open, so anyone can check or change them); every other synset is "object/animal".
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from . import metrics, models, training

CATEGORY_GROUPS = {
    "landscape": {"n09193705": "alp", "n09246464": "cliff", "n09256479": "coral reef", "n09332890": "lakeside",
                  "n09428293": "seashore"},
    "outdoor structure": {
        "n03160309": "dam", "n04311004": "steel arch bridge", "n04366367": "suspension bridge",
        "n04532670": "viaduct", "n03042490": "cliff dwelling", "n04562935": "water tower",
        "n04486054": "triumphal arch", "n03837869": "obelisk", "n02793495": "barn", "n02814860": "beacon",
        "n03355925": "flagpole", "n03388043": "fountain", "n03733131": "maypole", "n03930313": "picket fence",
        "n04417672": "thatch", "n03891332": "parking meter"},
    "indoor scene": {
        "n02699494": "altar", "n02791270": "barbershop", "n02927161": "butcher shop", "n03089624": "confectionery",
        "n02788148": "bannister", "n03201208": "dining table", "n03179701": "desk", "n03854065": "organ",
        "n02808440": "bathtub", "n04070727": "refrigerator", "n04179913": "sewing machine",
        "n04099969": "rocking chair", "n03637318": "lampshade", "n04265275": "space heater",
        "n03992509": "potter's wheel", "n04023962": "punching bag"},
}
OTHER_GROUP = "object/animal"


def category_of(label: str) -> str:
    """The hand-picked group of a Tiny ImageNet synset ('object/animal' when in none)."""
    for group, synsets in CATEGORY_GROUPS.items():
        if label in synsets:
            return group
    return OTHER_GROUP


def discover_models(models_dir: str | Path, image_size: int) -> tuple[dict, list[str]]:
    """Every trained model under models_dir/<name>/model.keras that takes image_size input, and notes."""
    models_dir = Path(models_dir)
    found, notes = {}, []
    for run_dir in sorted(p.parent for p in models_dir.glob("*/model.keras")):
        model, binning = training.load_trained(run_dir)
        size = tuple(model.input.shape[1:3])
        if size != (image_size, image_size):
            notes.append(f"{run_dir.name}: trained on {size[0]}x{size[1]} images, not evaluated on {image_size}x{image_size}.")
            continue
        found[run_dir.name] = (model, binning)
    if not found:
        notes.append(f"No trained {image_size}x{image_size} models under {models_dir}: run notebooks 03-05 first.")
    return found, notes


def predict_all(found: dict, lightness: np.ndarray) -> dict[str, np.ndarray]:
    """ab predictions of every discovered model."""
    return {name: models.predict_ab(model, lightness, binning) for name, (model, binning) in found.items()}


def metrics_table(lightness: np.ndarray, ab_true: np.ndarray, predictions: dict[str, np.ndarray],
                  binnings: dict) -> tuple[list[dict], dict[str, dict]]:
    """All metrics for every prediction (baselines included), and the per-image values behind them."""
    rows, per_image = [], {}
    for name, ab in predictions.items():
        row, values = metrics.evaluate(name, lightness, ab, ab_true, binnings)
        rows.append(row)
        per_image[name] = values
    return rows, per_image


def best_and_worst(per_image: dict[str, np.ndarray], metric: str = "frobenius_ab", count: int = 6,
                   lower_is_better: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the best and worst images by a per-image metric (picked by the metric, not by hand)."""
    values = np.asarray(per_image[metric])
    order = np.argsort(values if lower_is_better else -values, kind="stable")
    return order[:count], order[::-1][:count]


def category_table(labels: list[str], per_image: dict[str, dict], model: str, baselines: tuple[str, ...],
                   metric: str = "frobenius_ab") -> list[dict]:
    """Per category group: images, the model's and each baseline's mean metric, and the model's gain over
    the first baseline (positive = better, for a lower-is-better metric)."""
    groups = defaultdict(list)
    for index, label in enumerate(labels):
        groups[category_of(label)].append(index)
    rows = []
    for group in [*CATEGORY_GROUPS, OTHER_GROUP]:
        indices = groups.get(group, [])
        if not indices:
            continue
        row = {"category": group, "images": len(indices), model: float(per_image[model][metric][indices].mean())}
        row.update({name: float(per_image[name][metric][indices].mean()) for name in baselines})
        row["gain_over_" + baselines[0]] = row[baselines[0]] - row[model]
        rows.append(row)
    return rows


def synset_table(labels: list[str], per_image: dict[str, dict], model: str, baselines: tuple[str, ...],
                 names: dict[str, str] | None = None, metric: str = "frobenius_ab") -> list[dict]:
    """Per synset: the model's and each baseline's mean metric and the gain over the first baseline, best first."""
    groups = defaultdict(list)
    for index, label in enumerate(labels):
        groups[label].append(index)
    rows = []
    for label, indices in groups.items():
        row = {"synset": label, "name": (names or {}).get(label, label), "category": category_of(label),
               "images": len(indices), model: float(per_image[model][metric][indices].mean())}
        row.update({name: float(per_image[name][metric][indices].mean()) for name in baselines})
        row["gain_over_" + baselines[0]] = row[baselines[0]] - row[model]
        rows.append(row)
    return sorted(rows, key=lambda row: -row["gain_over_" + baselines[0]])
