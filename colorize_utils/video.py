"""Colorizing clips: frames streamed through the colorizer, with colors kept steady from frame to frame.

Each frame keeps its own L; only ab is predicted. Colorized alone, neighbouring frames of a clip get
slightly different colors (flicker). `--temporal flow` carries the previous frame's colors along the optical
flow (OpenCV) and blends them with the new prediction, trusting them only where the flow explains the new
frame's lightness (a small warp error). Frames are read, colorized and written as a stream (PyAV, which
ships its own FFmpeg), so memory does not grow with the clip's length.

Flicker is measured as the mean |delta ab| between consecutive frames after motion compensation (the
flow between the input's L frames, which the prediction and the ground truth share), as a ratio to the
same figure for the ground truth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

# Defined in config (no heavy imports), so the command line checks them before TensorFlow loads.
from .config import DEFAULT_TEMPORAL, DEFAULT_TEMPORAL_STRENGTH, TEMPORAL_METHODS, check_temporal  # noqa: F401
from . import inference

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm")
DEFAULT_STRENGTH = DEFAULT_TEMPORAL_STRENGTH  # weight of the propagated colors where the flow explains the frame perfectly
WARP_TOLERANCE = 3.0  # L units: a warp error of this size halves the trust in the propagated colors
SCENE_CUT_L = 12.0  # mean |delta L| (L units) above which `ema` starts afresh
CHUNK_FRAMES = 8  # frames predicted in one model call
# Short side (pixels) at which the temporal filter estimates motion and blends colors (frames smaller than this
# at their own size). On the validation clip, motion at 180 px instead of the model's 64 px cut flicker from
# 0.42 to 0.35 of frame by frame's at strength 0.8, with PSNR 0.02 dB better; 256 caps the cost on HD video.
FLOW_SIZE = 256
MAX_FRAME_PIXELS = 8192 * 4320  # 8K: larger frames are refused


class UnusableVideo(ValueError):
    """A clip that cannot be read, with the reason in words."""


class FrameSizeChanged(ValueError):
    """A clip whose frame size changes midway (the frames before the change have been yielded)."""


@dataclass
class ClipInfo:
    """What the writer needs to keep of the input: size, frame rate, and for GIFs each frame's duration."""

    width: int
    height: int
    frame_rate: Fraction
    frame_count: int | None  # from the container's header; None when it does not say
    kind: str  # "video" or "gif"
    durations_ms: list = field(default_factory=list)  # GIF: each frame's display time
    loop: int | None = None  # GIF: 0 = forever, None = play once (no loop block)
    audio_streams: int = 0  # video: audio tracks in the input (not carried over)


