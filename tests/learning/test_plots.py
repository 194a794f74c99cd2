"""colorize_utils.learning.plots: the figures the notebooks draw."""


def test_loss_curve_marks_only_real_learning_rate_drops():
    from colorize_utils.learning import plots

    history = {"loss": [3.0, 2.0, 1.5, 1.4], "val_loss": [3.1, 2.2, 1.9, 1.9],
               "learning_rate": [1e-3, 1e-3, 1.0000000474974513e-4, 9.999999747378752e-05]}
    fig = plots.loss_curve_figure(history)
    drops = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert len(drops) == 1
