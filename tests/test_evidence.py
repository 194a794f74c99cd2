"""Issue 9's evidence rules: one bin fit per run on all training pixels, seeds summarised with intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from colorize_utils import evaluation, metrics, pipeline
from colorize_utils.binning import QuantileBins, UniformBins, mean_ab


@pytest.fixture()
def samples(monkeypatch, tmp_path):
    from colorize_utils import data as data_lib

    monkeypatch.setattr("colorize_utils.config.RESULTS_ROOT", tmp_path)
    return data_lib.load_splits("samples", (48, 8, 8), 64, seed=0)


def test_the_run_fits_its_bins_once_on_all_training_pixels(samples, tmp_path):
    from colorize_utils.experiment import Experiment
    from colorize_utils.notebook import start_notebook

    _, all_ab = pipeline.split_to_lab(samples.train, 64)
    first = Experiment(start_notebook("01_fake", "smoke"), samples)
    bins = first.binning(10)
    # every training pixel counts, not the first images only
    assert bins.counts.sum(axis=1).tolist() == [all_ab[..., 0].size] * 2
    np.testing.assert_allclose(bins.bin_values, UniformBins(10).fit(all_ab).bin_values, atol=1e-4)
    head_only = UniformBins(10).fit(all_ab[:8])
    assert not np.allclose(bins.bin_values, head_only.bin_values, atol=1e-3)
    # the mean-color baseline is the mean of all training pixels, from the same fit
    np.testing.assert_allclose(first.train_ab_mean, all_ab.reshape(-1, 2).mean(axis=0), atol=1e-3)
    saved = list((tmp_path / "smoke" / "models" / "bins").rglob("uniform_10.json"))
    assert len(saved) == 1
    # a later notebook of the run on the same images loads that file instead of fitting again
    later = Experiment(start_notebook("03_fake", "smoke"), samples, seed=7)
    config = json.loads(saved[0].read_text())
    config["bin_values"][0][0] = -77.777  # marks the saved file: a refit would not give this value
    saved[0].write_text(json.dumps(config))
    assert later.binning(10).bin_values[0, 0] == pytest.approx(-77.777)


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


def _closeness(values: dict[str, np.ndarray]):
    rows = [{"model": name, "frobenius_ab": float(v.mean()), "best_epoch": 3, "epochs_run": 5}
            for name, v in values.items()]
    return rows, values


def test_seed_summary_reports_mean_sd_kept_epochs_and_interval_verdicts():
    rng = np.random.default_rng(1)
    gray = 13 + rng.normal(0, 2, 500)
    mean_color = gray - 0.5
    per_seed = {}
    for seed, shift in ((1, -0.30), (2, -0.20), (3, -0.25)):
        model = mean_color + shift + rng.normal(0, 0.05, 500)
        noisy = mean_color + rng.normal(0, 3, 500)
        per_seed[seed] = _closeness({metrics.GRAY: gray, metrics.MEAN_COLOR: mean_color, "good": model,
                                     "noisy": noisy})
    rows = {row["model"]: row for row in evaluation.seed_summary(per_seed)}
    assert rows["good"]["frobenius_ab"] == pytest.approx(np.mean([r["frobenius_ab"] for r in
                                                                  (per_seed[k][0][2] for k in (1, 2, 3))]))
    assert rows["good"]["frobenius_ab_sd_over_seeds"] == pytest.approx(0.05, abs=0.02)
    assert rows["good"]["best_epoch"] == "3, 3, 3"
    assert rows["good"]["vs_baselines"] == "significantly beats both"
    assert rows["noisy"]["vs_mean_color"].endswith("tie")
    assert rows[metrics.GRAY]["frobenius_ab_sd_over_seeds"] == 0.0
    with pytest.raises(ValueError, match="same models"):
        evaluation.seed_summary({1: per_seed[1], 2: (per_seed[2][0][:3], per_seed[2][1])})


def test_bin_sweep_verdict_needs_an_interval_that_excludes_zero():
    rng = np.random.default_rng(2)
    gray = rng.uniform(0.4, 0.6, 400)
    key = "accuracy_10_bins"

    def table(model_accuracy):
        images = {metrics.GRAY: {key: gray}, metrics.MEAN_COLOR: {key: gray - 0.05}, "ce": {key: model_accuracy}}
        rows = [{"model": name, key: float(v[key].mean()), "frobenius_ab": 1.0, "psnr": 20.0, "auc": 0.8,
                 "colorfulness": 5.0, "colorfulness_gap": -1.0} for name, v in images.items()]
        return rows, images

    clear = evaluation.bin_sweep_rows({0: table(gray + 0.02 + rng.normal(0, 0.01, 400))}, {10: "ce"})[0]
    assert clear["beats_both_baselines"] and clear["vs_gray"].endswith("better")
    jitter = rng.normal(0, 0.2, 400)
    noise = evaluation.bin_sweep_rows({0: table(gray + 0.002 + jitter - jitter.mean())}, {10: "ce"})[0]
    assert noise["model_accuracy"] > noise["gray_accuracy"]  # higher on average, but within noise
    assert not noise["beats_both_baselines"] and noise["vs_gray"].endswith("tie")


def test_a_commit_made_during_a_runner_call_does_not_undo_model_reuse(samples, monkeypatch, tmp_path):
    from colorize_utils import experiment, notebook
    from colorize_utils.notebook import RunFile, start_notebook

    spec = experiment.ModelSpec("l2")
    monkeypatch.setattr(notebook, "git_commit", lambda: "aaa")
    first = experiment.Experiment(start_notebook("03_fake", "smoke"), samples).training_key(spec)
    monkeypatch.setattr(notebook, "git_commit", lambda: "bbb")
    # other code may train differently: train again
    assert experiment.Experiment(start_notebook("03_fake", "smoke"), samples).training_key(spec) != first
    # under the runner, the commit the run started at counts (its run file), whatever lands meanwhile
    run_file = RunFile(profile="smoke", published_dir=str(tmp_path / "smoke"), commit="commit-at-start",
                       threads=1).write(tmp_path / "run.json")
    started = experiment.Experiment(start_notebook("03_fake", run_file=run_file), samples).training_key(spec)
    monkeypatch.setattr(notebook, "git_commit", lambda: "ccc")
    later = experiment.Experiment(start_notebook("03_fake", run_file=run_file), samples).training_key(spec)
    assert later == started and started["code"] == "commit-at-start" and started["threads"] == "1"


def test_the_same_model_in_two_folders_is_listed_once():
    a, b = np.zeros((2, 4, 4, 2), np.float32), np.ones((2, 4, 4, 2), np.float32)
    unique, notes = evaluation.drop_duplicates({"gray": a, "ce": b, "ce_10_bins": b.copy(), "other": b + 1e-3})
    assert list(unique) == ["gray", "ce", "other"]
    assert notes == ["ce_10_bins: the same predictions as ce (the same model): listed once, as ce."]
