"""Evaluation metrics on numpy arrays: the paper's closeness, plus what tables need for baselines.

ab arrays are in Lab units, shape (N, H, W, 2); L is (N, H, W, 1). Per-image metrics return (N,).
"""

from __future__ import annotations

import numpy as np

from .color import lab_channels_to_rgb_uint8

# The paper's "Euclidean" closeness is the Frobenius norm of (predicted - true) per image. Its
# numbers (11-19 at 64x64) only make sense with ab scaled to about [-1, 1]; we divide by the bin
# range's half-width, 100, and also report the norm on RGB in [0, 255] and the per-pixel RMS.
AB_NORM_SCALE = 100.0


def frobenius_ab(ab_pred: np.ndarray, ab_true: np.ndarray) -> np.ndarray:
    """Per-image Frobenius norm of (predicted - true) ab, with ab scaled by 1/100."""
    difference = (np.asarray(ab_pred, np.float64) - np.asarray(ab_true, np.float64)) / AB_NORM_SCALE
    return np.sqrt(np.sum(difference ** 2, axis=(1, 2, 3)))


def frobenius_rgb(lightness: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray) -> np.ndarray:
    """Per-image Frobenius norm of (predicted - true) RGB in [0, 255], both rebuilt with the true L."""
    rgb_pred = lab_channels_to_rgb_uint8(lightness, ab_pred).astype(np.float64)
    rgb_true = lab_channels_to_rgb_uint8(lightness, ab_true).astype(np.float64)
    return np.sqrt(np.sum((rgb_pred - rgb_true) ** 2, axis=(1, 2, 3)))


def rms_ab(ab_pred: np.ndarray, ab_true: np.ndarray) -> np.ndarray:
    """Per-image root mean square of the ab error, in Lab units (per pixel-channel)."""
    difference = np.asarray(ab_pred, np.float64) - np.asarray(ab_true, np.float64)
    return np.sqrt(np.mean(difference ** 2, axis=(1, 2, 3)))


def gray_prediction(ab_true: np.ndarray) -> np.ndarray:
    """The gray baseline: ab = 0 everywhere."""
    return np.zeros_like(ab_true, dtype=np.float32)


def mean_color_prediction(ab_true: np.ndarray, train_ab_mean: np.ndarray) -> np.ndarray:
    """The mean-color baseline: every pixel gets the mean ab of the training pixels."""
    return np.broadcast_to(np.asarray(train_ab_mean, np.float32), ab_true.shape).copy()


def closeness_row(name: str, lightness: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray) -> dict:
    """One Table-1 row: mean (and std) per-image closeness of a model or baseline on a split."""
    frob_ab, frob_rgb = frobenius_ab(ab_pred, ab_true), frobenius_rgb(lightness, ab_pred, ab_true)
    return {"model": name, "frobenius_ab": float(frob_ab.mean()), "frobenius_ab_std": float(frob_ab.std()),
            "frobenius_rgb": float(frob_rgb.mean()), "rms_ab": float(rms_ab(ab_pred, ab_true).mean()),
            "images": int(len(ab_true))}


BASELINE_NAMES = ("gray (ab = 0)", "mean color")


def add_baseline_verdicts(rows: list[dict], metric: str, lower_is_better: bool = True) -> list[dict]:
    """Add a 'vs_baselines' column: which of the gray and mean-color baselines each model beats."""
    baselines = {row["model"]: row[metric] for row in rows if row["model"] in BASELINE_NAMES}

    def beats(value, reference):
        return value < reference if lower_is_better else value > reference

    for row in rows:
        if row["model"] in BASELINE_NAMES:
            row["vs_baselines"] = "baseline"
            continue
        beaten = [name for name, value in baselines.items() if beats(row[metric], value)]
        row["vs_baselines"] = ("beats both" if len(beaten) == len(baselines) else
                               f"beats {beaten[0]} only" if beaten else "beats neither")
    return rows
