# Run from the repository root: python benchmarks/colorizer_v3/greedy_probe.py
"""Validation-only probe (session 7): is session 7's continuation of version 3 (greedy_run), alone or averaged
with version 3 (a greedy soup's next ingredient), better than version 3 on the 500 calibration photos, each at
version 3's card settings? Paired 95% intervals against version 3; gray and mean color beside them."""
import json
import time
from pathlib import Path

import numpy as np

from colorize_utils.runtime import inference, networks
from colorize_utils.colorizer import photo_eval
from colorize_utils.files import git_commit
from colorize_utils.colorizer import weights

started = time.time()
shipped = inference.default_colorizer()
card = shipped.card
runs = Path("results/colorizer")
continued = networks.load_model(runs / "greedy_run/model.keras")
averaged = weights.average_weights([networks.load_model(runs / "soup_run/model.keras"),
                                   networks.load_model(runs / "greedy_run/model.keras")])
candidates = {"continued": continued, "average_v3_continued": averaged}
colorizers = {name: inference.Colorizer(model, shipped.binning, shipped.path, card=card)
              for name, model in candidates.items()}
photos = photo_eval.split_photos("../shared/data/photos", 1000, 1000, 42, 160)
validation = photo_eval.calibration_subset(photos["val"])
outputs = {"version3": photo_eval.colorize_all(validation, shipped)}
for name, colorizer in colorizers.items():
    outputs[name] = photo_eval.colorize_all(validation, colorizer)
comparison = photo_eval.compare(validation, outputs, np.asarray(card["train_ab_mean"]),
                                references=("gray", "version3"), keys=("psnr", "auc"))
for row in comparison["means"]:
    print(row["model"], round(row["psnr"], 3), round(row["auc"], 4), round(row["colorfulness"], 1),
          round(row["truth_colorfulness"], 1))
for row in comparison["intervals"]:
    print(f"{row['method']} - {row['reference']} {row['metric']}: {row['difference']:+.4f} "
          f"[{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}")
record = {"what": __doc__, "photos": len(validation), "settings": card["default_decoding"],
          "kept_checkpoint": "results/colorizer/greedy_run/model.keras (its best photo validation loss)",
          "git_commit": git_commit(), "seconds": round(time.time() - started, 1), **comparison}
Path("results/colorizer/greedy_probe", "probe.json").write_text(json.dumps(record, indent=1, default=float))
