"""colorize_utils.paper.runner: the papermill runner (staging, promotion, failure handling, notebooks side by side,
its command line and console)."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from colorize_utils import config
from colorize_utils.paper import notebook, runner


def _notebook(path, body):
    notebook = new_notebook(cells=[
        new_code_cell("PROFILE = None\nRESULTS_DIR = None\nRUN_FILE = None\nFAIL = False", metadata={"tags": ["parameters"]}),
        new_code_cell(body),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


WRITE_RESULTS = """
from colorize_utils.paper.notebook import start_notebook
run = start_notebook("01_fake", PROFILE, results_dir=RESULTS_DIR, run_file=RUN_FILE)
import os
run.writer.record(answer=42, cwd=os.getcwd())
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
    monkeypatch.setattr(config, "RESULTS_ROOT", tmp_path / "runs")
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(runner, "NOTEBOOKS", ["01_fake"])
    return tmp_path


def test_successful_run_promotes_outputs(fake_project):
    assert runner.main(["--profile", "smoke", "--no-progress"]) == 0
    results = fake_project / "runs" / "smoke"
    assert (results / "notebooks" / "01_fake.ipynb").exists()
    assert (results / "tables" / "table.csv").read_text().splitlines() == ["model,value", "gray,1.5"]
    record = json.loads((results / "metrics" / "01_fake.json").read_text())
    assert record["metrics"]["answer"] == 42 and record["profile"]["name"] == "smoke"
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


def test_publish_writes_results_and_a_rerun_removes_what_the_last_run_wrote_but_this_one_did_not(
        fake_project, monkeypatch):
    assert runner.main(["--profile", "smoke", "--no-progress", "--publish"]) == 0
    published = fake_project / "results" / "smoke"
    assert (published / "tables" / "table.csv").exists()
    assert not (fake_project / "runs" / "smoke" / "tables" / "table.csv").exists()
    # the notebook's next run writes another table: the old one must not stay beside the new one
    _notebook(fake_project / "notebooks" / "01_fake.ipynb", WRITE_RESULTS.replace('"table")', '"renamed")'))
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


def _fake_runs(monkeypatch, seconds: dict, fail: set = frozenset()):
    """Replace run_notebook with a timed stand-in; returns the log of (event, name, time)."""
    import threading
    import time

    log, lock = [], threading.Lock()

    def run_notebook(name, profile, extra=None, progress_bar=True, **run_options):
        with lock:
            log.append(("start", name, time.monotonic()))
        time.sleep(seconds.get(name, 0.05))
        with lock:
            log.append(("end", name, time.monotonic()))
        if name in fail:
            raise runner.NotebookFailed(f"{name} failed in cell 2: ValueError: broken")
        return []

    monkeypatch.setattr(runner, "run_notebook", run_notebook)
    return log


def test_notebooks_run_side_by_side_but_never_before_what_they_read(monkeypatch):
    names = ["01_a", "02_b", "03_c", "04_d"]
    monkeypatch.setattr(notebook, "NOTEBOOK_GRAPH", {"03_c": notebook.NotebookDeps(needs=("01_a",))})
    log = _fake_runs(monkeypatch, {"01_a": 0.5, "02_b": 0.05, "03_c": 0.1, "04_d": 0.1})
    assert runner.run_notebooks(names, "smoke", {}, jobs=2, progress_bar=False) == 0
    times = {(event, name): at for event, name, at in log}
    assert times["start", "02_b"] < times["end", "01_a"]  # two at once
    assert times["start", "03_c"] >= times["end", "01_a"]  # 03 reads 01
    assert times["start", "04_d"] < times["start", "03_c"]  # the free slot goes to a notebook that is ready
    running, most = 0, 0
    for event, _, _ in sorted(log, key=lambda entry: entry[2]):
        running += 1 if event == "start" else -1
        most = max(most, running)
    assert most == 2  # never more than --jobs
    # one at a time runs them in their order
    log.clear()
    assert runner.run_notebooks(names, "smoke", {}, jobs=1, progress_bar=False) == 0
    assert [name for event, name, _ in log if event == "start"] == names


