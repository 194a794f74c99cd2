"""Scoring clip colorization: synthetic clips filmed by a virtual camera over full-size photos (so the truth
is known), each colorized by several methods, and one metrics table with flicker and the temporal metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from keras import ops

from colorize_utils import metrics
from colorize_utils.learning import evaluation
from colorize_utils.binning import UniformBins
from colorize_utils.color import lab_channels_to_rgb_uint8, uint8_rgb_to_lab
from colorize_utils.runtime.temporal import clip_flicker, clip_motions, color_distribution_consistency, warping_error
from colorize_utils.runtime.video import colorize_frames


CAMERA_MOTIONS = ("pan", "zoom", "rotate", "still_object")


def synthetic_clip(photo: np.ndarray, motion: str, frames: int = 48, size: tuple[int, int] = (240, 320),
                   object_photo: np.ndarray | None = None) -> np.ndarray:
    """A clip (T x H x W x 3 uint8) filmed by a virtual camera over a full-size photo, with known truth.

    "pan" slides across the photo, "zoom" moves in by 1.6x, "rotate" turns by 20 degrees, "still_object"
    keeps the camera still while a disc cut from `object_photo` crosses the frame.
    """
    import cv2

    if motion not in CAMERA_MOTIONS:
        raise ValueError(f"Unknown camera motion {motion!r}; choose one of {', '.join(CAMERA_MOTIONS)}.")
    if motion == "still_object" and object_photo is None:
        raise ValueError("still_object needs object_photo: the photo the moving disc is cut from.")
    height, width = size
    photo_h, photo_w = photo.shape[:2]
    # The frame covers this share of the photo's smaller side, so the camera has room to move.
    base_scale = 0.6 * min(photo_h / height, photo_w / width)
    clip = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        s = t / max(1, frames - 1)
        scale, angle = base_scale, 0.0
        centre = np.array([photo_w / 2, photo_h / 2], np.float64)
        if motion == "pan":
            centre[0] += (s - 0.5) * (photo_w - base_scale * width) * 0.9
            centre[1] += (s - 0.5) * (photo_h - base_scale * height) * 0.3
        elif motion == "zoom":
            scale = base_scale / (1.0 + 0.6 * s)
        elif motion == "rotate":
            angle = 20.0 * s
            scale = base_scale * 0.8
        # Frame pixel (x, y) shows photo point centre + scale * R(angle) (x - w/2, y - h/2).
        theta = np.deg2rad(angle)
        rotation = scale * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        offset = centre - rotation @ np.array([width / 2, height / 2])
        matrix = np.hstack([rotation, offset[:, None]])
        # Blur before sampling in proportion to the shrink, so frames do not alias (like a real lens).
        sigma = max(0.0, 0.5 * (scale - 1.0))
        source = cv2.GaussianBlur(photo, (0, 0), sigma) if sigma > 0.3 else photo
        clip[t] = cv2.warpAffine(source, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REFLECT)
        if motion == "still_object":
            _paste_disc(clip[t], object_photo, s)
    return clip


def _paste_disc(frame: np.ndarray, object_photo: np.ndarray, progress: float) -> None:
    """A disc of the object photo's centre (a third of the frame's height) crossing the frame left to right."""
    import cv2

    height, width = frame.shape[:2]
    radius = height // 6
    obj_h, obj_w = object_photo.shape[:2]
    side = min(obj_h, obj_w) // 2
    patch = object_photo[obj_h // 2 - side // 2: obj_h // 2 + side // 2, obj_w // 2 - side // 2: obj_w // 2 + side // 2]
    patch = cv2.resize(patch, (2 * radius, 2 * radius), interpolation=cv2.INTER_AREA)
    centre_x = int(radius + progress * (width - 2 * radius))
    centre_y = height // 2
    yy, xx = np.mgrid[-radius:radius, -radius:radius]
    mask = (xx ** 2 + yy ** 2) < radius ** 2
    top, left = centre_y - radius, centre_x - radius
    region = frame[top:top + 2 * radius, left:left + 2 * radius]
    region[mask] = patch[mask]


@dataclass
class ClipScores:
    """One clip colorized by several methods: what the metrics table and the flicker plot need."""

    lightness: np.ndarray  # T x H x W x 1, the input's L (every method keeps it)
    ab_true: np.ndarray  # T x H x W x 2
    ab: dict  # method -> T x H x W x 2 (ab of the written uint8 frames)
    flicker: dict  # method (and "truth") -> flicker of each transition (T - 1)
    frames: dict  # method -> T x H x W x 3 uint8
    motions: list  # Motion of each transition, estimated on the input's L

    def flicker_ratio(self, method: str) -> float:
        """Mean flicker of a method over the ground truth's (1 = as steady as the real clip)."""
        return float(np.nanmean(self.flicker[method]) / np.nanmean(self.flicker["truth"]))


