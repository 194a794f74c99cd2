# Run from the repository root: python benchmarks/colorizer_v3/soup_probe.py
"""Validation-only probe (session 6): weight averages ("model soups") of version 2 and its continuations, and a
mirror-image test-time average, each at version 2's card settings, against version 2 (paired intervals)."""
import json, subprocess, sys, time
from pathlib import Path
import numpy as np
import keras
from colorize_utils.runtime import inference, networks
from colorize_utils.colorizer import photo_eval
from colorize_utils.binning import load_binning

t0 = time.time()
shipped = inference.default_colorizer()
card = shipped.card
runs = Path("results/colorizer")
paths = {"v2": runs / "photo_run/model.keras", "heavy": runs / "photo_heavy_run/model.keras",
         "stage2": runs / "photo_run_stage2/model.keras"}
loaded = {k: networks.load_model(p) for k, p in paths.items()}


def soup(names):
    model = networks.load_model(paths["v2"])
    weights = [loaded[n].get_weights() for n in names]
    model.set_weights([np.mean([w[i] for w in weights], axis=0) for i in range(len(weights[0]))])
    return model


def mirrored(model):
    inp = keras.Input(model.input.shape[1:])
    out = model(inp)
    back = keras.ops.flip(model(keras.ops.flip(inp, axis=2)), axis=2)
    return keras.Model(inp, (out + back) / 2.0)


run_config = json.loads((runs / "photo_run/config.json").read_text())
bins = load_binning(runs / "photo_run/bins.json").with_prior_correction(
    card["default_decoding"]["prior_correction_alpha"], run_config["rebalance_lambda"], run_config["soft_sigma"])
candidates = {"soup_v2_heavy": soup(["v2", "heavy"]), "soup_v2_heavy_stage2": soup(["v2", "heavy", "stage2"]),
              "v2_mirror": mirrored(loaded["v2"])}
candidates["soup_v2_heavy_mirror"] = mirrored(candidates["soup_v2_heavy"])
wanted = sys.argv[1:] or list(candidates)
colorizers = {n: inference.Colorizer(candidates[n], bins, paths["v2"], card={"default_decoding": card["default_decoding"]})
              for n in wanted}
photos = photo_eval.split_photos("../shared/data/photos", 1000, 1000, 42, 160)
val = photo_eval.calibration_subset(photos["val"])
mean = np.asarray(card["train_ab_mean"])
out = {}
for name, photo_set in (("photo_val_500", val),
                        ("tiny_val_1000", photo_eval.as_photos(np.load(runs / "photo_run_stage2/data/val.npy"), "tiny_val_"))):
    outputs = {"version2": photo_eval.colorize_all(photo_set, shipped)}
    for n, c in colorizers.items():
        t = time.time()
        outputs[n] = photo_eval.colorize_all(photo_set, c)
        print(name, n, f"{time.time() - t:.0f} s", flush=True)
    comparison = photo_eval.compare(photo_set, outputs, mean, references=("gray", "version2"), keys=("psnr", "auc"))
    out[name] = comparison
    for row in comparison["means"]:
        print(name, row["model"], round(row["psnr"], 3), round(row["auc"], 4), round(row["colorfulness"], 1),
              round(row["truth_colorfulness"], 1), flush=True)
    for row in comparison["intervals"]:
        if row["reference"] == "version2":
            print(name, row["method"], "vs", row["reference"], row["metric"],
                  f"{row['difference']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}", flush=True)
out["seconds"] = time.time() - t0
out["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
(Path("results/colorizer/soup_probe") / "probe.json").write_text(json.dumps(out, indent=1, default=float))
print("seconds", out["seconds"])