def test_a_failed_notebook_stops_what_reads_it_and_lets_the_running_one_finish(monkeypatch, capsys):
    names = ["01_a", "02_b", "03_c", "04_free"]
    monkeypatch.setattr(notebook, "NOTEBOOK_GRAPH", {"03_c": notebook.NotebookDeps(needs=("01_a",))})
    log = _fake_runs(monkeypatch, {"01_a": 0.05, "02_b": 0.4}, fail={"01_a"})
    assert runner.run_notebooks(names, "smoke", {}, jobs=2, progress_bar=False) == 1
    assert ("end", "02_b") in {(event, name) for event, name, _ in log}  # the one already running finished
    assert not {"03_c", "04_free"} & {name for _, name, _ in log}  # nothing more starts, ready or not
    err = capsys.readouterr().err
    assert "01_a failed in cell 2" in err and "Not run after the failure: 03_c, 04_free" in err


def test_an_unexpected_error_is_raised_after_the_other_notebook_finished(monkeypatch):
    import threading
    import time

    names, log = ["01_a", "02_b"], []

    def run_notebook(name, profile, extra=None, progress_bar=True, **run_options):
        log.append(("start", name, threading.current_thread().name))
        if name == "01_a":
            raise RuntimeError("Kernel died")  # e.g. papermill's DeadKernelError: not a failing cell
        time.sleep(0.3)
        log.append(("end", name, None))
        return []

    monkeypatch.setattr(runner, "run_notebook", run_notebook)
    with pytest.raises(RuntimeError, match="Kernel died"):
        runner.run_notebooks(names, "smoke", {}, jobs=2, progress_bar=False)
    assert ("end", "02_b", None) in log
    # one job at a time runs each notebook in the caller's thread (Ctrl-C then cleans up as before)
    log.clear()
    with pytest.raises(RuntimeError, match="Kernel died"):
        runner.run_notebooks(names, "smoke", {}, jobs=1, progress_bar=False)
    assert log == [("start", "01_a", threading.current_thread().name)]


def test_a_reader_starts_beside_the_notebook_it_reads_and_waits_for_it(monkeypatch, tmp_path):
    import threading
    import time

    log, lock = [], threading.Lock()

    def note(event, name):
        with lock:
            log.append((event, name, time.monotonic()))

    def run_notebook(name, profile, extra=None, progress_bar=True, root=None, run_file=None):
        note("start", name)
        if notebook.notebook_deps(name).reads:  # what a kernel does before it loads the other's models
            reader = notebook.NotebookRun(name, "smoke", results_dir=tmp_path / name, run_file=run_file)
            waited = threading.Thread(target=reader.wait_for_inputs, kwargs={"poll_seconds": 0.01}, daemon=True)
            waited.start()
            waited.join(timeout=10)
            assert not waited.is_alive(), f"{name} waited for a notebook that never finished"
            note("read", name)
        time.sleep({"01_a": 0.3, "03_c": 0.6}.get(name, 0.05))
        note("end", name)
        if name in failing:
            raise runner.NotebookFailed(f"{name} failed in cell 2: ValueError: broken")
        return []

    monkeypatch.setattr(runner, "run_notebook", run_notebook)
    monkeypatch.setattr(notebook, "NOTEBOOK_GRAPH", {"02_reader": notebook.NotebookDeps(reads=("03_c",))})
    names, failing = ["01_a", "02_reader", "03_c"], set()
    assert runner.run_notebooks(names, "smoke", {}, jobs=2, progress_bar=False) == 0
    times = {(event, name): at for event, name, at in log}
    assert times["start", "03_c"] <= times["start", "02_reader"] < times["end", "03_c"]  # beside it, never before
    assert times["read", "02_reader"] >= times["end", "03_c"]  # and it read what 03_c finished
    log.clear()  # one at a time: in an order where the reader never waits on a notebook not yet started
    assert runner.run_notebooks(names, "smoke", {}, jobs=1, progress_bar=False) == 0
    assert [name for event, name, _ in log if event == "start"] == ["01_a", "03_c", "02_reader"]
    log.clear()  # a failing notebook releases the one waiting for it
    failing = {"03_c"}
    assert runner.run_notebooks(names, "smoke", {}, jobs=2, progress_bar=False) == 1
    assert ("read", "02_reader") in {(event, name) for event, name, _ in log}


