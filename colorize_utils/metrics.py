"""Evaluation metrics on numpy arrays: the paper's closeness and binned accuracy, and the field's
PSNR, SSIM, colorfulness and AuC, plus the gray and mean-color baselines every table carries.

ab arrays are in Lab units, shape (N, H, W, 2); L is (N, H, W, 1); RGB is uint8 (N, H, W, 3).
Per-image metrics return (N,).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy.ndimage import gaussian_filter

from colorize_utils.binning import ChannelBins
from colorize_utils.color import lab_channels_to_rgb_uint8

PSNR_CAP_DB = 100.0  # PSNR of identical images is infinite; per-image values are capped here
AUC_THRESHOLDS = np.arange(0, 151)  # Zhang et al. 2016: ab error thresholds 0..150

# The paper's "Euclidean" closeness is the Frobenius norm of (predicted - true) per image. Its
# numbers (11-19 at 64x64) only make sense with ab scaled to about [-1, 1]; we divide by the bin
# range's half-width, 100, and also report the norm on RGB in [0, 255] and the per-pixel RMS.
AB_NORM_SCALE = 100.0


def frobenius_ab(ab_pred: np.ndarray, ab_true: np.ndarray) -> np.ndarray:
    """Per-image Frobenius norm of (predicted - true) ab, with ab scaled by 1/100."""
    difference = (np.asarray(ab_pred, np.float64) - np.asarray(ab_true, np.float64)) / AB_NORM_SCALE
    return np.sqrt(np.sum(difference ** 2, axis=(1, 2, 3)))


def frobenius_rgb(lightness: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray,
                  rgb_true: np.ndarray | None = None) -> np.ndarray:
    """Per-image Frobenius norm of (predicted - true) RGB in [0, 255], both rebuilt with the true L
    (`rgb_true`: the truth's uint8 RGB, when the caller already has it)."""
    rgb_pred = lab_channels_to_rgb_uint8(lightness, ab_pred).astype(np.float64)
    rgb_true = lab_channels_to_rgb_uint8(lightness, ab_true) if rgb_true is None else rgb_true
    return np.sqrt(np.sum((rgb_pred - np.asarray(rgb_true, np.float64)) ** 2, axis=(1, 2, 3)))


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


def closeness_row(name: str, lightness: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray,
                  rgb_true: np.ndarray | None = None) -> tuple[dict, dict]:
    """One Table-1 row (mean and std per-image closeness of a model or baseline on a split) and its per-image
    frobenius_ab, as evaluate() gives every metric's. `rgb_true`: the truth's uint8 RGB, when the caller already has
    it (a table's Truth.rgb)."""
    frob_ab = frobenius_ab(ab_pred, ab_true)
    frob_rgb = frobenius_rgb(lightness, ab_pred, ab_true, rgb_true)
    row = {"model": name, "frobenius_ab": float(frob_ab.mean()), "frobenius_ab_std": float(frob_ab.std()),
           "frobenius_rgb": float(frob_rgb.mean()), "rms_ab": float(rms_ab(ab_pred, ab_true).mean()),
           "images": int(len(ab_true))}
    return row, {"frobenius_ab": frob_ab}


# Stable ids of the two baselines; tables are keyed by them, and display labels are applied only when a
# table is rendered (reporting.ResultsWriter.save_table's Markdown, tables.render_rows).
GRAY, MEAN_COLOR = "gray", "mean_color"
BASELINE_NAMES = (GRAY, MEAN_COLOR)
DISPLAY_LABELS = {GRAY: "gray (ab = 0)", MEAN_COLOR: "mean color"}


def add_baseline_verdicts(rows: list[dict], metric: str, lower_is_better: bool = True,
                          per_image: dict[str, np.ndarray] | None = None, seed: int = 0) -> list[dict]:
    """Add a 'vs_baselines' column: which of the gray and mean-color baselines each model beats.

    With `per_image` ({row name: per-image values of `metric`}), a model beats a baseline only when the 95%
    paired-bootstrap interval of its difference excludes 0 (otherwise "tie"), and a `vs_<baseline>` column
    gives the mean difference with its interval. Without it, the means are compared (no significance).
    """
    baselines = {row["model"]: row[metric] for row in rows if row["model"] in BASELINE_NAMES}

    def beats(row, name) -> bool:
        if per_image is None:
            return row[metric] < baselines[name] if lower_is_better else row[metric] > baselines[name]
        mean, low, high = paired_bootstrap(per_image[row["model"]], per_image[name], seed=seed)
        decided = verdict(low, high, higher_is_better=not lower_is_better)
        row[f"vs_{name}"] = f"{mean:+.3g} [{low:+.3g}, {high:+.3g}] {decided}"
        return decided == "better"

    for row in rows:
        if row["model"] in BASELINE_NAMES:
            row["vs_baselines"] = "baseline"
            continue
        beaten = [name for name in baselines if beats(row, name)]
        label = "beats" if per_image is None else "significantly beats"
        row["vs_baselines"] = (f"{label} both" if len(beaten) == len(baselines) else
                               f"{label} {beaten[0]} only" if beaten else
                               ("beats neither" if per_image is None else "tie or worse vs both"))
    return rows


def bin_indices(ab: np.ndarray, binning: ChannelBins) -> np.ndarray:
    """The bin index of every ab value (N, H, W, 2), encoded in chunks of images (bounds encode()'s temporaries)."""
    chunks = [np.asarray(binning.encode(np.asarray(ab[start:start + 64], np.float32)))
              for start in range(0, len(ab), 64)]
    return np.concatenate(chunks) if chunks else np.zeros(np.shape(ab), np.int32)


def binned_accuracy(ab_pred: np.ndarray, ab_true: np.ndarray, binning: ChannelBins,
                    true_indices: np.ndarray | None = None) -> np.ndarray:
    """Per image: share of pixel-channel values (A and B together) whose bin matches the truth's.

    `true_indices`: bin_indices(ab_true, binning), when the caller already has them (Truth keeps them)."""
    actual = bin_indices(ab_true, binning) if true_indices is None else true_indices
    predicted = bin_indices(ab_pred, binning)
    return np.mean(predicted == actual, axis=(1, 2, 3)) if len(actual) else np.zeros(0)


def psnr(rgb_pred: np.ndarray, rgb_true: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of uint8 RGB images (peak 255), capped at PSNR_CAP_DB for identical images."""
    error = np.mean((np.asarray(rgb_pred, np.float64) - np.asarray(rgb_true, np.float64)) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(255.0 ** 2 / error)
    return np.minimum(values, PSNR_CAP_DB)


SSIM_SIGMA = 1.5


def _ssim_blur(values: np.ndarray, sigma: float) -> np.ndarray:
    # Over the two spatial axes only, truncated at 3.5 sigma (an 11x11 window at sigma 1.5).
    return gaussian_filter(values, (0, sigma, sigma, 0), truncate=3.5, mode="reflect")


def ssim_moments(rgb: np.ndarray, sigma: float = SSIM_SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """An image's local means and local mean squares under SSIM's window: what ssim() needs of the truth, so a
    table computes them once, not once per row (Truth keeps them)."""
    y = np.asarray(rgb, np.float32)
    return _ssim_blur(y, sigma), _ssim_blur(y * y, sigma)


def ssim(rgb_pred: np.ndarray, rgb_true: np.ndarray, sigma: float = SSIM_SIGMA,
         true_moments: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Per-image SSIM (Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03) averaged over RGB.

    `true_moments`: ssim_moments(rgb_true, sigma), when the caller already has them."""
    # float32: half the memory traffic of float64 (SSIM was a third of a metrics table's time); the values
    # agree to about 1e-6.
    x = np.asarray(rgb_pred, np.float32)
    y = np.asarray(rgb_true, np.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_y, mean_square_y = ssim_moments(rgb_true, sigma) if true_moments is None else true_moments
    mu_x = _ssim_blur(x, sigma)
    var_x = _ssim_blur(x * x, sigma) - mu_x ** 2
    var_y = mean_square_y - mu_y ** 2
    cov = _ssim_blur(x * y, sigma) - mu_x * mu_y
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    # Leave out the border where the window falls off the image, as skimage does.
    pad = int(3.5 * sigma + 0.5)
    return index[:, pad:-pad, pad:-pad, :].mean(axis=(1, 2, 3))


def colorfulness(rgb: np.ndarray) -> np.ndarray:
    """Per-image colorfulness, the widely used *absolute* variant of Hasler and Suesstrunk (2003); 0 for gray.

    CF = sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2) with rg = |R - G| and
    yb = |(R + G) / 2 - B|, as in pyimagesearch's and DDColor's code. Hasler and Suesstrunk's paper uses the
    signed rg = R - G and yb = (R + G) / 2 - B, which gives other values (a flat colour scores
    0.3 x its mean opponent magnitude in both, but textures of opposite hues differ). We keep the absolute
    variant so our numbers compare with DDColor-style tables; tests pin which one this is.
    """
    rgb = np.asarray(rgb, np.float64)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = np.abs(red - green)
    yb = np.abs(0.5 * (red + green) - blue)
    spread = np.sqrt(rg.std(axis=(1, 2)) ** 2 + yb.std(axis=(1, 2)) ** 2)
    mean = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return spread + 0.3 * mean


def ab_error_auc(ab_pred: np.ndarray, ab_true: np.ndarray, thresholds: np.ndarray = AUC_THRESHOLDS) -> np.ndarray:
    """Per image: area under the curve of the share of pixels whose ab error is within each threshold.

    The error is the Euclidean distance in ab (Lab units); the curve over 0..150 is averaged, so a perfect
    prediction scores 1 (Zhang et al. 2016).
    """
    error = np.sqrt(np.sum((np.asarray(ab_pred, np.float64) - np.asarray(ab_true, np.float64)) ** 2, axis=-1))
    flat = error.reshape(len(error), -1)
    thresholds = np.sort(np.asarray(thresholds, np.float64))
    # The curve's mean over thresholds is, per pixel, the share of thresholds t with error <= t: one
    # searchsorted per pixel instead of one comparison pass per threshold (151 passes), same values.
    within = len(thresholds) - np.searchsorted(thresholds, flat, side="left")
    return within.mean(axis=1) / len(thresholds)


# Pixels per pass of evaluate() and Truth (128 images of 64 x 64, 12 video frames of 180 x 240): bounds their
# float64 temporaries to about 60 MB, where one pass over 1,000 images of 64 x 64 held about 500.
EVALUATE_CHUNK_PIXELS = 128 * 64 * 64


def image_spans(shape: tuple[int, ...], chunk: int | None = None) -> list[slice]:
    """Slices over the first axis of images of `shape` (N, H, W, ...), `chunk` images each (default: as many
    as EVALUATE_CHUNK_PIXELS holds); none for N = 0."""
    if chunk is None:
        chunk = max(1, EVALUATE_CHUNK_PIXELS // max(1, int(np.prod(shape[1:3]))))
    return [slice(start, start + chunk) for start in range(0, shape[0], chunk)]


class Truth:
    """The ground truth of a metrics table, with what every row compares against computed once, when first
    needed: its RGB, colorfulness, SSIM moments and bin indices. Rows of one table share one Truth."""

    def __init__(self, lightness: np.ndarray, ab: np.ndarray):
        self.lightness, self.ab = lightness, ab
        self._indices: dict[int, tuple[ChannelBins, np.ndarray]] = {}

    # Each is computed a chunk of images at a time (image_spans), as evaluate() does: every value is per image,
    # so the arrays are the same as in one pass, and a table of 1,000 images of 64 x 64 no longer needs
    # about 190 MB of temporaries for the truth's colorfulness or SSIM moments.
    @cached_property
    def rgb(self) -> np.ndarray:
        """The truth as uint8 RGB."""
        spans = image_spans(np.shape(self.ab))
        if not spans:
            return lab_channels_to_rgb_uint8(self.lightness, self.ab)
        return np.concatenate([lab_channels_to_rgb_uint8(self.lightness[span], self.ab[span]) for span in spans])

    @cached_property
    def mean_colorfulness(self) -> float:
        """The truth's mean colorfulness (what colorfulness_gap subtracts)."""
        spans = image_spans(np.shape(self.rgb))
        return float(np.mean(np.concatenate([colorfulness(self.rgb[span]) for span in spans]) if spans
                             else colorfulness(self.rgb)))

    @cached_property
    def ssim_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """ssim_moments() of the truth's RGB."""
        means, mean_squares = np.empty(np.shape(self.rgb), np.float32), np.empty(np.shape(self.rgb), np.float32)
        for span in image_spans(np.shape(self.rgb)):
            means[span], mean_squares[span] = ssim_moments(self.rgb[span])
        return means, mean_squares

    def bin_indices(self, binning: ChannelBins) -> np.ndarray:
        """The truth's bin indices under `binning`."""
        if id(binning) not in self._indices:  # the binning is kept with them, so its id stays its own
            self._indices[id(binning)] = (binning, bin_indices(self.ab, binning))
        return self._indices[id(binning)][1]




def evaluate(name: str, lightness: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray,
             binnings: dict[int, ChannelBins] | None = None, truth: Truth | None = None,
             chunk: int | None = None) -> tuple[dict, dict]:
    """Every metric for one model (or baseline): a table row of means, and the per-image arrays.

    `truth`: Truth(lightness, ab_true) shared by every row of a table, so what depends only on the truth is
    computed once per table, not once per row. Images are evaluated `chunk` at a time (default: as many as
    EVALUATE_CHUNK_PIXELS holds): every metric is per image, so the values are the same as in one pass, and
    memory stays small when notebooks run side by side.
    """
    truth = Truth(lightness, ab_true) if truth is None else truth
    parts = []
    for span in image_spans(np.shape(ab_true), chunk) or [slice(0, 0)]:
        pred, true = ab_pred[span], ab_true[span]
        rgb_pred = lab_channels_to_rgb_uint8(lightness[span], pred)
        rgb_true = truth.rgb[span]
        part = {
            "frobenius_ab": frobenius_ab(pred, true),
            "rms_ab": rms_ab(pred, true),
            "psnr": psnr(rgb_pred, rgb_true),
            "ssim": ssim(rgb_pred, rgb_true, true_moments=tuple(m[span] for m in truth.ssim_moments)),
            "auc": ab_error_auc(pred, true),
            "colorfulness": colorfulness(rgb_pred),
        }
        for num_bins, binning in (binnings or {}).items():
            part[f"accuracy_{num_bins}_bins"] = binned_accuracy(pred, true, binning,
                                                                truth.bin_indices(binning)[span])
        parts.append(part)
    per_image = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    row = {"model": name, **{key: float(np.mean(values)) for key, values in per_image.items()}}
    row["colorfulness_gap"] = row["colorfulness"] - truth.mean_colorfulness
    row["images"] = int(len(ab_true))
    return row, per_image


GRAY_BELOW_ZERO = -1e-3  # "a hair below 0": the other side of the bin edge at 0


def baseline_predictions(ab_true: np.ndarray, train_ab_mean: np.ndarray) -> dict[str, np.ndarray]:
    """{'gray': ab = 0, 'mean_color': the training pixels' mean ab} for every test pixel."""
    return {GRAY: gray_prediction(ab_true), MEAN_COLOR: mean_color_prediction(ab_true, train_ab_mean)}


def gray_better_side(rows: list[dict], per_image: dict, lightness: np.ndarray, ab_true: np.ndarray,
                     binnings: dict, truth: Truth | None = None) -> None:
    """Give the gray row (id 'gray') the better of its binned accuracies at ab = 0 and just below 0.

    0 is a bin edge for 10, 30 and 50 equal bins: exact 0 lands in the warm bin, -0.001 in the cool one,
    so a fair comparison credits gray with whichever side scores higher (per bin count, over the split).
    """
    below = np.full_like(ab_true, GRAY_BELOW_ZERO, dtype=np.float32)
    for row in rows:
        if row["model"] != GRAY:
            continue
        for num_bins, binning in binnings.items():
            key = f"accuracy_{num_bins}_bins"
            other = binned_accuracy(below, ab_true, binning, truth.bin_indices(binning) if truth else None)
            if other.mean() > row[key]:
                row[key] = float(other.mean())
                per_image[GRAY][key] = other
                row.setdefault("notes", []).append(f"{key}: ab = -0.001 (the better side of the 0 edge)")


def paired_bootstrap(values: np.ndarray, reference: np.ndarray, samples: int = 2_000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float]:
    """Mean of (values - reference) over images and its percentile bootstrap interval (paired by image)."""
    difference = np.asarray(values, np.float64) - np.asarray(reference, np.float64)
    if difference.ndim != 1 or len(difference) == 0:
        raise ValueError(f"paired_bootstrap needs two equal-length 1-D per-image arrays; got {difference.shape}.")
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    for start in range(0, samples, 500):  # bounded memory: 500 resamples at a time
        count = min(500, samples - start)
        picks = rng.integers(0, len(difference), size=(count, len(difference)))
        means[start:start + count] = difference[picks].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(difference.mean()), float(low), float(high)


def verdict(low: float, high: float, higher_is_better: bool) -> str:
    """'better' / 'worse' when the interval of (model - baseline) excludes 0, else 'tie'."""
    if low > 0:
        return "better" if higher_is_better else "worse"
    if high < 0:
        return "worse" if higher_is_better else "better"
    return "tie"