def is_animated_gif(path: str | os.PathLike) -> bool:
    """True for a GIF with more than one frame."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.format == "GIF" and getattr(image, "n_frames", 1) > 1
    except (OSError, ValueError):
        return False


def is_clip(path: str | os.PathLike) -> bool:
    """True for a video file (by extension) or an animated GIF: what the command line colorizes as a clip."""
    suffix = Path(path).suffix.lower()
    return suffix in VIDEO_EXTENSIONS or (suffix == ".gif" and is_animated_gif(path))


class ClipReader:
    """Frames of a video file or an animated GIF as uint8 RGB arrays, one at a time.

    `info` is read when the reader is made (an unreadable file raises UnusableVideo at once). Iterating
    decodes frame by frame; a file that breaks off midway ends the iteration early and sets `error` to the
    reason, so the frames before the damage are still used.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.error: str | None = None
        self.frames_read = 0
        if not self.path.exists():
            raise UnusableVideo("no such file")
        if self.path.suffix.lower() == ".gif":
            self.info = self._gif_info()
        else:
            self.info = self._video_info()
        if self.info.width * self.info.height > MAX_FRAME_PIXELS:
            raise UnusableVideo(f"frames of {self.info.width}x{self.info.height} are above the limit of "
                                f"{MAX_FRAME_PIXELS:,} pixels")

    def _gif_info(self) -> ClipInfo:
        from PIL import Image

        try:
            with Image.open(self.path) as image:
                count = getattr(image, "n_frames", 1)
                durations = []
                for index in range(count):
                    image.seek(index)
                    durations.append(int(image.info.get("duration", 100)) or 100)
                loop = image.info.get("loop")
                size = image.size
        except (OSError, ValueError, EOFError) as error:
            raise UnusableVideo(f"not a readable GIF ({error})") from None
        mean_ms = float(np.mean(durations))
        return ClipInfo(size[0], size[1], Fraction(1000, 1) / Fraction(mean_ms).limit_denominator(1000), count,
                        "gif", durations, loop)

    def _video_info(self) -> ClipInfo:
        import av

        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise UnusableVideo("holds no video stream")
                stream = container.streams.video[0]
                rate = stream.average_rate or stream.guessed_rate or stream.base_rate
                if not rate:
                    raise UnusableVideo("its frame rate is unknown")
                width, height = stream.codec_context.width, stream.codec_context.height
                count = int(stream.frames) or None
                audio = len(container.streams.audio)
        except av.error.FFmpegError as error:
            raise UnusableVideo(f"not a readable video, or cut off before its index "
                                f"(FFmpeg: {error.strerror or error})") from None
        if not width or not height:
            raise UnusableVideo("its frame size is unknown (damaged header?)")
        return ClipInfo(width, height, Fraction(rate), count, "video", audio_streams=audio)

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.info.kind == "gif":
            yield from self._gif_frames()
        else:
            yield from self._video_frames()

    def _gif_frames(self) -> Iterator[np.ndarray]:
        from PIL import Image

        try:
            with Image.open(self.path) as image:
                for index in range(self.info.frame_count or 1):
                    image.seek(index)
                    frame = np.asarray(image.convert("RGB"))
                    self.frames_read += 1
                    yield frame
        except (OSError, ValueError, EOFError) as error:
            self.error = f"damaged after frame {self.frames_read} ({error})"

    def _video_frames(self) -> Iterator[np.ndarray]:
        import av

        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    rgb = frame.to_ndarray(format="rgb24")
                    self.frames_read += 1
                    yield rgb
        except av.error.FFmpegError as error:
            self.error = f"damaged after frame {self.frames_read} ({error.strerror or error})"
        if self.info.frame_count and self.frames_read < self.info.frame_count and self.error is None:
            self.error = (f"truncated: its header promises {self.info.frame_count} frames, "
                          f"{self.frames_read} could be decoded")


def _codec_for(suffix: str) -> str:
    return "libvpx-vp9" if suffix == ".webm" else "libx264"


