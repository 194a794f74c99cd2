# Run from the repository root: python benchmarks/colorizer_v3/holdout_vs_v1.py
"""The shipped colorizer after session 7's small-image update against version 1 (the model issue 26 was filed
against, results/colorizer/previous_v1) on the 7,900 Tiny ImageNet hold-out images, each through colorize() with
its own card's defaults; gray and mean color beside them; paired 95% bootstrap intervals over images. It checks
the issue's ship rule against the model it names ("not worse on the Tiny ImageNet hold-out on PSNR and AuC")."""
import json
import time
from pathlib import Path

import numpy as np

from colorize_utils.runtime import inference
from colorize_utils.colorizer import photo_eval, shipped_model
from colorize_utils.files import git_commit
from colorize_utils.tables import markdown_table

started = time.time()
cfg = shipped_model.ColorizerConfig(**{k: v for k, v in json.loads(
    Path("results/colorizer/soup_run/config.json").read_text()).items() if k != "average_of"})
arrays, _ = shipped_model.load_image_arrays(cfg)
holdout = photo_eval.as_photos(shipped_model.holdout_test_images(cfg, arrays["test"]), "tiny_holdout_")
shipped = inference.default_colorizer()
version1 = inference.load_colorizer(Path("results/colorizer/previous_v1/colorizer.keras"))
outputs = {"shipped": photo_eval.colorize_all(holdout, shipped), "version1": photo_eval.colorize_all(holdout, version1)}
comparison = photo_eval.compare(holdout, outputs, np.asarray(shipped.card["train_ab_mean"]),
                                references=("gray", "mean_color", "version1"))
print(markdown_table(comparison["means"]))
for row in comparison["intervals"]:
    print(f"{row['method']} - {row['reference']}, {row['metric']}: {row['difference']:+.4f} "
          f"[{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}")
record = {"what": __doc__, "git_commit": git_commit(), "images": len(holdout),
          "seconds": round(time.time() - started, 1), **comparison}
Path("results/colorizer/small_update_check", "holdout_vs_v1.json").write_text(json.dumps(record, indent=1, default=float))
