"""What the validation probes in benchmarks/ (chroma_gain_probe.py, tta_probe.py) share: their command line
(TINY_VAL_NPY [PHOTOS TINY] and --options) and their images (validation only: every version 4 run's photo split)."""
import numpy as np

from colorize_utils.colorizer import photo_eval, release
from colorize_utils.runtime import inference

# Every version 4 run's photo split (photo_eval.split_photos' arguments): the probes' validation photos come from it.
PHOTO_SPLIT = {"photos_dir": "../shared/data/photos", "val_size": 1000, "test_size": 1000, "seed": 42, "image_size": 160}


def probe_inputs(arguments: list[str], options: dict[str, str | None]):
    """(options given or defaulted, the colorizer: --model or the shipped one, {name: uint8 RGB}: PHOTOS validation
    photos (default 200, every source's share) and the first TINY (default 200) images of TINY_VAL_NPY, a run's
    data cache of Tiny ImageNet validation images). `arguments` is sys.argv[1:]."""
    arguments, options = list(arguments), {"--model": None, **options}
    for option in options:
        if option in arguments:
            at = arguments.index(option)
            options[option] = arguments[at + 1]
            del arguments[at:at + 2]
    if not arguments:
        raise SystemExit("give TINY_VAL_NPY, a run's Tiny validation cache (results/colorizer/<run>/data/val.npy)")
    photo_count = int(arguments[1]) if len(arguments) > 1 else 200
    tiny_count = int(arguments[2]) if len(arguments) > 2 else 200
    photos = photo_eval.split_photos(**PHOTO_SPLIT)
    images = release.validation_images(photos["val"], np.load(arguments[0]), photo_count, tiny_count)
    options.update(photos=photo_count, tiny=tiny_count)
    return options, inference.resolve_colorizer(options["--model"]), images
