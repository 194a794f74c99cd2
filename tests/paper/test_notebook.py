"""colorize_utils.paper.notebook: the notebook graph and a notebook's wait for the notebooks it reads."""

from colorize_utils.paper import notebook, runner


def test_the_notebook_graph_names_only_earlier_notebooks_that_exist():
    order = notebook.NOTEBOOKS
    assert all(runner.notebook_path(name).exists() for name in order)
    for name, deps in notebook.NOTEBOOK_GRAPH.items():
        # so running them one at a time, in order, satisfies every need, and no reader waits on a later one
        assert all(order.index(other) < order.index(name) for other in deps.needs + deps.reads)
        assert not set(deps.needs) & set(deps.reads)


def test_a_notebook_outside_the_runner_does_not_wait(tmp_path):
    assert notebook.NotebookRun("04_bin_sweep", "smoke", results_dir=tmp_path).wait_for_inputs() == 0.0
