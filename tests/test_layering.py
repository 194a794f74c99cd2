"""The package's imports point one way: each module imports only from its own layer or below, with no cycle
(imports inside functions count too). A new module must be placed in a layer here."""

import ast
from pathlib import Path

import colorize_utils

# From the bottom. The shipped model (its trainer, colorizing photos and clips, scoring on photos) sits above
# training and evaluation; the notebooks' orchestration above that; the command line and the package's
# entry points at the top.
LAYERS = (
    ("core", {"config", "files", "color", "binning", "metrics"}),
    ("data", {"data", "pipeline"}),
    ("models", {"models", "losses", "distribute"}),
    ("training", {"training", "gan"}),
    ("evaluation and records", {"evaluation", "reporting", "plots"}),
    ("the shipped model", {"colorizer", "inference", "video", "photo_eval", "turing"}),
    ("orchestration", {"experiment", "runner"}),
    ("apps", {"cli", "__init__", "__main__"}),
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
