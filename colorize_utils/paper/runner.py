"""Run every numbered notebook with papermill, headless, into runs/<profile>/ (results/<profile>/ with --publish).

    python -m colorize_utils.runner --profile demo          # all notebooks
    python -m colorize_utils.runner --profile smoke --only 01
    python -m colorize_utils.runner --profile demo --jobs 1 # one notebook at a time

On a CPU with memory to spare, two notebooks run at once by default (`--jobs auto`), each as soon as the
notebooks it needs have finished (notebook.NOTEBOOK_GRAPH), with the cores split between their kernels: on small
models two processes of one thread each get more done together than one process using both cores
(docs/performance.md, "Two notebooks at a time").
A notebook that only loads another's finished models (its `reads` there) may start while that one runs,
and waits for it where it loads them. Each kernel learns about the run from its papermill parameters and one
run file (notebook.RunFile), never from environment variables.

Each notebook writes into a staging folder; only when it finishes are its executed copy, figures,
tables, models and metrics record moved into the run folder (runs/<profile>/). A failing notebook stops the run
with the failing cell's error, keeps its executed copy as <name>.FAILED.ipynb, and leaves the last
good results untouched.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from colorize_utils import config
from colorize_utils.learning.data import check_source
from colorize_utils.learning.distribute import check_distribute
from colorize_utils.files import atomic_path, git_commit
from colorize_utils.paper.notebook import MANIFEST_DIR, NOTEBOOKS, RunFile, notebook_deps, previous_outputs

NOTEBOOK_DIR = config.PROJECT_ROOT / "notebooks"
# Thread settings a kernel inherits when notebooks run side by side (TensorFlow, OpenMP/oneDNN and BLAS).
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


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




def _promote(staging: Path, destination: Path, name: str) -> list[Path]:
    """Move every file of a finished notebook's staging folder into place, replacing older copies, and
    delete what this notebook's previous run wrote but this one did not (no stale tables from another
    data source survive beside new ones)."""
    manifest = destination / MANIFEST_DIR / f"{name}.txt"
    previous = previous_outputs(destination, name)
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
    with atomic_path(manifest) as partial:
        partial.write_text("\n".join(sorted(written)) + "\n")
    shutil.rmtree(staging, ignore_errors=True)
    return moved


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names the cell and the error."""


