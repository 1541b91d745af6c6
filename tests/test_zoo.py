"""The zoo matrix: every public function that takes a model, on every model of the zoo.

Each cell (function x zoo model, ``tests/zoo.py``) must give either a correct
answer, checked against a straightforward computation (the model called
directly, its layers called by hand, ``tf.GradientTape``, a hand-worked
receptive field), or the refusal written down for it in :data:`EXPECTED`: a
ValueError or TypeError raised by cnnviz's own code (the innermost frame is
in the package), whose message names an argument of the function. Anything
else fails the cell: a wrong answer, a crash from deep inside Keras or
TensorFlow, a message that names no argument, a warning where an answer is
expected, a call that does not return within :data:`TIMEOUT` seconds.

A public function joins the matrix by being public: every function of
``cnnviz.__all__`` and ``cnnviz.explorer`` with a parameter named ``model`` must
have a row in :data:`CALLS` (``test_every_function_is_in_the_matrix``).

Cells that fail on the code of today are marked ``xfail(strict=True)`` in
:data:`FAILING` with the class of issue 20 that covers them; when a fix
lands, its cells pass, the strict mark turns that into a failure, and the
mark is removed.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import signal
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf
import zoo
from test_explorer import read_weights

import cnnviz
import cnnviz.explorer

#: Seconds a cell may take; more is a hang (an endless read, a loop). The slowest cells (CKA
#: of a blur model) took about 35 s beside two trainings on the AVX-512 machine, and CPUs
#: without AVX-512 train LeNet-5 several times slower: a hang guard, far from honest times.
TIMEOUT = 300

PACKAGE = Path(cnnviz.__file__).resolve().parent


# --- straightforward computations ------------------------------------------------------------


def _numpy(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def _outputs(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The model's output, called directly in inference mode."""
    return _numpy(model(x, training=False))


def _close(actual, expected, tol: float = 1e-4) -> None:
    """Equal up to float rounding (other graphs, other kernels): relative to the values' size."""
    expected = np.asarray(expected, np.float64)
    # The absolute part is relative to the largest value: gradients with respect to
    # pixels in [0, 255] are a 255th of those in [0, 1], and must be told apart.
    scale = float(np.abs(expected).max(initial=0.0)) or 1.0
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=tol, atol=tol * scale)


def _targets(s: zoo.Specimen, model, x) -> np.ndarray:
    return s.scores(model, x).argmax(axis=1)


