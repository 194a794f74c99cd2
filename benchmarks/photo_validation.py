"""Can a decoding setting make the shipped colorizer beat gray's binned accuracy on full-size photos?

    python benchmarks/photo_validation.py [--photos DIR] [--out results/colorizer/photo_validation.json]

Issue 8's photo bar is scored on six photos (sources.NATURAL_PHOTOS). Choosing the prior correction alpha or
the working size on those six would tune on the test set, so this study uses *other* full-size photos:
scikit-learn's china.jpg and flower.jpg (640x427, CC BY 2.0, Flickr) and SciPy's raccoon face (1024x768),
which ship inside those packages' wheels. Without `--photos`, the wheels are downloaded from the package
index (`pip download --no-deps`, about 43 MB) and only those image files are extracted; the packages are
not installed. Every photo is given to the model as gray and scored against its original with
evaluation.photo_table (gray's accuracy is its better side of the 0 bin edge), for each alpha and working
size of the grid. Nothing here changes the shipped model or its defaults.
"""

from __future__ import annotations

import argparse
import bz2
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# (wheel requirement, member inside the wheel, photo name)
WHEEL_PHOTOS = (("scikit-learn==1.9.1", "sklearn/datasets/images/china.jpg", "china"),
                ("scikit-learn==1.9.1", "sklearn/datasets/images/flower.jpg", "flower"),
                ("scipy==1.9.3", "scipy/misc/face.dat", "raccoon_face"))  # the last SciPy with face.dat
ALPHAS = (0.5, 0.75, 1.0)
WORKING_SIZES = (64, 96, 128)


def fetch_validation_photos(folder: Path) -> dict[str, np.ndarray]:
    """Download the wheels (no install) and extract the validation photos into `folder` as PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as wheels:
        for requirement in sorted({req for req, _, _ in WHEEL_PHOTOS}):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                            "--python-version", "3.11", "-d", wheels, requirement], check=True)
        for requirement, member, name in WHEEL_PHOTOS:
            package = requirement.split("==")[0].replace("-", "_")
            wheel = next(Path(wheels).glob(f"{package}-*.whl"))
            raw = zipfile.ZipFile(wheel).read(member)
            if member.endswith(".dat"):  # SciPy's face: bz2-compressed raw 768 x 1024 x 3 bytes
                image = Image.fromarray(np.frombuffer(bz2.decompress(raw), np.uint8).reshape(768, 1024, 3))
            else:
                image = Image.open(io.BytesIO(raw)).convert("RGB")
            image.save(folder / f"{name}.png")
    return read_photos(folder)


def read_photos(folder: Path) -> dict[str, np.ndarray]:
    """Every image in `folder` as uint8 RGB, by file stem."""
    from colorize_utils.config import IMAGE_EXTENSIONS
    from colorize_utils.images import read_image_file

    photos = {path.stem: read_image_file(path) for path in sorted(folder.iterdir())
              if path.suffix.lower() in IMAGE_EXTENSIONS}
    if not photos:
        raise ValueError(f"{folder} holds no photos.")
    return photos


def main() -> None:
    from colorize_utils.runtime import inference
    from colorize_utils.learning import evaluation, reporting

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=None, help="a folder of color photos (default: download)")
    parser.add_argument("--out", type=Path, default=Path("results/colorizer/photo_validation.json"))
    args = parser.parse_args()
    photos = read_photos(args.photos) if args.photos else fetch_validation_photos(Path(tempfile.mkdtemp()))
    shipped = inference.default_colorizer()
    card = shipped.card
    mean_ab = np.asarray(card["train_ab_mean"], np.float32)
    lam = card["prior_correction"].get("lambda", 0.5) if "prior_correction" in card else 0.5
    outputs = {}
    for alpha in ALPHAS:
        corrected = inference.Colorizer(shipped.model, shipped.binning.with_prior_correction(alpha, lam),
                                        shipped.path, card)
        for size in WORKING_SIZES:
            outputs[f"alpha{alpha}_size{size}"] = {name: inference.colorize(rgb, model=corrected, working_size=size)
                                                   for name, rgb in photos.items()}
    means, per_photo = evaluation.photo_table(photos, outputs, mean_ab)
    for row in means:
        print(f"{row['model']:>18s}  accuracy@10 {row['accuracy_10_bins']:.4f}  AuC {row['auc']:.4f}  "
              f"PSNR {row['psnr']:.2f}  colorfulness {row['colorfulness']:.1f}")
    gray = next(row for row in means if row["model"] == "gray")
    best = max((row for row in means if row["model"] not in ("gray", "mean_color")),
               key=lambda row: row["accuracy_10_bins"])
    reporting.write_benchmark_record(
        args.out, photos={name: list(rgb.shape[:2]) for name, rgb in photos.items()},
        photo_sources=[f"{req}: {member}" for req, member, _ in WHEEL_PHOTOS] if not args.photos else str(args.photos),
        model="the shipped colorizer (colorize_utils/pretrained), annealed mean T = 0.38",
        grid={"prior_correction_alpha": list(ALPHAS), "working_size": list(WORKING_SIZES)},
        means=means, per_photo=per_photo,
        finding={"gray_accuracy_10_bins": gray["accuracy_10_bins"], "best_setting": best["model"],
                 "best_accuracy_10_bins": best["accuracy_10_bins"],
                 "any_setting_beats_gray_accuracy": best["accuracy_10_bins"] > gray["accuracy_10_bins"]})
    print(f"gray's accuracy@10 {gray['accuracy_10_bins']:.4f}; best setting {best['model']} "
          f"{best['accuracy_10_bins']:.4f}; written to {args.out}")


if __name__ == "__main__":
    main()
