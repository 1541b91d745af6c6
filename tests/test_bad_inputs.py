"""What cnnviz refuses, and why: one catalogue of bad inputs across the whole public API.

Each case calls one public function with one bad input and says which exception it
must raise and which words its message must hold (which argument, what was expected,
what was given). The same catalogue is rendered as the docs page "What cnnviz
refuses, and why" (docs/_ext/refusals.py runs every case and shows the real message).

The cases need no trained model and no data files: everything they use is made here.
"""

from __future__ import annotations

import functools
import gzip
import inspect
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


@dataclass(frozen=True)
class Case:
    """One bad input: the call, the exception it must raise, the words its message must hold."""

    function: str
    given: str
    call: Callable[[], object]
    error: type[BaseException]
    words: str  # a regular expression searched in the message

    @property
    def id(self) -> str:
        return f"{self.function}: {self.given}"


# --- what the cases use, made here ------------------------------------------------------------


@functools.cache
def model():
    import cnnviz

    return cnnviz.lenet5()


@functools.cache
def same_model():
    import cnnviz

    return cnnviz.lenet5("same")


@functools.cache
def small():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(64, 28, 28, 1), dtype=np.uint8)
    return x, rng.integers(0, 10, size=64)


def images_with(value: float) -> np.ndarray:
    x = small()[0].astype(np.float32) / 255
    x[3, 10, 11, 0] = value
    return x


def one_hot_with(value: float) -> np.ndarray:
    import cnnviz

    y = cnnviz.one_hot(small()[1])
    y[5, 0] = value
    return y


def logits_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))


def weightless_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.AveragePooling2D(14)(inputs))
    return keras.Model(inputs, keras.layers.Softmax()(pooled))


def two_output_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(10, activation="softmax")
    return keras.Model(inputs, [dense(flat), keras.layers.Dense(10, activation="softmax")(flat)])


def map_output_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Conv2D(10, 3, activation="softmax")(inputs))


def unbuilt_model():
    import keras

    return keras.Sequential([keras.layers.Dense(10, activation="softmax")])


def subclassed_model():
    import keras

    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.flatten = keras.layers.Flatten()
            self.dense = keras.layers.Dense(10, activation="softmax")

        def call(self, x):
            return self.dense(self.flatten(x))

    net = Net()
    net(np.zeros((1, 28, 28, 1), np.float32))  # built by a call on data
    return net


def scaled_model(*first: str):
    """A classifier whose first layers are `first`: "norm" (never adapted), "lambda", "rescale",
    "double" (Rescaling(2, offset=-1)), "branches" (Rescaling on one path, a convolution on the
    other): models whose input scale, [0, 1] or [0, 255], cannot be told."""
    import keras

    layers = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for kind in first:
        if kind == "branches":
            x = layers.Concatenate()([layers.Rescaling(1 / 255)(x), layers.Conv2D(1, 1)(x)])
            continue
        x = {
            "norm": lambda: layers.Normalization(name="norm"),
            "lambda": lambda: layers.Lambda(lambda t: t, name="mystery"),
            "rescale": lambda: layers.Rescaling(1 / 255, name="rescale"),
            "double": lambda: layers.Rescaling(2.0, offset=-1.0, name="double"),
        }[kind]()(x)
    x = layers.Flatten()(layers.Conv2D(2, 3, name="conv")(x))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="scaled")


def two_input_model():
    import keras

    a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    return keras.Model([a, b], keras.layers.Add()([a, b]))


def flat_input_model():
    import keras

    inputs = keras.Input((784,))
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(inputs))


def rgb_model():
    import keras

    inputs = keras.Input((8, 8, 3))
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs))


def any_size_model():
    import keras

    inputs = keras.Input((None, None, 1))
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs), name="any_size")


def two_channel_model():
    import keras

    inputs = keras.Input((8, 8, 2))
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs), name="two")


def shared_layer_model():
    import keras

    inputs = keras.Input((8, 8, 2))
    shared = keras.layers.Conv2D(2, 3, padding="same", name="shared")
    first = keras.layers.Activation("relu", name="after_first")(shared(inputs))
    return keras.Model(inputs, keras.layers.Activation("relu", name="after_second")(shared(first)))


def train(**changes):
    """cnnviz.train on the small made-up set, with one argument changed."""
    import cnnviz

    x, y = small()
    # A model of its own: a case that does train (and diverge) must not change model().
    arguments = {"model": cnnviz.lenet5(), "x": x, "y": y, "epochs": 1, "verbose": 0, **changes}
    return cnnviz.train(**arguments)


def seeded_lenet5():
    """LeNet-5 with the initial weights of seed 0, whatever ran before in this process.

    Where a case's outcome depends on the initial weights (which way training
    diverges), the global random state left by earlier tests must not decide it.
    """
    import keras

    import cnnviz

    keras.utils.set_random_seed(0)
    return cnnviz.lenet5()


def evaluate(**changes):
    import cnnviz

    x, y = small()
    return cnnviz.evaluate(**{"model": model(), "x": x, "y": y, **changes})


def trained_lenet5(**changes):
    # Each of these must fail on its arguments, before any data is read or model trained.
    import cnnviz

    with tempfile.TemporaryDirectory() as cache_dir:
        return cnnviz.trained_lenet5(**{"cache_dir": cache_dir, "verbose": 0, **changes})


def with_environment(name: str, value: str, call: Callable[[], object]) -> Callable[[], object]:
    def run():
        old = os.environ.get(name)
        os.environ[name] = value
        try:
            return call()
        finally:
            if old is None:
                del os.environ[name]
            else:
                os.environ[name] = old

    return run


def in_directory(make: Callable[[Path], Path], call: Callable[[Path], object]):
    def run():
        with tempfile.TemporaryDirectory() as tmp:
            return call(make(Path(tmp)))

    return run


def partial_data_dir(tmp: Path) -> Path:
    import cnnviz.data

    for name in list(cnnviz.data.FILES)[:3]:
        (tmp / f"{name}.gz").write_bytes(b"")
    return tmp


def a_file(tmp: Path) -> Path:
    path = tmp / "data.txt"
    path.write_text("not a directory")
    return path


def layer_outputs(*args, **kwargs):
    import cnnviz

    return cnnviz.layer_outputs(*args, **kwargs)


def image() -> np.ndarray:
    return small()[0][0]


def idx_header(*values: int) -> bytes:
    return bytes(values)


def outputs_of(padding: str = "valid") -> dict:
    import cnnviz

    return cnnviz.layer_outputs(cnnviz.lenet5(padding), image())


def layer_norm_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    normed = keras.layers.LayerNormalization(name="norm")(inputs)
    return keras.Model(inputs, normed, name="normed")


def exponential_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten(name="flat")(inputs)
    return keras.Model(
        inputs, keras.layers.Dense(10, activation="exponential", name="fc")(flat), name="exp"
    )


def export(
    make_model: Callable[[], object], make_dir: Callable[[Path], Path] | None = None, **kwargs
):
    """A deferred cnnviz.explorer.export of a made model into a temporary directory."""

    def run():
        import cnnviz

        with tempfile.TemporaryDirectory() as tmp:
            target = make_dir(Path(tmp)) if make_dir else Path(tmp) / "page"
            return cnnviz.explorer.export(make_model(), target, **kwargs)

    return run


def non_export_dir(tmp: Path) -> Path:
    (tmp / "notes.txt").write_text("mine")
    return tmp


def own_weights_dir(tmp: Path) -> Path:
    """A folder that merely holds a file named weights.bin, as an export would."""
    (tmp / "weights.bin").write_bytes(b"my own weights")
    return tmp


def listed_export_dir(
    files: list[str], marker: str | None = None, folder: str | None = None, stray: str | None = None
):
    """An earlier export's folder: its list (or `marker` as the list's text) and `files`; a
    `folder` of that name and a `stray` file that the list does not name."""

    def make(tmp: Path) -> Path:
        import json

        for name in files:
            (tmp / name).write_text("written by an export")
        text = {"format": "cnnviz-explorer-export", "version": 1, "files": files}
        (tmp / "cnnviz-export.json").write_text(marker or json.dumps(text))
        if folder:
            (tmp / folder).mkdir()
        if stray:
            (tmp / stray).write_text("mine")
        return tmp

    return make


def broken_link_dir(tmp: Path) -> Path:
    (tmp / "page").symlink_to(tmp / "gone")
    return tmp / "page"


def bare_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, inputs, name="bare")


def nan_weights_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    dense = keras.layers.Dense(10, name="fc")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name="diverged")
    kernel, bias = dense.get_weights()
    dense.set_weights([np.full_like(kernel, np.nan), bias])
    return model


def huge_weight_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    dense = keras.layers.Dense(10, name="fc")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name="huge")
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, np.full_like(bias, 1e6)])
    return model


def folded_model(variance: float, epsilon: float = 1e-3, scale: float = 1.0):
    """A conv, a batch norm of `variance` and `epsilon`, a Rescaling by `scale`, a Dense."""

    def make():
        import keras

        inputs = keras.Input((8, 8, 1))
        x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
        norm = keras.layers.BatchNormalization(epsilon=epsilon, name="bn")
        x = keras.layers.Rescaling(scale, name="r")(norm(x))
        model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)), name="m")
        ones = np.ones(2, np.float32)
        norm.set_weights([ones, 0 * ones, 0 * ones, np.array([variance, 1], np.float32)])
        return model

    return make


def wide_pool_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    pooled = keras.layers.MaxPooling2D(30, strides=1, padding="same", name="wide")(inputs)
    flat = keras.layers.Flatten()(pooled)
    return keras.Model(inputs, keras.layers.Dense(10)(flat), name="wide_pool")


def nan_relu_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.ReLU(threshold=float("nan"), name="r")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(x)), name="nan_relu")


def call(function_name: str, *args, **kwargs) -> Callable[[], object]:
    """A deferred call of cnnviz.<function_name>(*args, **kwargs)."""

    def run():
        import cnnviz

        return getattr(cnnviz, function_name)(*args, **kwargs)

    return run


def called(function_name: str, make_args: Callable[[], tuple], **kwargs):
    """A deferred call whose arguments are made only when it runs."""

    def run():
        import cnnviz

        return getattr(cnnviz, function_name)(*make_args(), **kwargs)

    return run


def upsampling_model():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.UpSampling2D(name="up")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(x))


def mixing_model():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.LayerNormalization(axis=[1, 2, 3], name="ln")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="after")(x))


def bilinear_model():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.UpSampling2D(interpolation="bilinear", name="up")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(x))


def rows_joined_model():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Concatenate(axis=1, name="join")([inputs, inputs])
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="after")(x))


def open_size_model():
    import keras

    inputs = keras.Input((None, None, 1))
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs), name="any_size")


def skip_model():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Concatenate(name="join")([x, inputs])
    x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3, name="after")(x))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


def channels_call(function_name: str, *args, **kwargs) -> Callable[[], object]:
    """A deferred call of cnnviz.<function_name>(model(), *args, **kwargs), LeNet-5 made when run."""

    def run():
        import cnnviz

        return getattr(cnnviz, function_name)(model(), *args, **kwargs)

    return run


def stream(*batches) -> Callable[[], list]:
    return lambda: list(batches)


def endless(labelled: bool = False):
    """A tf.data.Dataset that says it never ends (cardinality INFINITE, as after .repeat()).

    It holds three batches in fact, and reading past them is an error: a function that
    read it instead of refusing it would fail here, never hang.
    """
    import tensorflow as tf

    x, y = small()
    batch = (x[:8], y[:8]) if labelled else x[:8]
    claim = tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY)
    return tf.data.Dataset.from_tensors(batch).repeat(3).apply(claim)


def cnnviz_call(function_name: str, make_args: Callable[[], tuple], **kwargs):
    """A deferred cnnviz.<function_name>(model(), *make_args(), **kwargs)."""

    def run():
        import cnnviz

        return getattr(cnnviz, function_name)(model(), *make_args(), **kwargs)

    return run


def gz_of(data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / "file.idx.gz"
        path.write_bytes(gzip.compress(data))
        return path

    return make


def not_gzip(tmp: Path) -> Path:
    path = tmp / "file.idx.gz"
    path.write_bytes(b"plain bytes, not gzip")
    return path


def top_result(**change) -> dict:
    """A top_patches result for channels 0 and 3 of 'conv1', k=2, over 4 images of 8x8."""
    box = np.array([[[0, 0, 5, 5], [1, 1, 6, 6]], [[2, 2, 7, 7], [3, 3, 8, 8]]])
    result = {
        "layer": "conv1",
        "channels": np.array([0, 3]),
        "index": np.array([[0, 1], [2, 3]]),
        "row": box[..., 0],
        "col": box[..., 1],
        "value": np.ones((2, 2), np.float32),
        "box": box,
    }
    return {**result, **change}


def ablation_result(**change) -> dict:
    result = {
        "layer": "conv1",
        "channels": np.arange(3),
        "accuracy": np.array([0.8, 0.9, 0.7]),
        "intact_accuracy": 0.9,
    }
    return {**result, **change}


def shift_result(**change) -> dict:
    """A shift_accuracy result for shifts of up to 1 pixel (issue 23's format)."""
    accuracy = np.array([[0.5, 0.6, 0.5], [0.7, 0.9, 0.6], [0.4, 0.6, 0.5]])
    result = {"shifts": np.arange(-1, 2), "accuracy": accuracy, "probability": accuracy / 2}
    return {**result, **change}


def equivariance_result(**change) -> dict:
    """An equivariance result of two layers and two images (issue 23's format)."""
    per_image = np.array([[1.0, 0.8], [1.0, 0.6]])
    result = {
        "layers": ["conv1", "pool1"],
        "jump": np.array([[1, 1], [2, 2]]),
        "similarity": per_image.mean(axis=0),
        "per_image": per_image,
    }
    return {**result, **change}


# Attribution methods of a user's own that return what no map should be (issue 20).
def nan_maps(model, x, target):
    return np.full(x.shape[:3], np.nan)


def maps_with_channels(model, x, target):
    return np.zeros(x.shape, np.float32)


def flat_maps(model, x, target):
    return np.zeros(x.shape[:3])


def huge_maps(model, x, target):
    """Maps beyond float32's range, in which randomization_check returns them."""
    return np.full(x.shape[:3], 1e300) * np.arange(x.shape[2])


def list_linked_to_folder_dir(tmp: Path) -> Path:
    """An earlier export whose cnnviz-export.json is a symbolic link to a folder."""
    (tmp / "page").mkdir()
    (tmp / "page" / "weights.bin").write_text("written by an export")
    (tmp / "page" / "cnnviz-export.json").symlink_to(tmp)
    return tmp / "page"


def open_size_classifier():
    """A model of any input size: a convolution, global pooling and a softmax."""
    import keras

    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3, name="c")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


def two_sizes() -> list:
    """A stream of two batches, of 8x8 and 10x9 images."""
    return [np.zeros((2, 8, 8, 1), np.float32), np.zeros((2, 10, 9, 1), np.float32)]


def too_small_for_model():
    """A model of any size whose 3x3 then 5x5 convolutions need images of 7x7 at least."""
    import keras

    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3, name="a")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(2, 5, name="b")(x), name="net")


# --- the catalogue ---------------------------------------------------------------------------

V, T = ValueError, TypeError
POSITIVE = "must be a positive integer"
FINITE_POSITIVE = "must be a finite number above 0"
# Every function that explains a layer refuses LeNet-5's input layer in these words.
INPUT_LAYER = (
    r"the input layer of model 'lenet5_valid' \('input'\): its output is the images themselves, "
    r"so it has nothing to explain .*give a layer after it, such as 'conv1' \(index 1\)"
)