def _score_gradients(s: zoo.Specimen, model, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d score[target] / d image, with tf.GradientTape through the layers called by hand."""
    t = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        scores = s.tail(model, s.head(model, t))
        picked = tf.reduce_sum(tf.gather(scores, target, axis=1, batch_dims=1))
    return _numpy(tape.gradient(picked, t))


def _saliency(s, model, x) -> np.ndarray:
    return np.abs(_score_gradients(s, model, x, _targets(s, model, x))).max(axis=-1)


def _top_level(model: keras.Model) -> list[str]:
    """Every layer of ``model.layers`` after the input, in order (a nested model: its output)."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    return [layer.name for layer in layers]


def _top_level_outputs(model: keras.Model, x: np.ndarray) -> dict[str, np.ndarray]:
    names = _top_level(model)
    if isinstance(model, keras.Sequential):
        outputs, h = {}, tf.convert_to_tensor(x)
        for name in names:
            h = model.get_layer(name)(h, training=False)
            outputs[name] = _numpy(h)
        return outputs
    probe = keras.Model(model.inputs[0], [model.get_layer(name).output for name in names])
    return dict(zip(names, (_numpy(out) for out in probe(x, training=False)), strict=True))


def _weighted(model: keras.Model) -> list[str]:
    """Layers with learned weights, nested models' looked into, in order (a Normalization's
    statistics are of the data, and the randomization check keeps them)."""
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += _weighted(layer)
        elif layer.weights and not isinstance(layer, keras.layers.Normalization):
            names.append(layer.name)
    return names


def _find(model: keras.Model, name: str) -> keras.layers.Layer:
    for layer in model.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            with contextlib.suppress(ValueError):
                return _find(layer, name)
    raise ValueError(name)


def _random_maps(x: np.ndarray) -> np.ndarray:
    return np.random.default_rng(5).random(x.shape[:3])


def _curve(s, model, x, maps, steps: int, *, insert: bool) -> np.ndarray:
    """The target's probability with the top fraction of pixels (by `maps`) deleted or inserted."""
    n, h, w = x.shape[:3]
    target = _outputs(model, x).argmax(axis=1)
    order = np.argsort(-maps.reshape(n, -1), axis=1, kind="stable")
    rows = []
    for i in range(steps + 1):
        count = round(i / steps * h * w)
        chosen = np.zeros((n, h * w), bool)
        np.put_along_axis(chosen, order[:, :count], True, axis=1)
        chosen = chosen.reshape(n, h, w, 1)
        changed = np.where(chosen, x, 0.0) if insert else np.where(chosen, 0.0, x)
        rows.append(_outputs(model, changed.astype(np.float32))[np.arange(n), target])
    return np.stack(rows, axis=1)


# --- the calls: one row per public function that takes a model -------------------------------


@dataclass(frozen=True)
class Call:
    """How the matrix calls a function on a zoo model, and how it checks the answer.

    ``run(model, specimen, tmp_path) -> result``; ``check(result, model, specimen)``
    asserts that the answer is right. `images` says whether the function takes
    images (functions that do not skip specimens that differ only in their
    images); `fresh` that it changes the model, so it gets one of its own;
    ``before(model, specimen)``, where given, records what the check needs
    from the model before the call (and the check takes it as a fourth argument).
    """

    run: Callable
    check: Callable
    images: bool = True
    fresh: bool = False
    before: Callable | None = None


def _check_layer_outputs(result, model, s):
    everything, one = result
    expected = _top_level_outputs(model, s.model_input())
    assert list(everything) == list(expected)
    for name, output in expected.items():
        _close(everything[name], output, 1e-5)
    assert list(one) == [s.layer]
    _close(one[s.layer], _numpy(s.head(model, s.model_input())), 1e-5)


def _check_predict(result, model, s):
    assert result.shape == (zoo.COUNT, zoo.CLASSES)
    assert result.dtype == np.float32
    _close(result, _outputs(model, s.model_input()), 1e-5)


def _check_evaluate(result, model, s):
    p = _outputs(model, s.model_input())
    y = s.labels()
    assert result["accuracy"] == np.mean(p.argmax(axis=1) == y)
    # Keras' loss for a softmax's output: -log_softmax of its input, the class scores.
    z = s.scores(model, s.model_input()).astype(np.float64)
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    _close(result["loss"], (lse - z[np.arange(len(y)), y]).mean(), 1e-5)


def _check_misclassified(result, model, s):
    p = _outputs(model, s.model_input()).astype(np.float64)
    predicted = p.argmax(axis=1)
    wrong = np.flatnonzero(predicted != s.labels())
    expected = wrong[np.argsort(-p[wrong, predicted[wrong]], kind="stable")]
    np.testing.assert_array_equal(result, expected)


def _check_gradients(result, model, s):
    assert result.shape == s.model_input().shape[:3]
    _close(result, _saliency(s, model, s.model_input()))


def _check_smoothgrad(result, model, s):
    x = s.model_input()
    assert result.shape == x.shape[:3]
    _close(result, _score_gradients(s, model, x, _targets(s, model, x)).sum(axis=-1))


def _check_integrated(result, model, s):
    x, steps = s.model_input(), 4
    target = _targets(s, model, x)
    total = sum(
        _score_gradients(s, model, (x * np.float32((k + 0.5) / steps)), target)
        for k in range(steps)
    )
    _close(result, (x * total / steps).sum(axis=-1))


def _check_grad_cam(result, model, s):
    at_layer = result[1]  # result[0]: the default layer's maps, checked for their form only
    x = s.model_input()
    for maps in result:
        assert maps.shape == x.shape[:3]
        assert np.isfinite(maps).all()
        assert (maps >= 0).all()
    target = _targets(s, model, x)
    feature = tf.convert_to_tensor(s.head(model, x))
    with tf.GradientTape() as tape:
        tape.watch(feature)
        picked = tf.reduce_sum(tf.gather(s.tail(model, feature), target, axis=1, batch_dims=1))
    weights = tf.reduce_mean(tape.gradient(picked, feature), axis=(1, 2), keepdims=True)
    cam = _numpy(tf.nn.relu(tf.reduce_sum(weights * feature, axis=-1)))
    # Each cell at its unit's field centre, from the hand-worked field: a unit whose box the
    # border leaves whole says where the fields start; linear between centres, the nearest
    # cell's value beyond them; along the columns, then along the rows.
    (height, width), (jump_h, jump_w) = s.field
    (row, col), box = next(
        (unit, box)
        for unit, box in s.boxes.items()
        if (box[2] - box[0], box[3] - box[1]) == (height, width)
    )
    rows = box[0] - row * jump_h + np.arange(cam.shape[1]) * jump_h + (height - 1) / 2
    cols = box[1] - col * jump_w + np.arange(cam.shape[2]) * jump_w + (width - 1) / 2
    h, w = x.shape[1:3]
    placed = np.empty(x.shape[:3])
    for n, cells in enumerate(cam):
        across = np.stack([np.interp(np.arange(w), cols, line) for line in cells])
        placed[n] = np.stack([np.interp(np.arange(h), rows, line) for line in across.T], axis=1)
    # A pixel in no unit's field (the rgb specimen's last row and column: its 3x3 stride-2
    # units on 16 pixels read 0..14) is 0.
    seen_rows = (np.arange(h)[:, None] >= rows - (height - 1) / 2) & (
        np.arange(h)[:, None] <= rows + (height - 1) / 2
    )
    seen_cols = (np.arange(w)[:, None] >= cols - (width - 1) / 2) & (
        np.arange(w)[:, None] <= cols + (width - 1) / 2
    )
    placed[:, ~seen_rows.any(axis=1), :] = 0
    placed[:, :, ~seen_cols.any(axis=1)] = 0
    _close(at_layer, placed)


def _check_occlusion(result, model, s):
    # One window as large as the (square) image hides everything: every pixel's drop is the
    # drop of the class score (by default) or of the output from the image to a black one.
    x = s.model_input()
    rows = np.arange(len(x))
    for maps, measure in zip(result, (s.scores, _outputs), strict=True):
        before = measure(model, x)
        target = before.argmax(axis=1)
        drop = before[rows, target] - measure(model, np.zeros_like(x))[rows, target]
        _close(maps, np.broadcast_to(drop[:, None, None], x.shape[:3]), 1e-5)


def _check_curve(insert: bool):
    def check(result, model, s):
        x = s.model_input()
        np.testing.assert_array_equal(result["fractions"], [0.0, 0.5, 1.0])
        expected = _curve(s, model, x, _random_maps(x), 2, insert=insert)
        _close(result["probabilities"], expected, 1e-5)
        _close(result["auc"], (expected[:, 1:] + expected[:, :-1]).sum(axis=1) / 4, 1e-5)

    return check


def _run_randomization(model, s, _):
    before = [w.copy() for w in model.get_weights()]
    result = cnnviz.randomization_check(model, s.images(), "gradients")
    after = model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True)), "model changed"
    return result