def test_jobs_auto_is_one_with_a_gpu_and_bad_values_are_clear_errors(monkeypatch):
    monkeypatch.setattr(config, "usable_cores", lambda: 2)
    monkeypatch.setattr(runner, "gpu_visible", lambda: False)
    monkeypatch.setattr(runner, "available_memory_gib", lambda: 20.0)
    every = list(runner.NOTEBOOKS)
    assert runner.resolve_jobs("auto", every) == 2 and runner.resolve_jobs("auto", every[:1]) == 1
    assert runner.resolve_jobs("3", every[:2]) == 2  # no more jobs than notebooks
    # a chain, each reading from the one before, gets all the cores one at a time
    assert runner.resolve_jobs("auto", ["01_data_prep", "05_cgan", "06_evaluation"]) == 1
    assert runner.resolve_jobs("auto", ["03_loss_comparison", "04_bin_sweep"]) == 2  # 04 waits for 03 itself
    assert runner.resolve_jobs("auto", ["03_loss_comparison", "08_video"]) == 2
    monkeypatch.setattr(runner, "available_memory_gib", lambda: 6.0)  # two kernels would not fit
    assert runner.resolve_jobs("auto", every) == 1 and runner.resolve_jobs("2", every) == 2  # unless asked for
    monkeypatch.setattr(runner, "available_memory_gib", lambda: 20.0)
    monkeypatch.setattr(runner, "gpu_visible", lambda: True)  # two kernels would each reserve the GPU
    assert runner.resolve_jobs("auto", every) == 1
    for bad in ("0", "two", "-1"):
        with pytest.raises(ValueError, match="--jobs takes a whole number >= 1 or 'auto'"):
            runner.resolve_jobs(bad, every)
    with pytest.raises(SystemExit):
        runner.main(["--jobs", "0"])


def test_every_line_of_a_side_by_side_log_record_names_its_notebook():
    import logging
    import threading

    lines = []

    def log_from_a_notebook_thread():
        record = logging.LogRecord("papermill", logging.INFO, __file__, 1, "seed 42 ce_30_bins: done\nwaiting for 03",
                                   None, None)
        lines.extend(runner.NotebookLineFormatter("%(message)s").format(record).splitlines())

    thread = threading.Thread(target=log_from_a_notebook_thread, name="04_bin_sweep")
    thread.start()
    thread.join()
    assert lines == ["04_bin_sweep | seed 42 ce_30_bins: done", "04_bin_sweep | waiting for 03"]


