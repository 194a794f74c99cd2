"""Run every numbered notebook in order with papermill, headless, into results/<profile>/.

    python -m colorize_utils.runner --profile demo          # all notebooks
    python -m colorize_utils.runner --profile smoke --only 01

Each notebook writes into a staging folder; only when it finishes are its executed copy, figures,
tables, models and metrics record moved into results/<profile>/. A failing notebook stops the run
with the failing cell's error, keeps its executed copy as <name>.FAILED.ipynb, and leaves the last
good results untouched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from . import config

NOTEBOOK_DIR = config.PROJECT_ROOT / "notebooks"
# The numbered notebooks, in the order they run; later notebooks read models saved by earlier ones.
NOTEBOOKS = ["01_data_prep", "02_baseline", "03_loss_comparison", "04_bin_sweep", "05_cgan", "06_evaluation",
             "07_beyond", "08_video"]


def notebook_path(name: str) -> Path:
    """Path of a registered notebook."""
    return NOTEBOOK_DIR / f"{name}.ipynb"


def select_notebooks(only: list[str] | None) -> list[str]:
    """Registered notebooks, filtered by number or name prefixes ('01', '03_loss')."""
    if not only:
        return list(NOTEBOOKS)
    chosen = [name for name in NOTEBOOKS if any(name.startswith(prefix) for prefix in only)]
    if not chosen:
        raise ValueError(f"No notebook matches {only}; registered: {NOTEBOOKS}.")
    return chosen


MANIFEST_DIR = ".manifests"  # per notebook: the files its last successful run wrote


def _promote(staging: Path, destination: Path, name: str) -> list[Path]:
    """Move every file of a finished notebook's staging folder into place, replacing older copies, and
    delete what this notebook's previous run wrote but this one did not (no stale tables from another
    data source survive beside new ones)."""
    manifest = destination / MANIFEST_DIR / f"{name}.txt"
    previous = set(manifest.read_text().splitlines()) if manifest.exists() else set()
    moved, written = [], set()
    for source in sorted(p for p in staging.rglob("*") if p.is_file()):
        relative = source.relative_to(staging)
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        moved.append(target)
        written.add(relative.as_posix())
    for stale in sorted(previous - written):
        (destination / stale).unlink(missing_ok=True)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    partial = manifest.with_name(manifest.name + ".partial")
    partial.write_text("\n".join(sorted(written)) + "\n")
    os.replace(partial, manifest)
    shutil.rmtree(staging, ignore_errors=True)
    return moved


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names the cell and the error."""


