"""Fixtures shared by the test modules: the real Fashion-MNIST and small made-up data (figures: ../conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

# Tests draw figures but never show them; Agg needs no display (nox sets MPLBACKEND=Agg too).
matplotlib.use("Agg")


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


@pytest.fixture(scope="session")
def small():
    """320 made-up images with labels that depend on the image, so there is something to learn."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(320, 28, 28, 1), dtype=np.uint8)
    y = (x[:, :14].mean(axis=(1, 2, 3)) > x[:, 14:].mean(axis=(1, 2, 3))).astype(np.uint8) * 7
    return x, y
