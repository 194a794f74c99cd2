"""The photo colorizer's training inputs: the stratified photo split, multi-scale photo batches, the
global-context branch."""

import numpy as np
import pytest
from PIL import Image

from colorize_utils import data, models, pipeline


def photo_folder(root, counts: dict[str, int]):
    rng = np.random.default_rng(0)
    for source, count in counts.items():
        (root / source).mkdir(parents=True)
        for index in range(count):
            pixels = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / source / f"{index:03d}.png")
    return root


def test_the_photo_split_is_stratified_by_source_disjoint_and_independent_of_the_folder_path(tmp_path):
    counts = {"big": 60, "mid": 30, "small": 10}
    first = data.stratified_folder_splits(photo_folder(tmp_path / "a", counts), 10, 20, seed=3, image_size=16)
    second = data.stratified_folder_splits(photo_folder(tmp_path / "b", counts), 10, 20, seed=3, image_size=16)
    for split, size in (("val", 10), ("test", 20)):
        labels = first[split].labels
        assert len(labels) == size
        assert {source: labels.count(source) for source in counts} == {
            source: size * count // 100 for source, count in counts.items()}
    names = {split: [p.split("/a/", 1)[1] for p in first[split].paths] for split in data.SPLIT_NAMES}
    assert len(set().union(*names.values())) == 100 == sum(len(v) for v in names.values())
    # the same files go to the same splits in another folder: the split hashes relative paths only
    assert names == {split: [p.split("/b/", 1)[1] for p in second[split].paths] for split in data.SPLIT_NAMES}
    other_seed = data.stratified_folder_splits(tmp_path / "a", 10, 20, seed=4, image_size=16)
    assert sorted(other_seed.test.paths) != sorted(first.test.paths)
    with pytest.raises(ValueError, match="below the 100 photos"):
        data.stratified_folder_splits(tmp_path / "a", 60, 40)


def test_photo_batches_are_multi_scale_seeded_and_match_their_lab_targets():
    pytest.importorskip("tensorflow")
    images = np.full((12, 40, 40, 3), 235, np.uint8)  # white (L about 93, a = b = 0) ...
    images[:, :, :20] = (220, 30, 30)  # ... and a red left half (L about 50, a about 68)
    images[::2, :20, :] = (220, 30, 30)  # half the photos also red on top: crops differ by scale and place
    first = list(pipeline.make_photo_dataset(images, 4, 16, 12, seed=5).take(3))
    again = list(pipeline.make_photo_dataset(images, 4, 16, 12, seed=5).take(3))
    other = list(pipeline.make_photo_dataset(images, 4, 16, 12, seed=6).take(3))
    for (lightness, ab), (lightness2, ab2) in zip(first, again):
        assert lightness.shape == (4, 16, 16, 1) and ab.shape == (4, 4, 4, 2)
        np.testing.assert_array_equal(np.asarray(lightness), np.asarray(lightness2))
        np.testing.assert_array_equal(np.asarray(ab), np.asarray(ab2))
    assert not all(np.array_equal(np.asarray(a[0]), np.asarray(b[0])) for a, b in zip(first, other))
    # the target is each 4 x 4 block's mean ab of the same crop: red blocks are where L is red's, white where white's
    for lightness, ab in first:
        block_l = np.asarray(lightness).reshape(4, 4, 4, 4, 4).mean(axis=(2, 4))
        a = np.asarray(ab)[..., 0]
        # only blocks whose L is one colour's own (within 0.5): a block that straddles the edge after
        # the bilinear resize mixes both, and where it does depends on the crop the seed draws
        red_blocks, white_blocks = np.abs(block_l - 47.3) < 0.5, np.abs(block_l - 93.05) < 0.5
        assert red_blocks.any() and (a[red_blocks] > 55).all()
        assert white_blocks.any() and (np.abs(a[white_blocks]) < 5).all()


def test_the_global_context_branch_saves_loads_and_depends_on_the_whole_image(tmp_path):
    model = models.build_colorizer(4, "regression", global_context=True)
    branch = model.get_layer("global_context")
    for weight in branch.weights:  # away from the zero start, so the branch does something
        weight.assign(np.random.default_rng(2).normal(0, 0.5, weight.shape).astype("float32"))
    model.save(tmp_path / "m.keras")
    import keras

    loaded = keras.models.load_model(tmp_path / "m.keras")
    lightness = np.random.default_rng(3).uniform(0, 100, (1, 192, 192, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(lightness)), np.asarray(model(lightness)), atol=1e-5)
    # a change far away (beyond the 3x3 convs' reach) moves the colours of the top-left corner only with the branch
    changed = lightness.copy()
    changed[:, 144:, 144:] = 100 - changed[:, 144:, 144:]
    corner = lambda out: np.asarray(out)[0, :2, :2]  # noqa: E731
    assert np.abs(corner(model(changed)) - corner(model(lightness))).max() > 1e-5
    plain = models.build_colorizer(4, "regression")
    assert np.abs(corner(plain(changed)) - corner(plain(lightness))).max() == 0.0
