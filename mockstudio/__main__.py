"""`python -m mockstudio` and the `mockstudio` command (pyproject's [project.scripts])."""

import gc
import sys


def run() -> int:
    # Loading the server (modules, routes, fixtures) makes nothing for the cyclic collector
    # to free, yet its passes over the new objects cost about a tenth of startup. It stays
    # off until cli.main turns it back on: cli.tune_gc() for the server, once loaded.
    gc.disable()
    from .cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
