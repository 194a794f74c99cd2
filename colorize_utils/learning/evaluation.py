"""Evaluating saved models side by side: discovery, all-metrics tables, best/worst picks, categories.

The category groups test the paper's claim that outdoor scenes and landscapes colorize well and indoor
scenes badly. Tiny ImageNet has no scene labels, so the groups below are hand-picked from its synsets
(listed here, in the open, so anyone can check or change them); every other synset is "object/animal".
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from keras import ops

from colorize_utils import metrics
from colorize_utils.runtime import networks
from colorize_utils.learning import training
from colorize_utils.binning import UniformBins
from colorize_utils.learning.pipeline import rgb_uint8_to_model_pair

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
    return {name: networks.predict_ab(model, lightness, binning) for name, (model, binning) in found.items()}


def drop_duplicates(predictions: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """The predictions with every exact repeat of an earlier entry removed, and a note per removal.

    The same trained model can sit in several folders (04's 10-bin model is 03's cross-entropy model); a
    table must list it once, not as several rows that look like agreeing findings."""
    unique, notes = {}, []
    for name, ab in predictions.items():
        same = next((kept for kept, other in unique.items() if other.shape == ab.shape and np.array_equal(other, ab)),
                    None)
        if same is None:
            unique[name] = ab
        else:
            notes.append(f"{name}: the same predictions as {same} (the same model): listed once, as {same}.")
    return unique, notes


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


HIGHER_IS_BETTER = {"frobenius_ab": False, "rms_ab": False, "psnr": True, "ssim": True, "auc": True,
                    "colorfulness": True, "accuracy_10_bins": True, "accuracy_30_bins": True,
                    "accuracy_50_bins": True}


def build_metrics_table(lightness: np.ndarray, ab_true: np.ndarray, predictions: dict[str, np.ndarray],
                        binnings: dict | None = None, reference: str = metrics.GRAY,
                        interval_metrics: tuple[str, ...] = ("auc", "psnr", "accuracy_10_bins"),
                        seed: int = 0, closeness_only: bool = False,
                        previous: tuple[list[dict], dict[str, dict]] | None = None) -> tuple[list[dict], dict[str, dict]]:
    """Every metric of every prediction (keyed by stable ids, baselines included), with intervals: the one
    way every notebook builds a metrics table.

    `closeness_only`: only the paper's closeness columns (Table 1: frobenius_ab with its per-image sd,
    frobenius_rgb, rms_ab), with per-image frobenius_ab.

    The gray row's binned accuracies are gray's better side of the 0 bin edge. For each metric in
    `interval_metrics`, every other row gets `<metric>_vs_<reference>`: the mean paired difference and its
    95% bootstrap interval over test images, and a verdict (better / worse / tie: a tie when the interval
    holds 0).

    `previous`: an earlier table (rows, per-image values) of the same images, binnings and options, to which
    `predictions` adds rows: the ids it holds are taken from it instead of being evaluated again (an id must
    name the same prediction in both).
    """
    binnings = binnings or {}
    rows, per_image = [], {}
    earlier_rows = {row["model"]: row for row in previous[0]} if previous else {}
    if any(row.get("images") not in (None, len(ab_true)) for row in earlier_rows.values()):
        raise ValueError(f"previous holds a table of other images than these {len(ab_true)}; pass the table built on "
                         f"the same images, or none.")
    truth = metrics.Truth(lightness, ab_true)  # what depends only on the truth: once per table, not per row
    for name, ab in predictions.items():
        if name in earlier_rows and name in previous[1]:
            row, values = dict(earlier_rows[name]), previous[1][name]
            if isinstance(row.get("notes"), list):
                row["notes"] = list(row["notes"])  # the earlier table's rows stay as they were
        elif closeness_only:
            row, values = metrics.closeness_row(name, lightness, ab, ab_true, truth.rgb)
        else:
            row, values = metrics.evaluate(name, lightness, ab, ab_true, binnings, truth)
        rows.append(row)
        per_image[name] = values
    metrics.gray_better_side(rows, per_image, lightness, ab_true, binnings, truth)
    if reference in per_image:
        for row in rows:
            if row["model"] == reference:
                continue
            for metric in interval_metrics:
                if metric not in per_image[reference]:
                    continue
                mean, low, high = metrics.paired_bootstrap(per_image[row["model"]][metric],
                                                           per_image[reference][metric], seed=seed)
                verdict = metrics.verdict(low, high, HIGHER_IS_BETTER.get(metric, True))
                row[f"{metric}_vs_{reference}"] = f"{mean:+.4g} [{low:+.4g}, {high:+.4g}] {verdict}"
    return rows, per_image


def seed_summary(per_seed: dict[int, tuple[list[dict], dict[str, np.ndarray]]], metric: str = "frobenius_ab",
                 seed: int = 0, sd_columns: tuple[str, ...] = ("frobenius_ab", "frobenius_ab_mean",
                                                                "frobenius_ab_annealed", "rms_ab")) -> list[dict]:
    """One row per model id over several seeds: the mean of each numeric column across seeds (and the sd of
    those in `sd_columns`), the kept
    epoch of every seed, and verdicts against both baselines from a paired bootstrap over test images of the
    seed-averaged per-image `metric` (lower is better).

    `per_seed[seed]` is (rows, per-image values by row id), as Experiment.closeness() returns; every seed
    must hold the same row ids, evaluated on the same test images.
    """
    if not per_seed:
        raise ValueError("seed_summary() needs at least one seed's results.")
    seeds = sorted(per_seed)
    ids = [row["model"] for row in per_seed[seeds[0]][0]]
    for other in seeds[1:]:
        if [row["model"] for row in per_seed[other][0]] != ids:
            raise ValueError(f"seed {other} has rows {[r['model'] for r in per_seed[other][0]]}, "
                             f"seed {seeds[0]} has {ids}: run every seed with the same models.")
    summary, averaged = [], {}
    for model_id in ids:
        rows = [next(r for r in per_seed[k][0] if r["model"] == model_id) for k in seeds]
        out = {"model": model_id, "seeds": len(seeds)}
        for column in rows[0]:
            values = [row.get(column) for row in rows]
            if column == "model" or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                             for v in values):
                continue
            if column in ("best_epoch", "epochs_run"):
                out[column] = ", ".join(str(v) for v in values)  # per seed, in seed order
                continue
            if column == "images":
                out[column] = values[0]
                continue
            out[column] = float(np.mean(values))
            if column in sd_columns:
                out[f"{column}_sd_over_seeds"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        summary.append(out)
        averaged[model_id] = np.mean([per_seed[k][1][model_id] for k in seeds], axis=0)
    return metrics.add_baseline_verdicts(summary, metric, per_image=averaged, seed=seed)


def bin_sweep_rows(per_seed: dict[int, tuple[list[dict], dict[str, dict]]], models_by_bins: dict[int, str],
                   paper_accuracy: dict[int, float] | None = None, seed: int = 0) -> list[dict]:
    """Table 2 (the bin sweep): per bin count, the model's binned accuracy (mean and sd over seeds) beside
    gray's better side of the 0 edge and mean color's, with a paired-bootstrap interval of the model minus
    each baseline over test images (per-image accuracy averaged over seeds) and a verdict.

    `per_seed[seed]` is build_metrics_table()'s (rows, per_image) for that seed's models (same test images);
    `models_by_bins` maps a bin count to the id of the model trained with it.
    """
    seeds = sorted(per_seed)
    rows = []
    for num_bins, model_id in models_by_bins.items():
        key = f"accuracy_{num_bins}_bins"
        values = [next(r for r in per_seed[k][0] if r["model"] == model_id)[key] for k in seeds]
        averaged = np.mean([per_seed[k][1][model_id][key] for k in seeds], axis=0)
        first_rows, first_images = per_seed[seeds[0]]
        by_id = {row["model"]: row for row in first_rows}
        row = {"num_bins": num_bins, "model": model_id, "seeds": len(seeds), "model_accuracy": float(np.mean(values)),
               "model_accuracy_sd_over_seeds": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
               "gray_accuracy": by_id[metrics.GRAY][key], "mean_color_accuracy": by_id[metrics.MEAN_COLOR][key],
               "paper_accuracy": (paper_accuracy or {}).get(num_bins)}
        verdicts = []
        for baseline in metrics.BASELINE_NAMES:
            mean, low, high = metrics.paired_bootstrap(averaged, first_images[baseline][key], seed=seed)
            decided = metrics.verdict(low, high, higher_is_better=True)
            row[f"vs_{baseline}"] = f"{mean:+.4f} [{low:+.4f}, {high:+.4f}] {decided}"
            verdicts.append(decided)
        row["beats_both_baselines"] = all(v == "better" for v in verdicts)
        for column in ("frobenius_ab", "psnr", "auc", "colorfulness", "colorfulness_gap"):
            row[column] = float(np.mean([next(r for r in per_seed[k][0] if r["model"] == model_id)[column]
                                         for k in seeds]))
        rows.append(row)
    return rows


def select_model(rows: list[dict], gray_psnr_margin: float = 0.5, candidates: list[str] | None = None) -> str | None:
    """The selection rule, fixed before any run: the highest AuC among models whose PSNR is within
    `gray_psnr_margin` dB of gray's, ties broken by colorfulness. None when no model qualifies."""
    by_id = {row["model"]: row for row in rows}
    if metrics.GRAY not in by_id:
        raise ValueError("select_model() needs the gray baseline's row (id 'gray').")
    floor = by_id[metrics.GRAY]["psnr"] - gray_psnr_margin
    pool = [row for row in rows if row["model"] not in (metrics.GRAY, metrics.MEAN_COLOR)
            and (candidates is None or row["model"] in candidates) and row["psnr"] >= floor]
    if not pool:
        return None
    return max(pool, key=lambda row: (round(row["auc"], 4), row["colorfulness"]))["model"]


