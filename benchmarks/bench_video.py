"""Video colorization throughput on this machine: frames/s at 480p (854x480), per temporal method.

    python benchmarks/bench_video.py [--frames 48] [--out results/benchmarks/video.json]

A virtual camera pans across scikit-image's astronaut (clip_eval.synthetic_clip) for `--frames` frames. Measured,
after a warm-up, in one process: `video.colorize_frames` in memory for each temporal method (none, ema, flow),
and `colorize_clip` end to end (decode an H.264 MP4, colorize with the default method, encode), so the
methods compare as ratios on the same machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "results" / "benchmarks"
                                              / "video.json"))
    args = parser.parse_args()
    from colorize_utils import config
    from colorize_utils.runtime import clips, inference, video
    from colorize_utils.learning import reporting, sources
    from colorize_utils.paper import clip_eval

    clip = clip_eval.synthetic_clip(sources.natural_photos(("astronaut",))["astronaut"], "pan", args.frames, (480, 854))
    model = inference.default_colorizer()
    list(video.colorize_frames(clip[:8], model))  # load and warm up
    rows = []
    for method in config.TEMPORAL_METHODS:
        started = time.perf_counter()
        for _ in video.colorize_frames(clip, model, temporal=method):
            pass
        seconds = time.perf_counter() - started
        rows.append({"temporal": method, "frames": len(clip), "seconds": seconds,
                     "frames_per_second": len(clip) / seconds})
        print(f"{method:>5}: {rows[-1]['frames_per_second']:.2f} frames/s", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder, "clip.mp4")
        writer = clips.ClipWriter(source, clips.ClipInfo(854, 480, Fraction(30), None, "video"))
        for frame in clip:
            writer.write(frame)
        writer.close()
        started = time.perf_counter()
        result = video.colorize_clip(source, Path(folder, "out.mp4"), model)
        seconds = time.perf_counter() - started
    end_to_end = {"temporal": config.DEFAULT_TEMPORAL, "frames": result.frames, "seconds": seconds,
                  "frames_per_second": result.frames / seconds, "container": "MP4 (H.264, CRF 16)"}
    print(f"end to end (MP4 in, MP4 out, {config.DEFAULT_TEMPORAL}): {end_to_end['frames_per_second']:.2f} frames/s")
    out = reporting.write_benchmark_record(
        args.out, clip={"size": "854x480", "frames": len(clip), "content": "virtual camera panning over astronaut"},
        colorize_frames=rows, colorize_clip=end_to_end)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
