"""Set-up for every test and docstring example: figures are closed after each.

The docstring examples run from the installed package (``nox -s tests`` collects them
with ``--pyargs cnnviz`` from the session's site-packages, under this directory), which
tests/conftest.py does not reach; this file reaches both.
"""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _close_figures_of_examples():
    """Close the figures each example made, so they do not pile up past 20.

    Past 20 open figures matplotlib warns, and the suite turns warnings into errors.
    """
    yield
    if "matplotlib.pyplot" in sys.modules:  # never import matplotlib where nothing drew
        sys.modules["matplotlib.pyplot"].close("all")
