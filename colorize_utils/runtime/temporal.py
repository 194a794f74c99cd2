"""Keeping colors steady from frame to frame, and measuring how steady they are.

Colorized alone, neighbouring frames of a clip get slightly different colors (flicker). The "flow" filter
carries the previous frame's colors along the optical flow (OpenCV) and blends them with the new prediction,
trusting them only where the flow explains the new frame's lightness (a small warp error).

Flicker is the mean |delta ab| between consecutive frames after motion compensation (the flow between the
input's L frames, which the prediction and the ground truth share), as a ratio to the ground truth's; the
warping error (Lai et al. 2018) and CDC are the video-colorization papers' two temporal metrics. OpenCV is
imported where it is used (heavy, optional for still images).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colorize_utils.config import DEFAULT_TEMPORAL, DEFAULT_TEMPORAL_STRENGTH, check_temporal

WARP_TOLERANCE = 3.0  # L units: a warp error of this size halves the trust in the propagated colors
SCENE_CUT_L = 12.0  # mean |delta L| (L units) above which `ema` starts afresh


@dataclass
class Motion:
    """Where each pixel of frame t was in frame t-1 (absolute maps for cv2.remap) and which pixels were
    seen in frame t-1 (inside it, and not occluded: the warped lightness matches)."""

    map_x: np.ndarray
    map_y: np.ndarray
    warp_error: np.ndarray  # |L_t - warped L_{t-1}| (L units)
    inside: np.ndarray  # bool: the source position lies inside frame t-1


def estimate_motion(previous_lightness: np.ndarray, lightness: np.ndarray) -> Motion:
    """Dense optical flow (Farneback) from frame t back to frame t-1, on L (H x W, 0..100)."""
    import cv2

    current8 = np.clip(lightness * 2.55, 0, 255).astype(np.uint8)
    previous8 = np.clip(previous_lightness * 2.55, 0, 255).astype(np.uint8)
    levels = int(max(1, min(4, np.log2(max(8, min(lightness.shape)) / 8))))
    flow = cv2.calcOpticalFlowFarneback(current8, previous8, None, pyr_scale=0.5, levels=levels, winsize=9,
                                        iterations=3, poly_n=5, poly_sigma=1.1, flags=0)
    height, width = lightness.shape
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    warped = warp(previous_lightness, Motion(map_x, map_y, None, inside))
    return Motion(map_x, map_y, np.abs(lightness - warped).astype(np.float32), inside)


def warp(image: np.ndarray, motion: Motion) -> np.ndarray:
    """Frame t-1's `image` (H x W or H x W x C float) moved onto frame t's pixels."""
    import cv2

    return cv2.remap(np.ascontiguousarray(image, np.float32), motion.map_x, motion.map_y, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


class TemporalFilter:
    """Keeps ab steady between frames at the working resolution: "none", "ema" or "flow" (see module doc).

    `strength` is the weight of the previous frame's (propagated) colors where they are fully trusted.
    """

    def __init__(self, method: str = DEFAULT_TEMPORAL, strength: float = DEFAULT_TEMPORAL_STRENGTH,
                 tolerance: float = WARP_TOLERANCE):
        check_temporal(method, strength)
        self.method, self.strength, self.tolerance = method, float(strength), float(tolerance)
        self.previous_lightness = self.previous_ab = None

    def __call__(self, lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
        """The ab to use for this frame (h x w x 2, at L's size), from its prediction `ab` (at L's size or
        smaller: the colorizer predicts at 1/4 resolution) and its L (h x w) at the working resolution."""
        import cv2

        if ab.shape[:2] != lightness.shape:  # filter at L's resolution, where the flow is estimated
            ab = cv2.resize(np.ascontiguousarray(ab, np.float32), lightness.shape[::-1], interpolation=cv2.INTER_LINEAR)
        out = ab
        if self.previous_ab is not None and self.method != "none":
            if self.method == "ema":
                same_scene = np.mean(np.abs(lightness - self.previous_lightness)) < SCENE_CUT_L
                weight = self.strength if same_scene else 0.0
                out = (1.0 - weight) * ab + weight * self.previous_ab
            else:
                motion = estimate_motion(self.previous_lightness, lightness)
                trust = np.exp(-np.log(2.0) * (motion.warp_error / self.tolerance) ** 2) * motion.inside
                weight = (self.strength * trust)[..., None]
                out = (1.0 - weight) * ab + weight * warp(self.previous_ab, motion)
        self.previous_lightness, self.previous_ab = lightness, out.astype(np.float32)
        return self.previous_ab


def frame_flicker(previous_ab: np.ndarray, ab: np.ndarray, motion: Motion, occlusion_l: float = 2.0) -> float:
    """Mean |delta ab| (Euclidean, Lab units) between frame t and the motion-compensated frame t-1, over the
    pixels seen in both (inside frame t-1, warp error of L below `occlusion_l`)."""
    moved = warp(previous_ab, motion)
    seen = motion.inside & (motion.warp_error < occlusion_l)
    if not seen.any():
        return float("nan")
    return float(np.mean(np.sqrt(np.sum((ab - moved) ** 2, axis=-1))[seen]))


def clip_flicker(ab_frames: np.ndarray, motions: list[Motion]) -> np.ndarray:
    """Flicker of each transition (frame t-1 -> t) of a clip's ab frames (T x H x W x 2); motions[t-1]
    is estimate_motion(L[t-1], L[t]) of the input's L, shared by every method and the ground truth."""
    return np.array([frame_flicker(ab_frames[t - 1], ab_frames[t], motions[t - 1])
                     for t in range(1, len(ab_frames))])


