"""Colorizing clips: frames streamed through the colorizer (each keeps its own L; only ab is predicted),
with colors kept steady from frame to frame by a temporal filter (temporal.py), read and written as a
stream (clips.py), so memory does not grow with the clip's length."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from colorize_utils.runtime import inference
from colorize_utils.runtime.clips import ClipInfo, ClipReader, ClipWriter, FrameSizeChanged, UnusableVideo
from colorize_utils.config import DEFAULT_TEMPORAL, DEFAULT_TEMPORAL_STRENGTH, check_temporal
from colorize_utils.runtime.temporal import TemporalFilter

CHUNK_FRAMES = 8  # frames predicted in one model call
# Short side (pixels) at which the temporal filter estimates motion and blends colors (frames smaller than this
# at their own size). On the validation clip, motion at 180 px instead of the model's 64 px cut flicker from
# 0.42 to 0.35 of frame by frame's at strength 0.8, with PSNR 0.02 dB better; 256 caps the cost on HD video.
FLOW_SIZE = 256


def colorize_frames(frames: Iterable[np.ndarray], model=None, decode: str | None = None,
                    temperature: float | None = None, working_size: int | None = None,
                    temporal: str = DEFAULT_TEMPORAL, strength: float = DEFAULT_TEMPORAL_STRENGTH,
                    chunk: int = CHUNK_FRAMES, flow_size: int | None = None,
                    guided_filter=None, mirror_average: bool | None = None) -> Iterator[np.ndarray]:
    """Colorize a stream of frames (each H x W x 3 uint8 RGB, or H x W gray; one size for the whole clip).

    Yields one uint8 RGB frame per input frame, in order, each with its input's L. Frames are predicted
    `chunk` at a time (one model call), then filtered in order; at most `chunk` frames are held. The
    temporal filter estimates motion and blends at short side `flow_size` (default FLOW_SIZE; never above
    the frame's own size). Settings left at None are the model card's (inference.Colorizer.settings).
    """
    inference.check_given_settings(decode, temperature, working_size)  # before the model loads
    check_temporal(temporal, strength)
    loaded = inference.resolve_colorizer(model)
    smoother = TemporalFilter(temporal, strength)
    pending: list[np.ndarray] = []

    def flush() -> Iterator[np.ndarray]:
        # Color conversions run on the chunk's frames stacked into one tall image: one call for all of them.
        height, width = pending[0].shape[:2]
        # as colorize() does for one image of this size (a small frame is enlarged by the card's scale)
        settings = loaded.settings(decode, temperature, working_size, guided_filter, mirror_average=mirror_average)
        colorizer = loaded.with_prior_correction(settings.prior_correction_alpha)
        lightness = inference.lightness_of(np.concatenate(pending)).reshape(len(pending), height, width)
        small = np.stack([inference.working_lightness(colorizer, frame_l, settings.working_size,
                                                         settings.small_image_scale)
                          for frame_l in lightness])
        predicted = inference.predict_working_ab(colorizer, small, settings.decode, settings.temperature,
                                                 settings.mirror_average, chroma_gain=settings.chroma_gain)
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
                  temporal: str = DEFAULT_TEMPORAL, strength: float = DEFAULT_TEMPORAL_STRENGTH,
                  on_frame: Callable[[int], None] | None = None, guided_filter=None,
                  mirror_average: bool | None = None) -> ClipResult:
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
                                         guided_filter=guided_filter, mirror_average=mirror_average):
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