def run_notebook(name: str, profile: str, extra_parameters: dict | None = None,
                 progress_bar: bool = True) -> list[Path]:
    """Execute one notebook with papermill into staging; promote its outputs only on success."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    results = config.results_dir(profile)
    staging = results / f".staging-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "notebooks").mkdir(parents=True)
    executed = staging / "notebooks" / f"{name}.ipynb"
    parameters = {"PROFILE": profile, "RESULTS_DIR": str(staging), **(extra_parameters or {})}
    failed_copy = results / "notebooks" / f"{name}.FAILED.ipynb"
    try:
        papermill.execute_notebook(str(notebook_path(name)), str(executed), parameters=parameters,
                                   cwd=str(NOTEBOOK_DIR), kernel_name="python3",
                                   progress_bar=progress_bar, log_output=True)
    except PapermillExecutionError as error:
        failed_copy.parent.mkdir(parents=True, exist_ok=True)
        if executed.exists():
            os.replace(executed, failed_copy)
        shutil.rmtree(staging, ignore_errors=True)
        raise NotebookFailed(
            f"{name} failed in cell {error.exec_count}: {error.ename}: {error.evalue}\n"
            f"The executed copy is {failed_copy}; the last good results in {results} are untouched."
        ) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    failed_copy.unlink(missing_ok=True)
    return _promote(staging, results, name)


def refresh_expected_outputs(names: list[str]) -> None:
    """Re-execute notebooks in the smoke profile and store only the outputs nbval compares.

    Cells marked `# NBVAL_CHECK_OUTPUT` keep their fresh outputs (what `pytest --nbval-lax` checks);
    every other cell is stored without outputs, so the notebooks in git stay small and clean.
    """
    import nbformat
    import papermill

    for name in names:
        path = notebook_path(name)
        staging = config.results_dir("smoke") / f".staging-{name}"
        executed = staging / "executed.ipynb"
        staging.mkdir(parents=True, exist_ok=True)
        try:
            papermill.execute_notebook(str(path), str(executed), parameters={"PROFILE": "smoke",
                                       "RESULTS_DIR": str(staging)}, cwd=str(NOTEBOOK_DIR),
                                       kernel_name="python3", progress_bar=False)
            source, fresh = nbformat.read(path, as_version=4), nbformat.read(executed, as_version=4)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        fresh_by_source = {cell.source: cell for cell in fresh.cells if cell.cell_type == "code"}
        for cell in source.cells:
            if cell.cell_type != "code":
                continue
            checked = "NBVAL_CHECK_OUTPUT" in cell.source
            run = fresh_by_source.get(cell.source)
            cell.outputs = [out for out in run.outputs if out.get("name") != "stderr"] if checked and run else []
            cell.execution_count = run.execution_count if checked and run else None
        nbformat.write(source, path)
        print(f"{name}: expected outputs refreshed")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: run the selected notebooks of a profile in order."""
    parser = argparse.ArgumentParser(prog="python -m colorize_utils.runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default=None, choices=sorted(config.PROFILES),
                        help=f"run size (default: $COLORIZE_PROFILE or {config.DEFAULT_PROFILE})")
    parser.add_argument("--only", nargs="*", help="notebook numbers or name prefixes to run (default: all)")
    parser.add_argument("--dataset", default=None,
                        help="the 64x64 notebooks' data source: auto, tiny-imagenet, cifar10, samples or "
                             "folder:/path/to/photos (default: the profile's)")
    parser.add_argument("--sizes", default=None, metavar="TRAIN,VAL,TEST",
                        help="data sizes of the 64x64 notebooks, e.g. 500,50,100 (default: the profile's)")
    parser.add_argument("--distribute", default=None,
                        help="data-parallel training in the training notebooks: mirrored (every GPU of this host), "
                             "multi-worker (hosts in $TF_CONFIG) or data-parallel (JAX) (default: none)")
    parser.add_argument("--seeds", default=None, metavar="S1,S2,...",
                        help="model seeds of notebooks 03 and 04 (each model trained once per seed on the same "
                             "split; tables give mean and sd over seeds), e.g. 42,43,44 (default: the run's seed)")
    parser.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")
    parser.add_argument("--publish", action="store_true",
                        help="maintainers: write into the committed results/<profile>/ instead of runs/<profile>/")
    parser.add_argument("--refresh-expected-outputs", action="store_true",
                        help="maintainers: re-run the notebooks in smoke and store the outputs nbval checks")
    args = parser.parse_args(argv)
    if args.refresh_expected_outputs:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        refresh_expected_outputs(select_notebooks(args.only))
        return 0
    profile = config.get_profile(args.profile).name
    if args.publish:
        os.environ["COLORIZE_RESULTS_ROOT"] = str(config.published_root())
    extra = {}
    if args.dataset:
        from .data import check_source

        try:
            check_source(args.dataset)
        except ValueError as error:
            parser.error(str(error))
        extra["DATASET"] = args.dataset
    if args.distribute:
        from .distribute import check_distribute

        try:
            check_distribute(args.distribute)
        except ValueError as error:
            parser.error(str(error))
        extra["DISTRIBUTE"] = args.distribute
    if args.sizes:
        try:
            sizes = [int(part) for part in args.sizes.split(",")]
            if len(sizes) != 3 or sizes[0] < 1 or min(sizes) < 0:
                raise ValueError
        except ValueError:
            parser.error(f"--sizes takes three whole numbers TRAIN,VAL,TEST with TRAIN >= 1; got {args.sizes!r}")
        extra["SIZES"] = sizes
    if args.seeds:
        try:
            seeds = [int(part) for part in args.seeds.split(",")]
            if len(set(seeds)) != len(seeds):
                raise ValueError
        except ValueError:
            parser.error(f"--seeds takes distinct whole numbers separated by commas, e.g. 42,43,44; got {args.seeds!r}")
        extra["SEEDS"] = seeds
    # What long cells print (one line per epoch, with the time left) reaches this terminal too.
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("papermill").setLevel(logging.INFO)
    # Kernels inherit these: training prints one line per epoch instead of a progress bar, and TensorFlow's
    # C++ start-up lines stay out of the notebooks.
    os.environ["COLORIZE_HEADLESS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Models trained by one notebook are reused by later ones when their training keys match; the key holds
    # the code's commit, which is the commit this run started at (a commit made during a long run must not
    # make notebook 04 retrain what 03 trained).
    from .reporting import git_commit

    os.environ.setdefault(config.RUN_COMMIT_VARIABLE, git_commit())
    names = select_notebooks(args.only)
    print(f"Running {len(names)} notebook(s) with profile {profile!r} into {config.results_dir(profile)}")
    for index, name in enumerate(names, 1):
        started = time.time()
        print(f"[{index}/{len(names)}] {name} ...", flush=True)
        try:
            outputs = run_notebook(name, profile, extra, progress_bar=not args.no_progress)
        except NotebookFailed as error:
            print(f"FAILED: {error}", file=sys.stderr)
            return 1
        print(f"[{index}/{len(names)}] {name} done in {time.time() - started:.0f} s, "
              f"{len(outputs)} files written", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