CATALOGUE: list[Case] = [
    # Data: finding and reading the files.
    Case("load_fashion_mnist", "data_dir that does not exist", call("load_fashion_mnist", "/nonexistent/fashion"), FileNotFoundError, r"data_dir names '/nonexistent/fashion', which does not exist"),
    Case("load_fashion_mnist", "data_dir that is a file", in_directory(a_file, lambda p: __import__("cnnviz").load_fashion_mnist(p)), FileNotFoundError, r"data_dir names .*data\.txt', which is not a directory"),
    Case("load_fashion_mnist", "data_dir with 3 of the 4 files", in_directory(partial_data_dir, lambda p: __import__("cnnviz").load_fashion_mnist(p)), FileNotFoundError, r"t10k-labels-idx1-ubyte\.gz \(missing\)"),
    Case("find_fashion_mnist", "CNNVIZ_DATA_DIR naming a missing directory", with_environment("CNNVIZ_DATA_DIR", "/nonexistent/fashion", call("find_fashion_mnist")), FileNotFoundError, r"\$CNNVIZ_DATA_DIR names '/nonexistent/fashion', which does not exist"),
    Case("find_fashion_mnist", "CNNVIZ_DATA_DIR with 3 of the 4 files", with_environment("CNNVIZ_DATA_DIR", "", lambda: in_directory(partial_data_dir, lambda p: with_environment("CNNVIZ_DATA_DIR", str(p), call("find_fashion_mnist"))())()), FileNotFoundError, r"\$CNNVIZ_DATA_DIR .*\(missing\)"),
    Case("find_fashion_mnist", "CNNVIZ_DATA_DIR of three spaces", with_environment("CNNVIZ_DATA_DIR", "   ", call("find_fashion_mnist")), V, r"CNNVIZ_DATA_DIR='   ' is blank"),
    Case("find_fashion_mnist", "CNNVIZ_DATA_DIR with a trailing space", with_environment("CNNVIZ_DATA_DIR", "/usr/share/datasets/fashion-mnist ", call("find_fashion_mnist")), V, r"white space"),
    Case("parse_idx", "a str instead of bytes", call("parse_idx", "\x00\x00\x08\x01"), T, r"raw must be the bytes of an IDX file; got str.*read_idx"),
    Case("parse_idx", "a list of ints", call("parse_idx", [0, 0, 8, 1]), T, r"raw must be the bytes of an IDX file; got list"),
    Case("parse_idx", "3 bytes", call("parse_idx", b"\x00\x00\x08"), V, r"3 bytes is too short for an IDX header"),
    Case("parse_idx", "a magic number not starting with 0000", call("parse_idx", idx_header(1, 0, 8, 1, 0, 0, 0, 0)), V, r"bad IDX magic number 01000801"),
    Case("parse_idx", "an unknown type code", call("parse_idx", idx_header(0, 0, 7, 1, 0, 0, 0, 0)), V, r"bad IDX magic number 00000701"),
    Case("parse_idx", "zero dimensions", call("parse_idx", idx_header(0, 0, 8, 0)), V, r"bad IDX magic number 00000800"),
    Case("parse_idx", "a header cut short", call("parse_idx", idx_header(0, 0, 8, 2, 0, 0, 0, 2)), V, r"header declares 2 dimensions but the file ends early"),
    Case("parse_idx", "fewer data bytes than the shape", call("parse_idx", idx_header(0, 0, 8, 1, 0, 0, 0, 5) + b"abc"), V, r"declares shape \(5,\) \(5 bytes of data\) but the file holds 3 bytes"),
    Case("parse_idx", "more data bytes than the shape", call("parse_idx", idx_header(0, 0, 8, 1, 0, 0, 0, 1) + b"ab"), V, r"declares shape \(1,\) .* holds 2 bytes"),
    Case("read_idx", "a .gz file that is not gzip", in_directory(not_gzip, lambda p: __import__("cnnviz").read_idx(p)), V, r"file\.idx\.gz: not a readable gzip file"),
    Case("read_idx", "gzip of a bad IDX header", in_directory(gz_of(b"\x01\x02\x03\x04"), lambda p: __import__("cnnviz").read_idx(p)), V, r"bad IDX magic number 01020304"),
    Case("scale_images", "float images", call("scale_images", np.zeros(3)), T, r"expects x of dtype uint8 .*got float64"),
    Case("scale_images", "int64 images", call("scale_images", np.zeros(3, np.int64)), T, r"got int64"),
    Case("scale_images", "bool images", call("scale_images", np.zeros(3, bool)), T, r"got bool"),
    Case("one_hot", "num_classes=0", call("one_hot", [0], num_classes=0), V, rf"num_classes {POSITIVE}; got 0"),
    Case("one_hot", "num_classes=-3", call("one_hot", [0], num_classes=-3), V, rf"num_classes {POSITIVE}; got -3"),
    Case("one_hot", "num_classes=True", call("one_hot", [0], num_classes=True), V, rf"num_classes {POSITIVE}; got True"),
    Case("one_hot", "num_classes=2.5", call("one_hot", [0], num_classes=2.5), V, rf"num_classes {POSITIVE}; got 2.5"),
    Case("one_hot", "num_classes='10'", call("one_hot", [0], num_classes="10"), V, rf"num_classes {POSITIVE}; got '10'"),
    Case("one_hot", "2-D labels", call("one_hot", [[0, 1]]), V, r"y must be 1-D integer labels of shape \(N,\); got shape \(1, 2\)"),
    Case("one_hot", "float labels", call("one_hot", [0.0, 1.0]), T, r"y must hold integer labels; got dtype float64"),
    Case("one_hot", "a label of 10 with 10 classes", call("one_hot", [3, 10]), V, r"y must hold labels in range\(0, 10\); got 1 outside it, the first 10 at index 1"),
    Case("one_hot", "a negative label", call("one_hot", [-1, 2]), V, r"got 1 outside it, the first -1 at index 0"),
    # Models and shape arithmetic.
    Case("lenet5", "padding='full'", call("lenet5", "full"), V, r"padding must be one of \('valid', 'same', 'reflect', 'circular'\); got 'full'"),
    Case("lenet5", "padding=None", call("lenet5", None), V, r"padding must be one of .*got None"),
    Case("lenet5", "padding=True", call("lenet5", True), V, r"padding must be one of .*got True"),
    Case("lenet5", "input_shape=(28, 28)", call("lenet5", input_shape=(28, 28)), V, r"input_shape must be \(height, width, channels\) with three positive integers; got \(28, 28\)"),
    Case("lenet5", "input_shape=(28, 28, 0)", call("lenet5", input_shape=(28, 28, 0)), V, r"three positive integers; got \(28, 28, 0\)"),
    Case("lenet5", "input_shape='28'", call("lenet5", input_shape="28"), V, r"three positive integers; got '28'"),
    Case("lenet5", "input_shape too small for valid padding", call("lenet5", input_shape=(12, 12, 1)), V, r"too small for LeNet-5 with padding='valid': the height \(12\) shrinks to nothing"),
    Case("lenet5", "num_classes=0", call("lenet5", num_classes=0), V, rf"num_classes {POSITIVE}; got 0"),
    Case("lenet5", "num_classes=2.5", call("lenet5", num_classes=2.5), V, rf"num_classes {POSITIVE}; got 2\.5"),
    Case("lenet5", "num_classes=True", call("lenet5", num_classes=True), V, rf"num_classes {POSITIVE}; got True"),
    Case("output_size", "stride=-2", call("output_size", 28, 5, stride=-2), V, rf"stride {POSITIVE}; got -2"),
    Case("output_size", "stride=0", call("output_size", 28, 5, stride=0), V, rf"stride {POSITIVE}; got 0"),
    Case("output_size", "kernel_size=0", call("output_size", 28, 0), V, rf"kernel_size {POSITIVE}; got 0"),
    Case("output_size", "size=28.5", call("output_size", 28.5, 5), V, rf"size {POSITIVE}; got 28\.5"),
    Case("output_size", "size=0", call("output_size", 0, 5), V, rf"size {POSITIVE}; got 0"),
    Case("output_size", "padding='full'", call("output_size", 28, 5, padding="full"), V, r"padding must be one of"),
    Case("same_padding", "size=0", call("same_padding", 0, 5), V, rf"size {POSITIVE}; got 0"),
    Case("same_padding", "kernel=2.0", call("same_padding", 28, 2.0), V, rf"kernel {POSITIVE}; got 2\.0"),
    Case("same_padding", "stride=True", call("same_padding", 28, 5, True), V, rf"stride {POSITIVE}; got True"),
    # Training: the model.
    Case("train", "model=None", lambda: train(model=None), T, r"model must be a keras\.Model; got NoneType"),
    Case("train", "a model that ends in logits", lambda: train(model=logits_model()), V, r"does not end in a softmax.*categorical cross-entropy.*activation='softmax'"),
    Case("train", "a model with two outputs", lambda: train(model=two_output_model()), V, r"must have one output of shape \(batch, classes\); .* has \[\(None, 10\), \(None, 10\)\]"),
    Case("train", "a model whose output is a map", lambda: train(model=map_output_model()), V, r"one output of shape \(batch, classes\); .* has \[\(None, 26, 26, 10\)\]"),
    Case("train", "an unbuilt Sequential model", lambda: train(model=unbuilt_model()), V, r"is not built: give it an Input or call it on data first"),
    Case("train", "a subclassed model called on data", lambda: train(model=subclassed_model()), V, r"model 'net' is a subclassed model, whose layers cnnviz cannot reach; wrap it"),
    Case("train", "a model with two inputs", lambda: train(model=two_input_model()), V, r"must have exactly one image input; .* has 2"),
    Case("train", "a model that takes flat vectors", lambda: train(model=flat_input_model()), V, r"must take images of shape \(batch, height, width, channels\); .* takes \(None, 784\)"),
    # Training: the images and targets.
    Case("train", "one NaN pixel", lambda: train(x=images_with(np.nan)), V, r"x must hold finite values; got 1 NaN or infinite value\(s\), the first at index \(3, 10, 11, 0\) \(nan\)"),
    Case("train", "one infinite pixel", lambda: train(x=images_with(np.inf)), V, r"x must hold finite values; .*\(inf\)"),
    Case("train", "int64 images", lambda: train(x=small()[0].astype(np.int64)), T, r"x must be uint8 images \(0 to 255\) or float images; got dtype int64"),
    Case("train", "images of 3 channels", lambda: train(x=np.repeat(small()[0], 3, axis=-1)), V, r"x must be a batch of images \(N, H, W, C\) = \(N, 28, 28, 1\); got shape \(64, 28, 28, 3\)"),
    Case("train", "32x32 images", lambda: train(x=np.zeros((64, 32, 32, 1), np.uint8)), V, r"x must be a batch of images .*got shape \(64, 32, 32, 1\)"),
    Case("train", "flat 784-pixel rows", lambda: train(x=small()[0].reshape(64, 784)), V, r"x must be a batch of images \(N, H, W, C\).*got shape \(64, 784\)"),
    Case("train", "one image, not a batch", lambda: train(x=small()[0][0], y=small()[1][:1]), V, r"x must be a batch of images \(N, H, W, C\) = \(N, 28, 28, 1\); got shape \(28, 28, 1\)"),
    Case("train", "an empty batch", lambda: train(x=small()[0][:0], y=small()[1][:0]), V, r"x is an empty batch"),
    Case("train", "a tiled label matrix", lambda: train(y=np.tile(small()[1][:, None], (1, 10)).astype(np.float32)), V, r"y of shape \(64, 10\) must hold one-hot rows \(or class probabilities: non-negative, summing to 1\)"),
    Case("train", "one-hot rows with a NaN", lambda: train(y=one_hot_with(np.nan)), V, r"y must hold finite values; .* index \(5, 0\)"),
    Case("train", "one-hot rows with a negative entry", lambda: train(y=one_hot_with(-1.0)), V, r"must hold one-hot rows .* row 5"),
    Case("train", "labels of another number of classes", lambda: train(y=np.zeros((64, 3), np.float32)), V, r"y must be integer labels of shape \(N,\) or one-hot of shape \(N, 10\); got shape \(64, 3\)"),
    Case("train", "a label of 10", lambda: train(y=np.full(64, 10)), V, r"y must hold labels in range\(0, 10\); got 64 outside it, the first 10 at index 0"),
    Case("train", "string one-hot rows", lambda: train(y=np.full((64, 10), "0")), T, r"y must hold numbers; got dtype <U1"),
    Case("train", "more images than labels", lambda: train(y=small()[1][:10]), V, r"x and y must have the same length; got 64 images and 10 labels"),
    # Training: the settings.
    Case("train", "epochs=0", lambda: train(epochs=0), V, rf"epochs {POSITIVE}; got 0"),
    Case("train", "epochs=1.5", lambda: train(epochs=1.5), V, rf"epochs {POSITIVE}; got 1\.5"),
    Case("train", "epochs=True", lambda: train(epochs=True), V, rf"epochs {POSITIVE}; got True"),
    Case("train", "epochs='3'", lambda: train(epochs="3"), V, rf"epochs {POSITIVE}; got '3'"),
    Case("train", "batch_size=0", lambda: train(batch_size=0), V, rf"batch_size {POSITIVE}; got 0"),
    Case("train", "batch_size=64.0", lambda: train(batch_size=64.0), V, rf"batch_size {POSITIVE}; got 64\.0"),
    Case("train", "learning_rate=0", lambda: train(learning_rate=0), V, rf"learning_rate {FINITE_POSITIVE}; got 0"),
    Case("train", "learning_rate=-0.001", lambda: train(learning_rate=-0.001), V, rf"learning_rate {FINITE_POSITIVE}; got -0\.001"),
    Case("train", "learning_rate=inf", lambda: train(learning_rate=float("inf")), V, rf"learning_rate {FINITE_POSITIVE}; got inf"),
    Case("train", "learning_rate=nan", lambda: train(learning_rate=float("nan")), V, rf"learning_rate {FINITE_POSITIVE}; got nan"),
    Case("train", "learning_rate=True", lambda: train(learning_rate=True), V, rf"learning_rate {FINITE_POSITIVE}; got True"),
    Case("train", "learning_rate='0.001'", lambda: train(learning_rate="0.001"), V, rf"learning_rate {FINITE_POSITIVE}; got '0\.001'"),
    Case("train", "seed=-1", lambda: train(seed=-1), V, r"seed must be a non-negative integer; got -1"),
    Case("train", "seed=1.7", lambda: train(seed=1.7), V, r"seed must be a non-negative integer; got 1\.7"),
    Case("train", "verbose=3", lambda: train(verbose=3), V, r"verbose must be 'auto', 0, 1 or 2; got 3"),
    Case("train", "verbose=True", lambda: train(verbose=True), V, r"verbose must be 'auto', 0, 1 or 2; got True"),
    Case("train", "callbacks='abc'", lambda: train(callbacks="abc"), T, r"callbacks must be a list of keras\.callbacks\.Callback; got 'abc'"),
    Case("train", "callbacks=[print]", lambda: train(callbacks=[print]), T, r"callbacks must be a list of keras\.callbacks\.Callback"),
    Case("train", "validation_data of three arrays", lambda: train(validation_data=[1, 2, 3]), V, r"validation_data must be a pair \(x_val, y_val\)"),
    Case("train", "validation images with a NaN", lambda: train(validation_data=(images_with(np.nan), small()[1])), V, r"validation_data\[0\] must hold finite values"),
    Case("train", "scale='yes'", lambda: train(scale="yes"), V, r"scale must be None, True or False; got 'yes'"),
    Case("train", "a learning rate that diverges (1e30)", lambda: train(learning_rate=1e30, epochs=2, model=seeded_lenet5()), FloatingPointError, r"training diverged: (the loss became nan|the weights of \S+ became NaN or infinite) .*Lower learning_rate \(it is 1e\+30\)"),
    Case("evaluate", "model=None", lambda: evaluate(model=None), T, r"model must be a keras\.Model; got NoneType"),
    Case("evaluate", "a model that ends in logits", lambda: evaluate(model=logits_model()), V, r"does not end in a softmax"),
    Case("evaluate", "one NaN pixel", lambda: evaluate(x=images_with(np.nan)), V, r"x must hold finite values"),
    Case("evaluate", "a tiled label matrix", lambda: evaluate(y=np.tile(small()[1][:, None], (1, 10)).astype(np.float32)), V, r"must hold one-hot rows"),
    Case("evaluate", "more images than labels", lambda: evaluate(y=small()[1][:10]), V, r"x and y must have the same length; got 64 images and 10 labels"),
    Case("evaluate", "a dataset that never ends, without steps", lambda: evaluate(x=endless(labelled=True), y=None), V, r"x is a tf\.data\.Dataset that never ends .*: give steps=, the number of batches to read"),
    Case("evaluate", "steps=0", lambda: evaluate(x=[small()], y=None, steps=0), V, rf"steps {POSITIVE}; got 0"),
    Case("evaluate", "steps with arrays", lambda: evaluate(steps=2), V, r"steps bounds the batches read from a stream, but x is an array \(shape \(64, 28, 28, 1\)\)"),
    Case("evaluate", "y beside a stream", lambda: evaluate(x=[small()]), V, r"y must be None when x is a stream of batches: put the labels in the stream, as \(x, y\) pairs; got y of type ndarray"),
    Case("evaluate", "no y beside arrays", lambda: evaluate(y=None), V, r"y must be given with x as an array \(integer labels \(N,\) or one-hot rows \(N, classes\)\); only a stream of \(x, y\) batches brings its own"),
    Case("evaluate", "a stream of images without labels", lambda: evaluate(x=[small()[0]], y=None), V, r"batch 0 of x has no labels: this function needs a stream of \(x, y\) pairs"),
    Case("evaluate", "an empty stream", lambda: evaluate(x=iter([]), y=None), V, r"x gave no batches: the stream is empty"),
    Case("evaluate", "a NaN pixel in batch 1 of a stream", lambda: evaluate(x=[small(), (images_with(np.nan), small()[1])], y=None), V, r"batch 1 of x must hold finite values; got 1 NaN or infinite value\(s\), the first at index \(3, 10, 11, 0\)"),
    Case("evaluate", "a batch with fewer labels than images", lambda: evaluate(x=[(small()[0], small()[1][:3])], y=None), V, r"batch 0 of x must hold as many labels as images; got 64 images and 3 labels"),
    Case("predict", "model=None", call("predict", None, np.zeros((28, 28), np.uint8)), T, r"model must be a keras\.Model; got NoneType"),
    Case("predict", "a model that ends in logits", lambda: __import__("cnnviz").predict(logits_model(), image()), V, r"does not end in a softmax, but predict returns class probabilities"),
    Case("predict", "an image of the wrong size", lambda: __import__("cnnviz").predict(model(), np.zeros((32, 32, 1), np.uint8)), V, r"the model takes images of shape \(28, 28, 1\)"),
    Case("predict", "batch_size=0", lambda: __import__("cnnviz").predict(model(), image(), batch_size=0), V, rf"batch_size {POSITIVE}; got 0"),
    Case("predict", "a dataset that never ends, without steps", cnnviz_call("predict", lambda: (endless(),)), V, r"images is a tf\.data\.Dataset that never ends \(its cardinality is tf\.data\.INFINITE_CARDINALITY, as after dataset\.repeat\(\)\): give steps=, the number of batches to read"),
    Case("predict", "steps=0", cnnviz_call("predict", lambda: ([small()[0]],), steps=0), V, rf"steps {POSITIVE}; got 0"),
    Case("predict", "steps with an array", cnnviz_call("predict", lambda: (small()[0],), steps=2), V, r"steps bounds the batches read from a stream, but images is an array \(shape \(64, 28, 28, 1\)\), which has no batches to count: give images\[:n\] for fewer images; got steps=2"),
    Case("predict", "an empty stream", cnnviz_call("predict", lambda: (iter([]),)), V, r"images gave no batches: the stream is empty"),
    Case("predict", "a stream whose batch 1 is 32x32", cnnviz_call("predict", lambda: ([small()[0][:2], np.zeros((2, 32, 32, 1), np.uint8)],)), V, r"batch 1 of images must be a batch of images \(N, H, W, C\) = \(N, 28, 28, 1\); got shape \(2, 32, 32, 1\)"),
    Case("predict", "a generator of single images", cnnviz_call("predict", lambda: (iter(small()[0]),)), V, r"batch 0 of images must be a batch of images \(N, H, W, C\) = \(N, 28, 28, 1\); got shape \(28, 28, 1\), one image, not a batch: batch the stream \(dataset\.batch\(n\)\)"),
    Case("confusion_matrix", "labels of different lengths", call("confusion_matrix", [0, 1, 2], [0, 1]), V, r"y_true and y_pred must have the same length; got 3 and 2"),
    Case("confusion_matrix", "float predictions", call("confusion_matrix", [0, 1], [0.0, 1.0]), T, r"y_pred must hold integer labels; got dtype float64"),
    Case("confusion_matrix", "probabilities instead of labels", call("confusion_matrix", [0, 1], np.full((2, 10), 0.1)), V, r"y_pred must be 1-D integer labels of shape \(N,\); got shape \(2, 10\)"),
    Case("confusion_matrix", "a label of 10 with num_classes=10", call("confusion_matrix", [0, 10], [0, 1], 10), V, r"y_true must hold labels in range\(0, 10\); got 1 outside it, the first 10 at index 1"),
    Case("confusion_matrix", "a negative label", call("confusion_matrix", [0, 1], [-1, 1]), V, r"y_pred must hold labels in range\(0, 10000\) \(without a number of classes, at most 10,000\); got 1 outside it, the first -1 at index 0"),
    Case("confusion_matrix", "num_classes=0", call("confusion_matrix", [0], [0], 0), V, rf"num_classes {POSITIVE}; got 0"),
    Case("confusion_matrix", "no labels and no num_classes", call("confusion_matrix", [], []), V, r"y_true and y_pred are empty: give num_classes"),
    Case("misclassified", "more labels than rows", call("misclassified", [0, 1, 2], np.full((2, 3), 1 / 3)), V, r"y_true and probabilities must have the same length; got 3 labels and 2 rows"),
    Case("misclassified", "1-D probabilities", call("misclassified", [0], np.full(3, 1 / 3)), V, r"probabilities must be one row of class scores per image, \(N, C\); got shape \(3,\)"),
    Case("misclassified", "a NaN probability", call("misclassified", [0], [[np.nan, 1.0]]), V, r"probabilities must hold finite values"),
    Case("misclassified", "a label beyond the classes", call("misclassified", [3], [[0.5, 0.5]]), V, r"y_true must hold labels in range\(0, 2\)"),
    Case("misclassified", "k=0", call("misclassified", [0], [[0.5, 0.5]], k=0), V, rf"k {POSITIVE}; got 0"),
    Case("misclassified", "no y_true", call("misclassified", None, [[0.5, 0.5]]), V, r"y_true is missing: give the true labels \(N,\) beside probabilities"),
    Case("misclassified", "neither probabilities nor a model", call("misclassified", [0]), V, r"probabilities is missing: give class probabilities \(N, C\), or model= and images= to have them computed"),
    Case("misclassified", "probabilities and a model", lambda: __import__("cnnviz").misclassified(small()[1], np.full((64, 10), 0.1), model=model(), images=small()[0]), V, r"give probabilities, or model= and images= to compute them, not both"),
    Case("misclassified", "a model without images", lambda: __import__("cnnviz").misclassified(small()[1], model=model()), V, r"model= and images= go together .*; got model without images"),
    Case("misclassified", "steps with probabilities", call("misclassified", [0], [[0.5, 0.5]], steps=2), V, r"steps bounds the batches of a stream of images, read with model= and images=; given probabilities, there is nothing to read; got steps=2"),
    Case("misclassified", "a dataset that never ends, without steps", lambda: __import__("cnnviz").misclassified(model=model(), images=endless(labelled=True)), V, r"images is a tf\.data\.Dataset that never ends .*: give steps="),
    Case("misclassified", "steps=0", lambda: __import__("cnnviz").misclassified(model=model(), images=[small()], steps=0), V, rf"steps {POSITIVE}; got 0"),
    Case("misclassified", "y_true beside a stream", lambda: __import__("cnnviz").misclassified(small()[1], model=model(), images=[small()]), V, r"y_true must be None when images is a stream of batches: put the labels in the stream, as \(images, y_true\) pairs"),
    Case("misclassified", "a stream of images without labels", lambda: __import__("cnnviz").misclassified(model=model(), images=[small()[0]]), V, r"batch 0 of images has no labels: this function needs a stream of \(images, y_true\) pairs"),
    # Attribution.
    Case("gradients", "model=None", call("gradients", None, np.zeros((28, 28), np.uint8)), T, r"model must be a keras\.Model; got NoneType"),
    Case("gradients", "a model whose output is a map", lambda: __import__("cnnviz").gradients(map_output_model(), image()), V, r"must have one output of shape \(batch, classes\)"),
    Case("gradients", "target=10 for 10 classes", lambda: __import__("cnnviz").gradients(model(), image(), 10), V, r"target 10 is out of range: the model has 10 classes \(0 to 9\)"),
    Case("gradients", "two targets for one image", lambda: __import__("cnnviz").gradients(model(), image(), [1, 2]), V, r"target must give one class index per image: 1 for 1 images; got 2"),
    Case("gradients", "target=2.0", lambda: __import__("cnnviz").gradients(model(), image(), 2.0), T, r"target must be None, a class index \(int\) or one index per image; got 2\.0"),
    Case("gradients", "an image of the wrong size", lambda: __import__("cnnviz").gradients(model(), np.zeros((32, 32, 1), np.uint8)), V, r"the model takes images of shape \(28, 28, 1\)"),
    Case("gradients", "a dataset that never ends", cnnviz_call("gradients", lambda: (endless(),)), V, r"images is a tf\.data\.Dataset that never ends .*: this function reads a stream to its end \(its results are per image\), so give a finite one, e\.g\. dataset\.take\(n\)"),
    Case("gradients", "an empty stream", cnnviz_call("gradients", lambda: (iter([]),)), V, r"images gave no batches: the stream is empty"),
    Case("gradients", "a stream whose batch 1 is 32x32", cnnviz_call("gradients", lambda: ([small()[0][:2], np.zeros((2, 32, 32, 1), np.uint8)],)), V, r"batch 1 of images must be a batch of images \(N, H, W, C\) = \(N, 28, 28, 1\); got shape \(2, 32, 32, 1\)"),
    Case("gradients", "a tuple (images, labels) for images", cnnviz_call("gradients", lambda: (small(),)), T, r"images must be an array of images \(N, H, W, C\), a tf\.data\.Dataset or an iterable of batches \(a list, a generator\); got a tuple of 2 items: images with their labels are a stream of pairs, e\.g\. \[\(images, labels\)\]"),
    Case("smoothgrad", "samples=0", lambda: __import__("cnnviz").smoothgrad(model(), image(), samples=0), V, rf"samples {POSITIVE}; got 0"),
    Case("smoothgrad", "noise=-0.1", lambda: __import__("cnnviz").smoothgrad(model(), image(), noise=-0.1), V, r"noise must be a finite number of at least 0; got -0\.1"),
    Case("smoothgrad", "noise=nan", lambda: __import__("cnnviz").smoothgrad(model(), image(), noise=float("nan")), V, r"noise must be a finite number of at least 0; got nan"),
    Case("smoothgrad", "seed=-1", lambda: __import__("cnnviz").smoothgrad(model(), image(), seed=-1), V, r"seed must be a non-negative integer; got -1"),
    Case("smoothgrad", "a dataset that never ends", cnnviz_call("smoothgrad", lambda: (endless(),)), V, r"images is a tf\.data\.Dataset that never ends .*: this function reads a stream to its end \(its results are per image\), so give a finite one, e\.g\. dataset\.take\(n\)"),
    Case("integrated_gradients", "steps=0", lambda: __import__("cnnviz").integrated_gradients(model(), image(), steps=0), V, rf"steps {POSITIVE}; got 0"),
    Case("integrated_gradients", "a baseline of the wrong size", lambda: __import__("cnnviz").integrated_gradients(model(), image(), baseline=np.zeros((8, 8, 1), np.float32)), V, r"the model takes images of shape \(28, 28, 1\) \(H, W, C\); got baseline of shape \(8, 8, 1\)"),
    Case("integrated_gradients", "baseline=nan", lambda: __import__("cnnviz").integrated_gradients(model(), image(), baseline=float("nan")), V, r"baseline must be a finite number; got nan"),
    Case("integrated_gradients", "two baselines for three images", lambda: __import__("cnnviz").integrated_gradients(model(), small()[0][:3], baseline=small()[0][:2]), V, r"baseline must be one image or one per image \(3\); got 2"),
    Case("integrated_gradients", "a dataset that never ends", cnnviz_call("integrated_gradients", lambda: (endless(),)), V, r"images is a tf\.data\.Dataset that never ends .*: this function reads a stream to its end \(its results are per image\), so give a finite one, e\.g\. dataset\.take\(n\)"),
    Case("grad_cam", "an unknown layer", lambda: __import__("cnnviz").grad_cam(model(), image(), layer="conv3"), V, r"has no layer named 'conv3'; its layers \(nested models' included\) are \['input', 'conv1'"),
    Case("grad_cam", "a dense layer, not a feature map", lambda: __import__("cnnviz").grad_cam(model(), image(), layer="fc1"), V, r"Grad-CAM needs a layer whose output is a feature map .*layer 'fc1' gives \(None, 120\)"),
    Case("grad_cam", "a layer index out of range", lambda: __import__("cnnviz").grad_cam(model(), image(), layer=99), V, r"layer index 99 is out of range"),
    Case("grad_cam", "layer=1.5", lambda: __import__("cnnviz").grad_cam(model(), image(), layer=1.5), T, r"layer must be a layer name \(str\), an index \(int\) or None; got 1\.5"),
    Case("grad_cam", "a model without a Conv2D", lambda: __import__("cnnviz").grad_cam(logits_model(), image()), V, r"has no Conv2D layer, so Grad-CAM has no default layer"),
    Case("grad_cam", "a dataset that never ends", cnnviz_call("grad_cam", lambda: (endless(),)), V, r"images is a tf\.data\.Dataset that never ends .*: this function reads a stream to its end \(its results are per image\), so give a finite one, e\.g\. dataset\.take\(n\)"),
    Case("occlusion", "window=0", lambda: __import__("cnnviz").occlusion(model(), image(), window=0), V, rf"window {POSITIVE}; got 0"),
    Case("occlusion", "stride=0", lambda: __import__("cnnviz").occlusion(model(), image(), stride=0), V, rf"stride {POSITIVE}; got 0"),
    Case("occlusion", "a window larger than the image", lambda: __import__("cnnviz").occlusion(model(), image(), window=29), V, r"window must be at most the image's smaller side \(28\); got 29"),
    Case("occlusion", "value=nan", lambda: __import__("cnnviz").occlusion(model(), image(), value=float("nan")), V, r"value must be a finite number; got nan"),
    Case("occlusion", "a dataset that never ends", cnnviz_call("occlusion", lambda: (endless(),)), V, r"images is a tf\.data\.Dataset that never ends .*: this function reads a stream to its end \(its results are per image\), so give a finite one, e\.g\. dataset\.take\(n\)"),
    Case("randomization_check", "method='lime'", lambda: __import__("cnnviz").randomization_check(model(), image(), "lime"), V, r"method must be one of \('gradients', 'smoothgrad', 'integrated_gradients', 'grad_cam', 'occlusion'\) or one of those functions; got 'lime'"),
    Case("randomization_check", "method=3", lambda: __import__("cnnviz").randomization_check(model(), image(), 3), T, r"method must be the name of an attribution method \(str\) or the function itself; got 3"),
    Case("randomization_check", "seed=-1", lambda: __import__("cnnviz").randomization_check(model(), image(), seed=-1), V, r"seed must be a non-negative integer; got -1"),
    Case("randomization_check", "target=10 for 10 classes", lambda: __import__("cnnviz").randomization_check(model(), image(), target=10), V, r"target 10 is out of range: the model has 10 classes \(0 to 9\)"),
    Case("randomization_check", "an option the method refuses (samples=0)", lambda: __import__("cnnviz").randomization_check(model(), image(), "smoothgrad", samples=0), V, rf"samples {POSITIVE}; got 0"),
    Case("randomization_check", "a model without weights", lambda: __import__("cnnviz").randomization_check(weightless_model(), image()), V, r"has no layer with weights to randomize"),
    Case("randomization_check", "a dataset that never ends", cnnviz_call("randomization_check", lambda: (endless(),)), V, r"images is a tf\.data\.Dataset that never ends .*: this function reads a stream to its end \(its results are per image\), so give a finite one, e\.g\. dataset\.take\(n\)"),
    Case("deletion_curve", "maps of the wrong shape", lambda: __import__("cnnviz").deletion_curve(model(), small()[0][:2], np.zeros((2, 14, 14))), V, r"maps must hold one map per image, \(N, H, W\) = \(2, 28, 28\); got shape \(2, 14, 14\)"),
    Case("deletion_curve", "one map for two images", lambda: __import__("cnnviz").deletion_curve(model(), small()[0][:2], np.zeros((28, 28))), V, r"maps must hold one map per image, \(N, H, W\) = \(2, 28, 28\); got shape \(28, 28\)"),
    Case("deletion_curve", "maps with a channel axis", lambda: __import__("cnnviz").deletion_curve(model(), small()[0][:2], np.zeros((2, 28, 28, 1))), V, r"got shape \(2, 28, 28, 1\)"),
    Case("deletion_curve", "maps of strings", lambda: __import__("cnnviz").deletion_curve(model(), image(), np.full((1, 28, 28), "a")), T, r"maps must hold numbers; got dtype <U1"),
    Case("deletion_curve", "a NaN in the maps", lambda: __import__("cnnviz").deletion_curve(model(), image(), np.full((1, 28, 28), np.nan)), V, r"maps must hold finite values"),
    Case("deletion_curve", "steps=0", lambda: __import__("cnnviz").deletion_curve(model(), image(), np.zeros((1, 28, 28)), steps=0), V, rf"steps {POSITIVE}; got 0"),
    Case("deletion_curve", "value=nan", lambda: __import__("cnnviz").deletion_curve(model(), image(), np.zeros((1, 28, 28)), value=float("nan")), V, r"value must be a finite number; got nan"),
    Case("deletion_curve", "target=10 for 10 classes", lambda: __import__("cnnviz").deletion_curve(model(), image(), np.zeros((1, 28, 28)), 10), V, r"target 10 is out of range"),
    Case("deletion_curve", "a dataset that never ends", cnnviz_call("deletion_curve", lambda: (endless(), np.zeros((24, 28, 28)))), V, r"images is a tf\.data\.Dataset that never ends .*: this function reads a stream to its end \(its results are per image\), so give a finite one, e\.g\. dataset\.take\(n\)"),
    Case("insertion_curve", "maps of the wrong shape", lambda: __import__("cnnviz").insertion_curve(model(), image(), np.zeros((1, 28, 27))), V, r"maps must hold one map per image, \(N, H, W\) = \(1, 28, 28\); got shape \(1, 28, 27\)"),
    Case("insertion_curve", "steps=2.5", lambda: __import__("cnnviz").insertion_curve(model(), image(), np.zeros((1, 28, 28)), steps=2.5), V, rf"steps {POSITIVE}; got 2\.5"),
    Case("insertion_curve", "a dataset that never ends", cnnviz_call("insertion_curve", lambda: (endless(), np.zeros((24, 28, 28)))), V, r"images is a tf\.data\.Dataset that never ends .*: this function reads a stream to its end \(its results are per image\), so give a finite one, e\.g\. dataset\.take\(n\)"),
    # The cache: every setting is checked before the key, so no entry is served for it.
    Case("trained_lenet5", "padding='full'", lambda: trained_lenet5(padding="full"), V, r"padding must be one of \('valid', 'same', 'reflect', 'circular'\); got 'full'"),
    Case("trained_lenet5", "epochs=0", lambda: trained_lenet5(epochs=0), V, rf"epochs {POSITIVE}; got 0"),
    Case("trained_lenet5", "epochs=30.0", lambda: trained_lenet5(epochs=30.0), V, rf"epochs {POSITIVE}; got 30\.0"),
    Case("trained_lenet5", "learning_rate='0.001'", lambda: trained_lenet5(learning_rate="0.001"), V, rf"learning_rate {FINITE_POSITIVE}; got '0\.001'"),
    Case("trained_lenet5", "learning_rate=1e400 (inf)", lambda: trained_lenet5(learning_rate=1e400), V, rf"learning_rate {FINITE_POSITIVE}; got inf"),
    Case("trained_lenet5", "seed=1.7", lambda: trained_lenet5(seed=1.7), V, r"seed must be a non-negative integer; got 1\.7"),
    Case("trained_lenet5", "seed=-1", lambda: trained_lenet5(seed=-1), V, r"seed must be a non-negative integer; got -1"),
    Case("trained_lenet5", "epoch=31 (of 30)", lambda: trained_lenet5(epoch=31), V, r"epoch must be at most epochs=30 \(0 is the model before training\); got 31"),
    Case("trained_lenet5", "epoch=-1", lambda: trained_lenet5(epoch=-1), V, r"epoch must be a non-negative integer; got -1"),
    Case("trained_lenet5", "epoch=1.5", lambda: trained_lenet5(epoch=1.5), V, r"epoch must be a non-negative integer; got 1\.5"),
    Case("trained_lenet5", "verbose=5", lambda: trained_lenet5(verbose=5), V, r"verbose must be 'auto', 0, 1 or 2; got 5"),
    Case("trained_lenet5", "lock_timeout=0", lambda: trained_lenet5(lock_timeout=0), V, rf"lock_timeout {FINITE_POSITIVE}; got 0"),
    Case("trained_lenet5", "lock_timeout=nan", lambda: trained_lenet5(lock_timeout=float("nan")), V, rf"lock_timeout {FINITE_POSITIVE}; got nan"),
    Case("cache_path", "CNNVIZ_CACHE_DIR of three spaces", with_environment("CNNVIZ_CACHE_DIR", "   ", call("cache_path")), V, r"CNNVIZ_CACHE_DIR='   ' names no directory"),
    Case("cache_path", "CNNVIZ_CACHE_DIR with a leading space", with_environment("CNNVIZ_CACHE_DIR", " /tmp/cache", call("cache_path")), V, r"starts or ends with white space"),
    Case("cache_path", "batch_size=-64", call("cache_path", batch_size=-64), V, rf"batch_size {POSITIVE}; got -64"),
    Case("cache_path", "learning_rate=-1", call("cache_path", learning_rate=-1), V, rf"learning_rate {FINITE_POSITIVE}; got -1"),
    # Layer outputs.
    Case("layer_outputs", "model='lenet5'", lambda: layer_outputs("lenet5", image()), T, r"model must be a keras\.Model; got str"),
    Case("layer_outputs", "an unbuilt Sequential model", lambda: layer_outputs(unbuilt_model(), image()), V, r"is not built"),
    Case("layer_outputs", "a subclassed model called on data", lambda: layer_outputs(subclassed_model(), image()), V, r"is a subclassed model.*keras\.Model\(inputs, net\(inputs\)\)"),
    Case("layer_outputs", "a model with two inputs", lambda: layer_outputs(two_input_model(), image()), V, r"must have exactly one image input; .* has 2"),
    Case("layer_outputs", "a model that takes flat vectors", lambda: layer_outputs(flat_input_model(), image()), V, r"must take images of shape \(batch, height, width, channels\)"),
    Case("layer_outputs", "layers='conv1' (a str)", lambda: layer_outputs(model(), image(), "conv1"), T, r"layers must be a sequence of layer names or indices, e\.g\. \['conv1'\] or \[1\]; got 'conv1'"),
    Case("layer_outputs", "layers=[]", lambda: layer_outputs(model(), image(), []), V, r"layers is empty"),
    Case("layer_outputs", "an unknown layer name", lambda: layer_outputs(model(), image(), ["conv3"]), V, r"has no layer named 'conv3'; its layers \(nested models' included\) are \['input', 'conv1'"),
    Case("layer_outputs", "a layer index out of range", lambda: layer_outputs(model(), image(), [99]), V, r"layer index 99 is out of range: model .* has 11 layers \(indices -11 to 10"),
    Case("layer_outputs", "a float layer index", lambda: layer_outputs(model(), image(), [1.5]), T, r"layers must hold names \(str\) or indices \(int\); got 1\.5"),
    Case("layer_outputs", "a shared layer", lambda: layer_outputs(shared_layer_model(), np.zeros((8, 8, 2), np.float32)), V, r"layer 'shared' .* is called 2 times \(a shared layer\)"),
    Case("layer_outputs", "int64 images", lambda: layer_outputs(model(), image().astype(np.int64)), T, r"images must be uint8 images \(0 to 255\) or float images; got dtype int64"),
    Case("layer_outputs", "one NaN pixel", lambda: layer_outputs(model(), images_with(np.nan)), V, r"images must hold finite values; .* index \(3, 10, 11, 0\)"),
    Case("layer_outputs", "an image of the wrong size", lambda: layer_outputs(model(), np.zeros((32, 32, 1), np.uint8)), V, r"the model takes images of shape \(28, 28, 1\) \(H, W, C\); got images of shape \(32, 32, 1\)"),
    Case("layer_outputs", "a 5-D array", lambda: layer_outputs(model(), np.zeros((1, 1, 28, 28, 1), np.uint8)), V, r"images must be one image \(H, W\) or \(H, W, C\), or a batch \(N, H, W, C\); got shape \(1, 1, 28, 28, 1\)"),
    Case("layer_outputs", "an empty batch", lambda: layer_outputs(model(), np.zeros((0, 28, 28, 1), np.uint8)), V, r"images is an empty batch"),
    Case("layer_outputs", "a (H, W) image for a 3-channel model", lambda: layer_outputs(rgb_model(), np.zeros((8, 8), np.uint8)), V, r"have no channel axis, but the model takes 3 channels"),
    Case("layer_outputs", "scale=1", lambda: layer_outputs(model(), image(), scale=1), V, r"scale must be None, True or False; got 1"),
    Case("layer_outputs", "a dataset that never ends, without steps", lambda: layer_outputs(model(), endless()), V, r"images is a tf\.data\.Dataset that never ends \(its cardinality is tf\.data\.INFINITE_CARDINALITY, as after dataset\.repeat\(\)\): give steps=, the number of batches to read"),
    Case("layer_outputs", "steps=1.5", lambda: layer_outputs(model(), [small()[0]], steps=1.5), V, rf"steps {POSITIVE}; got 1\.5"),
    Case("layer_outputs", "steps with one image", lambda: layer_outputs(model(), image(), steps=1), V, r"steps bounds the batches read from a stream, but images is an array \(shape \(28, 28, 1\)\)"),
    Case("layer_outputs", "an empty stream", lambda: layer_outputs(model(), iter([])), V, r"images gave no batches: the stream is empty"),
    Case("layer_outputs", "a list of single images", lambda: layer_outputs(model(), [image(), image()]), V, r"batch 0 of images must be a batch of images \(N, H, W, C\) = \(N, 28, 28, 1\); got shape \(28, 28, 1\), one image, not a batch: batch the stream \(dataset\.batch\(n\)\)"),
    Case("layer_outputs", "a dict in the stream", lambda: layer_outputs(model(), [{"x": small()[0]}]), T, r"batch 0 of images must be an array of images or a pair \(images, labels\); got dict"),
    # Channels.
    Case("kernels", "model=None", call("kernels", None, "conv1"), T, r"model must be a keras\.Model; got NoneType"),
    Case("kernels", "a pooling layer", channels_call("kernels", "max_pool1"), V, r"layer 'max_pool1' is a MaxPooling2D, not a Conv2D layer, so it has no kernel"),
    Case("kernels", "an unknown layer", channels_call("kernels", "conv3"), V, r"has no layer named 'conv3'; its layers \(nested models' included\) are \['input', 'conv1', 'relu1'"),
    Case("kernels", "layer=1.5", channels_call("kernels", 1.5), T, r"layer must be a layer name \(str\) or an index \(int\); got 1\.5"),
    Case("receptive_field", "a Dense layer", channels_call("receptive_field", "fc1"), V, r"layer 'fc1' must give feature maps \(batch, height, width, channels\); it gives \(None, 120\)"),
    Case("receptive_field", "an upsampling before the layer", lambda: __import__("cnnviz").receptive_field(upsampling_model(), "conv"), V, r"the units of layer 'conv' have no receptive field of one size and jump: after layer 'up' \(UpSampling2D\) neighbouring units share one field"),
    Case("receptive_field", "images joined along the rows on the way", lambda: __import__("cnnviz").receptive_field(rows_joined_model(), "after"), V, r"layer 'join' \(Concatenate\) on the way to 'after' takes several inputs, and cnnviz follows only merges of maps of one size"),
    Case("receptive_field", "a layer index out of range", channels_call("receptive_field", 99), V, r"layer index 99 is out of range"),
    Case("receptive_box", "row=4 in a 4x4 output", channels_call("receptive_box", "max_pool2", 4, 0), V, r"row must be an integer in range\(0, 4\) \(the output of layer 'max_pool2' is 4x4\); got 4"),
    Case("receptive_box", "col=-1", channels_call("receptive_box", "conv1", 0, -1), V, r"col must be an integer in range\(0, 24\) .*got -1"),
    Case("receptive_box", "row=1.5", channels_call("receptive_box", "conv1", 1.5, 0), V, r"row must be an integer in range\(0, 24\) .*got 1\.5"),
    Case("top_patches", "k larger than the data", lambda: __import__("cnnviz").top_patches(model(), small()[0][:5], "conv1"), V, r"k must be at most the number of images, 5; got 9"),
    Case("top_patches", "k larger than a stream's images", lambda: __import__("cnnviz").top_patches(model(), stream(small()[0][:3], small()[0][3:5])(), "conv1", k=6), V, r"k must be at most the number of images, 5; got 6"),
    Case("top_patches", "a channel out of range", lambda: __import__("cnnviz").top_patches(model(), small()[0], "conv2", channels=[3, 16]), V, r"channels must be an integer in range\(0, 16\) \(of layer 'conv2'\); got 16"),
    Case("top_patches", "channels=[]", lambda: __import__("cnnviz").top_patches(model(), small()[0], "conv2", channels=[]), V, r"channels is empty: give at least one index, or None for all 16"),
    Case("top_patches", "channels='0'", lambda: __import__("cnnviz").top_patches(model(), small()[0], "conv2", channels="0"), T, r"channels must be None, an integer or a sequence of integers; got '0'"),
    Case("top_patches", "a Dense layer", lambda: __import__("cnnviz").top_patches(model(), small()[0], "fc2"), V, r"layer 'fc2' must give feature maps \(batch, height, width, channels\); it gives \(None, 84\)"),
    Case("top_patches", "k=0", lambda: __import__("cnnviz").top_patches(model(), small()[0], "conv1", k=0), V, rf"k {POSITIVE}; got 0"),
    Case("top_patches", "batch_size=0", lambda: __import__("cnnviz").top_patches(model(), small()[0], "conv1", batch_size=0), V, rf"batch_size {POSITIVE}; got 0"),
    Case("top_patches", "images=3", lambda: __import__("cnnviz").top_patches(model(), 3, "conv1"), T, r"images must be an array of images \(N, H, W, C\), a tf\.data\.Dataset or an iterable of batches \(a list, a generator\); got int"),
    Case("top_patches", "a dict of images", lambda: __import__("cnnviz").top_patches(model(), {"x": small()[0]}, "conv1"), T, r"images must be an array of images .*; got dict"),
    Case("top_patches", "an empty stream", lambda: __import__("cnnviz").top_patches(model(), iter([]), "conv1", k=1), V, r"images gave no batches: the stream is empty"),
    Case("top_patches", "batches of one image each, unbatched", lambda: __import__("cnnviz").top_patches(model(), iter(small()[0]), "conv1", k=1), V, r"batch 0 of images must be a batch of images \(N, H, W, C\) = \(N, 28, 28, 1\); got shape \(28, 28, 1\), one image, not a batch: batch the stream \(dataset\.batch\(n\)\)"),
    Case("top_patches", "a triple in the stream", lambda: __import__("cnnviz").top_patches(model(), [(small()[0], small()[1], small()[1])], "conv1"), T, r"batch 0 of images must be an array of images or a pair \(images, labels\); got tuple of length 3"),
    Case("top_patches", "one NaN pixel", lambda: __import__("cnnviz").top_patches(model(), images_with(np.nan), "conv1"), V, r"images must hold finite values; .* index \(3, 10, 11, 0\)"),
    Case("top_patches", "a dataset that never ends, without steps", lambda: __import__("cnnviz").top_patches(model(), endless(), "conv1"), V, r"images is a tf\.data\.Dataset that never ends \(its cardinality is tf\.data\.INFINITE_CARDINALITY, as after dataset\.repeat\(\)\): give steps=, the number of batches to read"),
    Case("top_patches", "steps=0", lambda: __import__("cnnviz").top_patches(model(), [small()[0]], "conv1", steps=0), V, rf"steps {POSITIVE}; got 0"),
    Case("top_patches", "steps with an array", lambda: __import__("cnnviz").top_patches(model(), small()[0], "conv1", steps=2), V, r"steps bounds the batches read from a stream, but images is an array \(shape \(64, 28, 28, 1\)\), which has no batches to count: give images\[:n\] for fewer images; got steps=2"),
    Case("class_mean_activations", "labels of the wrong length", lambda: __import__("cnnviz").class_mean_activations(model(), small()[0], small()[1][:10], "conv1"), V, r"images and labels must have the same length; got 64 images and 10 labels"),
    Case("class_mean_activations", "no labels with arrays", lambda: __import__("cnnviz").class_mean_activations(model(), small()[0], None, "conv1"), V, r"labels must be given with images as an array"),
    Case("class_mean_activations", "labels beside a stream", lambda: __import__("cnnviz").class_mean_activations(model(), [small()], small()[1], "conv1"), V, r"labels must be None when images is a stream of batches: put the labels in the stream, as \(images, labels\) pairs; got labels of type ndarray"),
    Case("class_mean_activations", "a stream without labels", lambda: __import__("cnnviz").class_mean_activations(model(), [small()[0]], None, "conv1"), V, r"batch 0 of images has no labels: this function needs a stream of \(images, labels\) pairs"),
    Case("class_mean_activations", "a batch with fewer labels than images", lambda: __import__("cnnviz").class_mean_activations(model(), [(small()[0], small()[1][:3])], None, "conv1"), V, r"batch 0 of images must hold as many labels as images; got 64 images and 3 labels"),
    Case("class_mean_activations", "float labels", lambda: __import__("cnnviz").class_mean_activations(model(), small()[0], small()[1].astype(float), "conv1"), T, r"labels must hold integer labels; got dtype float64"),
    Case("class_mean_activations", "a label of 10 for 10 classes", lambda: __import__("cnnviz").class_mean_activations(model(), small()[0][:2], [0, 10], "conv1"), V, r"labels must hold labels in range\(0, 10\); got 1 outside it, the first 10 at index 1"),
    Case("class_mean_activations", "labels of shape (N, 1, 1)", lambda: __import__("cnnviz").class_mean_activations(model(), small()[0][:2], np.zeros((2, 1, 1), int), "conv1"), V, r"labels must be integer labels \(N,\) or one-hot rows \(N, classes\); got shape \(2, 1, 1\)"),
    Case("class_mean_activations", "num_classes=0", lambda: __import__("cnnviz").class_mean_activations(model(), small()[0], small()[1], "conv1", num_classes=0), V, rf"num_classes {POSITIVE}; got 0"),
    Case("class_mean_activations", "a dataset that never ends, without steps", lambda: __import__("cnnviz").class_mean_activations(model(), endless(labelled=True), None, "conv1"), V, r"images is a tf\.data\.Dataset that never ends \(its cardinality is tf\.data\.INFINITE_CARDINALITY, as after dataset\.repeat\(\)\): give steps=, the number of batches to read"),
    Case("class_mean_activations", "steps=-1", lambda: __import__("cnnviz").class_mean_activations(model(), [small()], None, "conv1", steps=-1), V, rf"steps {POSITIVE}; got -1"),
    Case("channel_ablation", "labels of the wrong length", lambda: __import__("cnnviz").channel_ablation(model(), small()[0], small()[1][:10], "conv1"), V, r"images and labels must have the same length; got 64 images and 10 labels"),
    Case("channel_ablation", "a channel out of range", lambda: __import__("cnnviz").channel_ablation(model(), small()[0], small()[1], "conv1", channels=6), V, r"channels must be an integer in range\(0, 6\) \(of layer 'conv1'\); got 6"),
    Case("channel_ablation", "a model whose output is a map", lambda: __import__("cnnviz").channel_ablation(map_output_model(), small()[0], small()[1], 1), V, r"must have one output of shape \(batch, classes\)"),
    Case("channel_ablation", "a connection around the layer", lambda: __import__("cnnviz").channel_ablation(skip_model(), np.zeros((2, 8, 8, 1), np.float32), [0, 1], "conv"), V, r"the output of model .* does not depend on layer 'conv''s output alone"),
    Case("channel_ablation", "a dataset that never ends, without steps", lambda: __import__("cnnviz").channel_ablation(model(), endless(labelled=True), None, "conv1"), V, r"images is a tf\.data\.Dataset that never ends \(its cardinality is tf\.data\.INFINITE_CARDINALITY, as after dataset\.repeat\(\)\): give steps=, the number of batches to read"),
    Case("channel_ablation", "steps=True", lambda: __import__("cnnviz").channel_ablation(model(), [small()], None, "conv1", steps=True), V, rf"steps {POSITIVE}; got True"),
    Case("channel_ablation", "labels beside a stream", lambda: __import__("cnnviz").channel_ablation(model(), [small()], small()[1], "conv1"), V, r"labels must be None when images is a stream of batches: put the labels in the stream, as \(images, labels\) pairs"),
    Case("channel_ablation", "a stream of images without labels", lambda: __import__("cnnviz").channel_ablation(model(), [small()[0]], None, "conv1"), V, r"batch 0 of images has no labels: this function needs a stream of \(images, labels\) pairs"),
    Case("maximize_activation", "a channel out of range", channels_call("maximize_activation", "conv1", 6), V, r"channel must be an integer in range\(0, 6\) \(of layer 'conv1'\); got 6"),
    Case("maximize_activation", "an unknown layer", channels_call("maximize_activation", "conv9", 0), V, r"has no layer named 'conv9'"),
    Case("maximize_activation", "position=(24, 0) on conv1 (24x24)", channels_call("maximize_activation", "conv1", 0, position=(24, 0)), V, r"position's row must be an integer in range\(0, 24\) \(of layer 'conv1'\); got 24"),
    Case("maximize_activation", "position on a dense layer", channels_call("maximize_activation", "fc1", 0, position=(0, 0)), V, r"position needs a layer with feature maps"),
    Case("maximize_activation", "channel=[] (no channel)", channels_call("maximize_activation", "conv1", []), V, r"channel is empty: give at least one index"),
    Case("maximize_activation", "steps=0", channels_call("maximize_activation", "conv1", 0, steps=0), V, rf"steps {POSITIVE}; got 0"),
    Case("maximize_activation", "seed=-1", channels_call("maximize_activation", "conv1", 0, seed=-1), V, r"seed must be a non-negative integer; got -1"),
    Case("maximize_activation", "jitter=1.5", channels_call("maximize_activation", "conv1", 0, jitter=1.5), V, r"jitter must be a non-negative integer; got 1\.5"),
    Case("maximize_activation", "learning_rate=0", channels_call("maximize_activation", "conv1", 0, learning_rate=0), V, rf"learning_rate {FINITE_POSITIVE}; got 0"),
    Case("maximize_activation", "blur=-1", channels_call("maximize_activation", "conv1", 0, blur=-1), V, r"blur must be a finite number of at least 0; got -1"),
    Case("maximize_activation", "l2=nan", channels_call("maximize_activation", "conv1", 0, l2=float("nan")), V, r"l2 must be a finite number of at least 0; got nan"),
    # Plots.
    Case("plot_feature_maps", "a batch of 2 images' outputs", call("plot_feature_maps", np.zeros((2, 8, 8, 4))), V, r"output holds a batch of 2 images .*pick one"),
    Case("plot_feature_maps", "a 5-D array", call("plot_feature_maps", np.zeros((1, 1, 8, 8, 4))), V, r"output must be one image's layer output"),
    Case("plot_feature_maps", "no channels", call("plot_feature_maps", np.zeros((8, 8, 0))), V, r"output is empty \(shape \(8, 8, 0\)\): a layer output needs at least one channel"),
    Case("plot_feature_maps", "no units", call("plot_feature_maps", np.zeros((1, 0))), V, r"output is empty \(shape \(1, 0\)\)"),
    Case("plot_feature_maps", "ncols=0", call("plot_feature_maps", np.zeros((8, 8, 4)), ncols=0), V, rf"ncols {POSITIVE}; got 0"),
    Case("plot_feature_maps", "fig='figure'", call("plot_feature_maps", np.zeros((8, 8, 4)), fig="figure"), T, r"fig must be a matplotlib Figure or SubFigure; got str"),
    Case("plot_feature_maps", "scale='channel'", call("plot_feature_maps", np.zeros((8, 8, 4)), scale="channel"), V, r"scale must be one of \('map', 'layer'\); got 'channel'"),
    Case("plot_feature_maps", "vmin=1, vmax=1", call("plot_feature_maps", np.zeros((8, 8, 4)), vmin=1, vmax=1), V, r"vmin must be below vmax; got vmin=1\.0, vmax=1\.0"),
    Case("plot_feature_maps", "vmin=5 above the values' top", call("plot_feature_maps", np.ones((8, 8, 4)), vmin=5), V, r"vmin must be below vmax; got vmin=5\.0, vmax=1\.0 \(vmin=5\.0 given, the other taken from the values\)"),
    Case("plot_feature_maps", "vmax=nan", call("plot_feature_maps", np.zeros((8, 8, 4)), vmax=float("nan")), V, r"vmax must be a finite number; got nan"),
    Case("plot_feature_maps", "vmin=-inf", call("plot_feature_maps", np.zeros((8, 8, 4)), vmin=float("-inf")), V, r"vmin must be a finite number; got -inf"),
    Case("plot_layer_outputs", "scale='all'", lambda: __import__("cnnviz").plot_layer_outputs(model(), image(), scale="all"), V, r"scale must be one of \('map', 'layer'\); got 'all'"),
    Case("plot_side_by_side", "scale='model'", lambda: __import__("cnnviz").plot_side_by_side({"valid": outputs_of()}, scale="model"), V, r"scale must be one of \('map', 'layer'\); got 'model'"),
    Case("plot_images", "more images than labels", call("plot_images", np.zeros((3, 8, 8)), [1, 2]), V, r"images and labels must have the same length; got 3 images"),
    Case("plot_images", "no images", call("plot_images", np.zeros((0, 8, 8)), []), V, r"images is empty"),
    Case("plot_images", "a label with no class name", call("plot_images", np.zeros((1, 8, 8)), [10]), V, r"labels must hold labels in range\(0, 10\); got 1 outside it, the first 10 at index 0"),
    Case("plot_images", "images of 2 channels", call("plot_images", np.zeros((1, 8, 8, 2)), [0]), V, r"images must be \(N, H, W\), \(N, H, W, 1\) or \(N, H, W, 3\); got shape \(1, 8, 8, 2\)"),
    Case("plot_probabilities", "logits", call("plot_probabilities", np.linspace(-2, 3, 10)), V, r"must be class probabilities .* from -2 to 3 summing to 5\. For logits, apply a softmax first"),
    Case("plot_probabilities", "nine values for ten classes", call("plot_probabilities", np.full(9, 1 / 9)), V, r"probabilities must be one image's \(10,\) or \(1, 10\) scores"),
    Case("plot_probabilities", "two images", call("plot_probabilities", np.full((2, 10), 0.1)), V, r"got shape \(2, 10\)"),
    Case("plot_probabilities", "strings", call("plot_probabilities", ["0.1"] * 10), V, r"probabilities must be numbers; got dtype <U3"),
    Case("plot_history", "no 'loss'", call("plot_history", {"accuracy": [0.5]}), V, r"per-epoch lists under 'loss'; got dict with keys \['accuracy'\]"),
    Case("plot_history", "not a dict", call("plot_history", [0.9, 0.5]), V, r"history must be a dict .*got list"),
    Case("plot_history", "losses as strings", call("plot_history", {"loss": ["0.9", "0.5", "0.7"]}), V, r"history\['loss'\] must hold numbers; got \['0\.9'"),
    Case("plot_history", "lists of different lengths", call("plot_history", {"loss": [0.9, 0.5], "val_loss": [0.8]}), V, r"one value per epoch in every list; got \{'loss': 2, 'val_loss': 1\}"),
    Case("plot_history", "an empty list", call("plot_history", {"loss": []}), V, r"one value per epoch in every list; got \{'loss': 0\}"),
    Case("plot_layer_outputs", "a batch of 2 images", lambda: __import__("cnnviz").plot_layer_outputs(model(), small()[0][:2]), V, r"image must be one image; got a batch of 2"),
    Case("plot_layer_outputs", "class_names of the wrong length", lambda: __import__("cnnviz").plot_layer_outputs(model(), image(), layers=["op"], class_names=["a", "b"]), V, r"class_names must name every class .* 10 classes, but class_names has 2 names"),
    Case("plot_side_by_side", "no models", call("plot_side_by_side", {}), V, r"outputs must map a model label .*got an empty mapping"),
    Case("plot_side_by_side", "a layer one model lacks", lambda: __import__("cnnviz").plot_side_by_side({"valid": outputs_of(), "other": {"conv1": outputs_of()["conv1"]}}), V, r"layer 'relu1' is missing from outputs\['other'\]"),
    Case("plot_side_by_side", "outputs of two images", lambda: __import__("cnnviz").plot_side_by_side({"a": {"conv1": np.zeros((2, 8, 8, 6))}}), V, r"outputs\['a'\]\['conv1'\] holds a batch of 2 images"),
    Case("plot_side_by_side", "one title for two models", lambda: __import__("cnnviz").plot_side_by_side({"valid": outputs_of(), "same": outputs_of("same")}, layers=["conv1"], titles=["valid"]), V, r"titles must give one column title per model, 2 for \['valid', 'same'\]"),
    Case("plot_side_by_side", "layers='conv1' (a str)", lambda: __import__("cnnviz").plot_side_by_side({"valid": outputs_of()}, layers="conv1"), V, r"layers must be a non-empty list of layer names; got 'conv1'"),
    Case("plot_attribution", "maps with a channel axis", call("plot_attribution", np.zeros((2, 8, 8)), np.zeros((2, 8, 8, 1))), V, r"maps must be a non-empty batch of maps \(N, H, W\), as cnnviz\.attribution returns; got shape \(2, 8, 8, 1\)"),
    Case("plot_attribution", "one map for two images", call("plot_attribution", np.zeros((2, 8, 8)), np.zeros((1, 8, 8))), V, r"maps must hold one map per image, of the images' size: \(N, H, W\) = \(2, 8, 8\); got shape \(1, 8, 8\)"),
    Case("plot_attribution", "a NaN in a map", call("plot_attribution", np.zeros((1, 8, 8)), np.full((1, 8, 8), np.nan)), V, r"maps must hold finite values; got 64 NaN or infinite value\(s\)"),
    Case("plot_attribution", "maps as strings", call("plot_attribution", np.zeros((1, 2, 2)), [[["a", "b"], ["c", "d"]]]), T, r"maps must hold numbers; got dtype <U1"),
    Case("plot_attribution", "one title for two images", call("plot_attribution", np.zeros((2, 8, 8)), np.zeros((2, 8, 8)), titles=["coat"]), V, r"titles must give one title per image, 2; got \['coat'\]"),
    Case("plot_attribution", "overlay='yes'", call("plot_attribution", np.zeros((1, 8, 8)), np.zeros((1, 8, 8)), overlay="yes"), T, r"overlay must be True or False; got 'yes'"),
    Case("plot_attribution", "images of 2 channels", call("plot_attribution", np.zeros((1, 8, 8, 2)), np.zeros((1, 8, 8))), V, r"images must be a non-empty batch \(N, H, W\), \(N, H, W, 1\) or \(N, H, W, 3\); got shape \(1, 8, 8, 2\)"),
    Case("plot_confusion_matrix", "a 2x3 matrix", call("plot_confusion_matrix", np.zeros((2, 3), dtype=int)), V, r"matrix must be a square confusion matrix \(C, C\), rows the true classes; got shape \(2, 3\)"),
    Case("plot_confusion_matrix", "a negative count", call("plot_confusion_matrix", -np.eye(10, dtype=int)), V, r"matrix must hold counts \(integers of at least 0\); got -1"),
    Case("plot_confusion_matrix", "a fractional count", call("plot_confusion_matrix", np.full((10, 10), 0.5)), V, r"matrix must hold counts \(integers of at least 0\); got 0\.5"),
    Case("plot_confusion_matrix", "3 classes, 10 names", call("plot_confusion_matrix", np.eye(3, dtype=int)), V, r"class_names must name every class: matrix of shape \(3, 3\) has 3 classes, but class_names has 10 names"),
    Case("plot_confusion_matrix", "normalize='rows'", call("plot_confusion_matrix", np.eye(10, dtype=int), normalize="rows"), V, r"normalize must be one of \(None, 'true', 'pred', 'all'\); got 'rows'"),
    Case("plot_mistakes", "logits for probabilities", call("plot_mistakes", np.zeros((2, 8, 8)), [0, 1], np.array([[2.0, -1.0], [0.5, 0.5]]), [0], class_names=["a", "b"]), V, r"probabilities must be class probabilities .* 1 row\(s\) are not, e.g. row 0 summing to 1"),
    Case("plot_mistakes", "an index past the images", call("plot_mistakes", np.zeros((2, 8, 8)), [0, 1], np.full((2, 10), 0.1), [2]), V, r"indices must be an integer in range\(0, 2\) \(an image's index\); got 2"),
    Case("plot_mistakes", "no indices", call("plot_mistakes", np.zeros((2, 8, 8)), [0, 1], np.full((2, 10), 0.1), []), V, r"indices is empty: give at least one image to draw"),
    Case("plot_mistakes", "fewer labels than images", call("plot_mistakes", np.zeros((2, 8, 8)), [0], np.full((2, 10), 0.1), [0]), V, r"images and y_true must have the same length; got 2 images and 1 labels"),
    Case("plot_mistakes", "probabilities for another number of images", call("plot_mistakes", np.zeros((2, 8, 8)), [0, 1], np.full((3, 10), 0.1), [0]), V, r"probabilities must be one row of class probabilities per image, \(2, C\); got shape \(3, 10\)"),
    Case("plot_mistakes", "maps of another size", call("plot_mistakes", np.zeros((2, 8, 8)), [0, 1], np.full((2, 10), 0.1), [0], maps=np.zeros((2, 4, 4))), V, r"maps must hold one map per image, of the images' size: \(N, H, W\) = \(2, 8, 8\); got shape \(2, 4, 4\)"),
    Case("plot_randomization", "no 'correlation'", call("plot_randomization", {"layers": ["conv1"]}), V, r"result must have the key 'correlation'; got a mapping with keys \['layers'\]"),
    Case("plot_randomization", "a list for a result", call("plot_randomization", [0.5, 0.1]), T, r"result must be a mapping with the key 'layers' or an object with the attribute 'layers'; got list"),
    Case("plot_randomization", "a correlation per layer missing", call("plot_randomization", {"layers": ["dense3", "conv1"], "correlation": np.array([0.5])}), V, r"result\['correlation'\] must hold one value per randomized layer, shape \(2,\); got shape \(1,\)"),
    Case("plot_randomization", "a correlation of 1.5", call("plot_randomization", {"layers": ["conv1"], "correlation": np.array([1.5])}), V, r"result\['correlation'\] must hold correlations in \[-1, 1\] \(or NaN where undefined\); got 1\.5"),
    Case("plot_randomization", "no layers", call("plot_randomization", {"layers": [], "correlation": np.array([])}), V, r"result\['layers'\] must be a non-empty list of layer names; got \[\]"),
    Case("plot_randomization", "maps without step 0", call("plot_randomization", {"layers": ["conv1"], "correlation": np.array([0.2]), "maps": np.zeros((1, 2, 8, 8))}), V, r"result\['maps'\] must be \(steps \+ 1, N, H, W\) = \(2, N, H, W\), step 0 the original maps; got shape \(1, 2, 8, 8\)"),
    Case("plot_deletion", "no results", call("plot_deletion", []), V, r"curves is empty: give at least one deletion or insertion result"),
    Case("plot_deletion", "a number for curves", call("plot_deletion", 0.5), T, r"curves must be a result with 'fractions', 'probabilities' and 'auc', or a sequence or mapping of them; got float"),
    Case("plot_deletion", "no 'auc'", call("plot_deletion", {"fractions": np.linspace(0, 1, 3), "probabilities": np.full((2, 3), 0.5)}), V, r"curves\[0\] must have the key 'auc'; got a mapping with keys \['fractions', 'probabilities'\]"),
    Case("plot_deletion", "probabilities for another number of steps", call("plot_deletion", {"fractions": np.linspace(0, 1, 3), "probabilities": np.full((2, 4), 0.5), "auc": np.zeros(2)}), V, r"curves\[0\]\['probabilities'\] must be \(N, steps \+ 1\) = \(N, 3\), one row per image; got shape \(2, 4\)"),
    Case("plot_deletion", "fractions that fall", call("plot_deletion", {"fractions": np.array([0, 0.5, 0.2]), "probabilities": np.full((2, 3), 0.5), "auc": np.zeros(2)}), V, r"curves\[0\]\['fractions'\] must rise from 0 to 1 \(fractions of the pixels\); got \[0\.0, 0\.5, 0\.2\]"),
    Case("plot_deletion", "one label for two results", call("plot_deletion", [{"fractions": np.linspace(0, 1, 3), "probabilities": np.full((2, 3), 0.5), "auc": np.zeros(2)}] * 2, labels=["gradients"]), V, r"labels must give one label per result, 2; got \['gradients'\]"),
    Case("explorer.export", "a LayerNormalization layer", export(layer_norm_model), V, r"layer 'norm' \(LayerNormalization\) of model 'normed' is not a layer the page can run; the explorer runs InputLayer, Conv2D"),
    Case("explorer.export", "a Dense layer with activation='exponential'", export(exponential_model), V, r"layer 'fc' \(Dense\) of model 'exp' has the activation 'exponential', which the page cannot compute"),
    Case("explorer.export", "a model with two inputs", export(two_input_model), V, r"model must have exactly one image input; .* has 2"),
    Case("explorer.export", "a model of images of any size", export(any_size_model), V, r"model must take images of one fixed size with 1 or 3 channels, \(height, width, 1\) or \(height, width, 3\), as the page draws them; .* takes \(None, None, 1\)"),
    Case("explorer.export", "a model of 8x8x2 images", export(two_channel_model), V, r"model must take images of one fixed size with 1 or 3 channels, .* takes \(8, 8, 2\)"),
    Case("explorer.export", "two models of two image shapes", export(lambda: {"a": model(), "b": rgb_model()}), V, r"model's models must take images of one shape, as the page draws one; 'a' takes \(28, 28, 1\) and 'b' takes \(8, 8, 3\)"),
    Case("explorer.export", "28x28 images for an 8x8x3 model", export(rgb_model, images=np.zeros((2, 28, 28), np.uint8), labels=[0, 1], class_names=["a", "b"]), V, r"images must be a batch of the models' 8x8 images, \(N, 8, 8, 3\); got shape \(2, 28, 28\)"),
    Case("explorer.export", "a list of models", export(lambda: [model()]), T, r"model must be a keras.Model; got list"),
    Case("explorer.export", "a directory that is a file", export(model, a_file), NotADirectoryError, r"directory names .*data\.txt', which is a file, not a directory"),
    Case("explorer.export", "a directory holding other files", export(model, non_export_dir), V, r"holds files that are not an explorer export; give a new or empty directory"),
    Case("explorer.export", "images without labels", export(model, images=np.zeros((2, 28, 28), np.uint8)), V, r"images were given without labels: give both or neither"),
    Case("explorer.export", "images of 32x32", export(model, images=np.zeros((2, 32, 32), np.uint8), labels=[0, 1]), V, r"images must be a batch of the models' 28x28 images, \(N, 28, 28\) or \(N, 28, 28, 1\); got shape \(2, 32, 32\)"),
    Case("explorer.export", "class_names=7", export(model, class_names=7), T, r"class_names must be a list or tuple of str; got 7"),
    Case("explorer.export", "three class names for ten outputs", export(model, class_names=["a", "b", "c"]), V, r"class_names must give one name per output of model 'lenet5_valid', 10; got 3 names"),
    Case("channel_grid", "n=0", call("channel_grid", 0), V, rf"n {POSITIVE}; got 0"),
    Case("channel_grid", "n=1.5", call("channel_grid", 1.5), V, rf"n {POSITIVE}; got 1\.5"),
    Case("channel_grid", "ncols=0", call("channel_grid", 6, 0), V, rf"ncols {POSITIVE}; got 0"),
    # Channels: what each channel learned.
    Case("plot_kernels", "a 3-D kernel", call("plot_kernels", np.zeros((5, 5, 6))), V, r"kernels must be a non-empty \(kh, kw, in_channels, filters\) array, as a Conv2D layer's kernel; got shape \(5, 5, 6\)"),
    Case("plot_kernels", "no filters", call("plot_kernels", np.zeros((5, 5, 1, 0))), V, r"kernels must be a non-empty .*got shape \(5, 5, 1, 0\)"),
    Case("plot_kernels", "a NaN weight", call("plot_kernels", np.full((3, 3, 1, 2), np.nan)), V, r"kernels must hold finite values; got 18 NaN or infinite value\(s\)"),
    Case("plot_kernels", "kernels as strings", call("plot_kernels", np.full((1, 1, 1, 1), "w")), T, r"kernels must hold numbers; got dtype <U1"),
    Case("plot_kernels", "fig='figure'", call("plot_kernels", np.zeros((3, 3, 1, 2)), fig="figure"), T, r"fig must be a matplotlib Figure or SubFigure; got str"),
    Case("plot_receptive_field", "a box past the image's edge", call("plot_receptive_field", np.zeros((28, 28)), {"conv2": (0, 0, 30, 14)}), V, r"boxes must hold boxes \(top, left, bottom, right\), bottom and right exclusive, non-empty \(or \(0, 0, 0, 0\) for a unit that sees no pixel\) and within the 28x28 image; got \[0, 0, 30, 14\]"),
    Case("plot_receptive_field", "an empty box", call("plot_receptive_field", np.zeros((28, 28)), {"conv1": (5, 5, 5, 10)}), V, r"non-empty \(or \(0, 0, 0, 0\) for a unit that sees no pixel\) and within the 28x28 image; got \[5, 5, 5, 10\]"),
    Case("plot_receptive_field", "a box of three numbers", call("plot_receptive_field", np.zeros((28, 28)), np.zeros((2, 3), int)), V, r"boxes must each be four integers \(top, left, bottom, right\); got shape \(2, 3\)"),
    Case("plot_receptive_field", "no boxes", call("plot_receptive_field", np.zeros((28, 28)), {}), V, r"boxes is empty: give at least one box"),
    Case("plot_receptive_field", "boxes as a number", call("plot_receptive_field", np.zeros((28, 28)), 5), T, r"boxes must be a dict \{label: \(top, left, bottom, right\)\} or an \(N, 4\) array; got int"),
    Case("plot_receptive_field", "a batch of images", call("plot_receptive_field", np.zeros((2, 28, 28)), {"conv1": (0, 0, 5, 5)}), V, r"image must be one image \(H, W\), \(H, W, 1\) or \(H, W, 3\); got shape \(2, 28, 28\)"),
    Case("plot_top_patches", "a channel not in the result", call("plot_top_patches", np.zeros((4, 8, 8)), top_result(), 1), V, r"channel 1 is not in result\['channels'\] \(layer 'conv1'\); the result has channels \[0, 3\]"),
    Case("plot_top_patches", "context='no'", call("plot_top_patches", np.zeros((4, 8, 8)), top_result(), 0, context="no"), T, r"context must be True or False; got 'no'"),
    Case("plot_top_patches", "channel=-1", call("plot_top_patches", np.zeros((4, 8, 8)), top_result(), -1), V, r"channel must be a non-negative integer; got -1"),
    Case("plot_top_patches", "fewer images than the result indexes", call("plot_top_patches", np.zeros((2, 8, 8)), top_result(), 3), V, r"result\['index'\] must point into images \(2 images\); channel 3 has index 2: pass the images top_patches was given"),
    Case("plot_top_patches", "no 'box'", call("plot_top_patches", np.zeros((4, 8, 8)), {k: v for k, v in top_result().items() if k != "box"}, 0), V, r"result must have the key 'box'; got a mapping with keys \['channels', 'col', 'index', 'layer', 'row', 'value'\]"),
    Case("plot_top_patches", "values for another k", call("plot_top_patches", np.zeros((4, 8, 8)), top_result(value=np.ones((2, 3))), 0), V, r"result\['value'\] must have shape \(2, 2\); got shape \(2, 3\)"),
    Case("plot_top_patches", "a box outside the images", call("plot_top_patches", np.zeros((4, 6, 6)), top_result(), 3), V, r"result\['box'\] of channel 3 must hold boxes .* within the 6x6 image; got \[2, 2, 7, 7\]"),
    Case("plot_top_patches", "a list for a result", call("plot_top_patches", np.zeros((4, 8, 8)), [1, 2], 0), T, r"result must be the dict cnnviz\.channels\.top_patches returns; got list"),
    Case("plot_class_activations", "a 1-D matrix", call("plot_class_activations", np.zeros(16)), V, r"matrix must be a non-empty \(num_classes, channels\) array of mean activations; got shape \(16,\)"),
    Case("plot_class_activations", "3 classes, 10 names", call("plot_class_activations", np.zeros((3, 6))), V, r"class_names must name every class: matrix of shape \(3, 6\) has 3 classes, but class_names has 10 names"),
    Case("plot_class_activations", "an infinite mean", call("plot_class_activations", np.full((10, 6), np.inf)), V, r"matrix must hold finite means, or a whole row of NaN for a class without images; got, outside such rows, 60 NaN or infinite value\(s\)"),
    Case("plot_ablation", "accuracies in percent", call("plot_ablation", ablation_result(accuracy=np.array([80.0, 90.0, 70.0]))), V, r"result\['accuracy'\] must hold accuracies, fractions in \[0, 1\] \(not percentages\); got 80\.0"),
    Case("plot_ablation", "one accuracy per channel missing", call("plot_ablation", ablation_result(accuracy=np.array([0.8, 0.9]))), V, r"result\['accuracy'\] must hold one accuracy per channel, shape \(3,\); got shape \(2,\)"),
    Case("plot_ablation", "no 'intact_accuracy'", call("plot_ablation", {k: v for k, v in ablation_result().items() if k != "intact_accuracy"}), V, r"result must have the key 'intact_accuracy'; got a mapping with keys \['accuracy', 'channels', 'layer'\]"),
    Case("plot_ablation", "channel numbers as floats", call("plot_ablation", ablation_result(channels=np.array([0.0, 1.0, 2.0]))), T, r"result\['channels'\] must hold integers; got dtype float64"),
    # issue 20: export writes only into a new folder or over an earlier export; the page's limits
    Case("explorer.export", "a directory merely holding a file named weights.bin", export(model, own_weights_dir), V, r"holds files that are not an explorer export; give a new or empty directory, or one an earlier export wrote \(it has cnnviz-export\.json, .*\)\. Nothing was written; in the way: 'weights\.bin'"),
    Case("explorer.export", "an earlier export whose cnnviz-export.json is not JSON", export(model, listed_export_dir(["weights.bin"], marker="{")), V, r"has a cnnviz-export\.json that cnnviz cannot read \(it is not JSON: .*\); it says which files an earlier export wrote, so nothing is replaced without it"),
    Case("explorer.export", "a cnnviz-export.json listing '../notes.txt'", export(model, listed_export_dir(["../notes.txt"])), V, r"cnnviz-export\.json that cnnviz cannot read \(it is not an export's list: it must be an object with \"format\": \"cnnviz-explorer-export\" and \"files\", a list of file names\)"),
    Case("explorer.export", "a folder named weights.bin in an earlier export", export(model, listed_export_dir(["index.html"], folder="weights.bin")), V, r"holds a folder \(or other non-file\) named 'weights\.bin' where the export writes a file; nothing was written\. Move or remove it, or give another directory"),
    Case("explorer.export", "an images.json the earlier export did not write", export(model, listed_export_dir(["index.html"], stray="images.json"), images=np.zeros((1, 28, 28), np.uint8), labels=[0]), V, r"holds a file 'images\.json', which the earlier export did not write \(cnnviz-export\.json does not list it\) and this export would overwrite; nothing was written"),
    Case("explorer.export", "a directory that is a broken symbolic link", export(model, broken_link_dir), NotADirectoryError, r"directory names .*page', which is a broken symbolic link, not a directory"),
    Case("explorer.export", "directory=''", lambda: __import__("cnnviz").explorer.export(model(), ""), V, r"directory is an empty path; give '\.' for the current folder"),
    Case("explorer.export", "a model that is only its input", export(bare_model), V, r"model 'bare' has no layer but its input: the page has nothing to run"),
    Case("explorer.export", "a NaN weight", export(nan_weights_model), V, r"layer 'fc' of model 'diverged' has 7840 NaN or infinite value\(s\) in its kernel; the page runs only finite weights"),
    Case("explorer.export", "a batch norm of variance -0.5", export(folded_model(-0.5), class_names=["a", "b"]), V, r"layer 'bn' of model 'm' has moving_variance \+ epsilon = -0\.499, below float32's smallest normal number \(1\.2e-38\), so it normalizes by no finite scale"),
    Case("explorer.export", "a batch norm of variance 0 and epsilon 1e-40", export(folded_model(0.0, epsilon=1e-40), class_names=["a", "b"]), V, r"layer 'bn' of model 'm' has moving_variance \+ epsilon = 9\.99995e-41, below float32's smallest normal number"),
    Case("explorer.export", "a Rescaling by 1e39", export(folded_model(1.0, scale=1e39), class_names=["a", "b"]), V, r"layer 'r' of model 'm' has a scale of 1e\+39, not finite in float32; the page runs finite numbers only"),
    Case("explorer.export", "a pool window larger than its input", export(wide_pool_model), V, r"layer 'wide' \(MaxPooling2D\) of model 'wide_pool' has a pool window of 30x30 on an input of 28x28; the page shows windows that fit in their input"),
    Case("explorer.export", "a ReLU with threshold=nan", export(nan_relu_model), V, r"layer 'r' \(ReLU\) of model 'nan_relu' has threshold=nan, which is not finite"),
    Case("explorer.export", "precision='float64'", export(model, precision="float64"), V, r"precision must be one of \('float32', 'float16'\); got 'float64'"),
    Case("explorer.export", "precision=np.float16, a type, not its name", export(model, precision=np.float16), T, r"precision must be a str, one of \('float32', 'float16'\); got <class 'numpy\.float16'>"),
    Case("explorer.export", "precision=np.dtype('float16')", export(model, precision=np.dtype("float16")), T, r"precision must be a str, one of \('float32', 'float16'\); got dtype\('float16'\)"),
    Case("explorer.export", "a weight of 1e6 with precision='float16'", export(huge_weight_model, precision="float16"), V, r"layer 'fc' of model 'huge' has 1e\+06 in its bias at \(0,\), which rounds beyond float16's largest value, 65504: export it with precision=\"float32\""),
    # issue 20: the input layer as a layer to explain
    Case("grad_cam", "layer=0, the input layer", cnnviz_call("grad_cam", lambda: (small()[0][:2],), layer=0), V, r"layer 0 is " + INPUT_LAYER),
    Case("top_patches", "layer=0, the input layer", cnnviz_call("top_patches", lambda: (small()[0][:4], 0)), V, r"layer 0 is " + INPUT_LAYER),
    Case("class_mean_activations", "layer='input', the input layer by name", cnnviz_call("class_mean_activations", lambda: (small()[0][:4], small()[1][:4], "input")), V, r"layer 'input' is " + INPUT_LAYER),
    Case("channel_ablation", "layer=0, the input layer", cnnviz_call("channel_ablation", lambda: (small()[0][:4], small()[1][:4], 0)), V, r"layer 0 is " + INPUT_LAYER),
    Case("maximize_activation", "layer=0, the input layer", channels_call("maximize_activation", 0, 0, steps=1), V, r"layer 0 is " + INPUT_LAYER),
    Case("receptive_field", "layer=0, the input layer", channels_call("receptive_field", 0), V, r"layer 0 is " + INPUT_LAYER),
    Case("kernels", "layer='input', the input layer by name", channels_call("kernels", "input"), V, r"layer 'input' is " + INPUT_LAYER),
    Case("receptive_box", "layer=-11, the input layer counted from the end", channels_call("receptive_box", -11, 0, 0), V, r"layer -11 is " + INPUT_LAYER),
    Case("kernels", "layer=np.int64(0), the input layer", channels_call("kernels", np.int64(0)), V, r"layer np\.int64\(0\) is " + INPUT_LAYER),
    # issue 20: receptive fields through layers that mix positions; models of any input size
    Case("receptive_field", "a LayerNormalization over the rows, columns and channels", called("receptive_field", lambda: (mixing_model(), "after")), V, r"the units of layer 'after' have no receptive field of one size and jump: layer 'ln' \(LayerNormalization\) mixes a spatial axis: every unit after it sees the whole image .*receptive_box gives each unit's box"),
    Case("receptive_box", "a bilinear upsampling on the way", called("receptive_box", lambda: (bilinear_model(), "conv", 0, 0)), V, r"layer 'up' \(UpSampling2D\) on the way to 'conv' interpolates \('bilinear'\)"),
    Case("receptive_box", "a model of any input size without image_size", called("receptive_box", lambda: (open_size_model(), "conv", 0, 0)), V, r"model 'any_size' takes images of any size \(None, None, 1\), so a unit's box depends on the images' size .*give image_size=\(height, width\)"),
    Case("receptive_box", "image_size=(2, 2), too small for the layers", called("receptive_box", lambda: (open_size_model(), "conv", 0, 0), image_size=(2, 2)), V, r"image_size=\(2, 2\) is too small for layer 'conv' \(Conv2D\) on the way to 'conv': its input would be 2x2 and its output 0x0"),
    Case("receptive_box", "image_size=(32, 32) for a 28x28 model", channels_call("receptive_box", "conv1", 0, 0, image_size=(32, 32)), V, r"image_size must be the size model 'lenet5_valid' takes, \(28, 28\) \(None: any\); got \(32, 32\)"),
    Case("receptive_box", "image_size=28", called("receptive_box", lambda: (open_size_model(), "conv", 0, 0), image_size=28), V, r"image_size must be None or a pair of positive integers \(height, width\); got 28"),
    Case("maximize_activation", "a model of any input size without image_size", called("maximize_activation", lambda: (open_size_model(), "conv", 0), steps=1), V, r"model 'any_size' takes images of any size \(None, None, 1\), so the size of the image to make is open: give image_size=\(height, width\)"),
    Case("maximize_activation", "image_size=(0, 8)", called("maximize_activation", lambda: (open_size_model(), "conv", 0), steps=1, image_size=(0, 8)), V, r"image_size must be None or a pair of positive integers \(height, width\); got \(0, 8\)"),
    # issue 20: scaling (uint8 scaled once behind preprocessing layers, numbers in the images' type, NumPy integers)
    Case("predict", "uint8 images, a first Normalization never adapted", called("predict", lambda: (scaled_model("norm"), small()[0])), V, r"cannot scale uint8 images: cnnviz cannot tell whether model 'scaled' takes pixels in \[0, 1\] or in \[0, 255\], since its first layer that changes pixel values is 'norm' \(Normalization with mean 0 and variance 1\).*give images as floats"),
    Case("evaluate", "uint8 x, a first Normalization never adapted", lambda: evaluate(model=scaled_model("norm")), V, r"cannot scale uint8 x: .*To go on, say which: scale=True divides uint8 pixels by 255 \(a model that takes \[0, 1\]\), scale=False passes them as they are"),
    Case("layer_outputs", "uint8 images, a Lambda before Rescaling", lambda: layer_outputs(scaled_model("lambda", "rescale"), image()), V, r"layer 'mystery' \(Lambda\), which cnnviz cannot look through, comes before 'rescale' \(Rescaling by 0\.003922\).*scale=False"),
    Case("train", "uint8 x, a first Rescaling(2, offset=-1)", lambda: train(model=scaled_model("double")), V, r"cannot scale uint8 x: .*'double' \(Rescaling by 2\), not a division by 16 or more.*scale=True"),
    Case("class_mean_activations", "uint8 images, branches that disagree on the scale", called("class_mean_activations", lambda: (scaled_model("branches"), *small(), "conv")), V, r"cannot scale uint8 images: .*its input branches into paths that disagree"),
    Case("integrated_gradients", "baseline=np.uint8(255), scale unknown", called("integrated_gradients", lambda: (scaled_model("norm"), images_with(0.5)), baseline=np.uint8(255), steps=2), V, r"cannot scale uint8 baseline: .*give baseline as a float in the model's input scale \(baseline / 255 for a model that takes \[0, 1\]"),
    Case("occlusion", "value=np.uint8(255), scale unknown", called("occlusion", lambda: (scaled_model("norm"), images_with(0.5)), value=np.uint8(255)), V, r"cannot scale uint8 value: .*give value as a float"),
    Case("deletion_curve", "value=np.uint8(0), scale unknown", called("deletion_curve", lambda: (scaled_model("norm"), images_with(0.5)[:2], np.zeros((2, 28, 28))), value=np.uint8(0)), V, r"cannot scale uint8 value"),
    Case("plot_layer_outputs", "a uint8 image, a first Normalization never adapted", lambda: __import__("cnnviz").plot_layer_outputs(scaled_model("norm"), image()), V, r"cannot scale uint8 image: .*'norm'.*give image as floats, used as they are \(image / 255 for a model that takes \[0, 1\]"),
    Case("lenet5", "input_shape=(np.True_, 28, 1)", call("lenet5", input_shape=(np.True_, 28, 1)), V, r"three positive integers; got \(np\.True_, 28, 1\)"),
    Case("train", "verbose=np.True_", lambda: train(verbose=np.True_), V, r"verbose must be 'auto', 0, 1 or 2; got np\.True_"),
    # issue 20: messages (classes 4, 6, 12, 13, 14)
    Case("confusion_matrix", "one stray label of 10**6", call("confusion_matrix", [0, 1], [0, 10**6]), V, r"y_pred must hold labels in range\(0, 10000\) \(without a number of classes, at most 10,000\); got 1 outside it, the first 1000000 at index 1"),
    Case("confusion_matrix", "num_classes=10**6", call("confusion_matrix", [0], [0], 10**6), V, r"num_classes must be at most 10,000 \(the most classes cnnviz counts: their matrices grow as the square\); got 1000000"),
    Case("class_mean_activations", "num_classes=10**9", lambda: __import__("cnnviz").class_mean_activations(model(), small()[0][:2], [0, 1], "conv1", num_classes=10**9), V, r"num_classes must be at most 10,000 .*got 1000000000"),
    Case("one_hot", "num_classes=10**9", call("one_hot", [0, 1], 10**9), V, r"num_classes must be at most 10,000 .*got 1000000000"),
    Case("randomization_check", "a method that returns NaN maps", lambda: __import__("cnnviz").randomization_check(model(), small()[0][:2], nan_maps), V, r"method 'nan_maps' must return one finite map per image, \(N, H, W\) = \(2, 28, 28\); on the model it returned 1568 NaN or infinite value\(s\)"),
    Case("randomization_check", "a method that returns (N, H, W, 1)", lambda: __import__("cnnviz").randomization_check(model(), small()[0][:2], maps_with_channels), V, r"method 'maps_with_channels' must return one finite map per image, \(N, H, W\) = \(2, 28, 28\); on the model it returned shape \(2, 28, 28, 1\)"),
    Case("randomization_check", "a method whose maps are all zero", lambda: __import__("cnnviz").randomization_check(model(), small()[0][:2], flat_maps), V, r"method 'flat_maps' must give at least one image a map that is not constant; on the model it returned constant maps for all 2 image\(s\)"),
    Case("train", "a tf.data.Dataset for x", lambda: train(x=endless(), y=None), T, r"x must be an array of images, uint8 \(0 to 255\) or float; got _AssertCardinalityDataset, which is not an array"),
    Case("plot_layer_outputs", "a dataset that never ends for image", cnnviz_call("plot_layer_outputs", lambda: (endless(),)), T, r"image must be one image as an array, \(H, W\) or \(H, W, C\); got _AssertCardinalityDataset: for a tf\.data\.Dataset or a generator, take one image from it first"),
    Case("channel_ablation", "the output layer", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:2], [0, 1], "op"), V, r"layer 'op' is the output of model 'lenet5_valid': no layer runs after it, so there is nothing to run on its changed output; give a layer before the output"),
    Case("plot_layer_outputs", "an image of 32x32", cnnviz_call("plot_layer_outputs", lambda: (np.zeros((32, 32)),)), V, r"image must be one image of the model's input shape \(H, W, C\) = \(28, 28, 1\), or \(H, W\) for one channel; got shape \(32, 32\)"),
    Case("plot_class_activations", "one NaN in a row of means", call("plot_class_activations", np.where(np.eye(10, 6) == 1, np.nan, 0.5)), V, r"matrix must hold finite means, or a whole row of NaN for a class without images; got, outside such rows, 6 NaN or infinite value\(s\), the first at index \(0, 0\) \(nan\)"),
    Case("plot_class_activations", "every row NaN", call("plot_class_activations", np.full((10, 6), np.nan)), V, r"matrix has no class with images: all 10 rows are NaN"),
    Case("layer_outputs", "layers=0.5", lambda: layer_outputs(model(), image(), 0.5), T, r"layers must be a sequence of layer names or indices, e\.g\. \['conv1'\] or \[1\]; got 0\.5"),
    Case("plot_feature_maps", "cmap='zz'", call("plot_feature_maps", np.ones((4, 4, 2)), cmap="zz"), V, r"cmap must be the name of a Matplotlib colormap \(e\.g\. 'gray', 'viridis', 'RdBu_r'\); got 'zz'"),
    Case("plot_feature_maps", "an array for scale", call("plot_feature_maps", np.ones((4, 4, 2)), scale=np.zeros(3)), V, r"scale must be one of \('map', 'layer'\); got an array of shape \(3,\)"),
    Case("plot_feature_maps", "an array for title", call("plot_feature_maps", np.ones((4, 4, 2)), title=np.zeros(3)), T, r"title must be a str or None; got ndarray"),
    Case("plot_probabilities", "class_names='ab'", call("plot_probabilities", np.full(2, 0.5), class_names="ab"), T, r"class_names must be a sequence of names; got 'ab'"),
    Case("plot_attribution", "titles=3", call("plot_attribution", np.zeros((2, 8, 8)), np.zeros((2, 8, 8)), titles=3), T, r"titles must be a sequence of names; got 3"),
    # issue 20: hostile B
    Case("randomization_check", "a method whose maps are beyond float32", lambda: __import__("cnnviz").randomization_check(model(), small()[0][:2], huge_maps), V, r"method 'huge_maps' must return one finite map per image, \(N, H, W\) = \(2, 28, 28\), of values within float32's range \(±3\.403e\+38\), in which result\['maps'\] holds them; on the model it returned values up to 2\.7e\+301: scale the maps"),
    Case("explorer.export", "an earlier export whose cnnviz-export.json links to a folder", export(model, list_linked_to_folder_dir), V, r"has a cnnviz-export\.json that cnnviz cannot read \(it cannot be read: Is a directory\); it says which files an earlier export wrote"),
    Case("layer_outputs", "a stream of 8x8 and 10x9 images, a spatial layer", lambda: layer_outputs(open_size_classifier(), two_sizes(), ["c"]), V, r"images must hold images of one size here: this function returns its outputs of layer 'c' for all of them as one array, and theirs differ in shape from one batch to another \(\(6, 6, 2\), then \(8, 7, 2\)\)"),
    Case("gradients", "a stream of 8x8 and 10x9 images", lambda: __import__("cnnviz").gradients(open_size_classifier(), two_sizes()), V, r"images must hold images of one size here: this function returns its images for all of them as one array, .*give the images of each size in their own call"),
    Case("layer_outputs", "6x6 images for a model of any size whose layers need 7x7", lambda: layer_outputs(too_small_for_model(), np.zeros((2, 6, 6, 1), np.float32), ["b"]), V, r"images \(6x6 pixels\) are too small for model 'net', which takes images of any size but needs them large enough for its layers: Computed output size would be zero or negative"),
    Case("class_mean_activations", "soft labels half class 2, half class 5", lambda: __import__("cnnviz").class_mean_activations(model(), small()[0][:2], np.vstack([(np.eye(10)[2] + np.eye(10)[5]) / 2, np.eye(10)[1]]), "conv1"), V, r"labels must give each image one class: a row's class is its largest entry, but 1 row\(s\) share theirs among classes, the first row 0, largest \(0\.5\) at classes \[2, 5\]"),
    # issue 21: ablation fill
    Case("channel_ablation", "fill='off'", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill="off"), V, r"fill must be one of \('zero', 'mean'\), a number or one number per channel; got 'off'"),
    Case("channel_ablation", "fill of the wrong length", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=np.zeros(5)), V, r"fill must hold one value per channel of layer 'conv1', shape \(6,\); got shape \(5,\)"),
    Case("channel_ablation", "fill of one value per channel per image", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=np.zeros((4, 6))), V, r"fill must hold one value per channel of layer 'conv1', shape \(6,\); got shape \(4, 6\)"),
    Case("channel_ablation", "fill with a NaN", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=[0, 0, np.nan, 0, 0, 0]), V, r"fill must hold finite values; got 1 NaN"),
    Case("channel_ablation", "fill=True", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=True), T, r"fill must be 'zero', 'mean', a real number or one real number per channel; got True"),
    Case("channel_ablation", "fill=None", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=None), T, r"fill must be 'zero', 'mean', a real number or one real number per channel; got None"),
    Case("channel_ablation", "fill of strings", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=["zero"] * 6), T, r"fill must be 'zero', 'mean', a real number or one real number per channel; got an array of dtype <U4"),
    Case("channel_ablation", "fill beyond float32", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=1e40), V, r"fill must fit in layer 'conv1''s output type, float32 \(at most 3\.40282e\+38 in size\); got 1e\+40"),
    Case("channel_ablation", "fill, a masked array", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=np.ma.masked_array(np.zeros(6), mask=[0, 1, 0, 0, 0, 0])), V, r"fill must be 'zero', 'mean', a real number or one real number per channel; got a masked array with masked values"),
    Case("channel_ablation", "fill, a ragged list", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=[1, [2, 3], 4, 5, 6, 7]), V, r"fill must be 'zero', 'mean', a real number or one real number per channel; got list \[1, \[2, 3\]"),
    Case("channel_ablation", "fill of durations", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=np.arange(6).astype("timedelta64[s]")), T, r"fill must be 'zero', 'mean', a real number or one real number per channel; got an array of dtype timedelta64\[s\]"),
    Case("channel_ablation", "fill of complex numbers", lambda: __import__("cnnviz").channel_ablation(model(), small()[0][:4], small()[1][:4], "conv1", fill=np.ones(6) * 1j), T, r"fill must be 'zero', 'mean', a real number or one real number per channel; got an array of dtype complex128"),
    Case("plot_ablation", "result['fill']='noise'", call("plot_ablation", {"layer": "c", "channels": [0], "accuracy": [0.5], "intact_accuracy": 0.5, "fill": "noise"}), V, r"result\['fill'\] must be one of \('zero', 'mean', 'given'\); got 'noise'"),
    Case("channel_ablation", "fill='mean' with a generator", lambda: __import__("cnnviz").channel_ablation(model(), (pair for pair in [small()]), None, "conv1", fill="mean"), T, r"images is an iterator \(generator\), which can be read only once, but fill=\"mean\" reads the images twice: give an array, a tf\.data\.Dataset or a list of batches"),
    # issue 21: the data randomization test (permuted labels, data_randomization_check)
    Case("trained_lenet5", "labels='random'", lambda: trained_lenet5(labels="random"), V, r"labels must be one of \('true', 'permuted'\); got 'random'"),
    Case("cache_path", "labels=True", call("cache_path", labels=True), V, r"labels must be one of \('true', 'permuted'\); got True"),
    Case("data_randomization_check", "random_model='lenet5'", lambda: __import__("cnnviz").data_randomization_check(model(), "lenet5", small()[0][:2]), T, r"random_model must be a keras\.Model; got str"),
    Case("data_randomization_check", "a random_model of three channels", lambda: __import__("cnnviz").data_randomization_check(model(), __import__("cnnviz").lenet5(input_shape=(28, 28, 3)), small()[0][:2]), V, r"random_model must take the images model takes, \(H, W, C\) = \(28, 28, 1\); '\w+' takes \(28, 28, 3\)"),
    Case("data_randomization_check", "a random_model of 3 classes", lambda: __import__("cnnviz").data_randomization_check(model(), __import__("cnnviz").lenet5(num_classes=3), small()[0][:2]), V, r"random_model must give the 10 classes model gives, so that both explain the same class; 'lenet5_valid' gives 3"),
    Case("data_randomization_check", "a random_model that takes pixels in [0, 255]", lambda: __import__("cnnviz").data_randomization_check(model(), scaled_model("rescale"), small()[0][:2]), V, r"random_model must take pixels in the range model takes, \[0\.0, 1\.0\]; 'scaled' takes \[0\.0, 255\.0\]"),
    Case("data_randomization_check", "methods=[]", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], []), V, r"methods must name at least one attribution method; got \[\]"),
    Case("data_randomization_check", "methods=['lime']", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], ["lime"]), V, r"methods must hold attribution methods, names among \('gradients', .*\) or functions; got 'lime'"),
    Case("data_randomization_check", "methods=['gradients', 3]", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], ["gradients", 3]), T, r"methods must hold attribution methods, .* or functions; got 3 \(int\)"),
    Case("data_randomization_check", "methods=3", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], 3), T, r"methods must be an attribution method \(its name or the function\) or a list of them; got int"),
    Case("data_randomization_check", "a method named twice", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], ["gradients", "gradients"]), V, r"methods must name each method once \(the result is keyed by name\); got \['gradients', 'gradients'\], where \['gradients'\] come more than once"),
    Case("data_randomization_check", "options for a method not checked", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], "gradients", options={"smoothgrad": {"samples": 8}}), V, r"options must be keyed by the names of the methods checked, \['gradients'\]; got 'smoothgrad', which is not one of them"),
    Case("data_randomization_check", "options as a list", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], "gradients", options=[("gradients", {})]), T, r"options must map a method's name to its options, e\.g\. \{'smoothgrad': \{'samples': 8\}\}; got list"),
    Case("data_randomization_check", "options={'smoothgrad': 8}", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], "smoothgrad", options={"smoothgrad": 8}), T, r"options\['smoothgrad'\] must map option names to values, e\.g\. \{'samples': 8\}; got 8"),
    Case("data_randomization_check", "an option the method refuses (samples=0)", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], "smoothgrad", options={"smoothgrad": {"samples": 0}}), V, rf"samples {POSITIVE}; got 0"),
    Case("data_randomization_check", "a method whose maps are all zero", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], flat_maps), V, r"method 'flat_maps' must give at least one image a map that is not constant; on model it returned constant maps for all 2 image\(s\)"),
    Case("data_randomization_check", "a method that returns NaN maps", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], nan_maps), V, r"method 'nan_maps' must return one finite map per image, \(N, H, W\) = \(2, 28, 28\); on model it returned 1568 NaN or infinite value\(s\)"),
    Case("data_randomization_check", "target=10 for 10 classes", lambda: __import__("cnnviz").data_randomization_check(model(), model(), small()[0][:2], "gradients", target=10), V, r"target 10 is out of range: the model has 10 classes \(0 to 9\)"),
    Case("data_randomization_check", "a dataset that never ends", cnnviz_call("data_randomization_check", lambda: (model(), endless())), V, r"images is a tf\.data\.Dataset that never ends"),
    # issue 21: occlusion's measure and smoothgrad's kind
    Case("occlusion", "measure='logit'", lambda: __import__("cnnviz").occlusion(model(), image(), measure="logit"), V, r"measure must be one of \('score', 'probability'\); got 'logit'"),
    Case("occlusion", "measure=None", lambda: __import__("cnnviz").occlusion(model(), image(), measure=None), V, r"measure must be one of \('score', 'probability'\); got None"),
    Case("smoothgrad", "kind='abs'", lambda: __import__("cnnviz").smoothgrad(model(), image(), kind="abs"), V, r"kind must be one of \('signed', 'squared', 'absolute'\); got 'abs'"),
    Case("smoothgrad", "kind=True", lambda: __import__("cnnviz").smoothgrad(model(), image(), kind=True), V, r"kind must be one of \('signed', 'squared', 'absolute'\); got True"),
    # issue 21: sanity checks (items 5 and 6: both correlations, independent randomization, blur, baseline orders)
    Case("randomization_check", "cascade='no'", lambda: __import__("cnnviz").randomization_check(model(), small()[0][:2], cascade="no"), T, r"cascade must be True or False; got 'no'"),
    Case("randomization_check", "cascade=1", lambda: __import__("cnnviz").randomization_check(model(), small()[0][:2], cascade=1), T, r"cascade must be True or False; got 1"),
    Case("deletion_curve", "value='blurred'", lambda: __import__("cnnviz").deletion_curve(model(), image(), np.zeros((1, 28, 28)), value="blurred"), V, r"value must be a number \(the fill, in the model's input scale\) or 'blur' \(a blurred copy of each image\); got 'blurred'"),
    Case("insertion_curve", "blur_sigma=0", lambda: __import__("cnnviz").insertion_curve(model(), image(), np.zeros((1, 28, 28)), value="blur", blur_sigma=0), V, r"blur_sigma must be a finite number above 0; got 0"),
    Case("deletion_curve", "blur_sigma=inf", lambda: __import__("cnnviz").deletion_curve(model(), image(), np.zeros((1, 28, 28)), value="blur", blur_sigma=float("inf")), V, r"blur_sigma must be a finite number above 0; got inf"),
    Case("deletion_curve", "maps='shuffled', not a baseline's name", lambda: __import__("cnnviz").deletion_curve(model(), small()[0][:2], "shuffled"), V, r"maps must be one map per image, \(N, H, W\) = \(2, 28, 28\), or a baseline order, one of \('random', 'random_foreground'\); got 'shuffled'"),
    Case("insertion_curve", "seed=-1 for a random order", lambda: __import__("cnnviz").insertion_curve(model(), image(), "random", seed=-1), V, r"seed must be a non-negative integer; got -1"),
    Case("plot_randomization", "an absolute correlation of -1.5", call("plot_randomization", {"layers": ["conv1"], "correlation": np.array([0.2]), "correlation_abs": np.array([-1.5])}), V, r"result\['correlation_abs'\] must hold correlations in \[-1, 1\] \(or NaN where undefined\); got -1\.5"),
    Case("plot_randomization", "an absolute correlation per layer missing", call("plot_randomization", {"layers": ["fc", "conv1"], "correlation": np.array([0.2, 0.1]), "correlation_abs": np.array([0.9])}), V, r"result\['correlation_abs'\] must hold one value per randomized layer, shape \(2,\); got shape \(1,\)"),
    Case("plot_randomization", "cascade='yes' in the result", call("plot_randomization", {"layers": ["conv1"], "correlation": np.array([0.2]), "cascade": "yes"}), T, r"result\['cascade'\] must be True or False; got 'yes'"),
    Case("deletion_curve", "blur_sigma=29 for 28x28 images", lambda: __import__("cnnviz").deletion_curve(model(), image(), "random", value="blur", blur_sigma=29), V, r"blur_sigma must be at most the images' larger side \(28 pixels\) with value='blur': a wider blur makes each image nearly its mean, which a number value gives; got 29"),
    # issue 22: channel pages (plot_receptive_field's margin)
    Case("plot_receptive_field", "a box past the margin", call("plot_receptive_field", np.zeros((28, 28)), {"max_pool2": (-7, -6, 10, 10)}, margin=6), V, r"within the 28x28 image and its margin of 6; got \[-7, -6, 10, 10\]"),
    Case("plot_receptive_field", "a negative margin", call("plot_receptive_field", np.zeros((28, 28)), {"conv1": (0, 0, 5, 5)}, margin=-2), V, r"margin must be a non-negative integer; got -2"),
    # issue 22: the trust page (plot_deletion's bands)
    Case("plot_deletion", "bands='no'", call("plot_deletion", {"fractions": np.linspace(0, 1, 3), "probabilities": np.full((2, 3), 0.5), "auc": np.zeros(2)}, bands="no"), T, r"bands must be True or False; got 'no'"),
    # issue 22: where LeNet-5 looks, where the models fail
    Case("plot_confusion_matrix", "diagonal='hide'", call("plot_confusion_matrix", np.eye(10, dtype=int), diagonal="hide"), V, r"diagonal must be one of \('shade', 'mask'\); got 'hide'"),
    # issue 22: hostile review
    Case("plot_receptive_field", "margin=True", call("plot_receptive_field", np.zeros((28, 28)), {"conv1": (-1, -1, 4, 4)}, margin=True), V, r"margin must be a non-negative integer; got True"),
    Case("plot_receptive_field", "margin=6.0, a float from (field - 1) / 2", call("plot_receptive_field", np.zeros((28, 28)), {"max_pool2": (-6, -6, 10, 10)}, margin=6.0), V, r"margin must be a non-negative integer; got 6\.0"),
    Case("plot_deletion", "bands=None", call("plot_deletion", {"fractions": np.linspace(0, 1, 3), "probabilities": np.full((2, 3), 0.5), "auc": np.zeros(2)}, bands=None), T, r"bands must be True or False; got None"),
    Case("plot_deletion", "bands=1", call("plot_deletion", {"fractions": np.linspace(0, 1, 3), "probabilities": np.full((2, 3), 0.5), "auc": np.zeros(2)}, bands=1), T, r"bands must be True or False; got 1"),
    Case("plot_confusion_matrix", "diagonal=None", call("plot_confusion_matrix", np.eye(10, dtype=int), diagonal=None), V, r"diagonal must be one of \('shade', 'mask'\); got None"),
    Case("plot_confusion_matrix", "diagonal=True", call("plot_confusion_matrix", np.eye(10, dtype=int), diagonal=True), V, r"diagonal must be one of \('shade', 'mask'\); got True"),
    # issue 22: the channel pages' figures (plot_kernels' filters_in_rows)
    Case("plot_kernels", "filters_in_rows='yes'", call("plot_kernels", np.zeros((3, 3, 2, 2)), filters_in_rows="yes"), T, r"filters_in_rows must be True or False; got 'yes'"),
    # issue 22: hostile review 2
    Case("plot_kernels", "filters_in_rows=1", call("plot_kernels", np.zeros((3, 3, 2, 2)), filters_in_rows=1), T, r"filters_in_rows must be True or False; got 1"),
    Case("plot_kernels", "title=b'conv1'", call("plot_kernels", np.zeros((3, 3, 1, 2)), title=b"conv1"), T, r"title must be a str or None; got bytes"),
    Case("plot_ablation", "channel -1", call("plot_ablation", ablation_result(channels=np.array([-1, 0, 1]))), V, r"result\['channels'\] must hold distinct channel numbers of at least 0; got \[-1, 0, 1\]"),
    Case("plot_top_patches", "channel 2 twice", call("plot_top_patches", np.zeros((4, 8, 8)), {**top_result(), "channels": np.array([0, 0])}, 0), V, r"result\['channels'\] must hold distinct channel numbers of at least 0; got \[0, 0\]"),
    # issue 23: shifts
    Case("shift_images", "dy=1.5", call("shift_images", np.zeros((28, 28)), 1.5, 0), T, r"dy must be an integer number of pixels; got 1\.5"),
    Case("shift_images", "dx=True", call("shift_images", np.zeros((28, 28)), 0, True), T, r"dx must be an integer number of pixels; got True"),
    Case("shift_images", "dy=28 for 28x28 images", call("shift_images", np.zeros((2, 28, 28)), 28, 0), V, r"dy must be smaller in size than the images' height, 28 pixels \(a shift of 28 or more leaves nothing\); got dy=28"),
    Case("shift_images", "dx=-9 for images 8 wide", call("shift_images", np.zeros((2, 28, 8, 1)), 0, -9), V, r"dx must be smaller in size than the images' width, 8 pixels .*; got dx=-9"),
    Case("shift_images", "a list of batches", call("shift_images", [np.zeros((2, 28, 28))], 1, 1), T, r"images must be an array of images: \(H, W\), \(N, H, W\) or \(N, H, W, C\); got list \(shift a stream's batches one by one\)"),
    Case("shift_images", "one image with channels, (28, 28, 3)", call("shift_images", np.zeros((28, 28, 3)), 1, 1), V, r"images of shape \(28, 28, 3\) look like one image \(H, W, C\), but a 3-D array is read as a batch of one-channel images \(N, H, W\).*images\[np\.newaxis\]"),
    Case("shift_images", "a row of pixels", call("shift_images", np.zeros(28), 1, 1), V, r"images must be one image \(H, W\), a batch of one-channel images \(N, H, W\) or a batch \(N, H, W, C\); got shape \(28,\)"),
    Case("shift_images", "an array of strings", call("shift_images", np.full((4, 4), "a"), 1, 1), T, r"images must be an array of numbers; got dtype <U1"),
    Case("shift_accuracy", "max_shift=28 for 28x28 images", cnnviz_call("shift_accuracy", lambda: small(), max_shift=28), V, r"max_shift must be smaller than the images' height and width \(28 pixels\), or a shift would leave nothing of them; got max_shift=28"),
    Case("shift_accuracy", "max_shift=-1", cnnviz_call("shift_accuracy", lambda: small(), max_shift=-1), V, r"max_shift must be a non-negative integer \(pixels\); got -1"),
    Case("shift_accuracy", "max_shift=2.0", cnnviz_call("shift_accuracy", lambda: small(), max_shift=2.0), T, r"max_shift must be a non-negative integer \(pixels\); got 2\.0"),
    Case("shift_accuracy", "max_shift=True", cnnviz_call("shift_accuracy", lambda: small(), max_shift=True), T, r"max_shift must be a non-negative integer \(pixels\); got True"),
    Case("shift_accuracy", "max_shift=6 for 5x5 images of a model of any size", lambda: __import__("cnnviz").shift_accuracy(open_size_classifier(), np.zeros((2, 5, 5, 1), np.float32), [0, 1], max_shift=6), V, r"max_shift must be smaller than the images' height and width \(5 pixels\).*got max_shift=6"),
    Case("shift_accuracy", "no labels with an array", cnnviz_call("shift_accuracy", lambda: (small()[0],)), V, r"labels must be given with images as an array"),
    Case("shift_accuracy", "labels beside a stream", cnnviz_call("shift_accuracy", lambda: ([small()], small()[1])), V, r"labels must be None when images is a stream of batches"),
    Case("shift_accuracy", "a stream without labels", cnnviz_call("shift_accuracy", lambda: ([small()[0]],)), V, r"batch 0 of images has no labels: this function needs a stream of \(images, labels\) pairs"),
    Case("shift_accuracy", "labels=10 for 10 classes", cnnviz_call("shift_accuracy", lambda: (small()[0], np.full(64, 10))), V, r"labels must hold labels in range\(0, 10\)"),
    Case("shift_accuracy", "a model without a softmax", lambda: __import__("cnnviz").shift_accuracy(logits_model(), *small()), V, r"model '.*' does not end in a softmax"),
    Case("shift_accuracy", "a dataset that never ends", cnnviz_call("shift_accuracy", lambda: (endless(labelled=True),)), V, r"images is a tf\.data\.Dataset that never ends .*give steps="),
    Case("shift_accuracy", "steps with an array", cnnviz_call("shift_accuracy", lambda: small(), steps=2), V, r"steps bounds the batches read from a stream, but images is an array"),
    Case("shift_consistency", "seed=-1", cnnviz_call("shift_consistency", lambda: (small()[0],), seed=-1), V, r"seed must be a non-negative integer; got -1"),
    Case("shift_consistency", "seed=0.5", cnnviz_call("shift_consistency", lambda: (small()[0],), seed=0.5), V, r"seed must be a non-negative integer; got 0\.5"),
    Case("shift_consistency", "max_shift=30 for 28x28 images", cnnviz_call("shift_consistency", lambda: (small()[0],), max_shift=30), V, r"max_shift must be smaller than the images' height and width \(28 pixels\)"),
    Case("shift_consistency", "max_shift='4'", cnnviz_call("shift_consistency", lambda: (small()[0],), max_shift="4"), T, r"max_shift must be a non-negative integer \(pixels\); got '4'"),
    Case("shift_consistency", "a model without a softmax", lambda: __import__("cnnviz").shift_consistency(logits_model(), small()[0]), V, r"model '.*' does not end in a softmax"),
    Case("shift_consistency", "a dataset that never ends", cnnviz_call("shift_consistency", lambda: (endless(),)), V, r"images is a tf\.data\.Dataset that never ends"),
    Case("equivariance", "layers='conv1', not a list", cnnviz_call("equivariance", lambda: (small()[0][:2],), layers="conv1"), T, r"layers must be a sequence of layer names or indices, e\.g\. \['conv1'\] or \[1\]; got 'conv1'"),
    Case("equivariance", "layers=[]", cnnviz_call("equivariance", lambda: (small()[0][:2],), layers=[]), V, r"layers is empty: give at least one layer name or index, or None for all"),
    Case("equivariance", "layers=['flatten'], no spatial output", cnnviz_call("equivariance", lambda: (small()[0][:2],), layers=["flatten"]), V, r"layer 'flatten' cannot be measured for shift equivariance: its output \(None, 256\) has no spatial axes"),
    Case("equivariance", "layers=[0], the input layer", cnnviz_call("equivariance", lambda: (small()[0][:2],), layers=[0]), V, r"layers holds the input layer 'input': its output is the images, equivariant by definition; give layers after it"),
    Case("equivariance", "layers=['fc9'], no such layer", cnnviz_call("equivariance", lambda: (small()[0][:2],), layers=["fc9"]), V, r"model 'lenet5_valid' has no layer named 'fc9'"),
    Case("equivariance", "a model without feature maps", lambda: __import__("cnnviz").equivariance(logits_model(), small()[0][:2]), V, r"model '.*' has no layer with spatial outputs \(feature maps of at least 2x2 units, whose receptive fields are a fixed number of pixels apart\) to measure"),
    Case("equivariance", "3x3 images for a model of any size: a 1x1 map", lambda: __import__("cnnviz").equivariance(open_size_model(), np.zeros((2, 3, 3, 1), np.float32)), V, r"images of 3x3 pixels give layer 'conv' 1x1 units, fewer than two along an axis"),
    Case("equivariance", "steps with an array", cnnviz_call("equivariance", lambda: (small()[0][:2],), steps=1), V, r"steps bounds the batches read from a stream, but images is an array"),
    Case("pixel_paths", "layer='fc1', no feature maps", channels_call("pixel_paths", "fc1"), V, r"layer 'fc1' must give feature maps \(batch, height, width, channels\); it gives \(None, 120\)"),
    Case("pixel_paths", "layer=0, the input layer", channels_call("pixel_paths", 0), V, r"layer 0 is " + INPUT_LAYER),
    Case("pixel_paths", "layer=1.0", channels_call("pixel_paths", 1.0), T, r"layer must be a layer name \(str\) or an index \(int\); got 1\.0"),
    Case("pixel_paths", "a model of any input size without image_size", called("pixel_paths", lambda: (open_size_model(), "conv")), V, r"model 'any_size' takes images of any size \(None, None, 1\), so the paths depend on the images' size .*give image_size=\(height, width\)"),
    Case("pixel_paths", "image_size=(2, 2), too small for the layers", called("pixel_paths", lambda: (open_size_model(), "conv"), image_size=(2, 2)), V, r"image_size=\(2, 2\) is too small for layer 'conv' \(Conv2D\)"),
    Case("pixel_paths", "image_size=(32, 32) for a 28x28 model", channels_call("pixel_paths", "conv1", image_size=(32, 32)), V, r"image_size must be the size model 'lenet5_valid' takes, \(28, 28\) \(None: any\); got \(32, 32\)"),
    Case("pixel_paths", "image_size=28", called("pixel_paths", lambda: (open_size_model(), "conv"), image_size=28), V, r"image_size must be None or a pair of positive integers \(height, width\); got 28"),
    # issue 23: plots
    Case("plot_shift_accuracy", "what='loss'", call("plot_shift_accuracy", shift_result(), what="loss"), V, r"what must be one of \('accuracy', 'probability'\); got 'loss'"),
    Case("plot_shift_accuracy", "shifts 0 to 2, not -1 to 1", call("plot_shift_accuracy", shift_result(shifts=np.arange(3))), V, r"results\['shifts'\] must be the offsets -m..m in order \(-1 to 1\); got \[0, 1, 2\]"),
    Case("plot_shift_accuracy", "accuracy in percent", call("plot_shift_accuracy", {"valid": shift_result(accuracy=np.full((3, 3), 90.0))}), V, r"results\['valid'\]\['accuracy'\] must hold fractions in \[0, 1\] \(not percentages\); got 90"),
    Case("plot_shift_accuracy", "vmin above vmax", call("plot_shift_accuracy", shift_result(), vmin=0.9, vmax=0.5), V, r"vmin must be below vmax; got vmin=0\.9 and vmax=0\.5"),
    Case("plot_shift_accuracy", "a list of results", call("plot_shift_accuracy", [shift_result()]), T, r"results must be a result of cnnviz\.shift_accuracy .*, or a mapping of titles to them; got \["),
    Case("plot_equivariance", "a layer named twice", call("plot_equivariance", equivariance_result(layers=["conv1", "conv1"])), V, r"results\['layers'\] must name each layer once; got \['conv1'\] twice or more"),
    Case("plot_equivariance", "a cosine similarity of 1.5", call("plot_equivariance", equivariance_result(similarity=np.array([1.5, 0.7]))), V, r"results\['similarity'\] must hold cosine similarities in \[-1, 1\]; got 1\.5"),
    Case("plot_equivariance", "ax=a Figure", lambda: __import__("cnnviz").plot_equivariance(equivariance_result(), ax=__import__("matplotlib.pyplot").pyplot.figure()), T, r"ax must be a Matplotlib Axes or None; got Figure"),
    Case("plot_pixel_paths", "counts as booleans", call("plot_pixel_paths", np.ones((4, 4), dtype=bool)), T, r"paths must hold path counts, integers \(as cnnviz\.pixel_paths gives\); got dtype bool"),
    Case("plot_pixel_paths", "a negative count", call("plot_pixel_paths", {"conv1": -np.ones((4, 4), dtype=np.int64)}), V, r"paths\['conv1'\] must hold path counts of at least 0; got -1"),
    Case("plot_pixel_paths", "log=True with vmax=1", call("plot_pixel_paths", np.ones((4, 4), dtype=np.int64), log=True, vmax=1), V, r"vmax must be above 1 with log=True \(a log scale of counts starts at 1\); got 1$"),
    Case("plot_pixel_paths", "log='yes'", call("plot_pixel_paths", np.ones((4, 4), dtype=np.int64), log="yes"), T, r"log must be True or False; got 'yes'"),
    # issue 23: hostile
    Case("equivariance", "layers=['conv1', 1], one layer twice", cnnviz_call("equivariance", lambda: (small()[0][:2],), layers=["conv1", 1]), V, r"layers must name each layer once \(by name or index\); got \['conv1'\] twice or more"),
    Case("plot_pixel_paths", "a count of 2.5", call("plot_pixel_paths", np.full((4, 4), 2.5)), V, r"paths must hold path counts, whole numbers \(as cnnviz\.pixel_paths gives\); got 2\.5"),
    Case("plot_shift_accuracy", "a result without 'shifts'", call("plot_shift_accuracy", {"accuracy": np.ones((3, 3)), "probability": np.ones((3, 3))}), V, r"results must have the key 'shifts', as a result of cnnviz\.shift_accuracy .* has; got a mapping with keys \['accuracy', 'probability'\]"),
    # issue 23: messages
    Case("shift_accuracy", "one image with channels, one label", lambda: __import__("cnnviz").shift_accuracy(model(), np.zeros((28, 28, 1), np.uint8), [3]), V, r"got 28 images and 1 labels \(images of shape \(28, 28, 1\) are read as 28 one-channel images \(N, H, W\); one image with channels is images\[np\.newaxis\]\)"),
    Case("misclassified", "a model that ends in logits", lambda: __import__("cnnviz").misclassified(small()[1], model=logits_model(), images=small()[0]), V, r"does not end in a softmax, but misclassified ranks mistakes by their class probabilities"),
    # issue 24: layers
    Case("lenet5", "pooling='mean'", call("lenet5", "same", pooling="mean"), V, r"pooling must be one of \('max', 'blur'\); got 'mean'"),
    Case("lenet5", "padding='wrap' (NumPy's name; cnnviz says 'circular')", call("lenet5", "wrap"), V, r"padding must be one of \('valid', 'same', 'reflect', 'circular'\); got 'wrap'"),
    Case("lenet5", "input_shape too small for a mirrored border", call("lenet5", "reflect", input_shape=(4, 4, 1)), V, r"input_shape \(4, 4, 1\) is too small for LeNet-5 with padding='reflect': the height \(4\) is 2 pixels before a 5x5 convolution, whose reflect border of 2 needs at least 3"),
    Case("trained_lenet5", "pooling='avg'", lambda: trained_lenet5(pooling="avg"), V, r"pooling must be one of \('max', 'blur'\); got 'avg'"),
    Case("cache_path", "pooling=None", call("cache_path", "same", pooling=None), V, r"pooling must be one of \('max', 'blur'\); got None"),
    Case("Padding2D", "mode='symmetric'", call("Padding2D", 2, "symmetric"), V, r"mode must be one of \('reflect', 'circular'\); got 'symmetric'"),
    Case("Padding2D", "mode='zeros' (Keras' ZeroPadding2D's job)", call("Padding2D", 2, mode="zeros"), V, r"mode must be one of \('reflect', 'circular'\); got 'zeros'"),
    Case("Padding2D", "padding=-1", call("Padding2D", -1), V, r"padding must be a non-negative integer, a pair \(rows, columns\) or a pair of pairs \(\(top, bottom\), \(left, right\)\) of them; got -1"),
    Case("Padding2D", "padding=(1, 2, 3, 4)", call("Padding2D", (1, 2, 3, 4)), V, r"padding must be a non-negative integer, .*; got \(1, 2, 3, 4\)"),
    Case("Padding2D", "a mirrored border as wide as the image", lambda: __import__("cnnviz").Padding2D(3, "reflect", name="pad")(np.zeros((1, 3, 8, 1), np.float32)), V, r"layer 'pad' \(Padding2D, mode='reflect'\) pads the height by 3 and 3, but its input's height is 3 pixels: a reflect border must be less than the input's height"),
    # issue 25: cka
    Case("cka", "10 examples against 9", call("cka", np.arange(30.0).reshape(10, 3), np.arange(27.0).reshape(9, 3)), V, r"a and b must hold the activations of the same examples, the same number along the first axis; got 10 and 9 \(shapes \(10, 3\) and \(9, 3\)\)"),
    Case("cka", "constant activations (CKA undefined, not NaN)", call("cka", np.full((6, 2), 0.1), np.arange(12.0).reshape(6, 2)), V, r"a is the same for every example \(no variance across the 6 examples\): CKA is undefined"),
    Case("cka", "3 examples with debiased=True", call("cka", np.eye(3), np.eye(3), debiased=True), V, r"the debiased estimator needs at least 4 examples; got 3"),
    Case("cka", "a NaN activation", call("cka", np.array([[0.0], [np.nan], [2.0]]), np.eye(3)), V, r"a must hold finite values; got 1 NaN or infinite value\(s\), the first in example 1"),
    Case("cka", "a string", call("cka", np.eye(3), "conv1"), T, r"b must be an array of activations \(N, \.\.\.\); got 'conv1'"),
    Case("cka", "debiased='yes'", call("cka", np.eye(5), np.eye(5), debiased="yes"), T, r"debiased must be True or False; got 'yes'"),
    # issue 25: layer_similarity
    Case("layer_similarity", "model_b a string", called("layer_similarity", lambda: (model(), "same", small()[0][:8])), T, r"model_b must be a keras\.Model; got str"),
    Case("layer_similarity", "model_b takes 8x8x3 images", called("layer_similarity", lambda: (model(), rgb_model(), small()[0][:8])), V, r"model_a and model_b must take images of the same shape, since both are given the same images; model_a takes \(28, 28, 1\) and model_b \(8, 8, 3\)"),
    Case("layer_similarity", "layers_b='conv1', not a list", cnnviz_call("layer_similarity", lambda: (model(), small()[0][:8]), layers_b="conv1"), T, r"layers_b must be a sequence of layer names or indices, e\.g\. \['conv1'\] or \[1\]; got 'conv1'"),
    Case("layer_similarity", "layers_a=['fc9'], no such layer", cnnviz_call("layer_similarity", lambda: (model(), small()[0][:8]), layers_a=["fc9"]), V, r"model 'lenet5_valid' has no layer named 'fc9'"),
    Case("layer_similarity", "one image", cnnviz_call("layer_similarity", lambda: (model(), small()[0][:1])), V, r"CKA needs at least 2 images; got 1"),
    Case("layer_similarity", "3 images with debiased=True", cnnviz_call("layer_similarity", lambda: (model(), small()[0][:3]), debiased=True), V, r"the debiased estimator needs at least 4 images; got 3"),
    Case("layer_similarity", "a NaN pixel", cnnviz_call("layer_similarity", lambda: (model(), images_with(np.nan))), V, r"images must hold finite values"),
    Case("layer_similarity", "steps with an array", cnnviz_call("layer_similarity", lambda: (model(), small()[0][:8]), steps=2), V, r"steps bounds the batches read from a stream, but images is an array"),
    # issue 25: the plots
    Case("plot_similarity", "cka of 3 columns, 2 names", call("plot_similarity", {"layers_a": ("conv1",), "layers_b": ("conv1", "fc1"), "cka": np.ones((1, 3))}), V, r"result\['layers_b'\] must name every column of result\['cka'\]: 3; got 2 names"),
    Case("plot_similarity", "an infinite CKA", call("plot_similarity", {"layers_a": ("a",), "layers_b": ("b",), "cka": np.array([[np.inf]])}), V, r"result\['cka'\] must hold finite values or NaN \(undefined\); got an infinity"),
    Case("plot_similarity", "labels='valid'", call("plot_similarity", {"layers_a": ("a",), "layers_b": ("b",), "cka": np.ones((1, 1))}, labels="valid"), T, r"labels must be a sequence of names; got 'valid'"),
    Case("plot_matched_channels", "a pair of channel 1.5", call("plot_matched_channels", {"pairs": np.array([[0, 1.5]]), "correlation": np.array([0.5])}, np.zeros((2, 3, 3)), np.zeros((2, 3, 3))), V, r"match\['pairs'\] must hold channel numbers, integers of at least 0; got 1\.5"),
    Case("plot_matched_channels", "channel 3 of 2 pictures", call("plot_matched_channels", {"pairs": np.array([[3, 0]]), "correlation": np.array([0.5])}, np.zeros((2, 3, 3)), np.zeros((2, 3, 3))), V, r"pictures_a must hold one 2-D picture per channel, \(channels, height, width\), at least 4 of them; got shape \(2, 3, 3\)"),
    # issue 25: match_channels
    Case("match_channels", "layer_b=3.5", cnnviz_call("match_channels", lambda: (model(), small()[0][:8], "conv1", 3.5)), T, r"layer_b must be a layer name \(str\) or an index \(int\); got 3\.5"),
    Case("match_channels", "a map against a vector", cnnviz_call("match_channels", lambda: (model(), small()[0][:8], "conv1", "fc1")), V, r"layer_a and layer_b must both give feature maps or both vectors, so that their units pair up; got \(None, 24, 24, 6\) and \(None, 120\)"),
    Case("match_channels", "maps of 24x24 and 7x7", called("match_channels", lambda: (model(), same_model(), small()[0][:8], "conv1", "max_pool2")), V, r"layer_a and layer_b give maps of 24x24 and 7x7 units: they can be paired around their centres only where the sizes differ by an even number of units"),
]  # fmt: skip


