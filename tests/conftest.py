"""Fixtures shared by the test modules: the real Fashion-MNIST and small made-up data (figures: ../conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

# Tests draw figures but never show them; Agg needs no display (nox sets MPLBACKEND=Agg too).
matplotlib.use("Agg")


def _missing(what: str):
    # What CI provides (the data from the Debian package, the models the docs build trains
    # before the tests run) is a failure there when missing; on a developer's machine
    # without it the tests that need it are skipped.
    if os.environ.get("CI"):
        pytest.fail(f"{what}: required in CI")
    pytest.skip(what)


def _missing_data(error: Exception):
    _missing(f"Fashion-MNIST not available: {error}")


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
def trained_valid(fashion_mnist):
    """The cached trained LeNet-5 (valid) and its history, as ``trained_lenet5("valid")`` gives.

    Training it takes minutes, so tests never do: without a cached model they are skipped,
    but in CI, where the docs build trains it before the tests run (.ci/run), they fail.
    """
    import cnnviz

    if not cnnviz.cache_path("valid").exists():
        _missing("no cached trained LeNet-5 (valid); cnnviz.trained_lenet5('valid') makes one")
    return cnnviz.trained_lenet5("valid")


@pytest.fixture(scope="session")
def small():
    """320 made-up images with labels that depend on the image, so there is something to learn."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(320, 28, 28, 1), dtype=np.uint8)
    y = (x[:, :14].mean(axis=(1, 2, 3)) > x[:, 14:].mean(axis=(1, 2, 3))).astype(np.uint8) * 7
    return x, y
