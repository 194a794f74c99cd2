"""The package's imports point one way: each module imports only from its own layer or below, with no cycle
(imports inside functions count too). A new module must be placed in a layer here."""

import ast
from pathlib import Path

import colorize_utils

# From the bottom. The shipped model (its trainer, colorizing photos and clips, scoring on photos) sits above
# training and evaluation; the notebooks' orchestration above that; the command line and the package's
# entry points at the top.
LAYERS = (
    ("core", {"config", "files", "images", "color", "binning", "metrics", "tables"}),
    ("data", {"sources", "data", "pipeline"}),
    ("models", {"models", "losses", "distribute", "encoder", "encoder_colorizer"}),
    ("training", {"training", "gan"}),
    ("evaluation and records", {"evaluation", "reporting", "plots"}),
    ("the shipped model", {"shipped_model", "inference", "clips", "temporal", "video", "clip_eval", "photo_eval", "release",
                           "turing"}),
    ("orchestration", {"notebook", "experiment", "runner"}),
    ("apps", {"cli", "widgets", "__init__", "__main__"}),
)
LAYER_OF = {module: index for index, (_, modules) in enumerate(LAYERS) for module in modules}
PACKAGE = Path(colorize_utils.__file__).parent


def package_imports() -> dict[str, set[tuple[str, int]]]:
    """module -> {(imported package module, line)} for every relative import, at any depth of the file."""
    found = {}
    for path in sorted(PACKAGE.glob("*.py")):
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
                edges.update((name, node.lineno) for name in names if (PACKAGE / f"{name}.py").exists())
        found[path.stem] = edges
    return found


def test_every_module_has_a_layer():
    assert set(package_imports()) <= set(LAYER_OF), sorted(set(package_imports()) - set(LAYER_OF))


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [f"{module} ({LAYERS[LAYER_OF[module]][0]}) imports {target} ({LAYERS[LAYER_OF[target]][0]}), line {line}"
              for module, edges in package_imports().items() for target, line in sorted(edges)
              if LAYER_OF[target] > LAYER_OF[module]]
    assert not upward, "\n".join(upward)


def test_the_imports_have_no_cycle():
    graph = {module: {target for target, _ in edges} for module, edges in package_imports().items()}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return path + [target]
            if target not in state:
                cycle = visit(target, path + [target])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [module])
            assert cycle is None, " -> ".join(cycle)


# The environment variables the package may read: the user's own settings and the libraries' (never run state,
# which travels as papermill parameters and the run file, notebook.RunFile).
ALLOWED_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL",  # TensorFlow's log level, which the package's quiet start-up honours
    "COLORIZE_DATA_DIR",     # where the user keeps datasets
    "TFDS_DATA_DIR",         # tensorflow-datasets' folder (set beside COLORIZE_DATA_DIR when absent)
    "TF_CONFIG",             # TensorFlow's multi-worker cluster
    "DISPLAY", "WAYLAND_DISPLAY",  # whether a window can open (the Turing test's)
}


def environment_reads() -> set[tuple[str, str, int]]:
    """(module, variable, line) for each os.environ / os.getenv access in the package, any depth. A name
    given through a constant (a tuple of names, a variable) counts as '<computed>' unless listed."""
    found = set()
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            target = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                is_environ = isinstance(owner, ast.Attribute) and owner.attr == "environ"
                is_getenv = node.func.attr == "getenv"
                if (is_environ and node.func.attr in ("get", "setdefault", "pop")) or is_getenv:
                    target = node.args[0] if node.args else None
            elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "environ":
                target = node.slice
            if target is not None or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                                      and node.func.attr == "getenv"):
                name = target.value if isinstance(target, ast.Constant) else "<computed>"
                found.add((path.stem, name, node.lineno))
    return found


def test_no_environment_variable_carries_run_state():
    # The runner's thread split reads the libraries' thread variables by name (runner.THREAD_VARIABLES): a
    # value the user set is kept.
    from colorize_utils import runner

    computed_ok = {("runner", "<computed>")}
    unexpected = sorted(f"{module}:{line} reads ${name}" for module, name, line in environment_reads()
                        if name not in ALLOWED_ENVIRONMENT and (module, name) not in computed_ok)
    assert not unexpected, "\n".join(unexpected)
    assert set(runner.THREAD_VARIABLES) == {"TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                                            "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}