def test_side_by_side_kernels_get_a_share_of_the_cores_and_a_users_setting_wins(monkeypatch):
    monkeypatch.setattr(config, "usable_cores", lambda: 8)
    for name in runner.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert runner.split_threads(1) == {}
    assert set(runner.split_threads(2).values()) == {"4"} and runner.split_threads(16)["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert runner.split_threads(2)["OMP_NUM_THREADS"] == "3"


def test_two_real_kernels_side_by_side_record_their_threads_and_leave_the_callers_settings(fake_project,
                                                                                             monkeypatch):
    for name in ("02_free", "03_after"):
        _notebook(fake_project / "notebooks" / f"{name}.ipynb",
                  WRITE_RESULTS.replace("01_fake", name).replace('"table"', f'"table_{name}"'))
    monkeypatch.setattr(runner, "NOTEBOOKS", ["01_fake", "02_free", "03_after"])
    monkeypatch.setattr(notebook, "NOTEBOOK_GRAPH", {"03_after": notebook.NotebookDeps(needs=("01_fake",))})
    monkeypatch.setattr(runner, "gpu_visible", lambda: False)
    monkeypatch.setattr(config, "usable_cores", lambda: 2)
    for name in runner.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert runner.main(["--profile", "smoke", "--no-progress", "--jobs", "2"]) == 0
    results = fake_project / "runs" / "smoke"
    for name in runner.NOTEBOOKS:
        record = json.loads((results / "metrics" / f"{name}.json").read_text())
        assert record["notebook"] == name and record["threads"]["tensorflow_intra_op"] == 1
        assert record["metrics"]["cwd"] == str(fake_project / "notebooks")  # kernels start in notebooks/
        assert (results / "notebooks" / f"{name}.ipynb").exists()
    assert sorted(p.name for p in (results / ".manifests").iterdir()) == [f"{n}.txt" for n in runner.NOTEBOOKS]
    assert not any(name in runner.os.environ for name in runner.THREAD_VARIABLES)


def test_the_runner_ends_with_a_summary_of_what_ran_failed_and_where_outputs_are(tmp_path):
    from colorize_utils.paper.runner import run_summary

    names = ["01_data", "02_baseline", "03_paper_cnn"]
    text = run_summary(names, {"01_data"}, ["02_baseline"], ["03_paper_cnn"], 125.0, tmp_path / "runs" / "demo")
    lines = text.splitlines()
    assert lines[0] == "Done in 2.1 min: 1 of 3 notebook(s) ran, 1 failed, 1 not run"
    assert lines[1].split() == ["ran:", "01_data"]
    assert "02_baseline" in lines[2] and "FAILED.ipynb" in lines[2] and lines[2].startswith("  failed:")
    assert lines[3].split() == ["not", "run:", "03_paper_cnn"]
    assert str(tmp_path / "runs" / "demo") in lines[4]
    clean = run_summary(names, set(names), [], [], 60.0, tmp_path)
    assert "failed" not in clean and "not run" not in clean and "01_data, 02_baseline, 03_paper_cnn" in clean


def test_the_console_shows_a_few_lines_per_notebook_and_the_log_file_keeps_every_cell(fake_project, capfd):
    _notebook(fake_project / "notebooks" / "01_fake.ipynb",
              WRITE_RESULTS + '\nprint("a table row nobody needs on the console")\n'
                              'print("toy_model: epoch 1/2  loss 3.1  1 s/epoch, about 0.0 min left")\n'
                              'import os\nos.write(2, b"a C++ library writes to the descriptor: nobody needs it\\n")\n')
    assert runner.main(["--profile", "smoke", "--no-progress", "--jobs", "1"]) == 0
    console = capfd.readouterr()
    lines = (console.out + console.err).strip().splitlines()
    assert "toy_model: epoch 1/2  loss 3.1  1 s/epoch, about 0.0 min left" in lines  # training progress shows
    noise = [line for line in lines if "Executing Cell" in line or "IPKernelApp" in line or "nobody needs" in line]
    assert not noise, lines
    summary = lines.index(next(line for line in lines if line.startswith("Done in")))
    assert summary <= 5, lines  # "Running ...", "[1/1] ...", the epoch line, "[1/1] ... done"
    log = fake_project / "runs" / "smoke" / "logs" / "runner.log"
    assert any(line.startswith(f"  log:     {log} (every cell's output") for line in lines), lines
    text = log.read_text()
    assert "Executing Cell 2" in text and "a table row nobody needs on the console" in text and "toy_model" in text
    # what the kernel wrote to its own descriptors is kept beside the log, not shown
    kernel_log = (log.parent / f"01_fake{runner.KERNEL_LOG_SUFFIX}").read_text()
    assert "a C++ library writes to the descriptor: nobody needs it" in kernel_log


def test_the_runner_on_a_folder_of_bad_inputs_uses_the_good_ones_and_records_the_rest(corpus, tmp_path,
                                                                                        monkeypatch):
    import json

    from colorize_utils.paper import runner

    monkeypatch.setattr("colorize_utils.config.RESULTS_ROOT", tmp_path)
    assert runner.main(["--profile", "smoke", "--only", "01", "--dataset", f"folder:{corpus}",
                        "--sizes", "6,1,1", "--no-progress"]) == 0
    record = json.loads((tmp_path / "smoke" / "metrics" / "01_data_prep.json").read_text())
    report = record["data"]
    assert report["sizes"] == {"train": 6, "val": 1, "test": 1}
    assert report["skipped_corrupt"] >= 1 and report["source"].startswith("folder:")
    with pytest.raises(SystemExit):  # a folder that does not exist fails before any notebook runs
        runner.main(["--profile", "smoke", "--only", "01", "--dataset", f"folder:{tmp_path / 'none'}"])
