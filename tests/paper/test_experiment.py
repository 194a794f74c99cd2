"""colorize_utils.paper.experiment: one bin fit per run, the mean-color baseline, and reusing a model trained earlier
in the run."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from colorize_utils import metrics
from colorize_utils.learning import pipeline
from colorize_utils.binning import UniformBins


@pytest.fixture()
def samples(monkeypatch, tmp_path):
    from colorize_utils.learning import data as data_lib

    monkeypatch.setattr("colorize_utils.config.RESULTS_ROOT", tmp_path)
    return data_lib.load_splits("samples", (48, 8, 8), 64, seed=0)


def test_the_run_fits_its_bins_once_on_all_training_pixels(samples, tmp_path):
    from colorize_utils.paper.experiment import Experiment
    from colorize_utils.paper.notebook import start_notebook

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


def test_bins_a_notebook_itself_saved_last_run_are_saved_again_so_republishing_keeps_them(samples, tmp_path):
    from colorize_utils.paper.experiment import Experiment
    from colorize_utils.paper.notebook import MANIFEST_DIR, start_notebook

    run_dir = tmp_path / "smoke"
    Experiment(start_notebook("07_fake", "smoke"), samples).binning(10)  # its first run, straight into run_dir
    saved = next((run_dir / "models" / "bins").rglob("uniform_10.json")).relative_to(run_dir).as_posix()
    (run_dir / MANIFEST_DIR).mkdir()
    (run_dir / MANIFEST_DIR / "07_fake.txt").write_text(saved + "\n")  # what the runner records for it
    # rerun into a staging folder: it loads its own earlier fit from the run folder and stages it again, so
    # the runner's promotion (which deletes what the last run wrote but this one did not) keeps it
    again = Experiment(start_notebook("07_fake", "smoke", results_dir=tmp_path / "staging"), samples)
    again.binning(10)
    assert (tmp_path / "staging" / saved).is_file()
    # another notebook's fit is only read, not copied: one fit per run, saved by the notebook that made it
    other = Experiment(start_notebook("04_fake", "smoke", results_dir=tmp_path / "staging_04"), samples)
    other.binning(10)
    assert not (tmp_path / "staging_04" / saved).exists()


def test_a_commit_made_during_a_runner_call_does_not_undo_model_reuse(samples, monkeypatch, tmp_path):
    from colorize_utils.paper import experiment, notebook
    from colorize_utils.paper.notebook import RunFile, start_notebook

    spec = experiment.ModelSpec("l2")
    monkeypatch.setattr(notebook, "git_commit", lambda: "aaa")
    first = experiment.Experiment(start_notebook("03_fake", "smoke"), samples).training_key(spec)
    monkeypatch.setattr(notebook, "git_commit", lambda: "bbb")
    # other code may train differently: train again
    assert experiment.Experiment(start_notebook("03_fake", "smoke"), samples).training_key(spec) != first
    # under the runner, the commit the run started at counts (its run file), whatever lands meanwhile
    run_file = RunFile(profile="smoke", run_dir=str(tmp_path / "smoke"), commit="commit-at-start",
                       threads=1).write(tmp_path / "run.json")
    started = experiment.Experiment(start_notebook("03_fake", run_file=run_file), samples).training_key(spec)
    monkeypatch.setattr(notebook, "git_commit", lambda: "ccc")
    later = experiment.Experiment(start_notebook("03_fake", run_file=run_file), samples).training_key(spec)
    assert later == started and started["code"] == "commit-at-start" and started["threads"] == "1"


def _tinted_split(name: str, rgb_center, count: int, seed: int, size: int = 16):
    """An in-memory split of `count` noisy images around one RGB color."""
    from colorize_utils.learning.data import ImageSplit

    rng = np.random.default_rng(seed)
    images = np.clip(np.asarray(rgb_center) + rng.normal(0, 20, (count, size, size, 3)), 0, 255).astype(np.uint8)
    return ImageSplit(name, [name] * count, images=images)


def test_the_mean_color_baseline_is_the_mean_of_the_training_pixels_not_the_test_pixels(tmp_path, monkeypatch):
    """Reddish training images, a bluish-green test set and yellowish validation images: the mean-color
    baseline must predict the mean ab of the training pixels everywhere on the test set."""
    import skimage.color

    from colorize_utils.learning.data import ColorizationData, DataReport
    from colorize_utils.paper.experiment import Experiment
    from colorize_utils.paper.notebook import start_notebook

    monkeypatch.setattr("colorize_utils.config.RESULTS_ROOT", tmp_path)
    size = 16
    splits = {"train": _tinted_split("train", (200, 60, 70), 12, seed=0, size=size),
              "val": _tinted_split("val", (200, 190, 40), 4, seed=1, size=size),
              "test": _tinted_split("test", (40, 150, 200), 6, seed=2, size=size)}
    report = DataReport("in-memory", "", 0, {name: len(split) for name, split in splits.items()})
    loaded = ColorizationData(splits["train"], splits["val"], splits["test"], report, size)

    def mean_ab_of(split):  # skimage's Lab, independent of the package's color conversion
        return skimage.color.rgb2lab(split.images)[..., 1:].reshape(-1, 2).mean(axis=0)

    train_mean, val_mean, test_mean = (mean_ab_of(splits[name]) for name in ("train", "val", "test"))
    # the splits' colors are far apart, so a baseline fitted on the wrong pixels cannot pass by chance
    assert train_mean[0] > 30 and test_mean[0] < -10
    assert min(np.abs(train_mean - test_mean).max(), np.abs(train_mean - val_mean).max()) > 30

    experiment = Experiment(start_notebook("02_fake", "smoke"), loaded, epochs=1)
    np.testing.assert_allclose(experiment.train_ab_mean, train_mean, atol=0.5)
    predicted = experiment.predictions(experiment.test_L, experiment.test_ab)[metrics.MEAN_COLOR]
    assert predicted.shape == experiment.test_ab.shape
    np.testing.assert_allclose(predicted.reshape(-1, 2), np.broadcast_to(train_mean, (predicted[..., 0].size, 2)),
                               atol=0.5)
    # and Table 1's mean-color row scores that prediction against the test pixels
    rows = {row["model"]: row for row in experiment.closeness_table()}
    expected = metrics.frobenius_ab(np.broadcast_to(train_mean, experiment.test_ab.shape).astype(np.float32),
                                    experiment.test_ab).mean()
    assert rows[metrics.MEAN_COLOR]["frobenius_ab"] == pytest.approx(expected, rel=1e-2)


def test_a_model_trained_earlier_in_the_run_is_reused_only_when_it_was_trained_the_same_way(tmp_path, monkeypatch):
    """Notebooks 04 and 07 load notebook 03's cross-entropy CNN instead of training it again; a spec that
    differs in anything but its name is trained."""
    from colorize_utils.learning import data as data_lib
    from colorize_utils.paper.experiment import Experiment, ModelSpec
    from colorize_utils.paper.notebook import start_notebook

    monkeypatch.setattr("colorize_utils.config.RESULTS_ROOT", tmp_path)
    loaded = data_lib.load_splits("samples", (32, 8, 8), 64, seed=0)
    first = Experiment(start_notebook("03_fake", "smoke"), loaded, epochs=1)
    first.train(ModelSpec("ce", loss="cross_entropy", head="classification"))
    # run beside 03 by the runner, 04 waits for it to finish before it looks for the model
    from colorize_utils.paper import notebook
    from colorize_utils.files import git_commit

    state = tmp_path / "state"
    state.mkdir()
    (state / "03_fake").touch()
    monkeypatch.setitem(notebook.NOTEBOOK_GRAPH, "04_fake", notebook.NotebookDeps(reads=("03_fake",)))
    run_file = notebook.RunFile(profile="smoke", run_dir=str(tmp_path / "smoke"), commit=git_commit(),
                                pending_dir=str(state)).write(tmp_path / "run.json")
    later = Experiment(start_notebook("04_fake", run_file=run_file), loaded, epochs=1)
    threading.Timer(0.5, (state / "03_fake").unlink).start()
    started = time.perf_counter()
    same = later.train(ModelSpec("ce_again", loss="cross_entropy", head="classification", same_as="ce"))
    assert time.perf_counter() - started >= 0.5
    assert same.run_dir == tmp_path / "smoke" / "models" / "ce"
    assert not (tmp_path / "smoke" / "models" / "ce_again").exists()
    assert same.history == first.results["ce"].history
    other = later.train(ModelSpec("ce_30", loss="cross_entropy", head="classification", num_bins=30, same_as="ce"))
    assert other.run_dir.name == "ce_30" and (tmp_path / "smoke" / "models" / "ce_30" / "model.keras").exists()
    longer = Experiment(start_notebook("07_fake", "smoke"), loaded, epochs=2)
    assert longer.train(ModelSpec("ce_2", loss="cross_entropy", head="classification", same_as="ce")).run_dir.name \
        == "ce_2"


def test_reused_models_train_last_and_bigger_heads_first():
    from colorize_utils.paper.experiment import ABLATION, ModelSpec, training_order

    specs = [ModelSpec(f"ce_{n}", loss="cross_entropy", head="classification", num_bins=n,
                       same_as="cross_entropy" if n == 10 else None) for n in (10, 30, 50)]
    assert [spec.name for spec in training_order(specs)] == ["ce_50", "ce_30", "ce_10"]
    assert [spec.name for spec in specs] == ["ce_10", "ce_30", "ce_50"]  # the specs' own order is kept
    ordered = training_order(ABLATION)
    assert ordered[-1].name == "paper_cnn_ce10" and sorted(ordered, key=str) == sorted(ABLATION, key=str)
