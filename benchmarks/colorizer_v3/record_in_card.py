# Run from the repository root after test_photos.py: python benchmarks/colorizer_v3/record_in_card.py
"""Write the test-photo check of session 7's small-image update (test_photos.json) into the shipped card and the
run's card, beside the update's hold-out check, so the card says that its photo_test numbers predate the update."""
import json
from pathlib import Path

from colorize_utils.colorizer.shipped_model import write_card

check = json.loads(Path("results/colorizer/small_update_check", "test_photos.json").read_text())
summary = {"what": "the photo test split through colorize() after the update (the card's photos.photo_test predates "
                   "it: 259 of its 1,000 photos are below 160 px and take the small-image path)",
           "record": "results/colorizer/small_update_check/test_photos.json", "git_commit": check["git_commit"],
           **{subset: {"photos": check[subset]["means"][0]["photos"], "means": check[subset]["means"],
                       "intervals": [r for r in check[subset]["intervals"] if r["method"] == "updated"]}
              for subset in ("all", "below_160_px")}}
for folder, name in ((Path("colorize_utils/pretrained"), "colorizer.card.json"),
                     (Path("results/colorizer/soup_run"), "card.json")):
    card = json.loads((folder / name).read_text())
    card["prior_correction"]["small_images"]["test_photos_check"] = summary
    write_card(folder, card, name)
    print("wrote", folder / name)
