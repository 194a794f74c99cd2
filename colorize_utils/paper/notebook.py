"""What a numbered notebook knows about its run: the notebook graph, the run file, and the prologue.

The runner tells a kernel everything about the run through papermill parameters: PROFILE, DATASET, SIZES,
SEED, RESULTS_DIR and RUN_FILE, the path of one JSON file (`RunFile`) holding what only the runner knows
(where earlier notebooks' models are, the commit the run started at, the kernel's thread share, which
notebooks are still running). `start_notebook()` reads it; nothing travels in environment variables. In
JupyterLab, with no runner, RUN_FILE is None and every value has its interactive default.

    run = start_notebook("03_loss_comparison", PROFILE, DATASET, SIZES, SEED, RESULTS_DIR, RUN_FILE)
    data = run.load_data(fallback="samples")
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Sequence

from colorize_utils.quiet import import_tensorflow_quietly

# The notebooks import this module first: TensorFlow, which the imports below bring in, starts here with its C++
# start-up lines kept out of the notebook's output.
import_tensorflow_quietly()

from colorize_utils import config  # noqa: E402 (after TensorFlow's quiet start)
from colorize_utils.learning import data as data_sources
from colorize_utils.files import atomic_path, git_commit
from colorize_utils.learning.reporting import ResultsWriter


@dataclasses.dataclass(frozen=True)
class NotebookDeps:
    """A notebook's place in the run: `needs` must have finished before it starts (01's bins, the models 06
    evaluates); `reads` are notebooks whose finished models it loads late (03's cross-entropy model), so it
    may start while they run and waits for them where it loads (NotebookRun.wait_for_inputs)."""

    needs: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()


# The numbered notebooks, in the order they run, and what each needs from the others: the one notebook graph.
NOTEBOOK_GRAPH: dict[str, NotebookDeps] = {
    "01_data_prep": NotebookDeps(),
    "02_baseline": NotebookDeps(),
    "03_loss_comparison": NotebookDeps(needs=("01_data_prep",)),
    "04_bin_sweep": NotebookDeps(needs=("01_data_prep",), reads=("03_loss_comparison",)),
    "05_cgan": NotebookDeps(needs=("01_data_prep",), reads=("03_loss_comparison",)),
    "06_evaluation": NotebookDeps(needs=("01_data_prep", "02_baseline", "03_loss_comparison", "04_bin_sweep",
                                         "05_cgan")),
    "07_beyond": NotebookDeps(needs=("01_data_prep",), reads=("03_loss_comparison",)),
    "08_video": NotebookDeps(),
}
NOTEBOOKS = list(NOTEBOOK_GRAPH)
MANIFEST_DIR = ".manifests"  # in a run folder, per notebook: the files its last successful run wrote


def previous_outputs(run_dir: str | os.PathLike, notebook: str) -> set[str]:
    """The files (relative to `run_dir`) that `notebook`'s last successful run wrote there: the runner replaces
    them with this run's and deletes those this run does not write again."""
    manifest = Path(run_dir) / MANIFEST_DIR / f"{notebook}.txt"
    return set(manifest.read_text().splitlines()) if manifest.exists() else set()


def notebook_deps(name: str) -> NotebookDeps:
    """A notebook's entry in NOTEBOOK_GRAPH (none for a notebook outside it, e.g. a test's)."""
    return NOTEBOOK_GRAPH.get(name, NotebookDeps())


@dataclasses.dataclass(frozen=True)
class RunFile:
    """What the runner knows about a run that its notebooks need, written once per run (`write`) and read by
    each kernel (`read`, through start_notebook's RUN_FILE)."""

    profile: str
    run_dir: str                # runs/<profile> (results/<profile> with --publish): earlier notebooks' models
    commit: str                 # the code's commit when the run started (experiment's training keys)
    threads: int | None = None  # TensorFlow threads per kernel when notebooks run side by side; None: all cores
    pending_dir: str | None = None  # a file per selected notebook that has not finished yet
    headless: bool = True       # one line per epoch instead of progress bars; no interactive widgets

    def write(self, path: str | os.PathLike) -> Path:
        """Write this run file (atomically) at `path`."""
        path = Path(path)
        with atomic_path(path) as temporary:
            temporary.write_text(json.dumps(dataclasses.asdict(self), indent=1))
        return path

    @classmethod
    def read(cls, path: str | os.PathLike) -> "RunFile":
        """The run file at `path`; a ValueError names a missing or unreadable one."""
        try:
            fields = json.loads(Path(path).read_text())
            return cls(**fields)
        except (OSError, ValueError, TypeError) as error:
            raise ValueError(f"Cannot read the run file {path}: {error}. RUN_FILE is written by "
                             "`python -m colorize_utils.runner`; leave it None in JupyterLab.") from error


class NotebookRun:
    """A notebook's resolved parameters (profile, data source, sizes, seed), its run file's facts and its
    ResultsWriter."""

    def __init__(self, notebook: str, profile: str | None = None, dataset: str | None = None,
                 sizes: Sequence[int] | None = None, seed: int | None = None,
                 results_dir: str | os.PathLike | None = None, run_file: str | os.PathLike | None = None):
        self.notebook = notebook
        self.run_file = RunFile.read(run_file) if run_file else None
        self.profile = config.get_profile(profile or (self.run_file.profile if self.run_file else None))
        self.dataset = dataset or self.profile.dataset
        self.sizes = tuple(int(s) for s in sizes) if sizes else self.profile.sizes
        self.seed = self.profile.seed if seed is None else int(seed)
        self.writer = ResultsWriter(notebook, self.profile, results_dir)
        self.writer.seed = self.seed
        # Earlier notebooks' models (and people's Turing-test answers) are read from the run's folder, not
        # from this notebook's staging folder.
        self.run_dir = Path(self.run_file.run_dir) if self.run_file else config.results_dir(self.profile)
        self.models_dir = self.run_dir / "models"
        self.headless = bool(self.run_file and self.run_file.headless)
        # The code a run's notebooks train with is the commit the run started at (a commit made meanwhile must
        # not make a later notebook retrain what an earlier one trained).
        self.commit = self.run_file.commit if self.run_file else git_commit()
        self.threads = self.run_file.threads if self.run_file else None
        self.writer.threads = self.threads

    def load_data(self, dataset: str | None = None, sizes: Sequence[int] | None = None,
                  image_size: int | None = None, fallback: str | None = None) -> data_sources.ColorizationData:
        """The run's splits (data.load_splits with the run's source, sizes, image size and seed unless given),
        their summary printed and recorded in the metrics record."""
        loaded = data_sources.load_splits(dataset or self.dataset, sizes or self.sizes,
                                          image_size or self.profile.image_size, self.seed, fallback=fallback)
        print(loaded.report.summary())
        self.writer.context["data"] = loaded.report.to_dict()
        return loaded

    def wait_for_inputs(self, poll_seconds: float = 1.0) -> float:
        """Wait until the notebooks this one reads models from (NotebookDeps.reads) have finished, when the
        runner runs them alongside this one; returns the seconds waited. Outside the runner (JupyterLab, a
        notebook run on its own) it returns at once: the models are there or they are not."""
        if not (self.run_file and self.run_file.pending_dir):
            return 0.0
        started = time.perf_counter()
        for name in notebook_deps(self.notebook).reads:
            marker = Path(self.run_file.pending_dir) / name
            if marker.exists():
                print(f"waiting for {name}, running alongside, to finish: its models are read next", flush=True)
            # The runner removes the marker once the notebook's results are in place (or it failed, or the
            # runner stopped and removed the whole folder).
            while marker.exists():
                time.sleep(poll_seconds)
        waited = time.perf_counter() - started
        if waited >= poll_seconds:
            print(f"waited {waited:.0f} s", flush=True)
        return waited

    def describe(self) -> str:
        """One line for the notebook's output."""
        return (f"profile={self.profile.name} dataset={self.dataset} sizes={self.sizes} "
                f"seed={self.seed} results={self.writer.root}")


def start_notebook(notebook: str, profile: str | None = None, dataset: str | None = None,
                   sizes: Sequence[int] | None = None, seed: int | None = None,
                   results_dir: str | os.PathLike | None = None,
                   run_file: str | os.PathLike | None = None) -> NotebookRun:
    """A notebook's prologue: resolve its parameters against the profile (and the runner's run file, when
    given) and prepare where its results go."""
    run = NotebookRun(notebook, profile, dataset, sizes, seed, results_dir, run_file)
    print(run.describe())
    return run