# Who a message is about: "<name> must ...", "<name>['key'] must ...", "batch 3 of <name> ...",
# "<name> and <other> must ...", "<name>'s row must ..."; and "got <name> of shape ...",
# "but <name> is ...", where a message names the argument it was given.
_SUBJECT = re.compile(
    r"^(?:batch \d+ of )?(?P<name>[A-Za-z_]\w*)(?P<keys>(?:\[[^\]]*\])*)(?:'s \w+)?"
    r"(?: (?P<value>'[^']*'|-?\d+))?(?: and (?P<other>[A-Za-z_]\w*))?"
    r" (?:\([^)]*\) )?(?:must|is|are|were|gave|holds|has|have|names|of)\b"
)
_GIVEN = re.compile(r"(?:got|but) (?P<name>[a-z_]\w*) (?:of shape|is an array)")
# A part of the model named by its own name ("layer 'fc1' of model 'net' ..."), not an argument.
_PARTS = {"layer", "model"}


def _arguments(function: str) -> set[str]:
    """The names a message of `function` may give: its parameters, and where it passes
    options on (randomization_check and data_randomization_check to the attribution
    methods), theirs."""
    import cnnviz

    value = cnnviz
    for part in function.split("."):
        value = getattr(value, part)
    names = set(inspect.signature(value).parameters)
    if function in ("randomization_check", "data_randomization_check"):
        for method in ("gradients", "smoothgrad", "integrated_gradients", "grad_cam", "occlusion"):
            names |= set(inspect.signature(getattr(cnnviz, method)).parameters)
    if function == "data_randomization_check":
        names.add("method")  # "method 'name' must ...": one of its methods, by that name
    return names


