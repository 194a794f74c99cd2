"""colorize_utils.learning.losses: each loss against hand-computed values."""

import numpy as np
import pytest

from colorize_utils.learning import losses


def test_l2_loss_hand_computed():
    y_true = np.zeros((1, 1, 2, 2), np.float32)
    y_pred = np.array([[[[1, 2], [3, 4]]]], np.float32)
    assert float(losses.L2Loss()(y_true, y_pred)) == pytest.approx((1 + 4 + 9 + 16) / 4)


def test_smooth_l1_hand_computed():
    y_true = np.zeros((1, 1, 2, 2), np.float32)
    y_pred = np.array([[[[0.5, -0.5], [2.0, -3.0]]]], np.float32)
    # 0.5 * 0.25 twice, then |2| - 0.5 and |3| - 0.5
    expected = (0.125 + 0.125 + 1.5 + 2.5) / 4
    assert float(losses.SmoothL1Loss(scale=1.0)(y_true, y_pred)) == pytest.approx(expected)


def test_smooth_l1_works_in_the_closeness_metrics_units():
    # Errors of 50 and 250 Lab units are 0.5 and 2.5 in ab / 100 (frobenius_ab's units): delta 1 sits at 100.
    y_true = np.zeros((1, 1, 1, 2), np.float32)
    y_pred = np.array([[[[50.0, -250.0]]]], np.float32)
    assert float(losses.SmoothL1Loss()(y_true, y_pred)) == pytest.approx((0.5 * 0.25 + (2.5 - 0.5)) / 2)


def test_binned_cross_entropy_hand_computed():
    logits = np.zeros((1, 1, 1, 2, 3), np.float32)
    logits[0, 0, 0, 0] = [np.log(2.0), 0.0, 0.0]  # softmax = (0.5, 0.25, 0.25)
    targets = np.array([[[[0, 1]]]], np.int32)  # A -> bin 0 (p 0.5), B -> bin 1 (p 1/3)
    expected = (-np.log(0.5) - np.log(1 / 3)) / 2
    assert float(losses.BinnedCrossEntropy()(targets, logits)) == pytest.approx(expected, rel=1e-5)


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown loss"):
        losses.get_loss("l3")
