"""Clip files: frames of a video file or an animated GIF read as uint8 RGB one at a time, and written back
with the input's size, frame rate and timing. PyAV (which ships its own FFmpeg) streams them, so memory does
not grow with the clip's length. PyAV and PIL are imported where they are used (heavy, optional for images)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from colorize_utils.config import VIDEO_EXTENSIONS

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


# A GIF pixel keeps its previous frame's palette color (moved with the motion) while that color stays within this
# many RGB levels (on each channel) of its new color: without it, colors that drift slightly hop between palette
# entries from frame to frame. Chosen on a validation clip (benchmarks/bench_clip_flicker.py --choose-tolerance).
GIF_STEADY_TOLERANCE = 16
GIF_PALETTE_PIXELS = 4_000_000  # the pixels (of frames spread over the clip) the clip's one palette is fitted on


def steady_palette_frames(frames: list[np.ndarray], tolerance: float = GIF_STEADY_TOLERANCE) -> list:
    """uint8 RGB frames -> PIL palette images for one animated GIF, steady in time: one 256-color palette
    (median cut over frames spread across the clip) for every frame, and each pixel keeps the palette entry
    its previous frame gave it, moved with the motion (Farneback on L, runtime.temporal), while that entry
    stays within `tolerance` of its color. A GIF holds 256 colors a frame; a palette per frame, or the nearest
    entry chosen afresh each frame, would make colors hop between frames (flicker) as they drift."""
    import cv2
    from PIL import Image

    from colorize_utils.color import lightness_from_uint8
    from colorize_utils.runtime.temporal import estimate_motion

    if not frames:
        raise ValueError("no frames to write")
    step = max(1, int(np.ceil(len(frames) * frames[0].shape[0] * frames[0].shape[1] / GIF_PALETTE_PIXELS)))
    sample = np.concatenate([frame.reshape(-1, 3) for frame in frames[::step]])
    sample = sample[::max(1, int(np.ceil(len(sample) / GIF_PALETTE_PIXELS)))][None]  # one huge frame: every k-th pixel
    palette = Image.fromarray(np.ascontiguousarray(sample)).quantize(256, dither=Image.Dither.NONE)
    colors = np.asarray(palette.getpalette()[:768], np.int16).reshape(-1, 3)
    images, previous_index, previous_lightness = [], None, None
    for frame in frames:
        index = np.asarray(Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE), np.uint8)
        lightness = lightness_from_uint8(frame)
        if previous_index is not None and tolerance > 0 and previous_index.shape == index.shape:
            motion = estimate_motion(previous_lightness, lightness)
            moved = cv2.remap(previous_index, motion.map_x, motion.map_y, cv2.INTER_NEAREST,
                              borderMode=cv2.BORDER_REPLICATE)
            close = np.abs(colors[moved] - frame.astype(np.int16)).max(axis=-1) <= tolerance
            index = np.where(close & motion.inside, moved, index).astype(np.uint8)
        image = Image.frombytes("P", (index.shape[1], index.shape[0]), np.ascontiguousarray(index).tobytes())
        image.putpalette(palette.getpalette()[:768])
        images.append(image)
        previous_index, previous_lightness = index, lightness
    return images


class ClipWriter:
    """Writes frames to a video file (container from the extension) or an animated GIF, atomically.

    Video: H.264 (VP9 for .webm) at high quality (CRF 16), 4:2:0 chroma where the size allows it, else
    4:4:4, at the input's exact frame rate. GIF: each frame keeps its duration; GIF frames are held until
    close (the format is written in one go, with one palette for the clip: `steady_palette_frames`), video
    frames are not.
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
            self._gif_frames.append(np.array(frame, np.uint8))
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
                frames = steady_palette_frames(self._gif_frames)
                frames[0].save(self.temporary, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
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
