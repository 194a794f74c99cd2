"""`python -m colorize_utils.runner`: the papermill runner of the paper's notebooks (paper/runner.py), kept at
this path because it is the project's documented main job."""

import sys

from colorize_utils.paper.runner import main

if __name__ == "__main__":
    sys.exit(main())
