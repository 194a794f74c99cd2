"""colorize_utils.binning: the per-channel bins (uniform and quantile edges), fitting, encoding, decoding and saving."""

import numpy as np
import pytest

from colorize_utils.binning import ChannelBins, QuantileBins, UniformBins, load_binning, mean_ab


def test_paper_bins_have_width_20_over_plus_minus_100():
    bins = UniformBins(10)
    assert bins.num_bins == 10 and bins.num_heads == 2
    np.testing.assert_allclose(bins.edges[0], np.arange(-100, 101, 20))
    np.testing.assert_allclose(bins.edges[1], np.arange(-100, 101, 20))


def test_encode_boundaries_and_out_of_range():
    bins = UniformBins(10)
    ab = np.array([[-100.0, 100.0], [-150.0, 150.0], [0.0, -0.01], [19.99, 20.0], [-80.0, 79.9]])
    expected = np.array([[0, 9], [0, 9], [5, 4], [5, 6], [1, 8]])
    np.testing.assert_array_equal(np.asarray(bins.encode(ab)), expected)


def test_a_and_b_are_binned_separately():
    bins = UniformBins(10)
    indices = np.asarray(bins.encode(np.array([[-95.0, 95.0]])))
    np.testing.assert_array_equal(indices, [[0, 9]])


def test_fit_gives_mean_of_training_pixels_and_centre_for_empty_bins():
    ab = np.array([[1.0, -30.0], [3.0, -50.0], [-15.0, 99.0]])
    bins = UniformBins(10).fit(ab)
    # A: bin 5 ([0, 20)) holds 1 and 3 -> mean 2; bin 4 holds -15.
    assert bins.bin_values[0, 5] == pytest.approx(2.0)
    assert bins.bin_values[0, 4] == pytest.approx(-15.0)
    # B: bin 3 ([-40, -20)) holds -30; bin 2 holds -50; bin 9 holds 99.
    assert bins.bin_values[1, 3] == pytest.approx(-30.0)
    assert bins.bin_values[1, 2] == pytest.approx(-50.0)
    assert bins.bin_values[1, 9] == pytest.approx(99.0)
    # Empty bins fall back to their centre.
    assert bins.bin_values[0, 0] == pytest.approx(-90.0)
    assert bins.counts[0].sum() == 3 and bins.counts[0, 5] == 2


def test_unbin_of_bin_is_the_fitted_mean():
    rng = np.random.default_rng(0)
    ab = rng.normal(0, 25, size=(10_000, 2))
    bins = UniformBins(10).fit(ab)
    decoded = np.asarray(bins.decode(bins.encode(ab)))
    # Mean of decoded values in a bin equals the mean of the values there: the decoded mean is exact.
    np.testing.assert_allclose(decoded.mean(axis=0), ab.clip(-100, 100).mean(axis=0), atol=0.2)
    in_range = np.abs(ab) <= 100
    assert np.abs(decoded - ab)[in_range].max() <= 20  # a bin's mean lies inside the bin


def test_decode_logits_is_unbin_of_argmax():
    bins = UniformBins(10)
    logits = np.full((1, 2, 2, 10), -5.0)
    logits[0, 0, 0, 3] = 5.0  # A -> bin 3
    logits[0, 0, 1, 7] = 5.0  # B -> bin 7
    logits[0, 1, 0, 0] = 5.0
    logits[0, 1, 1, 9] = 5.0
    decoded = np.asarray(bins.decode_logits(logits))
    np.testing.assert_allclose(decoded[0, 0], [-30.0, 50.0])
    np.testing.assert_allclose(decoded[0, 1], [-90.0, 90.0])


def test_save_and_load_round_trip(tmp_path):
    bins = UniformBins(30).fit(np.random.default_rng(1).normal(0, 20, (500, 2)))
    loaded = load_binning(bins.save(tmp_path / "bins.json"))
    assert isinstance(loaded, UniformBins) and loaded.num_bins == 30
    np.testing.assert_allclose(loaded.bin_values, bins.bin_values)
    np.testing.assert_array_equal(loaded.counts, bins.counts)


def test_non_uniform_edges_share_the_interface():
    edges = np.array([[-100, -10, 0, 10, 100], [-100, -5, 0, 5, 100]], dtype=float)
    bins = ChannelBins(edges)
    np.testing.assert_array_equal(np.asarray(bins.encode(np.array([[-20.0, -3.0]]))), [[0, 1]])


@pytest.mark.parametrize("num_bins", [0, 1])
def test_bad_num_bins_is_a_clear_error(num_bins):
    with pytest.raises(ValueError, match="num_bins"):
        UniformBins(num_bins)


def test_bad_edges_are_a_clear_error():
    with pytest.raises(ValueError, match="increasing"):
        ChannelBins(np.array([[0, 1, 1], [0, 1, 2]], dtype=float))


def test_missing_bin_table_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="bin table"):
        load_binning(tmp_path / "nope.json")


def test_chunked_fits_match_one_array():
    rng = np.random.default_rng(0)
    ab = np.concatenate([np.zeros((5_000, 2)), rng.laplace(0, 12, (40_000, 2))]).astype(np.float32)
    chunks = [ab[:10_000], ab[10_000:31_000], ab[31_000:]]
    whole = UniformBins(10).fit(ab)
    np.testing.assert_allclose(UniformBins(10).fit(iter(chunks)).bin_values, whole.bin_values, atol=1e-5)
    np.testing.assert_allclose(mean_ab(whole), ab.mean(axis=0), atol=1e-4)
    quantile = QuantileBins.from_pixels(lambda: iter(chunks), 10)
    np.testing.assert_allclose(quantile.edges, QuantileBins.from_pixels(ab, 10).edges)
    exact = np.quantile(ab[:, 0], [0.5, 0.9])
    assert quantile.edges[0, 5] == pytest.approx(exact[0], abs=0.02)
    assert quantile.edges[0, 9] == pytest.approx(exact[1], abs=0.02)