def photo_table(photos: dict[str, np.ndarray], colorized: dict[str, dict[str, np.ndarray]],
                train_ab_mean: np.ndarray, bin_counts=(10,), baselines: bool = True) -> tuple[list[dict], list[dict]]:
    """Score full-size colorizations against the original color photos, beside gray and mean color.

    `colorized[method][photo]` is a uint8 RGB output. Each photo is scored at its own size and counts
    once in the means. ab of an output is read back from its RGB; the baselines use the photo's own L.
    Gray's binned accuracy is its better side of the 0 edge, chosen once over all photos.
    Returns (mean rows per method, per-photo rows). `baselines=False` scores only the methods (a caller
    scoring many candidates on the same photos scores the baselines once).
    """
    binnings = {n: UniformBins(n) for n in bin_counts}
    for method, outputs in colorized.items():
        missing = sorted(set(photos) - set(outputs))
        if missing:  # the baselines are scored on every photo: a method must be too, or the means differ
            raise ValueError(f"{method} has no output for {missing}; score every method on the same photos.")
    per_photo = []
    for photo_name, rgb in photos.items():
        lightness, ab_true = (ops.convert_to_numpy(t)[None] for t in rgb_uint8_to_model_pair(rgb))
        predictions = {**metrics.baseline_predictions(ab_true, train_ab_mean),
                       "gray_below_zero": np.full_like(ab_true, metrics.GRAY_BELOW_ZERO)} if baselines else {}
        for method, outputs in colorized.items():
            if photo_name in outputs:
                _, ab = rgb_uint8_to_model_pair(outputs[photo_name])
                predictions[method] = ops.convert_to_numpy(ab)[None]
        for name, ab in predictions.items():
            row, _ = metrics.evaluate(name, lightness, ab, ab_true, binnings)
            per_photo.append({"photo": photo_name, **row})
    methods = [metrics.GRAY, metrics.MEAN_COLOR, *colorized] if baselines else list(colorized)
    means = []
    for method in methods:
        picked = [row for row in per_photo if row["model"] == method]
        keys = [k for k in picked[0] if k not in ("photo", "model", "images")]
        mean_row = {"model": method, **{k: float(np.mean([row[k] for row in picked])) for k in keys},
                    "photos": len(picked)}
        if method == metrics.GRAY:
            below = [row for row in per_photo if row["model"] == "gray_below_zero"]
            for num_bins in bin_counts:
                key = f"accuracy_{num_bins}_bins"
                if float(np.mean([row[key] for row in below])) > mean_row[key]:
                    # the better side, in the means and per photo (so paired intervals use the same side)
                    mean_row[key] = float(np.mean([row[key] for row in below]))
                    for row, other in zip(picked, below):
                        row[key] = other[key]
        means.append(mean_row)
    return means, [row for row in per_photo if row["model"] != "gray_below_zero"]