class ClipWriter:
    """Writes frames to a video file (container from the extension) or an animated GIF, atomically.

    Video: H.264 (VP9 for .webm) at high quality (CRF 16), 4:2:0 chroma where the size allows it, else
    4:4:4, at the input's exact frame rate. GIF: each frame keeps its duration; GIF frames are held until
    close (the format is written in one go), video frames are not.
    """

    def __init__(self, path: str | os.PathLike, info: ClipInfo, crf: int = 16):
        self.path, self.info = Path(path), info
        self.temporary = self.path.with_name(f".{self.path.stem}.partial-{os.getpid()}{self.path.suffix}")
        self.frames_written = 0
        self._gif_frames: list = []
        self._container = self._stream = None
        if self.path.suffix.lower() != ".gif":
            import av

            # faststart: the index goes first, so a player can start at once and a cut-off copy stays readable.
            options = {"movflags": "+faststart"} if self.path.suffix.lower() in (".mp4", ".m4v", ".mov") else {}
            self._container = av.open(str(self.temporary), "w", options=options)
            try:
                self._open_stream(info, crf)
            except BaseException:
                self.discard()
                raise

    def _open_stream(self, info: ClipInfo, crf: int) -> None:
        """The video stream of the container opened in __init__."""
        codec = _codec_for(self.path.suffix.lower())
        self._stream = self._container.add_stream(codec, rate=info.frame_rate)
        self._stream.width, self._stream.height = info.width, info.height
        even = info.width % 2 == 0 and info.height % 2 == 0
        # 4:2:0 needs even sizes; an odd-sized clip keeps its size in 4:4:4 (some players refuse it).
        self._stream.pix_fmt = "yuv420p" if even or codec != "libx264" else "yuv444p"
        self._stream.codec_context.time_base = 1 / info.frame_rate
        self._stream.options = ({"crf": str(crf)} if codec == "libx264"
                                else {"crf": str(crf + 10), "b": "0", "row-mt": "1"})

    def write(self, frame: np.ndarray) -> None:
        """Append one uint8 RGB frame of the clip's size."""
        if frame.shape[:2] != (self.info.height, self.info.width):
            raise ValueError(f"frame {self.frames_written} is {frame.shape[1]}x{frame.shape[0]}; the clip is "
                             f"{self.info.width}x{self.info.height}")
        if self._container is None:
            from PIL import Image

            self._gif_frames.append(Image.fromarray(frame).quantize(256, dither=Image.Dither.NONE))
        else:
            import av

            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            video_frame.pts = self.frames_written
            for packet in self._stream.encode(video_frame):
                self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and move it into place; returns its path."""
        try:
            if self._container is not None:
                for packet in self._stream.encode():
                    self._container.mux(packet)
                self._container.close()
            else:
                if not self._gif_frames:
                    raise ValueError("no frames to write")
                durations = (self.info.durations_ms[:len(self._gif_frames)]
                             or [round(1000 / float(self.info.frame_rate))] * len(self._gif_frames))
                loop = {} if self.info.loop is None else {"loop": self.info.loop}
                self._gif_frames[0].save(self.temporary, format="GIF", save_all=True,
                                         append_images=self._gif_frames[1:], duration=durations,
                                         optimize=False, disposal=1, **loop)
                self._gif_frames = []
            os.replace(self.temporary, self.path)
        finally:
            self.discard()
        return self.path

    def discard(self) -> None:
        """Remove the partial file (after an error): nothing half-written is left behind."""
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # closing a broken container may raise again; the file goes anyway
                pass
            self._container = None
        if self.temporary.exists():
            self.temporary.unlink()


# ----------------------------------------------------------------------------- motion and temporal filters

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

    def __init__(self, method: str = DEFAULT_TEMPORAL, strength: float = DEFAULT_STRENGTH,
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




# ----------------------------------------------------------------------------- colorizing frames

def colorize_frames(frames: Iterable[np.ndarray], model=None, decode: str | None = None,
                    temperature: float | None = None, working_size: int | None = None,
                    temporal: str = DEFAULT_TEMPORAL, strength: float = DEFAULT_STRENGTH,
                    chunk: int = CHUNK_FRAMES, flow_size: int | None = None,
                    guided_filter=None) -> Iterator[np.ndarray]:
    """Colorize a stream of frames (each H x W x 3 uint8 RGB, or H x W gray; one size for the whole clip).

    Yields one uint8 RGB frame per input frame, in order, each with its input's L. Frames are predicted
    `chunk` at a time (one model call), then filtered in order; at most `chunk` frames are held. The
    temporal filter estimates motion and blends at short side `flow_size` (default FLOW_SIZE; never above
    the frame's own size). Settings left at None are the model card's (inference.Colorizer.settings).
    """
    inference.check_given_settings(decode, temperature, working_size)  # before the model loads
    check_temporal(temporal, strength)
    colorizer = inference.resolve_colorizer(model)
    settings = colorizer.settings(decode, temperature, working_size, guided_filter)
    smoother = TemporalFilter(temporal, strength)
    pending: list[np.ndarray] = []

    def flush() -> Iterator[np.ndarray]:
        # Color conversions run on the chunk's frames stacked into one tall image: one call for all of them.
        height, width = pending[0].shape[:2]
        lightness = inference.lightness_of(np.concatenate(pending)).reshape(len(pending), height, width)
        small = np.stack([inference.working_lightness(colorizer, frame_l, settings.working_size)
                          for frame_l in lightness])
        predicted = inference.predict_working_ab(colorizer, small, settings.decode, settings.temperature)
        if temporal == "none" and flow_size is None:
            steady = [smoother(small_l, small_ab) for small_l, small_ab in zip(small, predicted)]
        else:
            side = min(int(flow_size or FLOW_SIZE), min(height, width))
            steady = [smoother(inference.resize_short_side(frame_l, side), small_ab)
                      for frame_l, small_ab in zip(lightness, predicted)]
        if len(pending) * height * width <= inference.STRIP_PIXELS * 8:
            ab = np.concatenate([inference.full_resolution_ab(frame_l, frame_ab, 0, height, settings.guided_filter)
                                 for frame_l, frame_ab in zip(lightness, steady)])
            rows_l, step = lightness.reshape(-1, width), inference.strip_rows(width)
            rgb = np.concatenate([inference.lab_to_rgb_uint8(rows_l[start:start + step], ab[start:start + step])
                                  for start in range(0, len(ab), step)])
            yield from rgb.reshape(len(pending), height, width, 3)
        else:  # large frames one by one, strip by strip
            for frame_l, frame_ab in zip(lightness, steady):
                yield inference.recombine(frame_l, frame_ab, settings.guided_filter)
        pending.clear()

    shape = None
    for index, frame in enumerate(frames):
        rgb = inference.as_rgb_uint8(frame)
        if shape is None:
            shape = rgb.shape
        elif rgb.shape != shape:
            if pending:
                yield from flush()
            raise FrameSizeChanged(f"frame {index} is {rgb.shape[1]}x{rgb.shape[0]}; earlier frames are "
                                   f"{shape[1]}x{shape[0]} (a clip has one frame size)")
        pending.append(rgb)
        if len(pending) >= chunk:
            yield from flush()
    if pending:
        yield from flush()


@dataclass
class ClipResult:
    """What colorize_clip did: frames written, and the reason it stopped early (None when it did not)."""

    path: Path
    frames: int
    info: ClipInfo
    warning: str | None = None  # damage: why it stopped before the end
    notes: list = field(default_factory=list)  # what the output leaves out (sound)


def colorize_clip(source: str | os.PathLike, target: str | os.PathLike, model=None, decode: str | None = None,
                  temperature: float | None = None, working_size: int | None = None,
                  temporal: str = DEFAULT_TEMPORAL, strength: float = DEFAULT_STRENGTH,
                  on_frame: Callable[[int], None] | None = None, guided_filter=None) -> ClipResult:
    """Colorize a video file or animated GIF into `target` (its extension picks the format), streaming.

    The output has the input's frame size, frame rate and frame count (a GIF keeps each frame's duration).
    A file damaged midway is colorized up to the damage and `warning` says so; an unreadable one raises
    UnusableVideo and writes nothing. `on_frame(count)` is called after each frame (progress bars).
    """
    reader = ClipReader(source)
    writer = ClipWriter(target, reader.info)
    warning = None
    try:
        try:
            for frame in colorize_frames(reader, model, decode, temperature, working_size, temporal, strength,
                                         guided_filter=guided_filter):
                writer.write(frame)
                if on_frame is not None:
                    on_frame(writer.frames_written)
        except FrameSizeChanged as error:  # keep what came before, like any other damage
            warning = f"stopped: {error}"
        if writer.frames_written == 0:
            raise UnusableVideo(warning or reader.error or "holds no decodable frames")
        path = writer.close()
    except BaseException:
        writer.discard()
        raise
    damage = "; ".join(note for note in (warning, reader.error) if note) or None
    notes = ([f"its sound ({reader.info.audio_streams} audio track(s)) is not carried over"]
             if reader.info.audio_streams else [])
    return ClipResult(path, writer.frames_written, reader.info, damage, notes)


# ----------------------------------------------------------------------------- flicker and test clips

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
    from keras import ops

    from .color import uint8_rgb_to_lab

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


def training_mean_ab(colorizer) -> np.ndarray:
    """The mean ab of a colorizer's training pixels (the mean-color baseline), from its fitted bin table."""
    binning = colorizer.binning
    if binning is None or getattr(binning, "counts", None) is None:
        raise ValueError("the model has no fitted bin table, so its training pixels' mean color is unknown.")
    counts = np.asarray(binning.counts, np.float64)
    return (counts[:, None] * np.asarray(binning.bin_values, np.float64)).sum(axis=0) / counts.sum()


def clip_table(scores: list[ClipScores], train_ab_mean: np.ndarray, reference: str = "frame_by_frame",
               seed: int = 0) -> list[dict]:
    """One metrics table over every frame of every clip: the baselines and each method, with flicker.

    Per-frame metrics come from evaluation.build_metrics_table (intervals against `reference`, paired by
    frame). Flicker columns: mean |delta ab| over all transitions, its ratio to the ground truth's and to
    `reference`'s, and the paired-bootstrap interval (over transitions) of the difference to `reference`.
    Frames of one clip are not independent, so the intervals are narrower than they would be over clips.
    """
    from . import evaluation, metrics
    from .binning import UniformBins
    from .color import lab_channels_to_rgb_uint8

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


def clip_settings(profile: str) -> tuple[int, tuple[int, int]]:
    """(frames per clip, (height, width)) of notebook 08's synthetic clips for a run profile."""
    return {"smoke": (6, (48, 64)), "demo": (36, (180, 240)), "medium": (60, (240, 320)),
            "paper": (96, (360, 480))}.get(profile, (36, (180, 240)))