def _check_randomization(result, model, s):
    layers = _weighted(model)[::-1]
    assert result["layers"] == layers
    x = s.model_input()
    assert result["maps"].shape == (len(layers) + 1, *x.shape[:3])
    assert np.isfinite(result["maps"]).all()
    assert result["correlation"].shape == (len(layers),)
    _close(result["maps"][0], _saliency(s, model, x))


def _check_data_randomization(result, model, s):
    # The model against itself: both rows are its saliency maps, and every image whose map
    # varies keeps its order exactly (correlation 1, signed and absolute).
    found = result["gradients"]
    x = s.model_input()
    assert found["maps"].shape == (2, *x.shape[:3])
    _close(found["maps"][0], _saliency(s, model, x))
    np.testing.assert_array_equal(found["maps"][0], found["maps"][1])
    np.testing.assert_array_equal(found["target"], _targets(s, model, x))
    used = ~np.isnan(found["per_image"])
    assert found["n_images"] == used.sum() >= 1
    np.testing.assert_allclose(found["per_image"][used], 1.0)
    np.testing.assert_allclose(found["per_image_abs"][used], 1.0)


def _ablation_labels(model, s) -> np.ndarray:
    """The model's own predictions: with them the intact accuracy is exactly 1, so a model
    run on other pixels than it should shows, which four random labels would hide."""
    if not s.one_input:
        return s.labels()
    return _outputs(model, s.model_input()).argmax(axis=1)


def _check_ablation(result, model, s):
    x, y = s.model_input(), _ablation_labels(model, s)
    feature = _numpy(s.head(model, x))
    channels = feature.shape[-1]
    np.testing.assert_array_equal(result["channels"], np.arange(channels))
    assert result["layer"] == s.layer

    def accuracy(f):
        return np.mean(_numpy(s.tail(model, f)).argmax(axis=1) == y)

    assert result["intact_accuracy"] == accuracy(feature)
    expected = []
    for c in range(channels):
        off = feature.copy()
        off[..., c] = 0
        expected.append(accuracy(off))
    np.testing.assert_array_equal(result["accuracy"], expected)


def _check_class_means(result, model, s):
    feature = _numpy(s.head(model, s.model_input())).astype(np.float64)
    y = s.labels()
    expected = np.stack([feature[y == c].mean(axis=(0, 1, 2)) for c in range(zoo.CLASSES)])
    assert result.shape == expected.shape
    _close(result, expected, 1e-5)


