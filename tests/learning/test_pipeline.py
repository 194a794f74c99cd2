"""colorize_utils.learning.pipeline: the tf.data pipelines (the folder source's usable files, multi-scale photo batches)."""

import numpy as np
import pytest

from colorize_utils.learning import data, pipeline


def test_the_tf_data_pipeline_gets_only_the_usable_files_of_the_corpus(corpus):
    from colorize_utils.learning import pipeline

    loaded = data.load_splits(f"folder:{corpus}", (8, 0, 0), seed=0)
    batches = list(pipeline.make_dataset(loaded.train, 64, batch_size=4))
    assert sum(int(lightness.shape[0]) for lightness, _ in batches) == 8
    assert all(np.isfinite(np.asarray(ab)).all() for _, ab in batches)


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
