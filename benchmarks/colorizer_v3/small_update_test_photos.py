# Run from the repository root: python benchmarks/colorizer_v3/small_update_test_photos.py
"""Session 7's small-image update through the photo test split. 259 of the 1,000 test photos have a short side
below 160 px, so they take the small-image path, whose settings the update changed (chosen on Tiny val, applied
by the Tiny hold-out). This scores the test photos through colorize() with the shipped card as updated, against
the card before the update (commit f115343: version 3 as shipped in session 6), version 2, gray and mean color,
with paired 95% bootstrap intervals over photos. Nothing is chosen here: it reports what users now get."""
import dataclasses
import json
import subprocess
import time
from pathlib import Path

import numpy as np

from colorize_utils.runtime import inference
from colorize_utils.colorizer import photo_eval
from colorize_utils.files import git_commit
from colorize_utils.tables import markdown_table

started = time.time()
updated = inference.default_colorizer()
before_card = json.loads(subprocess.run(
    ["git", "show", "f115343:colorize_utils/pretrained/colorizer.card.json"],
    check=True, capture_output=True, text=True).stdout)
before = dataclasses.replace(updated, card=before_card, variants={})
version2 = inference.load_colorizer(Path("results/colorizer/previous_v2/colorizer.keras"))
photos = photo_eval.split_photos("../shared/data/photos", 1000, 1000, 42, 160)["test"]
small = sorted(name for name, rgb in photos.items() if min(rgb.shape[:2]) < 160)
outputs = {name: photo_eval.colorize_all(photos, colorizer)
           for name, colorizer in (("updated", updated), ("before_update", before), ("version2", version2))}
mean_ab = np.asarray(updated.card["train_ab_mean"])
record = {"what": __doc__, "git_commit": git_commit(), "photos": len(photos), "below_160_px": len(small)}
for subset, names in (("all", list(photos)), ("below_160_px", small)):
    chosen = {name: photos[name] for name in names}
    comparison = photo_eval.compare(chosen, {k: {n: v[n] for n in names} for k, v in outputs.items()}, mean_ab,
                                    references=("gray", "mean_color", "before_update", "version2"))
    record[subset] = comparison
    print(f"{subset} ({len(names)} photos)")
    print(markdown_table(comparison["means"]))
    for row in comparison["intervals"]:
        if row["method"] == "updated":
            print(f"  updated - {row['reference']}, {row['metric']}: {row['difference']:+.4f} "
                  f"[{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}")
record["seconds"] = round(time.time() - started, 1)
Path("results/colorizer/small_update_check", "test_photos.json").write_text(json.dumps(record, indent=1, default=float))
