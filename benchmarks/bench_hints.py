"""Color hints on this machine: how long the panel takes to answer a click on a 1-megapixel photo.

    python benchmarks/bench_hints.py [--model PATH] [--points 10] [--out results/benchmarks/hints.json]

The issue's target: the panel's result updates in under a second for a 1-megapixel photo. Measured after the
model is loaded and warmed up, on a 1024x1024 photo with `--points` hints already placed:

1. `HintPanel.click()`: what a click costs the user, end to end (the suggestions at the pixel, the colorization
   with every point, both pictures redrawn as PNG). Each click is a new point, so its colorization runs the model;
   the suggestions reuse the panel's last output (the points before the click), as they do in use;
2. a redraw (Undo, Clear, a chosen color) and its parts, `colorize(photo, hints=...)` and `suggest_colors()`,
   each with only the photo's automatic result remembered (as in the panel, which shows it first), so the
   model runs for the hints.

Medians of `--repeats` runs. `--model`: a hint colorizer (default: the shipped one).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def median_seconds(call, repeats: int, reset=None) -> float:
    """The median wall time of `repeats` calls, `reset()` (untimed) before each."""
    times = []
    for _ in range(repeats):
        if reset is not None:
            reset()
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def click_timing(model: str | None, points: int, repeats: int) -> dict:
    """Seconds per panel click, per colorize() with hints and per suggest_colors() on a 1024x1024 photo."""
    import skimage.data
    from PIL import Image

    from colorize_utils.panel import HintPanel
    from colorize_utils.runtime import inference

    photo = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((1024, 1024), Image.BILINEAR))
    panel = HintPanel(photo, model=model)  # loads the model and colorizes once
    rng = np.random.default_rng(0)
    for x, y in rng.integers(0, 1024, (points, 2)):
        panel.click(float(x), float(y), "#%02x%02x%02x" % tuple(int(c) for c in photo[y, x]))  # also warms up
    hints = list(panel.hints)

    shades = iter(range(10_000))

    def before_click():  # the panel as it was before the click, with `points` hints and its last output remembered
        del panel.hints[points:]
        panel.update()

    # a new color each time, as a user's click is: the colorization is never a remembered one, while the
    # suggestions reuse the panel's last output (the same points), as in use
    click = median_seconds(lambda: panel.click(512.0, 300.0, "#c0%02x2b" % (next(shades) % 256)), repeats,
                           reset=before_click)
    del panel.hints[points:]
    # the rest with only the automatic result remembered (as in the panel, which shows it first): the model runs
    def forget():
        inference.clear_prediction_cache()
        inference.colorize(panel.gray, panel.colorizer, hints=[])
    update = median_seconds(panel.update, repeats, reset=forget)  # what Undo, Clear and a chosen suggestion cost
    colorize = median_seconds(lambda: inference.colorize(panel.gray, panel.colorizer, hints=hints), repeats, forget)
    suggest = median_seconds(lambda: inference.suggest_colors(panel.gray, 512, 300, 5, panel.colorizer, hints=hints),
                             repeats, forget)
    return {"photo": "1024x1024", "model": str(panel.colorizer.path), "points": points, "repeats": repeats,
            "settings": str(panel.colorizer.settings()),
            "click_seconds": click, "update_seconds": update,
            "colorize_with_hints_seconds": colorize, "suggest_colors_seconds": suggest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a hint colorizer .keras (default: the shipped one)")
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "results" / "benchmarks"
                                              / "hints.json"))
    args = parser.parse_args()
    from colorize_utils.learning import reporting

    record = {"panel_click": click_timing(args.model, args.points, args.repeats)}
    print(json.dumps(record, indent=1), flush=True)
    print(f"written to {reporting.write_benchmark_record(args.out, **record)}")


if __name__ == "__main__":
    main()