def _check_top_patches(result, model, s):
    feature = _numpy(s.head(model, s.model_input()))
    n, _, width, channels = feature.shape
    flat = feature.reshape(n, -1, channels)
    where = flat.argmax(axis=1)  # (n, C)
    best = flat.max(axis=1)
    order = np.argsort(-best.T, axis=1, kind="stable")[:, :2]  # (C, k)
    assert result["layer"] == s.layer
    np.testing.assert_array_equal(result["index"], order)
    _close(result["value"], np.take_along_axis(best.T, order, axis=1), 1e-5)
    position = np.take_along_axis(where.T, order, axis=1)
    np.testing.assert_array_equal(result["row"], position // width)
    np.testing.assert_array_equal(result["col"], position % width)
    for c, k in np.ndindex(*order.shape):
        row, col = int(result["row"][c, k]), int(result["col"][c, k])
        size = s.model_input().shape[1:3]  # a model of any size is asked for its images' size
        box = cnnviz.receptive_box(model, s.layer, row, col, image_size=size)
        assert tuple(result["box"][c, k]) == box


def _check_kernels(result, model, s):
    np.testing.assert_array_equal(result, _numpy(_find(model, s.conv).kernel))


def _run_boxes(model, s, _):
    return {unit: cnnviz.receptive_box(model, s.layer, *unit) for unit in s.boxes}


def _check_maximize(result, model, s):
    shape = s.model_input().shape[1:]
    assert result.shape == shape
    assert result.dtype == np.float32
    assert np.isfinite(result).all()
    low, high = s.input_range
    assert low <= result.min()
    assert result.max() <= high


def _before_train(model, s):
    """The notebook's way on a twin of the model (same weights): Keras' own fit, one epoch of
    one batch, on the images as the model should receive them; its loss and weights."""
    twin = s.build()
    if s.change is not None:
        s.change(twin)
    twin.set_weights(model.get_weights())
    keras.utils.set_random_seed(0)
    # Eagerly where nothing is random in training: one step needs no compiled graph, and
    # tracing one costs seconds. Dropout and augmentation draw other numbers eagerly.
    twin.compile(
        optimizer=keras.optimizers.Adam(0.001),
        loss="categorical_crossentropy",
        run_eagerly=not s.training_differs,
    )
    y = np.eye(zoo.CLASSES, dtype=np.float32)[s.labels()]
    history = twin.fit(s.model_input(), y, batch_size=zoo.COUNT, epochs=1, verbose=0)
    return history.history["loss"][0], twin.get_weights()


def _run_train(model, s, _):
    return cnnviz.train(model, s.images(), s.labels(), epochs=1, batch_size=zoo.COUNT, verbose=0)


def _check_train(history, model, s, before):
    loss, weights = before
    assert len(history.history["loss"]) == 1
    _close(history.history["loss"][0], loss, 1e-5)
    for mine, theirs in zip(model.get_weights(), weights, strict=True):
        _close(mine, theirs)


def _run_plot(model, s, _):
    figures = cnnviz.plot_layer_outputs(model, s.images()[0], class_names=("a", "b", "c"))
    titles = [figure.get_suptitle() for figure in figures]
    for figure in figures:
        plt.close(figure)
    return titles


def _check_plot(result, model, s):
    outputs = _top_level_outputs(model, s.model_input()[:1])
    assert result == [f"{name} {out.shape[1:]}" for name, out in outputs.items()]


def _flat_layers(model: keras.Model) -> dict[str, keras.layers.Layer]:
    """Every layer of `model` by name, nested models' layers in their place."""
    found = {}
    for layer in model.layers:
        found.update(_flat_layers(layer) if isinstance(layer, keras.Model) else {layer.name: layer})
    return found


def _check_export(result, model, s):
    manifest, weights = read_weights(result)  # checksums and lengths checked there
    (spec,) = manifest["models"]
    data = weights[spec["key"]]
    layers = _flat_layers(model)
    # Every weight array of every layer, bit for bit; batch norm folded as TensorFlow folds
    # it, its scale and offset numbers of the manifest (float32 values).
    for entry in spec["layers"]:
        exported = {
            a["name"]: data[a["offset"] // 4 : a["offset"] // 4 + a["length"]]
            for a in entry["arrays"]
        }
        weights = layers[entry["name"]].get_weights()
        if entry["type"] == "BatchNormalization":
            layer = layers[entry["name"]]
            gamma, beta, mean, variance = (np.asarray(w) for w in layer.weights)
            scale = gamma / np.sqrt(variance + np.float32(layer.epsilon))
            assert entry["arrays"] == []
            np.testing.assert_allclose(np.float32(entry["scale"]), scale, rtol=1e-6)
            np.testing.assert_allclose(
                np.float32(entry["offset"]), beta - mean * scale, rtol=1e-6, atol=1e-7
            )
            continue
        assert len(exported) == len(weights), entry["name"]
        for mine, theirs in zip(exported.values(), weights, strict=True):
            np.testing.assert_array_equal(mine.reshape(theirs.shape), theirs)


# The shift functions (issue 23): the model called once per shift on images moved by hand.

#: The ``max_shift`` and ``seed`` the matrix gives the shift functions.
MAX_SHIFT, SEED = 2, 3


def _moved(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images moved down by `dy` and right by `dx`: rolled, and the pixels that came from
    beyond the edge set to 0."""
    moved = np.roll(x, (dy, dx), axis=(1, 2))
    rows, cols = np.arange(x.shape[1]) - dy, np.arange(x.shape[2]) - dx  # where each came from
    moved[:, (rows < 0) | (rows >= x.shape[1])] = 0
    moved[:, :, (cols < 0) | (cols >= x.shape[2])] = 0
    return moved


def _ties(p: np.ndarray) -> np.ndarray:
    """Images whose two highest outputs are within float rounding: the class may go either way
    in another graph or batch shape."""
    top = np.sort(p, axis=1)
    return top[:, -1] - top[:, -2] < 1e-5


def _check_shift_accuracy(result, model, s):
    m, x, y = MAX_SHIFT, s.model_input(), s.labels()
    np.testing.assert_array_equal(result["shifts"], np.arange(-m, m + 1))
    assert result["count"] == zoo.COUNT
    assert result["accuracy"].shape == result["probability"].shape == (2 * m + 1, 2 * m + 1)
    for dy, dx in np.ndindex(2 * m + 1, 2 * m + 1):
        p = _outputs(model, _moved(x, dy - m, dx - m))
        right = np.sum(p.argmax(axis=1) == y)
        # Equal but for images whose class is a tie; the centre is the plain accuracy.
        assert abs(result["accuracy"][dy, dx] * zoo.COUNT - right) <= _ties(p).sum(), (dy, dx)
        _close(result["probability"][dy, dx], p[np.arange(zoo.COUNT), y].mean(), 1e-5)


def _check_shift_consistency(result, model, s):
    m, x = MAX_SHIFT, s.model_input()
    # The documented draw: four integers per image from default_rng(seed), in the images' order.
    rng = np.random.default_rng(SEED)
    shifts = rng.integers(-m, m + 1, size=(zoo.COUNT, 4)).reshape(zoo.COUNT, 2, 2)
    np.testing.assert_array_equal(result["shifts"], shifts)
    assert result["max_shift"] == m
    assert result["agree"].dtype == np.bool_
    for i, pair in enumerate(shifts):
        first, second = (_outputs(model, _moved(x[i : i + 1], *shift)) for shift in pair)
        same = first.argmax() == second.argmax()
        assert result["agree"][i] == same or _ties(first)[0] or _ties(second)[0], i
    assert result["consistency"] == np.mean(result["agree"])


# Issue 24's variants of LeNet-5: a border of its own, or blur pooling.
_PADDED = {
    "pad1": (1, 1), "conv1": (1, 1), "relu1": (1, 1), "max_pool1": (2, 2),
    "pad2": (2, 2), "conv2": (2, 2), "relu2": (2, 2), "max_pool2": (4, 4),
}  # fmt: skip
_BLURRED = {
    "conv1": (1, 1), "relu1": (1, 1), "max_pool1": (1, 1), "blur_pad1": (1, 1),
    "blur1": (2, 2), "conv2": (2, 2), "relu2": (2, 2), "max_pool2": (2, 2),
    "blur_pad2": (2, 2), "blur2": (4, 4),
}  # fmt: skip

#: Per zoo model, the layers of ``model.layers`` that give feature maps of at least 2x2 units
#: and their jumps (pixels from one unit to the next, rows and columns), worked out by hand.
SPATIAL: dict[str, dict[str, tuple[int, int]]] = {
    "sequential": {"conv": (1, 1), "pool": (2, 2)},
    "functional": {"conv": (1, 1), "relu": (1, 1), "pool": (2, 2)},
    "nested": {"features": (2, 2)},  # the nested model: its output, its inner pool's
    "augmented": {"flip": (1, 1), "rescale": (1, 1), "conv": (1, 1)},
    "normalization": {"norm": (1, 1), "conv": (1, 1), "relu": (1, 1)},
    "normalization_uint8": {"norm": (1, 1), "conv": (1, 1), "relu": (1, 1)},
    "variable_size": {"conv": (1, 1), "pool": (2, 2), "conv2": (2, 2)},
    "rgb": {"conv": (2, 2)},
    "batchnorm_dropout": {"conv": (1, 1), "bn": (1, 1), "relu": (1, 1), "dropout": (1, 1)},
    "residual": {"conv_a": (1, 1), "conv_b": (1, 1), "add": (1, 1), "relu": (1, 1)},
    "logits": {"conv": (1, 1)},
    "changed": {"conv": (1, 1), "pool": (2, 2)},
    "lenet5_reflect": _PADDED,
    "lenet5_circular": _PADDED,
    "lenet5_valid_blur": _BLURRED,
    "lenet5_same_blur": _BLURRED,
}  # fmt: skip


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per image, the cosine of the angle between two maps (1 where both are all zero)."""
    cosines = []
    for u, v in zip(a.reshape(len(a), -1), b.reshape(len(b), -1), strict=True):
        u, v = u.astype(np.float64), v.astype(np.float64)
        both_zero = not u.any() and not v.any()
        cosines.append(1.0 if both_zero else u @ v / np.linalg.norm(u) / np.linalg.norm(v))
    return np.array(cosines)


def _check_equivariance(result, model, s):
    everything, one = result
    x, jumps = s.model_input(), SPATIAL[s.name]
    assert everything["layers"] == list(jumps)
    np.testing.assert_array_equal(everything["jump"], list(jumps.values()))
    assert everything["per_image"].shape == (zoo.COUNT, len(jumps))
    original = _top_level_outputs(model, x)
    for i, (name, jump) in enumerate(jumps.items()):
        # The output for the images moved by one jump, against the output moved by one unit.
        moved = _top_level_outputs(model, _moved(x, *jump))[name]
        expected = _cosine(moved[:, 1:, 1:], original[name][:, :-1, :-1])
        _close(everything["per_image"][:, i], expected, 1e-5)
    _close(everything["similarity"], everything["per_image"].mean(axis=0), 1e-12)
    # The layer asked by name (inside a nested model too), at its hand-worked field's jump.
    jump = s.field[1]
    assert one["layers"] == [s.layer]
    np.testing.assert_array_equal(one["jump"], [jump])
    moved, original = _numpy(s.head(model, _moved(x, *jump))), _numpy(s.head(model, x))
    _close(one["per_image"][:, 0], _cosine(moved[:, 1:, 1:], original[:, :-1, :-1]), 1e-5)


def _taps(t, size: int, stride: int = 1, padding: str = "VALID"):
    """A layer's spatial connections alone: a kernel of ones, one channel, no bias."""
    return tf.nn.conv2d(t, tf.ones((size, size, 1, 1)), stride, padding)


def _mirrored(t, p: int = 2):
    return tf.pad(t, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")


def _wrapped(t, p: int = 2):
    t = tf.concat([t[:, -p:], t, t[:, :p]], axis=1)
    return tf.concat([t[:, :, -p:], t, t[:, :, :p]], axis=2)


def _zeros(t, p: int = 1):
    return tf.pad(t, [[0, 0], [p, p], [p, p], [0, 0]])


def _residual_taps(t):
    a = _taps(t, 3, padding="SAME")
    return a + _taps(a, 3, padding="SAME")


#: Per zoo model, its spatial connections from the pixels to ``specimen.layer`` by hand, as a
#: network of ones (convolutions and poolings as kernels of ones with their strides and
#: padding, merges as sums, layers that act pixel by pixel left out): the gradient of the sum
#: of its output is, at each pixel, the number of paths from it into the layer's units.
PATHS: dict[str, Callable] = {
    "sequential": lambda t: _taps(_taps(t, 3), 2, 2),
    "functional": lambda t: _taps(t, 5, padding="SAME"),
    "nested": lambda t: _taps(_taps(t, 3), 2, 2),
    "augmented": lambda t: _taps(t, 3),
    "normalization": lambda t: _taps(t, 3),
    "variable_size": lambda t: _taps(_taps(t, 3), 2, 2),
    "rgb": lambda t: _taps(t, 3, 2),
    "batchnorm_dropout": lambda t: _taps(t, 3),
    "residual": _residual_taps,
    "logits": lambda t: _taps(t, 3),
    "changed": lambda t: _taps(_taps(t, 3), 2, 2),
    # Issue 24: a border of real pixels hands its taps to the pixels it copies (tf.pad's
    # and the concatenation's gradients add them up there); the blur's zeros take none.
    "lenet5_reflect": lambda t: _taps(_mirrored(_taps(_taps(_mirrored(t), 5), 2, 2)), 5),
    "lenet5_circular": lambda t: _taps(_wrapped(_taps(_taps(_wrapped(t), 5), 2, 2)), 5),
    "lenet5_valid_blur": lambda t: _taps(_zeros(_taps(_taps(t, 5), 2)), 3, 2),
    # Zhang's layout: the stride-1 max takes no padding, the blur's border comes after it.
    "lenet5_same_blur": lambda t: _taps(_zeros(_taps(_taps(t, 5, padding="SAME"), 2)), 3, 2),
}


def _open_size(model, s) -> tuple[int, int] | None:
    """The images' size for a model that takes any size; None where the model has its own."""
    size = s.model_input().shape[1:3]
    return size if None in tuple(model.inputs[0].shape[1:3]) else None


def _check_pixel_paths(result, model, s):
    size = s.model_input().shape[1:3]
    pixels = tf.ones((1, *size, 1))
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        total = tf.reduce_sum(PATHS[s.name](pixels))
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, _numpy(tape.gradient(total, pixels))[0, ..., 0])


# CKA (issue 25): the model against itself, every layer that varies over the images.


def _varying(model, s) -> list[str] | None:
    """The top-level layers whose outputs differ between the images (CKA is undefined for
    the others); None for a model that takes several inputs (refused before any is used)."""
    if len(model.inputs) != 1:
        return None
    outputs = _top_level_outputs(model, s.model_input())
    return [name for name, out in outputs.items() if np.ptp(out, axis=0).any()]


def _run_similarity(model, s, _):
    names = _varying(model, s)
    layers_a = names if names is None or s.layer in (None, *names) else [*names, s.layer]
    return cnnviz.layer_similarity(model, model, s.images(), layers_a=layers_a, layers_b=names)


def _check_similarity(result, model, s):
    x = s.model_input()
    outputs = _top_level_outputs(model, x)
    if s.layer is not None and s.layer not in outputs:
        outputs[s.layer] = _numpy(s.head(model, x))
    expected = [[cnnviz.cka(outputs[a], outputs[b]) for b in result["layers_b"]] for a in
                result["layers_a"]]  # fmt: skip
    assert result["layers_b"] == tuple(_varying(model, s))
    _close(result["cka"], expected, 1e-5)


def _matched_layer(model, s):
    """`s.layer` where each of its channels varies over the images (else their correlations
    are undefined, with a warning), otherwise the model's output; None for two inputs."""
    if len(model.inputs) != 1:
        return None, None
    x = s.model_input()
    if s.layer is not None:
        out = _numpy(s.head(model, x))
        if np.ptp(out.reshape(-1, out.shape[-1]), axis=0).all():
            return s.layer, out
    out = _outputs(model, x)
    return model.layers[-1].name, out


def _run_match(model, s, _):
    layer = _matched_layer(model, s)[0] or "any"
    return cnnviz.match_channels(model, model, s.images(), layer, layer)


def _check_match(result, model, s):
    layer, out = _matched_layer(model, s)
    assert result["layer_a"] == result["layer_b"] == layer
    values = out.reshape(-1, out.shape[-1]).T.astype(np.float64)
    _close(result["matrix"], np.corrcoef(values), 1e-6)
    channels = out.shape[-1]
    np.testing.assert_array_equal(result["pairs"], np.stack([np.arange(channels)] * 2, axis=1))
    _close(result["correlation"], np.ones(channels), 1e-6)


CALLS: dict[str, Call] = {
    "layer_outputs": Call(
        lambda m, s, _: (
            cnnviz.layer_outputs(m, s.images()),
            cnnviz.layer_outputs(m, s.images(), [s.layer]),
        ),
        _check_layer_outputs,
    ),
    "predict": Call(lambda m, s, _: cnnviz.predict(m, s.images()), _check_predict),
    "evaluate": Call(lambda m, s, _: cnnviz.evaluate(m, s.images(), s.labels()), _check_evaluate),
    "misclassified": Call(
        lambda m, s, _: cnnviz.misclassified(s.labels(), model=m, images=s.images()),
        _check_misclassified,
    ),
    "gradients": Call(lambda m, s, _: cnnviz.gradients(m, s.images()), _check_gradients),
    "smoothgrad": Call(
        # Without noise, SmoothGrad is the score's gradient (summed over channels).
        lambda m, s, _: cnnviz.smoothgrad(m, s.images(), samples=1, noise=0.0),
        _check_smoothgrad,
    ),
    "integrated_gradients": Call(
        lambda m, s, _: cnnviz.integrated_gradients(m, s.images(), steps=4), _check_integrated
    ),
    "grad_cam": Call(
        lambda m, s, _: (
            cnnviz.grad_cam(m, s.images()),
            cnnviz.grad_cam(m, s.images(), layer=s.layer),
        ),
        _check_grad_cam,
    ),
    "occlusion": Call(
        lambda m, s, _: (
            cnnviz.occlusion(m, s.images(), window=s.images().shape[1], stride=1),
            cnnviz.occlusion(
                m, s.images(), window=s.images().shape[1], stride=1, measure="probability"
            ),
        ),
        _check_occlusion,
    ),
    "deletion_curve": Call(
        lambda m, s, _: cnnviz.deletion_curve(m, s.images(), _random_maps(s.images()), steps=2),
        _check_curve(insert=False),
    ),
    "insertion_curve": Call(
        lambda m, s, _: cnnviz.insertion_curve(m, s.images(), _random_maps(s.images()), steps=2),
        _check_curve(insert=True),
    ),
    "randomization_check": Call(_run_randomization, _check_randomization, fresh=True),
    "data_randomization_check": Call(
        lambda m, s, _: cnnviz.data_randomization_check(m, m, s.images(), "gradients"),
        _check_data_randomization,
    ),
    "channel_ablation": Call(
        lambda m, s, _: cnnviz.channel_ablation(m, s.images(), _ablation_labels(m, s), s.layer),
        _check_ablation,
    ),
    "class_mean_activations": Call(
        lambda m, s, _: cnnviz.class_mean_activations(m, s.images(), s.labels(), s.layer),
        _check_class_means,
    ),
    "top_patches": Call(
        lambda m, s, _: cnnviz.top_patches(m, s.images(), s.layer, k=2), _check_top_patches
    ),
    "kernels": Call(lambda m, s, _: cnnviz.kernels(m, s.conv), _check_kernels, images=False),
    "receptive_field": Call(
        lambda m, s, _: cnnviz.receptive_field(m, s.layer),
        lambda result, m, s: _equal(result, s.field),
        images=False,
    ),
    "receptive_box": Call(_run_boxes, lambda result, m, s: _equal(result, s.boxes), images=False),
    "maximize_activation": Call(
        lambda m, s, _: cnnviz.maximize_activation(m, s.layer, 0, steps=4),
        _check_maximize,
        images=False,
    ),
    "train": Call(_run_train, _check_train, fresh=True, before=_before_train),
    "plot_layer_outputs": Call(_run_plot, _check_plot),
    "export": Call(
        lambda m, s, tmp: cnnviz.explorer.export(m, tmp / "explorer", class_names=("a", "b", "c")),
        _check_export,
        images=False,
    ),
    "shift_accuracy": Call(
        lambda m, s, _: cnnviz.shift_accuracy(m, s.images(), s.labels(), max_shift=MAX_SHIFT),
        _check_shift_accuracy,
    ),
    "shift_consistency": Call(
        lambda m, s, _: cnnviz.shift_consistency(m, s.images(), max_shift=MAX_SHIFT, seed=SEED),
        _check_shift_consistency,
    ),
    "equivariance": Call(
        lambda m, s, _: (
            cnnviz.equivariance(m, s.images()),
            cnnviz.equivariance(m, s.images(), layers=[s.layer]),
        ),
        _check_equivariance,
    ),
    "pixel_paths": Call(
        lambda m, s, _: cnnviz.pixel_paths(m, s.layer, image_size=_open_size(m, s)),
        _check_pixel_paths,
        images=False,
    ),
    "layer_similarity": Call(_run_similarity, _check_similarity),
    "match_channels": Call(_run_match, _check_match),
}


def _equal(result, expected) -> None:
    assert result == expected


# --- what each cell must do ------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """The cell must be refused: a ValueError or TypeError from cnnviz whose message matches."""

    pattern: str


@dataclass(frozen=True)
class Either:
    """A correct answer, or this refusal or a warning that says it: the issue leaves it open."""

    pattern: str


@dataclass(frozen=True)
class NoGuess:
    """Refused, or answered with a warning, matching `pattern`: never a silent answer."""

    pattern: str


ONE_INPUT = r"model must have exactly one image input; 'zoo_two_inputs' has 2"
NO_SOFTMAX = r"model 'zoo_logits' does not end in a softmax"
# The explorer page draws images of one fixed size with one or three channels (issue 26).
NOT_FIXED = r"model must take images of one fixed size with 1 or 3 channels"
# Where cnnviz cannot tell whether uint8 pixels are to be divided by 255 (issue 20, class 2).
AMBIGUOUS = r"scale=|as floats"  # the way to say the scale outright


def _expected() -> dict[tuple[str, str], object]:
    expected: dict[tuple[str, str], object] = {}
    for function, call in CALLS.items():
        expected[function, "two_inputs"] = Refused(ONE_INPUT)
        if call.images:
            expected[function, "normalization_uint8"] = NoGuess(AMBIGUOUS)
    for function in ("layer_similarity", "match_channels"):
        expected[function, "two_inputs"] = Refused(
            r"model_a must have exactly one image input; 'zoo_two_inputs' has 2"
        )
    for function in ("predict", "evaluate", "misclassified", "train"):
        expected[function, "logits"] = Refused(NO_SOFTMAX)
    # Shift accuracy reads class probabilities, and consistency takes the same classifiers.
    for function in ("shift_accuracy", "shift_consistency"):
        expected[function, "logits"] = Refused(NO_SOFTMAX)
    expected["export", "variable_size"] = Refused(NOT_FIXED)
    # The page runs batch norm, dropout, residual blocks, cnnviz's padding and the blur
    # (issue 26), but not Normalization, and it gives pixels in [0, 1] (the augmented
    # specimen rescales [0, 255] itself).
    expected["export", "normalization"] = Refused(
        r"layer 'norm' \(Normalization\) of model .* not a layer the page can run"
    )
    expected["export", "augmented"] = Refused(
        r"model 'zoo_augmented' takes pixels in \[0, 255\] .*the page gives its models pixels "
        r"in \[0, 1\]"
    )
    # A field through a merge: exact (the largest branch) or refused for the merge.
    for function in ("receptive_field", "receptive_box", "top_patches"):
        expected[function, "residual"] = Either(r"layer 'add' .*several inputs")
    # Augmentation layers are the identity when not training, but cnnviz follows only
    # layers whose geometry it knows back to the pixels: an answer, or a refusal naming them.
    for function in ("receptive_field", "receptive_box", "top_patches"):
        expected[function, "augmented"] = Either(r"layer 'flip' is a RandomFlip")
    # Where the input size is open, a box at the border needs the size (issue 20, class 9):
    # computed from what is known, or refused naming the size; maximization needs the size.
    expected["receptive_box", "variable_size"] = Either(r"size")
    expected["maximize_activation", "variable_size"] = Either(r"size")
    # Maximization of a model that takes Normalization's input: its range cannot be known.
    expected["maximize_activation", "normalization"] = Either(AMBIGUOUS)
    return expected


EXPECTED = _expected()


#: Cells that fail on the code of today, with the issue that covers them (marked strict
#: xfail, so a fix shows): none since issue 20.
FAILING: dict[tuple[str, str], str] = {}


# --- running a cell --------------------------------------------------------------------------


class CellTimeout(BaseException):
    """A cell ran longer than TIMEOUT: a hang (BaseException: no `except Exception` eats it)."""


@contextlib.contextmanager
def _deadline(seconds: int):
    def alarm(signum, frame):
        raise CellTimeout(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_MODELS: dict[str, keras.Model] = {}


def _model(s: zoo.Specimen, fresh: bool) -> keras.Model:
    if fresh or s.change is not None:
        return s.build()
    if s.name not in _MODELS:
        _MODELS[s.name] = s.build()
    return _MODELS[s.name]


@dataclass
class Outcome:
    result: object = None
    error: BaseException | None = None
    caught: list = None


def _attempt(call: Call, model, s, tmp_path) -> Outcome:
    outcome = Outcome(caught=[])
    with warnings.catch_warnings(record=True) as caught, _deadline(TIMEOUT):
        warnings.simplefilter("always")
        try:
            outcome.result = call.run(model, s, tmp_path)
        except (Exception, CellTimeout) as error:  # noqa: BLE001 (every failure is judged below)
            outcome.error = error
    outcome.caught = [w for w in caught if not issubclass(w.category, DeprecationWarning)]
    return outcome


def _clear_refusal(function: Callable, error: BaseException) -> None:
    """Assert that `error` is a refusal at cnnviz's boundary that names an argument."""
    described = "".join(traceback.format_exception(error))
    assert isinstance(error, (ValueError, TypeError)), f"not a ValueError/TypeError:\n{described}"
    frames = traceback.extract_tb(error.__traceback__)
    innermost = Path(frames[-1].filename).resolve()
    assert innermost.is_relative_to(PACKAGE), f"raised outside cnnviz ({innermost}):\n{described}"
    # A raise statement of cnnviz's, not a call into Keras whose own frames were filtered
    # out of the traceback (Keras re-raises its errors with its frames removed).
    assert (frames[-1].line or "").startswith("raise "), f"not a raise of cnnviz's:\n{described}"
    arguments = set(inspect.signature(function).parameters)
    named = {a for a in arguments if re.search(rf"\b{re.escape(a)}\b", str(error))}
    assert named, f"the message names none of {sorted(arguments)}: {error}"


def _function(name: str) -> Callable:
    return getattr(cnnviz.explorer, name) if name == "export" else getattr(cnnviz, name)


def _cells():
    for function, call in CALLS.items():
        for s in zoo.ZOO.values():
            if s.images_only and not call.images:
                continue
            marks = []
            if (function, s.name) in FAILING:
                marks = [pytest.mark.xfail(strict=True, reason=FAILING[function, s.name])]
            yield pytest.param(function, s.name, id=f"{function}-{s.name}", marks=marks)


@pytest.mark.parametrize(("function", "name"), list(_cells()))
def test_cell(function, name, tmp_path):
    s, call = zoo.ZOO[name], CALLS[function]
    model = _model(s, call.fresh)
    if s.change is not None:
        # Used once before the change (whatever it gave), then changed: the answer must be
        # the new model's.
        (tmp_path / "before").mkdir()
        _attempt(call, model, s, tmp_path / "before")
        s.change(model)
    before = None
    if call.before is not None and s.one_input:
        before = call.before(model, s)
    outcome = _attempt(call, model, s, tmp_path)
    expected = EXPECTED.get((function, name))
    error, caught = outcome.error, outcome.caught
    if isinstance(error, CellTimeout):
        pytest.fail(f"{function} on {name}: {error}")
    if isinstance(expected, Refused):
        assert error is not None, f"expected a refusal matching {expected.pattern!r}; got an answer"
        _clear_refusal(_function(function), error)
        assert re.search(expected.pattern, str(error)), (expected.pattern, str(error))
        return
    if isinstance(expected, NoGuess):
        if error is not None:
            _clear_refusal(_function(function), error)
            assert re.search(expected.pattern, str(error)), (expected.pattern, str(error))
            return
        said = [str(w.message) for w in caught]
        assert any(re.search(expected.pattern, text) for text in said), (
            f"a silent answer where cnnviz cannot know; warnings: {said}"
        )
        caught = []  # said: the answer is then checked as the warning says it was made
    if isinstance(expected, Either):
        if error is not None:
            _clear_refusal(_function(function), error)
            assert re.search(expected.pattern, str(error)), (expected.pattern, str(error))
            return
        if any(re.search(expected.pattern, str(w.message)) for w in caught):
            return  # said why it cannot answer for sure
    if error is not None:
        raise AssertionError(f"{function} on {name} raised instead of answering") from error
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    if call.before is None:
        call.check(outcome.result, model, s)
    else:
        call.check(outcome.result, model, s, before)


# --- the matrix itself -------------------------------------------------------------------------


def _public_functions_taking_a_model() -> set[str]:
    found = set()
    for module, names in ((cnnviz, cnnviz.__all__), (cnnviz.explorer, cnnviz.explorer.__all__)):
        for name in names:
            value = getattr(module, name)
            parameters = inspect.signature(value).parameters if inspect.isfunction(value) else {}
            if {"model", "model_a"} & set(parameters):  # one model, or two to compare
                found.add(name)
    return found


def test_every_function_is_in_the_matrix():
    # A new public function that takes a model joins the matrix by being public: it must
    # have a row, and every row must still be a public function.
    assert _public_functions_taking_a_model() == set(CALLS)


def test_every_expectation_is_a_cell():
    cells = {(values[0], values[1]) for values in (p.values for p in _cells())}
    assert set(EXPECTED) <= cells
    assert set(FAILING) <= cells


def test_most_cells_answer():
    # Refusals are the exception: the matrix cannot pass by refusing everywhere.
    cells = [(p.values[0], p.values[1]) for p in _cells()]
    answers = [cell for cell in cells if not isinstance(EXPECTED.get(cell), (Refused, NoGuess))]
    assert len(answers) >= 0.75 * len(cells), (len(answers), len(cells))


def test_zoo_specimens_are_reproducible():
    # Each build gives the same weights, so a cell's answer does not depend on its order.
    for s in zoo.ZOO.values():
        first, second = s.build().get_weights(), s.build().get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True)), s.name


def test_zoo_predictions_vary():
    # A model that gives one class for every image would hide a wrong answer behind a right
    # accuracy; and where images are uint8, scaling them wrongly must change some class.
    for s in zoo.ZOO.values():
        if not s.one_input or s.images_only:
            continue
        model = s.build()
        if s.change is not None:
            s.change(model)
        x = s.model_input()
        classes = _outputs(model, x).argmax(axis=1)
        assert len(set(classes)) >= 2, s.name
        if s.images().dtype == np.uint8:
            wrong = x * 255 if s.scaled else x / 255
            assert (_outputs(model, wrong).argmax(axis=1) != classes).any(), s.name
