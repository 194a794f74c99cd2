"""The papermill runner (staging, promotion, failure handling) and the results writer."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from colorize_utils import config, reporting, runner


def _notebook(path, body):
    notebook = new_notebook(cells=[
        new_code_cell("PROFILE = None\nRESULTS_DIR = None\nFAIL = False", metadata={"tags": ["parameters"]}),
        new_code_cell(body),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


WRITE_RESULTS = """
from colorize_utils.reporting import start_notebook
run = start_notebook("01_fake", PROFILE, results_dir=RESULTS_DIR)
run.writer.record(answer=42)
run.writer.save_table([{"model": "gray", "value": 1.5}], "table")
run.writer.write_metrics()
if FAIL:
    raise ValueError("broken helper")
"""


@pytest.fixture()
def fake_project(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    _notebook(tmp_path / "notebooks" / "01_fake.ipynb", WRITE_RESULTS)
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    monkeypatch.delenv("COLORIZE_RESULTS_ROOT", raising=False)
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(runner, "NOTEBOOKS", ["01_fake"])
    return tmp_path


def test_successful_run_promotes_outputs(fake_project):
    assert runner.main(["--profile", "smoke", "--no-progress"]) == 0
    results = fake_project / "runs" / "smoke"
    assert (results / "notebooks" / "01_fake.ipynb").exists()
    assert (results / "tables" / "table.csv").read_text().splitlines() == ["model,value", "gray,1.5"]
    record = json.loads((results / "metrics" / "01_fake.json").read_text())
    assert record["metrics"] == {"answer": 42} and record["profile"]["name"] == "smoke"
    assert {"git_commit", "timestamp"} <= set(record)
    assert not list(results.glob(".staging*"))


def test_failed_notebook_keeps_failed_copy_and_last_good_results(fake_project, capsys):
    assert runner.main(["--profile", "smoke", "--no-progress"]) == 0
    results = fake_project / "runs" / "smoke"
    good_record = (results / "metrics" / "01_fake.json").read_text()
    with pytest.raises(runner.NotebookFailed, match="ValueError: broken helper"):
        runner.run_notebook("01_fake", "smoke", {"FAIL": True}, progress_bar=False)
    assert (results / "notebooks" / "01_fake.FAILED.ipynb").exists()
    assert (results / "metrics" / "01_fake.json").read_text() == good_record
    assert not list(results.glob(".staging*"))
    # the command line reports the failing cell and exits non-zero
    _notebook(fake_project / "notebooks" / "01_fake.ipynb", WRITE_RESULTS.replace("if FAIL:", "if True:"))
    assert runner.main(["--profile", "smoke", "--no-progress"]) == 1
    assert "broken helper" in capsys.readouterr().err


def test_unknown_profile_and_notebook_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown profile"):
        config.get_profile("huge")
    with pytest.raises(ValueError, match="No notebook matches"):
        runner.select_notebooks(["99"])


def test_profiles_are_ordered_by_size():
    smoke, demo, medium, paper = (config.get_profile(name) for name in ("smoke", "demo", "medium", "paper"))
    assert smoke.train_size < demo.train_size < paper.train_size == medium.train_size == 10_000
    assert smoke.epochs < demo.epochs < medium.epochs < paper.epochs
    assert paper.epochs == 200 and paper.batch_size == 250
    assert (paper.val_size, paper.test_size) == (1_000, 1_000)


def test_markdown_table_and_record(tmp_path):
    profile = config.get_profile("smoke")
    writer = reporting.ResultsWriter("07_test", profile, tmp_path)
    writer.context["data"] = {"source": "samples", "sizes": {"train": 1}}
    writer.save_table([{"model": "gray", "rmse": 12.3456}, {"model": "cnn", "rmse": 9.0}], "t")
    markdown = (tmp_path / "tables" / "t.md").read_text()
    # rows are keyed by the stable id; the Markdown shows the baseline's label, the CSV keeps the id
    assert "| model | rmse |" in markdown and "| gray (ab = 0) | 12.35 |" in markdown
    assert (tmp_path / "tables" / "t.csv").read_text().splitlines()[1] == "gray,12.3456"
    assert f"commit {writer.start_commit[:12]}" in markdown
    assert "profile smoke" in markdown and "samples" in markdown
    with pytest.raises(ValueError, match="no rows"):
        writer.save_table([], "empty")


def test_publish_writes_results_and_a_rerun_removes_what_the_last_run_wrote_but_this_one_did_not(
        fake_project, monkeypatch):
    assert runner.main(["--profile", "smoke", "--no-progress", "--publish"]) == 0
    published = fake_project / "results" / "smoke"
    assert (published / "tables" / "table.csv").exists()
    assert not (fake_project / "runs" / "smoke" / "tables" / "table.csv").exists()
    # the notebook's next run writes another table: the old one must not stay beside the new one
    _notebook(fake_project / "notebooks" / "01_fake.ipynb", WRITE_RESULTS.replace('"table")', '"renamed")'))
    monkeypatch.delenv("COLORIZE_RESULTS_ROOT", raising=False)
    assert runner.main(["--profile", "smoke", "--no-progress", "--publish"]) == 0
    assert (published / "tables" / "renamed.csv").exists() and not (published / "tables" / "table.csv").exists()


def test_runner_help_names_the_command_and_the_accepted_values(capsys):
    with pytest.raises(SystemExit):
        runner.main(["--help"])
    text = capsys.readouterr().out
    assert "python -m colorize_utils.runner" in text and "folder:/path" in text and "--sizes" in text
    with pytest.raises(SystemExit):
        runner.main(["--dataset", "imagenet-21k"])
    assert "choose one of" in capsys.readouterr().err


def test_tables_keep_every_column_any_row_has(tmp_path):
    writer = reporting.ResultsWriter("01_x", config.get_profile("smoke"), tmp_path)
    rows = [{"model": "gray", "value": 1.0}, {"model": "m", "value": 0.5, "vs_gray": "-0.5 [-0.6, -0.4] better"}]
    writer.save_table(rows, "t")
    assert (tmp_path / "tables" / "t.csv").read_text().splitlines()[0] == "model,value,vs_gray"
    assert "| vs_gray |" in (tmp_path / "tables" / "t.md").read_text()
