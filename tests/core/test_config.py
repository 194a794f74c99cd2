"""colorize_utils.config: bad parameters (profiles, decodings and the other checked settings) fail at once and
name what is allowed."""

import numpy as np
import pytest

from colorize_utils.runtime import inference
from colorize_utils.learning import data


@pytest.mark.parametrize("call, message", [
    (lambda: __import__("colorize_utils.config", fromlist=["x"]).get_profile("huge"), "choose one of"),
    (lambda: data.check_source("imagenet-21k"), "choose one of"),
    (lambda: data.check_source("folder:/no/such/folder"), "does not exist"),
    (lambda: inference.colorize(np.zeros((8, 8), np.uint8), decode="median"), "choose one of"),
    (lambda: inference.colorize(np.zeros((8, 8), np.uint8), temperature=0), "temperature must be > 0"),
    (lambda: __import__("colorize_utils.binning", fromlist=["x"]).UniformBins(1), "at least 2"),
    (lambda: __import__("colorize_utils.paper.models", fromlist=["x"]).build_paper_cnn(60), "multiple of 16"),
    (lambda: __import__("colorize_utils.config", fromlist=["x"]).ColorizerConfig(
        encoder="efficientnet-lite0", width=32, photos_dir=".", crop_size=64, photo_crop=128,
        photo_val_image_size=128).validate(), "give --decoder-width instead"),
    (lambda: __import__("colorize_utils.config", fromlist=["x"]).ColorizerConfig(hint_input=True).validate(),
     "--hint-input with --encoder"),
    (lambda: __import__("colorize_utils.config", fromlist=["x"]).ColorizerConfig(
        encoder="efficientnet-lite0", hint_propagation=True).validate(), "with --hint-input"),
    (lambda: __import__("colorize_utils.config", fromlist=["x"]).ColorizerConfig(tiny_crop=100).validate(),
     "tiny_crop must be a positive multiple of 8"),
    (lambda: __import__("colorize_utils.config", fromlist=["x"]).ColorizerConfig(
        tiny_crop=128, tiny_min_crop=80).validate(), r"tiny_min_crop in \(0, image_size 64\]"),
    (lambda: __import__("colorize_utils.config", fromlist=["x"]).ColorizerConfig(
        encoder="efficientnet-lite0", photos_dir=".", crop_size=64, photo_crop=128, photo_val_image_size=128,
        tiny_crop=112).validate(), "'tiny_crop': 112"),
])
def test_bad_parameters_fail_at_once_and_name_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()