def score_clip(clip: np.ndarray, methods: dict[str, dict], model=None, decode: str | None = None,
               temperature: float | None = None, working_size: int | None = None) -> ClipScores:
    """Colorize a ground-truth clip (T x H x W x 3 uint8, given as gray) with each method and measure flicker.

    `methods` maps a name to colorize_frames keyword arguments, e.g. {"frame_by_frame": {"temporal": "none"},
    "flow": {"temporal": "flow"}}. Motion is estimated once on the input's L and shared by every method.
    """
    def lab_of(frames: np.ndarray) -> np.ndarray:
        return np.concatenate([ops.convert_to_numpy(uint8_rgb_to_lab(frame))[None] for frame in frames])

    lab_true = lab_of(clip)
    lightness, ab_true = lab_true[..., :1], lab_true[..., 1:]
    motions = clip_motions(lightness[..., 0])
    scores = ClipScores(lightness, ab_true, {}, {"truth": clip_flicker(ab_true, motions)}, {}, motions)
    for name, options in methods.items():
        frames = np.stack(list(colorize_frames(clip, model, decode, temperature, working_size, **options)))
        scores.frames[name] = frames
        scores.ab[name] = lab_of(frames)[..., 1:]
        scores.flicker[name] = clip_flicker(scores.ab[name], motions)
    return scores


def clip_table(scores: list[ClipScores], train_ab_mean: np.ndarray, reference: str = "frame_by_frame",
               seed: int = 0) -> list[dict]:
    """One metrics table over every frame of every clip: the baselines and each method, with flicker.

    Per-frame metrics come from evaluation.build_metrics_table (intervals against `reference`, paired by
    frame). Flicker columns: mean |delta ab| over all transitions, its ratio to the ground truth's and to
    `reference`'s, and the paired-bootstrap interval (over transitions) of the difference to `reference`.
    Frames of one clip are not independent, so the intervals are narrower than they would be over clips.
    """
    lightness = np.concatenate([clip.lightness for clip in scores])
    ab_true = np.concatenate([clip.ab_true for clip in scores])
    predictions = metrics.baseline_predictions(ab_true, train_ab_mean)
    methods = list(scores[0].ab)
    predictions.update({name: np.concatenate([clip.ab[name] for clip in scores]) for name in methods})
    rows, _ = evaluation.build_metrics_table(lightness, ab_true, predictions,
                                             {n: UniformBins(n) for n in (10, 30, 50)}, reference=reference,
                                             interval_metrics=("auc", "psnr", "colorfulness"), seed=seed)
    flicker = {name: np.concatenate([clip.flicker[name] for clip in scores]) for name in ["truth"] + methods}
    starts = np.cumsum([0] + [len(clip.ab_true) for clip in scores])
    for name in (metrics.GRAY, metrics.MEAN_COLOR):  # constant colors: measured the same way (they give 0)
        flicker[name] = np.concatenate([clip_flicker(predictions[name][starts[i]:starts[i + 1]], clip.motions)
                                        for i, clip in enumerate(scores)])
    truth_mean = float(np.nanmean(flicker["truth"]))
    for row in rows:
        values = flicker[row["model"]]
        row["flicker"] = float(np.nanmean(values))
        row["flicker_vs_truth"] = row["flicker"] / truth_mean
        if row["model"] != reference and reference in flicker:
            valid = np.isfinite(values) & np.isfinite(flicker[reference])
            mean, low, high = metrics.paired_bootstrap(values[valid], flicker[reference][valid], seed=seed)
            row[f"flicker_ratio_to_{reference}"] = row["flicker"] / float(np.nanmean(flicker[reference]))
            row[f"flicker_vs_{reference}"] = (f"{mean:+.4g} [{low:+.4g}, {high:+.4g}] "
                                             f"{metrics.verdict(low, high, higher_is_better=False)}")
    # The two temporal metrics the video-colorization papers report, per method over all clips' transitions.
    for row in rows:
        frames = ([clip.frames[row["model"]] for clip in scores] if row["model"] in scores[0].frames else
                  [lab_channels_to_rgb_uint8(clip.lightness, predictions[row["model"]][starts[i]:starts[i + 1]])
                   for i, clip in enumerate(scores)])
        row["warping_error"] = float(np.nanmean(np.concatenate(
            [warping_error(clip_frames, clip.motions) for clip_frames, clip in zip(frames, scores)])))
        row["cdc"] = float(np.mean([color_distribution_consistency(clip_frames) for clip_frames in frames]))
    truth_frames = [lab_channels_to_rgb_uint8(clip.lightness, clip.ab_true) for clip in scores]
    rows.append({"model": "ground truth", "flicker": truth_mean, "flicker_vs_truth": 1.0,
                 "warping_error": float(np.nanmean(np.concatenate(
                     [warping_error(frames, clip.motions) for frames, clip in zip(truth_frames, scores)]))),
                 "cdc": float(np.mean([color_distribution_consistency(frames) for frames in truth_frames])),
                 "colorfulness": float(np.mean(metrics.colorfulness(np.concatenate(truth_frames))))})
    return rows
