"""How far one click's color reaches on one photo: the mean ab change against no hints at the click, in the sky and
on the road, for the shipped hint colorizer, its network alone and session 10's blend (the panel's screenshot).

    python benchmarks/hint_click_change.py [--photo PATH] [--click 0.456,0.506] [--color #1e64c8]
                                           [--out results/benchmarks/hint_click_change.json]

The default photo and click are the panel screenshots' (docs/panel/make_screenshots.py): a validation photo of a
truck, one click on its door. The sky is the photo's top 35 rows in 160, the road its bottom 25.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo", default=str(ROOT.parent / "shared/data/photos/imagenette/"
                                                             "val_n03417042_n03417042_10802.jpg"))
    parser.add_argument("--click", default="0.456,0.506", help="fractions of the photo's width and height")
    parser.add_argument("--color", default="#1e64c8")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "hint_click_change.json"))
    args = parser.parse_args()
    from PIL import Image

    from colorize_utils.color import uint8_rgb_to_lab_np
    from colorize_utils.colorizer import hint_release
    from colorize_utils.files import git_commit
    from colorize_utils.runtime import inference

    photo = np.asarray(Image.open(args.photo).convert("RGB"))
    height, width = photo.shape[:2]
    fx, fy = (float(v) for v in args.click.split(","))
    x, y = int(fx * width), int(fy * height)
    shipped = inference.resolve_hint_colorizer()
    blend = shipped.card["hint_blend"]
    methods = {"hint colorizer (shipped, gate)": shipped,
               "network alone": hint_release.with_blend(shipped, 0.0, blend),
               "session 10's blend (weight 0.5, no gate)": hint_release.with_blend(shipped, 0.5, blend, None)}
    sky, road = slice(0, round(35 * height / 160)), slice(height - round(25 * height / 160), height)
    rows = {}
    for name, colorizer in methods.items():
        before = uint8_rgb_to_lab_np(inference.colorize(photo, colorizer, hints=[]))[..., 1:]
        after = uint8_rgb_to_lab_np(inference.colorize(photo, colorizer, hints=[(x, y, args.color)]))[..., 1:]
        change = np.hypot(*(after - before).transpose(2, 0, 1))
        rows[name] = {"at_click": float(change[max(0, y - 3):y + 4, max(0, x - 3):x + 4].mean()),
                      "sky": float(change[sky].mean()), "road": float(change[road].mean())}
        print(f"{name}: at the click {rows[name]['at_click']:.1f}, sky {rows[name]['sky']:.1f}, "
              f"road {rows[name]['road']:.1f}")
    Path(args.out).write_text(json.dumps({"photo": Path(args.photo).name, "click": [x, y], "color": args.color,
                                          "rows": rows, "git_commit": git_commit()}, indent=1))


if __name__ == "__main__":
    main()