def run_notebook(name: str, profile: str, extra_parameters: dict | None = None, progress_bar: bool = True,
                 root: str | os.PathLike | None = None, run_file: str | os.PathLike | None = None) -> list[Path]:
    """Execute one notebook with papermill into staging under <root>/<profile> (root: config.RESULTS_ROOT);
    promote its outputs only on success. `run_file` is the run's notebook.RunFile (run_notebooks writes it)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    results = config.results_dir(profile, root=root)
    staging = results / f".staging-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "notebooks").mkdir(parents=True)
    executed = staging / "notebooks" / f"{name}.ipynb"
    parameters = {"PROFILE": profile, "RESULTS_DIR": str(staging), **(extra_parameters or {})}
    if run_file is not None:
        parameters["RUN_FILE"] = str(run_file)
    failed_copy = results / "notebooks" / f"{name}.FAILED.ipynb"
    kernel_log = results / "logs" / f"{name}{KERNEL_LOG_SUFFIX}"
    kernel_log.parent.mkdir(parents=True, exist_ok=True)
    kernel_log.write_bytes(b"")  # this run's kernel output only
    try:
        # The kernel starts in notebooks/ (nbclient's resources path) without papermill's cwd=, which changes the
        # whole process's directory: two notebooks at once would race on it.
        papermill.execute_notebook(str(notebook_path(name)), str(executed), parameters=parameters,
                                   kernel_name="python3", progress_bar=progress_bar, log_output=True,
                                   resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
                                   extra_arguments=KERNEL_ARGUMENTS,
                                   kernel_manager_class=kernel_manager_writing_to(kernel_log))
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


def gpu_visible() -> bool:
    """Whether this host shows an NVIDIA GPU (checked without importing TensorFlow, which takes seconds)."""
    devices = Path("/proc/driver/nvidia/gpus")
    return (devices.is_dir() and any(devices.iterdir())) or bool(shutil.which("nvidia-smi"))


# 'auto' runs two notebooks at once only with this much memory available: two kernels at their peak need
# about 5 GiB (docs/runner.md).
SIDE_BY_SIDE_MEMORY_GIB = 8.0


def available_memory_gib() -> float:
    """Memory available to new processes, in GiB (psutil's estimate)."""
    import psutil

    return psutil.virtual_memory().available / 2 ** 30


def can_overlap(names: list[str]) -> bool:
    """Whether two of these notebooks could run at once (neither needs, even indirectly, the other)."""
    def upstream(name: str) -> set[str]:
        found, stack = set(), list(notebook_deps(name).needs)
        while stack:
            need = stack.pop()
            if need not in found:
                found.add(need)
                stack.extend(notebook_deps(need).needs)
        return found

    return any(b not in upstream(a) and a not in upstream(b) for i, a in enumerate(names) for b in names[i + 1:])


def resolve_jobs(jobs: str, names: list[str]) -> int:
    """How many notebooks run at once: a whole number, or 'auto' = 2 on a CPU host with at least 2 cores and
    SIDE_BY_SIDE_MEMORY_GIB available, when two of `names` can run at once; else 1 (with a GPU, two
    TensorFlow kernels would each reserve its memory; a chain like 05 -> 06 is faster with all cores)."""
    count = len(names)
    if jobs == "auto":
        side_by_side = (count > 1 and config.usable_cores() >= 2 and not gpu_visible()
                        and available_memory_gib() >= SIDE_BY_SIDE_MEMORY_GIB and can_overlap(names))
        return 2 if side_by_side else 1
    try:
        value = int(jobs)
        if value < 1:
            raise ValueError
    except ValueError:
        raise ValueError(f"--jobs takes a whole number >= 1 or 'auto'; got {jobs!r}") from None
    return min(value, max(count, 1))


def split_threads(jobs: int) -> dict[str, str]:
    """Thread settings that give each of `jobs` kernels its share of the cores (none for one job). A setting
    already in the environment is kept. Training's numbers depend on the thread count (sums are split
    differently), so each metrics record notes it (ResultsWriter.write_metrics)."""
    if jobs <= 1:
        return {}
    share = str(max(1, config.usable_cores() // jobs))
    return {name: os.environ.get(name, share) for name in THREAD_VARIABLES}


def run_notebooks(names: list[str], profile: str, extra: dict, jobs: int, progress_bar: bool = True,
                  root: str | os.PathLike | None = None, threads: int | None = None) -> int:
    """Run the notebooks into <root>/<profile>, `jobs` at a time, each once every selected notebook it needs
    has finished.

    A notebook that reads another's models (NotebookDeps.reads) starts once that one has finished or is
    running; its kernel waits for it at that point (NotebookRun.wait_for_inputs), told through the run file's
    `pending_dir`, a folder holding a file per selected notebook that has not finished.

    A failure starts nothing more; notebooks already running finish (and are kept). Returns the exit code; an
    error other than a failing cell (a dead kernel, a full disk) is raised once the others have finished.
    With one job, each notebook runs in this thread, so Ctrl-C cleans up as it always did.
    """
    folder = Path(tempfile.mkdtemp(prefix="colorize-run-"))
    state = folder / "pending"
    try:
        state.mkdir()
        for name in names:
            (state / name).touch()
        # Models trained by one notebook are reused by later ones when their training keys match; the key holds
        # the code's commit, which is the commit this run started at (a commit made during a long run must not
        # make notebook 04 retrain what 03 trained).
        run_file = RunFile(profile=profile, run_dir=str(config.results_dir(profile, root=root)),
                           commit=git_commit(), threads=threads, pending_dir=str(state)).write(folder / "run.json")
        return _run_scheduled(names, profile, extra, jobs, progress_bar, state, root, run_file)
    finally:  # a kernel still waiting (after an error) stops waiting once the folder is gone
        shutil.rmtree(folder, ignore_errors=True)


def _run_scheduled(names: list[str], profile: str, extra: dict, jobs: int, progress_bar: bool,
                   state: Path, root, run_file: Path) -> int:
    finished: set[str] = set()
    pending, running = list(names), set()
    completions: queue.Queue = queue.Queue()
    failed, unexpected = False, None
    started_at: dict[str, float] = {}

    def work(name: str) -> None:
        try:
            outputs = run_notebook(name, profile, extra, progress_bar=progress_bar and jobs == 1, root=root,
                                   run_file=run_file)
            completions.put((name, outputs, None))
        except BaseException as error:  # reported by the loop below, in the main thread
            completions.put((name, None, error))
        finally:  # after its results were moved into place: a notebook waiting for them goes on
            (state / name).unlink(missing_ok=True)

    def ready(name: str) -> bool:
        deps = notebook_deps(name)
        return (all(need in finished or need not in names for need in deps.needs)
                and all(read in finished or read in running or read not in names for read in deps.reads))

    while pending or running:
        while not failed and len(running) < jobs and any(ready(name) for name in pending):
            name = next(name for name in pending if ready(name))
            pending.remove(name)
            running.add(name)
            started_at[name] = time.time()
            print(f"[{names.index(name) + 1}/{len(names)}] {name} ...", flush=True)
            if jobs == 1:
                work(name)
            else:
                threading.Thread(target=work, args=(name,), name=name, daemon=True).start()
        if not running:
            if pending and not failed:  # cannot happen while NOTEBOOK_GRAPH's needs only name earlier notebooks
                raise RuntimeError(f"notebooks {pending} wait on notebooks that never finish")
            break
        name, outputs, error = completions.get()
        running.discard(name)
        if error is None:
            finished.add(name)
            print(f"[{names.index(name) + 1}/{len(names)}] {name} done in {time.time() - started_at[name]:.0f} s, "
                  f"{len(outputs)} files written", flush=True)
            continue
        failed = True
        for waiting in pending:  # never started: a running notebook must not wait for them
            (state / waiting).unlink(missing_ok=True)
        if isinstance(error, NotebookFailed):
            print(f"FAILED: {error}", file=sys.stderr)
        else:
            print(f"FAILED: {name}: {type(error).__name__}: {error}", file=sys.stderr)
            unexpected = unexpected or error
    if failed and pending:
        print(f"Not run after the failure: {', '.join(pending)}", file=sys.stderr)
    failures = [name for name in names if name not in finished and name not in pending]
    print(run_summary(names, finished, failures, pending, time.time() - min(started_at.values(), default=time.time()),
                      config.results_dir(profile, root=root)), flush=True)
    if unexpected is not None:
        raise unexpected
    return 1 if failed else 0


def run_summary(names: list[str], finished: set[str], failed: list[str], not_run: list[str], seconds: float,
                results_dir: Path) -> str:
    """The block that ends a runner call: total time, which notebooks ran, failed or were not run, and where
    their outputs are."""
    lines = [f"Done in {seconds / 60:.1f} min: {len(finished)} of {len(names)} notebook(s) ran"
             + (f", {len(failed)} failed" if failed else "") + (f", {len(not_run)} not run" if not_run else "")]
    lines.append("  ran:     " + (", ".join(name for name in names if name in finished) or "none"))
    if failed:
        lines.append("  failed:  " + ", ".join(failed) + f" (executed copies: {Path(results_dir) / 'notebooks'}/"
                     "<name>.FAILED.ipynb)")
    if not_run:
        lines.append("  not run: " + ", ".join(not_run))
    lines.append(f"  outputs: {results_dir} (notebooks/, figures/, tables/, metrics/)")
    log_path = Path(results_dir) / "logs" / LOG_NAME
    if log_path.exists():
        lines.append(f"  log:     {log_path} (every cell's output; each kernel's own output in <name>{KERNEL_LOG_SUFFIX})")
    return "\n".join(lines)


# The lines of a cell's output the console shows while notebooks run: training.py's one line per epoch
# ("<model>: epoch 3/20  loss ...  about 1.2 min left"). Everything else goes to the log file only.
PROGRESS_LINE = re.compile(r"\S: epoch \d+/\d+ ")
LOG_NAME = "runner.log"
# The kernels' own start-up log (ipykernel warns that its local TCP sockets are unencrypted) stays out too.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


KERNEL_LOG_SUFFIX = ".kernel.log"


def kernel_manager_writing_to(path: Path) -> type:
    """A kernel manager class whose kernels write their own standard output and error to `path` (appended)
    instead of the console. A kernel echoes whatever reaches its file descriptors (C++ library logs, its own
    start-up log) to the streams it inherited; the cells' outputs travel by messages and are untouched."""
    from jupyter_client.manager import AsyncKernelManager

    class KernelOutputToFile(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
            with open(path, "ab") as stream:  # the kernel holds its own copy of the descriptor
                await super()._async_launch_kernel(kernel_cmd, **{**kw, "stdout": stream, "stderr": stream})

    return KernelOutputToFile


class ProgressOnlyHandler(logging.StreamHandler):
    """The console's share of papermill's log: only the training-progress lines of each record."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            lines = [line for line in self.format(record).splitlines() if PROGRESS_LINE.search(line)]
            if lines:
                self.stream.write("\n".join(lines) + self.terminator)
                self.flush()
        except Exception:  # logging's own contract: a broken console never stops the run
            self.handleError(record)


class NotebookLineFormatter(logging.Formatter):
    """Starts every line of a log record with the notebook whose thread wrote it (when notebooks run side by
    side): papermill logs a cell's output as one record that may hold several lines."""

    def format(self, record: logging.LogRecord) -> str:
        notebook = threading.current_thread().name
        return "\n".join(f"{notebook} | {line}" for line in super().format(record).splitlines())


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
                        help=f"run size (default: {config.DEFAULT_PROFILE})")
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
    parser.add_argument("--jobs", default="auto",
                        help="notebooks run at once, each when those it reads from are done; the cores are split "
                             "between them (default: auto = 2 on a CPU host with 2+ cores and 8 GiB of memory "
                             "available, else 1)")
    parser.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")
    parser.add_argument("--results-root", default=None, metavar="DIR",
                        help="write into DIR/<profile>/ instead of runs/<profile>/")
    parser.add_argument("--publish", action="store_true",
                        help="maintainers: write into the committed results/<profile>/ instead of runs/<profile>/")
    parser.add_argument("--refresh-expected-outputs", action="store_true",
                        help="maintainers: re-run the notebooks in smoke and store the outputs nbval checks")
    args = parser.parse_args(argv)
    if args.refresh_expected_outputs:
        refresh_expected_outputs(select_notebooks(args.only))
        return 0
    profile = config.get_profile(args.profile).name
    root = (config.published_root() if args.publish
            else Path(args.results_root).expanduser().resolve() if args.results_root else config.RESULTS_ROOT)
    extra = {}
    if args.dataset:
        try:
            check_source(args.dataset)
        except ValueError as error:
            parser.error(str(error))
        extra["DATASET"] = args.dataset
    if args.distribute:
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
    names = select_notebooks(args.only)
    try:
        jobs = resolve_jobs(args.jobs, names)
    except ValueError as error:
        parser.error(str(error))
    # papermill's whole log (its cell trail and every cell's output) goes to a file in the run folder; the
    # terminal gets only the training lines (one per epoch, with the time left), prefixed with the notebook's
    # name when several run at once. Both handlers are this call's own, removed at the end, so a second call
    # in one process or a caller's logging setup does not change the format.
    log_path = config.results_dir(profile, root=root) / "logs" / LOG_NAME
    log_path.parent.mkdir(parents=True, exist_ok=True)
    line_format = NotebookLineFormatter if jobs > 1 else logging.Formatter
    handler = ProgressOnlyHandler()
    handler.setFormatter(line_format("%(message)s"))
    log_file = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    log_file.setFormatter(line_format("%(asctime)s %(message)s", "%H:%M:%S"))
    papermill_log = logging.getLogger("papermill")
    previous_log = (papermill_log.level, papermill_log.propagate)
    papermill_log.addHandler(handler)
    papermill_log.addHandler(log_file)
    papermill_log.setLevel(logging.INFO)
    papermill_log.propagate = False
    # The kernels inherit the libraries' thread settings (TensorFlow, OpenMP, BLAS read them when they load: no
    # run state of ours), and a resolved data folder: kernels start in notebooks/, so a relative
    # $COLORIZE_DATA_DIR means the one relative to where the runner was started. Both are restored at the end.
    kernel_environment = split_threads(jobs)
    if os.environ.get("COLORIZE_DATA_DIR"):
        kernel_environment["COLORIZE_DATA_DIR"] = str(Path(os.environ["COLORIZE_DATA_DIR"]).expanduser().resolve())
    saved = {name: os.environ.get(name) for name in kernel_environment}
    thread_count = (int(kernel_environment["TF_NUM_INTRAOP_THREADS"]) if "TF_NUM_INTRAOP_THREADS" in kernel_environment
                    else None)
    try:
        os.environ.update(kernel_environment)
        print(f"Running {len(names)} notebook(s) with profile {profile!r} into "
              f"{config.results_dir(profile, root=root)}, {jobs} at a time ({thread_count or 'all'} TensorFlow "
              "thread(s) each)")
        return run_notebooks(names, profile, extra, jobs, progress_bar=not args.no_progress, root=root,
                             threads=thread_count)
    finally:  # a caller in this process (a test, a notebook) keeps its own environment and logging
        papermill_log.removeHandler(handler)
        papermill_log.removeHandler(log_file)
        log_file.close()
        papermill_log.setLevel(previous_log[0])
        papermill_log.propagate = previous_log[1]
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


if __name__ == "__main__":
    sys.exit(main())