def warping_error(rgb_frames: np.ndarray, motions: list[Motion], occlusion_l: float = 2.0) -> np.ndarray:
    """Lai et al. (2018)'s warping error of each transition of a clip's output (T x H x W x 3 uint8): the mean,
    over the pixels seen in both frames, of the squared RGB distance (values in [0, 1]) between frame t and
    frame t-1 moved onto it. Lai et al. take the flow and occlusion from FlowNet2 on the ground truth; here
    the motion is Farneback's on the input's L (shared by every method), and a pixel counts as seen where it
    lies inside frame t-1 and the warped L matches within `occlusion_l`, as in frame_flicker."""
    errors = []
    for t in range(1, len(rgb_frames)):
        motion = motions[t - 1]
        moved = warp(rgb_frames[t - 1].astype(np.float32) / 255.0, motion)
        seen = motion.inside & (motion.warp_error < occlusion_l)
        squared = np.sum((rgb_frames[t].astype(np.float32) / 255.0 - moved) ** 2, axis=-1)
        errors.append(float(squared[seen].mean()) if seen.any() else float("nan"))
    return np.array(errors)


CDC_GAPS = (1, 2, 4)


def color_distribution_consistency(rgb_frames: np.ndarray, gaps=CDC_GAPS, bins: int = 256) -> float:
    """CDC (Liu et al. 2021, "Temporally consistent video colorization with deep feature propagation and
    self-regularization learning"): the Jensen-Shannon divergence (base 2, so in [0, 1]) between the color
    histograms of frames `gap` apart, per RGB channel (256 bins), averaged over channels and frame pairs, then
    over the gaps 1, 2 and 4. 0 = every frame has the same color distribution; no motion is needed."""
    histograms = np.stack([[np.bincount(frame[..., c].ravel(), minlength=bins)[:bins] for c in range(3)]
                           for frame in np.asarray(rgb_frames, np.uint8)]).astype(np.float64)
    histograms /= histograms.sum(axis=-1, keepdims=True)

    def divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        middle = 0.5 * (p + q)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = lambda a: np.sum(np.where(a > 0, a * np.log2(a / middle), 0.0), axis=-1)  # noqa: E731
            return 0.5 * kl(p) + 0.5 * kl(q)

    per_gap = [float(np.mean(divergence(histograms[:-gap], histograms[gap:]))) for gap in gaps
               if gap < len(histograms)]
    return float(np.mean(per_gap)) if per_gap else float("nan")


def clip_motions(lightness_frames: np.ndarray) -> list[Motion]:
    """estimate_motion for each consecutive pair of a clip's L frames (T x H x W)."""
    return [estimate_motion(lightness_frames[t - 1], lightness_frames[t]) for t in range(1, len(lightness_frames))]
