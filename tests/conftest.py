"""Fixtures shared by the test modules: the real Fashion-MNIST and a clean matplotlib state."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest

# Tests draw figures but never show them; Agg needs no display (nox sets MPLBACKEND=Agg too).
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test made, so figures do not pile up across the suite."""
    yield
    plt.close("all")


def _missing_data(error: Exception):
    # In CI the Debian package provides the data, so its absence is a failure there;
    # on a developer's machine without it the integration tests are skipped.
    if os.environ.get("CI"):
        pytest.fail(f"Fashion-MNIST is required in CI: {error}")
    pytest.skip(f"Fashion-MNIST not available: {error}")


@pytest.fixture(scope="session")
def fashion_mnist():
    """The real data set, ``(x_train, y_train), (x_test, y_test)``, loaded once per session.

    Tests must not modify these arrays.
    """
    from cnnviz import load_fashion_mnist

    try:
        return load_fashion_mnist()
    except FileNotFoundError as error:
        _missing_data(error)


@pytest.fixture(scope="session")
def fashion_mnist_dir(fashion_mnist) -> Path:
    """The directory holding the four verified ``.gz`` files that `fashion_mnist` came from."""
    from cnnviz import find_fashion_mnist

    return find_fashion_mnist().resolve()