def subjects(message: str) -> list[str]:
    """The argument names `message` is about, as far as its form tells (maybe none)."""
    found = []
    if match := _SUBJECT.match(message):
        named = (match["value"] or "").startswith("'")
        if not (match["name"] in _PARTS and named):
            found += [match["name"], *([match["other"]] if match["other"] else [])]
    found += [given["name"] for given in _GIVEN.finditer(message)]
    return found


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.id for case in CATALOGUE])
def test_bad_input_is_refused_with_a_clear_message(case: Case):
    with pytest.raises(case.error) as raised:
        case.call()
    assert raised.type is case.error, f"raised {raised.type.__name__}, not {case.error.__name__}"
    assert re.search(case.words, str(raised.value)), str(raised.value)
    # A message names the argument as the function's signature spells it (issue 20).
    arguments = _arguments(case.function)
    strangers = [name for name in subjects(str(raised.value)) if name not in arguments]
    assert not strangers, f"{strangers} are not arguments of {case.function}: {raised.value}"


def test_the_subject_of_a_message_is_read_as_the_catalogue_needs():
    assert subjects("y must hold labels in range(0, 10)") == ["y"]
    assert subjects("batch 2 of x has no labels") == ["x"]
    assert subjects("result['maps'] must be (steps + 1, N, H, W)") == ["result"]
    assert subjects("images and y_true must have the same length") == ["images", "y_true"]
    assert subjects("position's row must be an integer") == ["position"]
    assert subjects("the model takes images of shape (8, 8, 1); got baseline of shape (2, 2)") == [
        "baseline"
    ]
    assert subjects("layer 'drop' (Dropout) of model 'net' is not a layer the page can run") == []
    assert subjects("model 'net' is not built") == []
    assert subjects("method 'nan_maps' must return one finite map per image") == ["method"]
    assert subjects("$CNNVIZ_DATA_DIR names '/x'") == []


def test_the_catalogue_covers_the_public_api():
    import cnnviz

    covered = {case.function for case in CATALOGUE}
    # Names that take no input that could be bad: constants and the version.
    nothing_to_refuse = {"CLASS_NAMES", "PADDINGS", "__version__"}
    # A public submodule (cnnviz.explorer) stands for its own public functions.
    public = set()
    for name in cnnviz.__all__:
        value = getattr(cnnviz, name)
        public |= {f"{name}.{f}" for f in value.__all__} if inspect.ismodule(value) else {name}
    assert public - nothing_to_refuse - covered == set()
    assert len(CATALOGUE) >= 100
