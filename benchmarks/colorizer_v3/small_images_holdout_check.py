# Run from the repository root (needs the run's data cache); train-colorizer --small-images now writes the same record itself
"""The hold-out check of session 4's small-image update again, with its intervals (the first call logged only the
means): the winner of SMALL_IMAGE_RULE (scale 1.5, alpha 0.75, temperature 0.5) against the current defaults."""
import json, subprocess, time
from pathlib import Path
import numpy as np
from colorize_utils.runtime import inference
from colorize_utils.colorizer import photo_eval, shipped_model
from colorize_utils.config import ColorizerConfig
from colorize_utils.files import json_safe
cfg = ColorizerConfig(run_dir="results/colorizer/photo_run", data_dir=str(Path("~/tiny").expanduser()),
                      photos_dir="../shared/data/photos")
arrays, _ = shipped_model.load_image_arrays(cfg)
holdout = shipped_model.holdout_test_images(cfg, arrays["test"])
shipped = inference.default_colorizer()
settings = dict(shipped.card["default_decoding"])
settings["small_images"] = {"prior_correction_alpha": 0.75, "temperature": 0.5, "scale": 1.5,
                            "applies_below_short_side": 160, "met_targets": False}
import dataclasses
candidate = dataclasses.replace(shipped, card={**shipped.card, "default_decoding": settings}, variants={})
photo_set = photo_eval.as_photos(holdout, "tiny_holdout_")
outputs = {"updated": photo_eval.colorize_all(photo_set, candidate), "current": photo_eval.colorize_all(photo_set, shipped)}
result = photo_eval.compare(photo_set, outputs, np.asarray(shipped.card["train_ab_mean"]),
                            references=("gray", "mean_color", "current"))
for row in result["means"]:
    print(row["model"], round(row["psnr"], 3), round(row["auc"], 4), round(row["colorfulness"], 2), round(row["accuracy_10_bins"], 4), round(row["ssim"], 4))
for row in result["intervals"]:
    print(row["method"], "-", row["reference"], row["metric"], f"{row['difference']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}")
commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
Path("results/colorizer/photo_run/small_images_update.json").write_text(json.dumps(json_safe({
    "what": "the hold-out check of SMALL_IMAGE_RULE's winner against the shipped defaults (session 4); the "
            "validation candidates are in small_images_log_session4.txt", "settings": settings["small_images"],
    "rule": photo_eval.SMALL_IMAGE_UPDATE_RULE, "holdout": result, "images": len(photo_set),
    "applies": all(r["verdict"] != "worse" for r in result["intervals"] if r["method"] == "updated" and r["reference"] == "current" and r["metric"] in ("psnr", "auc")),
    "git_commit": commit, "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}), indent=1))
