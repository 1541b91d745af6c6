"""Fixtures shared by the test modules: the real Fashion-MNIST and small made-up data (figures: ../conftest.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

# Helper modules of the tests (zoo.py, the hostile models) are imported by name: with
# --import-mode=importlib the test directory is not on sys.path by itself. Appended, not
# put first, so that tests/site and tests/explorer never shadow a module of that name.
sys.path.append(str(Path(__file__).parent))

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


@pytest.fixture(scope="session")
def streams():
    """The stream forms of arrays: ``streams(x, y=None, batch=8)`` -> {form: a new stream}.

    Each form yields the same batches in the same order: a ``tf.data.Dataset`` (of
    ``(x, y)`` pairs where `y` is given), a generator of NumPy batches or pairs, and a
    list of them. Every call makes new streams (a generator is read once).
    """
    import tensorflow as tf

    def make(x, y=None, batch=8):
        starts = range(0, len(x), batch)
        pairs = [
            x[s : s + batch] if y is None else (x[s : s + batch], y[s : s + batch]) for s in starts
        ]
        slices = x if y is None else (x, y)
        return {
            "tf.data": tf.data.Dataset.from_tensor_slices(slices).batch(batch),
            "generator": (pair for pair in pairs),
            "list": pairs,
        }

    return make


@pytest.fixture(scope="session")
def endless_stream():
    """``endless_stream(batch)`` -> (a dataset that says it never ends, the batches pulled so far).

    Its cardinality is INFINITE, as after ``dataset.repeat()``, but it holds three
    batches, and reading past them is an error: a function that read it instead of
    refusing it fails, never hangs. `pulled` counts the batches its generator gave.
    """
    import tensorflow as tf

    def make(batch):
        pulled = []

        def generate():
            for _ in range(3):
                pulled.append(1)
                yield batch

        signature = tf.nest.map_structure(
            lambda a: tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)), batch
        )
        dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
        claim = tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY)
        return dataset.apply(claim), pulled

    return make


@pytest.fixture(scope="session")
def lenet5_one_epoch(fashion_mnist, tmp_path_factory):
    """LeNet-5 (valid) after one epoch of the recipe on the real training images.

    Trained once per session into a cache of its own (about 10 s on two cores).
    """
    from cnnviz import trained_lenet5

    cache = tmp_path_factory.mktemp("cache")
    model, _ = trained_lenet5("valid", epochs=1, cache_dir=cache, verbose=0)
    return model


@pytest.fixture(scope="session")
def float16_copy():
    """A function: a copy of a Keras model with every weight rounded to float16 (and back),
    the model ``cnnviz.explorer.export(..., precision="float16")`` stores and its page runs."""

    def copy(model):
        import keras

        rounded = keras.models.clone_model(model)
        rounded.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])
        return rounded

    return copy
