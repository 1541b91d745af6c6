"""Shifted images, shift accuracy and consistency, equivariance and pixel paths (cnnviz.shifts)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz import (
    equivariance,
    layer_outputs,
    lenet5,
    pixel_paths,
    predict,
    shift_accuracy,
    shift_consistency,
    shift_images,
)

# --- shift_images -------------------------------------------------------------------------------


def test_shift_images_moves_down_right_and_fills_with_zeros():
    image = np.arange(1, 17).reshape(4, 4)
    shifted = shift_images(image, 1, 2)
    expected = np.zeros((4, 4), dtype=image.dtype)
    expected[1:, 2:] = image[:3, :2]
    np.testing.assert_array_equal(shifted, expected)
    assert shifted.dtype == image.dtype


def test_shift_images_negative_shifts_move_up_left_and_drop_the_pixels_past_the_edge():
    image = np.arange(1, 17).reshape(4, 4)
    np.testing.assert_array_equal(
        shift_images(image, -1, -3), [[8, 0, 0, 0], [12, 0, 0, 0], [16, 0, 0, 0], [0, 0, 0, 0]]
    )


def test_shift_images_of_a_batch_shifts_every_image_and_channel_alike():
    rng = np.random.default_rng(0)
    batch = rng.integers(1, 255, size=(3, 6, 5, 2), dtype=np.uint8)
    shifted = shift_images(batch, -2, 1)
    assert shifted.shape == batch.shape
    assert shifted.dtype == np.uint8
    for i in range(3):
        for c in range(2):
            np.testing.assert_array_equal(shifted[i, ..., c], shift_images(batch[i, ..., c], -2, 1))
    # A (N, H, W) batch, as load_fashion_mnist gives it, shifts the same way.
    np.testing.assert_array_equal(shift_images(batch[..., 0], -2, 1), shifted[..., 0])


def test_shift_images_by_zero_is_a_copy():
    image = np.ones((3, 3), dtype=np.float32)
    shifted = shift_images(image, 0, 0)
    np.testing.assert_array_equal(shifted, image)
    shifted[0, 0] = 5
    assert image[0, 0] == 1


def test_shift_images_composes_where_nothing_falls_off():
    image = np.zeros((8, 8))
    image[3:5, 3:5] = 1
    np.testing.assert_array_equal(
        shift_images(shift_images(image, 2, -1), -1, 3), shift_images(image, 1, 2)
    )


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((np.zeros((4, 4)), 4, 0), ValueError, r"dy must be smaller in size .* 4 pixels"),
        ((np.zeros((4, 5)), 0, -5), ValueError, r"dx must be smaller .* width, 5 pixels"),
        ((np.zeros((4, 4)), 1.0, 0), TypeError, r"dy must be an integer number of pixels"),
        ((np.zeros((4, 4)), 0, True), TypeError, r"dx must be an integer"),
        ((np.zeros((28, 28, 3)), 1, 1), ValueError, r"look like one image \(H, W, C\)"),
        ((np.zeros(4), 1, 1), ValueError, r"got shape \(4,\)"),
        ((np.array([["a"]]), 0, 0), TypeError, r"array of numbers; got dtype <U1"),
        ((iter([np.zeros((1, 4, 4))]), 0, 0), TypeError, r"got list_iterator"),
    ],
)
def test_shift_images_refuses_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        shift_images(*args)


# --- models with known answers --------------------------------------------------------------


def _pointwise_max_model(channels: int = 1, classes: int = 3, seed: int = 0) -> keras.Model:
    """1x1 convolutions and global max pooling: blind to where anything is."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((12, 12, channels))
    h = keras.layers.Conv2D(6, 1, activation="relu", bias_initializer="ones")(inputs)
    h = keras.layers.Conv2D(4, 1)(h)
    h = keras.layers.GlobalMaxPooling2D()(h)
    outputs = keras.layers.Dense(classes, activation="softmax")(h)
    return keras.Model(inputs, outputs)


def _bordered_images(n: int, border: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Random images whose outer `border` pixels are all zero."""
    x = np.zeros((n, 12, 12, channels), dtype=np.float32)
    rng = np.random.default_rng(seed)
    x[:, border:-border, border:-border] = rng.random(
        (n, 12 - 2 * border, 12 - 2 * border, channels)
    )
    return x


def test_a_pointwise_model_is_fully_consistent_on_images_with_an_empty_border():
    model = _pointwise_max_model(channels=2)
    x = _bordered_images(40, 3, channels=2)
    result = shift_consistency(model, x, max_shift=3, seed=1)
    assert result["consistency"] == 1.0
    assert result["agree"].shape == (40,)
    assert result["agree"].all()
    # Its accuracy does not depend on the shift either.
    labels = predict(model, x).argmax(axis=1)
    grid = shift_accuracy(model, x, labels, max_shift=3)
    np.testing.assert_array_equal(grid["accuracy"], np.ones((7, 7)))
    np.testing.assert_allclose(grid["probability"], grid["probability"][3, 3], rtol=1e-6)


def test_shift_images_says_how_to_give_a_narrow_batch():
    # (2, 5, 3) is refused as one image with channels: the message said only how to give
    # one image, not how to give the batch of 3-pixel-wide images it might be.
    batch = np.arange(30.0).reshape(2, 5, 3)
    with pytest.raises(ValueError, match=r"3 pixels wide with a channel axis, images\[\.\.\., np"):
        shift_images(batch, 0, 1)
    np.testing.assert_array_equal(shift_images(batch[..., np.newaxis], 0, 1)[..., 0, 0], 0)


# --- shift_accuracy -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model() -> keras.Model:
    keras.utils.set_random_seed(3)
    inputs = keras.Input((12, 12, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(3, activation="softmax", kernel_initializer="he_normal")(h)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def small_images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.random((30, 12, 12, 1)).astype(np.float32), rng.integers(0, 3, 30)


def test_shift_accuracy_equals_one_prediction_per_shift(small_model, small_images):
    x, y = small_images
    result = shift_accuracy(small_model, x, y, max_shift=2)
    np.testing.assert_array_equal(result["shifts"], [-2, -1, 0, 1, 2])
    assert result["count"] == 30
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            p = predict(small_model, shift_images(x, dy, dx))
            assert result["accuracy"][dy + 2, dx + 2] == pytest.approx(
                np.mean(p.argmax(axis=1) == y), abs=1.5 / 30
            )
            np.testing.assert_allclose(
                result["probability"][dy + 2, dx + 2], p[np.arange(30), y].mean(), rtol=1e-5
            )


def test_shift_accuracy_centre_is_the_plain_accuracy(small_model, small_images):
    x, y = small_images
    result = shift_accuracy(small_model, x, y, max_shift=1)
    plain = np.mean(predict(small_model, x).argmax(axis=1) == y)
    assert result["accuracy"][1, 1] == pytest.approx(plain, abs=1.5 / 30)


def test_shift_accuracy_of_a_stream_equals_that_of_the_array(small_model, small_images):
    x, y = small_images
    whole = shift_accuracy(small_model, x, y, max_shift=2)
    stream = shift_accuracy(
        small_model, [(x[i : i + 7], y[i : i + 7]) for i in range(0, 30, 7)], max_shift=2
    )
    assert stream["count"] == 30
    np.testing.assert_allclose(stream["accuracy"], whole["accuracy"], atol=1.5 / 30)
    np.testing.assert_allclose(stream["probability"], whole["probability"], rtol=1e-5)
    # One-hot labels count as their classes.
    onehot = shift_accuracy(small_model, x, np.eye(3)[y], max_shift=2)
    np.testing.assert_array_equal(onehot["accuracy"], whole["accuracy"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"max_shift": 12},
            ValueError,
            r"max_shift must be smaller than the images' .* \(12 pixels\)",
        ),
        ({"max_shift": -1}, ValueError, r"max_shift must be a non-negative integer .* got -1"),
        ({"max_shift": 1.5}, TypeError, r"max_shift must be a non-negative integer .* got 1\.5"),
    ],
)
def test_shift_accuracy_refuses_bad_shifts(small_model, small_images, kwargs, error, match):
    x, y = small_images
    with pytest.raises(error, match=match):
        shift_accuracy(small_model, x, y, **kwargs)


def test_shift_accuracy_needs_labels_for_an_array(small_model, small_images):
    with pytest.raises(ValueError, match="labels must be given"):
        shift_accuracy(small_model, small_images[0])


def _one_prediction_per_shift(model, x, y, m):
    side = 2 * m + 1
    accuracy, probability = np.zeros((side, side)), np.zeros((side, side))
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            p = predict(model, shift_images(x, dy, dx))
            accuracy[dy + m, dx + m] = np.mean(p.argmax(axis=1) == y)
            probability[dy + m, dx + m] = p[np.arange(len(y)), y].mean()
    return accuracy, probability


def _strided_valid_model() -> keras.Model:
    """valid layers of every kind the shifts share, with strides, dilation and odd sizes."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((15, 13, 2))
    h = keras.layers.Conv2D(5, 3, activation="relu", bias_initializer="ones")(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Dropout(0.5)(h)
    h = keras.layers.MaxPooling2D(3, strides=2)(h)
    h = keras.layers.DepthwiseConv2D(2, dilation_rate=1)(h)
    h = keras.layers.Conv2D(6, (2, 1), strides=(1, 2), dilation_rate=1)(h)
    h = keras.layers.LeakyReLU()(h)
    h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(4, activation="softmax", kernel_initializer="he_normal")(h)
    model = keras.Model(inputs, outputs)
    # Batch statistics other than 0 and 1, so that the normalisation does something.
    bn = model.layers[2]
    bn.set_weights([w + np.linspace(0.2, 0.9, w.size).astype("float32") for w in bn.get_weights()])
    return model


@pytest.mark.parametrize("max_shift", [1, 4])
def test_shift_accuracy_shares_a_valid_prefix_and_equals_one_prediction_per_shift(max_shift):
    # The layers before Flatten run once per phase of their jump on the images framed by
    # zeros, and only the rest once per shift: the same answer as one pass per shift.
    from cnnviz import shifts

    model = _strided_valid_model()
    shared = shifts._shared_prefix(model, max_shift, (15, 13, 2))
    assert shared is not None
    if max_shift == 4:  # 81 shifts: it shares past the pooling's stride, one run per phase
        assert max(shared[2]) > 1
    rng = np.random.default_rng(9)
    x = rng.random((37, 15, 13, 2)).astype(np.float32)
    y = rng.integers(0, 4, 37)
    result = shift_accuracy(model, x, y, max_shift=max_shift)
    accuracy, probability = _one_prediction_per_shift(model, x, y, max_shift)
    # Near ties may change class where the two ways round differently: one image at most.
    np.testing.assert_allclose(result["accuracy"], accuracy, atol=1.5 / 37)
    np.testing.assert_allclose(result["probability"], probability, rtol=1e-5)


def _same_model(kind: str) -> keras.Model:
    """Models whose first layers read padding: units at the border must be mended."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((15, 13, 2))
    layers = keras.layers
    if kind == "same convolution and pooling":
        h = layers.Conv2D(4, 3, padding="same", activation="relu", bias_initializer="ones")(inputs)
        h = layers.MaxPooling2D(2)(h)
        h = layers.Conv2D(3, 3, padding="same")(h)
    elif kind == "even kernel, dilation, same averaging":
        h = layers.Conv2D(4, (4, 2), padding="same", dilation_rate=(1, 2))(inputs)
        h = layers.ReLU()(h)
        h = layers.AveragePooling2D(3, strides=2, padding="same")(h)
    elif kind == "normalisation first":  # zero in, not zero out: the frame is not padding
        h = layers.BatchNormalization(beta_initializer="ones")(inputs)
        h = layers.Conv2D(3, 5, padding="same", activation="elu")(h)
        h = layers.MaxPooling2D(3, strides=3, padding="same")(h)
    elif kind == "strided same":  # the padding before depends on the size's parity
        h = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inputs)
        h = layers.DepthwiseConv2D(3, padding="same")(h)
    else:  # same, then valid
        h = layers.Conv2D(4, 5, padding="same", activation="relu")(inputs)
        h = layers.MaxPooling2D(2)(h)
        h = layers.Conv2D(3, 3)(h)
    head = keras.initializers.RandomNormal(stddev=2.0, seed=1)
    outputs = layers.Dense(4, activation="softmax", kernel_initializer=head)(layers.Flatten()(h))
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("max_shift", [1, 4])
@pytest.mark.parametrize(
    "kind",
    [
        "same convolution and pooling",
        "even kernel, dilation, same averaging",
        "normalisation first",
        "strided same",
        "same, then valid",
    ],
)
def test_shift_accuracy_shares_same_padding_and_mends_the_border(kind, max_shift, monkeypatch):
    # The framed images' run is right away from the border; the units that read padding
    # are run again on strips of the moved images. Images with nothing empty at their
    # border: the pixels moved past the edge are read by the framed run, not by the true.
    # Whether sharing pays is the cost model's call: mending and moving are made free
    # here, so that every model shares past its padding and its mending is checked.
    from cnnviz import shifts

    monkeypatch.setattr(shifts, "_mending_cost", lambda *args: 0.0)
    monkeypatch.setattr(shifts, "_MOVE", 0)
    model = _same_model(kind)
    shared = shifts._shared_prefix(model, max_shift, (15, 13, 2))
    assert shared is not None
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in shared[0].layers)
    rng = np.random.default_rng(3)
    x = rng.random((29, 15, 13, 2)).astype(np.float32) + 0.5
    y = rng.integers(0, 4, 29)
    result = shift_accuracy(model, x, y, max_shift=max_shift)
    accuracy, probability = _one_prediction_per_shift(model, x, y, max_shift)
    np.testing.assert_allclose(result["accuracy"], accuracy, atol=1.5 / 29)
    np.testing.assert_allclose(result["probability"], probability, rtol=1e-5)


@pytest.mark.parametrize("pooling", [keras.layers.MaxPooling2D, keras.layers.AveragePooling2D])
def test_a_same_pooling_first_is_mended_where_the_frame_is_not_its_padding(pooling, monkeypatch):
    # A pooling leaves its padding out (the max of negative pixels is not 0, an average
    # counts only the pixels): the framed images' zeros are not its padding even on the
    # side the shift moved away from. Taken for padding, the border units went unmended
    # and the mean probability of the true class was off by tens of percent.
    from cnnviz import shifts

    monkeypatch.setattr(shifts, "_mending_cost", lambda *args: 0.0)
    monkeypatch.setattr(shifts, "_MOVE", 0)
    keras.utils.set_random_seed(5)
    inputs = keras.Input((8, 7, 2))
    h = pooling(3, strides=1, padding="same")(inputs)
    h = keras.layers.Conv2D(3, 1)(h)
    head = keras.initializers.RandomNormal(stddev=2.0, seed=1)
    outputs = keras.layers.Dense(4, activation="softmax", kernel_initializer=head)(
        keras.layers.Flatten()(h)
    )
    model = keras.Model(inputs, outputs)
    shared = shifts._shared_prefix(model, 2, (8, 7, 2))
    assert shared is not None
    assert isinstance(shared[0].layers[0], pooling)  # the shared chain starts with it
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 8, 7, 2)).astype(np.float32)  # negative pixels too
    y = rng.integers(0, 4, 7)
    result = shift_accuracy(model, x, y, max_shift=2)
    accuracy, probability = _one_prediction_per_shift(model, x, y, 2)
    np.testing.assert_allclose(result["accuracy"], accuracy, atol=1.5 / 7)
    np.testing.assert_allclose(result["probability"], probability, rtol=1e-5)


def test_strips_give_no_map_of_one_unit_that_tensorflow_gets_wrong(monkeypatch):
    # TensorFlow's CPU Conv2D gives garbage for one output column with a column stride,
    # one input channel and more than one image. The shortest strip that mends the last
    # column here is 2 pixels wide (one output column): the answers were wrong at every
    # shift to the right. The strip is 4 pixels wide now, two output columns.
    from cnnviz import shifts

    monkeypatch.setattr(shifts, "_mending_cost", lambda *args: 0.0)
    monkeypatch.setattr(shifts, "_MOVE", 0)
    keras.utils.set_random_seed(5)
    inputs = keras.Input((6, 6, 1))
    h = keras.layers.Conv2D(3, 3, strides=(1, 2), padding="same")(inputs)
    head = keras.initializers.RandomNormal(stddev=2.0, seed=1)
    outputs = keras.layers.Dense(4, activation="softmax", kernel_initializer=head)(
        keras.layers.Flatten()(h)
    )
    model = keras.Model(inputs, outputs)
    _, _, jump, size, bands = shifts._shared_prefix(model, 1, (6, 6, 1))
    assert (jump, size) == ((1, 2), (6, 3))
    wrong, strips, gots = bands[1]
    assert wrong == ((0, 0), (0, 0), (0, 1))  # the last column, moved right
    assert (strips[1], gots[1]) == (4, 2)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 6, 6, 1)).astype(np.float32), rng.integers(0, 4, 5)
    result = shift_accuracy(model, x, y, max_shift=1)
    accuracy, probability = _one_prediction_per_shift(model, x, y, 1)
    np.testing.assert_allclose(result["accuracy"], accuracy, atol=1.5 / 5)
    np.testing.assert_allclose(result["probability"], probability, rtol=1e-5)


def test_the_cost_of_mending_is_counted_per_strip_not_per_shift(monkeypatch):
    # Choosing where to share weighed every shift's strips one by one: 0.8 s for LeNet-5
    # (same) at max_shift=6, minutes for 64x64 images at 40. A strip's cost depends on its
    # size alone: each is weighed once, however many shifts, and counted by the shifts.
    from cnnviz import shifts

    model = lenet5("same")
    chain, channels = model.layers[1:4], [1, 6, 6, 6]  # conv1, relu1, max_pool1
    bands = shifts._shared_prefix(model, 6, (28, 28, 1))[4]
    sizes = []
    chain_ops = shifts._chain_ops

    def counted(layers, size, memo=None):
        sizes.append(size)
        return chain_ops(layers, size, memo)

    monkeypatch.setattr(shifts, "_chain_ops", counted)
    costs = [shifts._mending_cost(chain, bands, (28, 28), m, (2, 2), channels) for m in (3, 12)]
    # Per axis a 4-pixel strip at each end (moved up: the top; down: the bottom), across
    # the framed images, for m shifts in each of the other axis' 2 phases; a 4x4 corner
    # for each of the 4 pairs of ends, for the m * m shifts moved both ways.
    # Each size weighed once per m, whatever m: the rows' band, the columns', a corner.
    assert sorted(sizes) == sorted([(4, 34), (34, 4), (4, 4), (4, 52), (52, 4), (4, 4)])
    for m, cost in zip((3, 12), costs, strict=True):
        band = sum(shifts._macs(chain, chain_ops(chain, (4, 28 + 2 * m)), channels))
        corner = sum(shifts._macs(chain, chain_ops(chain, (4, 4)), channels))
        assert cost == pytest.approx(2 * 2 * m * 2 * band + 4 * m * m * corner)


def test_choosing_the_shared_layers_reads_each_layer_once_per_size(monkeypatch):
    # Reading a layer's settings (get_config) was most of the seconds the choice took for
    # large models: every prefix and strip length read the whole chain again.
    from cnnviz import _geometry, shifts

    read = []
    ops = _geometry._ops

    def counted(layer, size, target):
        read.append((layer.name, size))
        return ops(layer, size, target)

    monkeypatch.setattr(_geometry, "_ops", counted)
    first = shifts._choose_prefix(lenet5("same"), 6)[0]
    assert first.layers[-1].name == "max_pool1"
    assert ("conv1", (28, 28)) in read
    assert len(read) == len(set(read))


def test_lenet5_same_shares_its_first_pooling_and_mends_one_pooled_row_and_column():
    # conv1's units within 2 pixels of the edge read padding; where the garment left by
    # that edge, the framed run read its dropped pixels there: one pooled row (column)
    # at that side is run again on a 4-pixel strip of the moved images.
    from cnnviz import shifts

    first, _, jump, size, bands = shifts._shared_prefix(lenet5("same"), 6, (28, 28, 1))
    assert first.layers[-1].name == "max_pool1"
    assert (jump, size) == ((2, 2), (14, 14))
    for axis in (0, 1):
        wrong, strips, _ = bands[axis]
        assert wrong == ((1, 0), (0, 0), (0, 1))  # moved up (left), not moved, down (right)
        assert strips == (4, 4)


def test_shift_accuracy_shares_nothing_past_a_skip_connection():
    from cnnviz import shifts

    keras.utils.set_random_seed(6)
    inputs = keras.Input((10, 10, 1))
    a = keras.layers.Conv2D(3, 3, activation="relu")(inputs)
    b = keras.layers.Conv2D(3, 3, padding="same")(a)
    h = keras.layers.Add()([a, b])  # a is read twice: not a chain past it
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    shared = shifts._shared_prefix(model, 2, (10, 10, 1))
    assert shared is not None
    assert shared[3] == (8, 8)  # up to a, whose 8x8 units it cuts, and no further
    rng = np.random.default_rng(2)
    x, y = rng.random((20, 10, 10, 1)).astype(np.float32), rng.integers(0, 3, 20)
    result = shift_accuracy(model, x, y, max_shift=2)
    accuracy, probability = _one_prediction_per_shift(model, x, y, 2)
    np.testing.assert_allclose(result["accuracy"], accuracy, atol=1.5 / 20)
    np.testing.assert_allclose(result["probability"], probability, rtol=1e-5)


@pytest.mark.parametrize("where", ["Activation layer", "Conv2D's activation"])
def test_shift_accuracy_shares_nothing_past_an_activation_that_may_mix_positions(where):
    # An activation given as a callable of one's own may read the whole map (here: each
    # channel divided by its largest value), so a framed image's output is not a cut of
    # the shifted image's: only Keras' own activations, which act on each position, are
    # shared. Shared, it gave a third of these images another class at some shifts.
    from cnnviz import shifts

    def by_largest(t):
        return t / (1e-3 + keras.ops.max(keras.ops.abs(t), axis=(1, 2), keepdims=True))

    keras.utils.set_random_seed(3)
    inputs = keras.Input((12, 12, 1))
    if where == "Activation layer":
        h = keras.layers.Activation(by_largest)(keras.layers.Conv2D(4, 3)(inputs))
    else:
        h = keras.layers.Conv2D(4, 3, activation=by_largest)(inputs)
    h = keras.layers.Conv2D(3, 2)(keras.layers.MaxPooling2D()(h))
    head = keras.initializers.RandomNormal(stddev=3.0, seed=1)
    outputs = keras.layers.Dense(3, activation="softmax", kernel_initializer=head)(
        keras.layers.Flatten()(h)
    )
    model = keras.Model(inputs, outputs)
    shared = shifts._shared_prefix(model, 2, (12, 12, 1))
    # Shared at most up to the convolution before it (an Activation layer after it).
    assert shared is None or all(
        getattr(layer, "activation", None) is not by_largest for layer in shared[0].layers
    )
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 12, 12, 1)).astype(np.float32), rng.integers(0, 3, 6)
    result = shift_accuracy(model, x, y, max_shift=2)
    accuracy, probability = _one_prediction_per_shift(model, x, y, 2)
    np.testing.assert_allclose(result["accuracy"], accuracy, atol=1.5 / 6)
    np.testing.assert_allclose(result["probability"], probability, rtol=1e-5)


def test_a_model_without_a_softmax_is_refused_for_what_the_function_needs():
    # The message spoke of "the recipe's loss", a training recipe these functions do not run.
    inputs = keras.Input((12, 12, 1))
    logits = keras.layers.Dense(3)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, logits)
    x = np.zeros((2, 12, 12, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="mean probability of the true class") as raised:
        shift_accuracy(model, x, [0, 1])
    assert "recipe" not in str(raised.value)
    with pytest.raises(ValueError, match="shift_consistency takes a classifier") as raised:
        shift_consistency(model, x)
    assert "recipe" not in str(raised.value)


# --- shift_consistency -------------------------------------------------------------------------


def test_shift_consistency_agrees_with_the_shifts_it_drew(small_model, small_images):
    x, _ = small_images
    result = shift_consistency(small_model, x, max_shift=3, seed=7)
    shifts = result["shifts"]
    assert shifts.shape == (30, 2, 2)
    assert shifts.dtype == np.int64
    assert shifts.min() >= -3
    assert shifts.max() <= 3
    expected = []
    for image, pair in zip(x, shifts, strict=True):
        classes = [predict(small_model, shift_images(image[None], *s)).argmax() for s in pair]
        expected.append(classes[0] == classes[1])
    np.testing.assert_array_equal(result["agree"], expected)
    assert result["consistency"] == pytest.approx(np.mean(expected))
    assert result["max_shift"] == 3


def test_shift_consistency_same_seed_same_answer_however_batched(small_model, small_images):
    x, _ = small_images
    first = shift_consistency(small_model, x, seed=11, max_shift=2)
    again = shift_consistency(small_model, [x[:4], x[4:17], x[17:]], seed=11, max_shift=2)
    np.testing.assert_array_equal(first["shifts"], again["shifts"])
    np.testing.assert_array_equal(first["agree"], again["agree"])
    other = shift_consistency(small_model, x, seed=12, max_shift=2)
    assert not np.array_equal(other["shifts"], first["shifts"])


def test_shift_consistency_draws_every_offset_uniformly():
    model = _pointwise_max_model()
    x = np.zeros((4000, 12, 12, 1), dtype=np.float32)
    shifts = shift_consistency(model, x, max_shift=2, seed=0)["shifts"].reshape(-1)
    counts = np.bincount(shifts + 2, minlength=5)
    # 16,000 draws of 5 values: each about 3,200 (sd about 51).
    assert counts.min() > 3000
    assert counts.max() < 3400


def test_shift_consistency_refuses_a_bad_seed(small_model, small_images):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        shift_consistency(small_model, small_images[0], seed=-1)


# --- equivariance ----------------------------------------------------------------------------


def test_a_valid_network_is_equivariant_on_the_units_it_has():
    x = np.random.default_rng(0).random((6, 28, 28, 1)).astype(np.float32)
    result = equivariance(lenet5("valid"), x)
    assert result["layers"] == ["conv1", "relu1", "max_pool1", "conv2", "relu2", "max_pool2"]
    np.testing.assert_array_equal(result["jump"], [[1, 1], [1, 1], [2, 2], [2, 2], [2, 2], [4, 4]])
    assert result["per_image"].shape == (6, 6)
    np.testing.assert_allclose(result["per_image"], 1.0, atol=1e-6)
    np.testing.assert_allclose(result["similarity"], result["per_image"].mean(axis=0))


def test_same_padding_breaks_equivariance_at_the_border():
    x = np.random.default_rng(0).random((6, 28, 28, 1)).astype(np.float32)
    result = equivariance(lenet5("same"), x, layers=["conv1", "conv2"])
    assert (result["similarity"] < 0.9999).all()


def test_equivariance_equals_the_cosine_by_hand():
    model = lenet5("same")
    x = np.random.default_rng(1).random((3, 28, 28, 1)).astype(np.float32)
    result = equivariance(model, x, layers=["max_pool1"])
    moved = layer_outputs(model, shift_images(x, 2, 2), ["max_pool1"])["max_pool1"][:, 1:, 1:]
    original = layer_outputs(model, x, ["max_pool1"])["max_pool1"][:, :-1, :-1]
    a, b = moved.reshape(3, -1).astype(np.float64), original.reshape(3, -1).astype(np.float64)
    cosine = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(result["per_image"][:, 0], cosine, rtol=1e-6)


def test_equivariance_of_a_stream_equals_that_of_the_array():
    model = lenet5("same")
    x = np.random.default_rng(2).random((9, 28, 28, 1)).astype(np.float32)
    whole = equivariance(model, x)
    stream = equivariance(model, (x[i : i + 4] for i in range(0, 9, 4)))
    np.testing.assert_allclose(stream["per_image"], whole["per_image"], rtol=1e-5)


def test_equivariance_refuses_a_layer_without_spatial_output():
    with pytest.raises(ValueError, match=r"layer 'flatten' cannot be measured .* no spatial axes"):
        equivariance(lenet5("valid"), np.zeros((1, 28, 28, 1), np.float32), layers=["flatten"])


def test_equivariance_of_all_zero_maps_is_one():
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Conv2D(2, 3, activation="relu", bias_initializer="zeros", name="c")(
        inputs
    )
    model = keras.Model(inputs, outputs)
    result = equivariance(model, np.zeros((2, 8, 8, 1), np.float32))
    np.testing.assert_array_equal(result["per_image"], 1.0)


def _any_size_model() -> keras.Model:
    inputs = keras.Input((None, None, 1))
    h = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    h = keras.layers.MaxPooling2D(name="pool")(h)
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv2")(h))


def test_equivariance_refuses_images_that_leave_a_layer_one_unit():
    # 8x8 images give conv2 of a model of any size one unit: there is nothing to compare
    # after a move by one, which must not read as perfectly equivariant (1.0).
    x = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    with pytest.raises(ValueError, match=r"images of 8x8 pixels give layer 'conv2' 1x1 units"):
        equivariance(_any_size_model(), x)
    # 10x10 images give it 2x2 units: measured, and exactly equivariant (valid layers).
    result = equivariance(_any_size_model(), np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
    assert result["layers"] == ["conv", "pool", "conv2"]
    np.testing.assert_allclose(result["per_image"], 1.0, atol=1e-6)


def test_equivariance_refuses_a_jump_as_large_as_the_images():
    # Padding then pooling: two units 10 pixels apart on 3x3 images.
    inputs = keras.Input((3, 3, 1))
    padded = keras.layers.ZeroPadding2D(10)(inputs)
    model = keras.Model(inputs, keras.layers.MaxPooling2D(10, name="wide")(padded))
    with pytest.raises(ValueError, match=r"images of 3x3 pixels are too small for layer 'wide'"):
        equivariance(model, np.ones((1, 3, 3, 1), np.float32), layers=["wide"])


def test_equivariance_refuses_a_layer_given_twice_and_gives_plain_names():
    # Twice (once by name, once by index) made a result that plot_equivariance refuses.
    x = np.random.default_rng(1).random((2, 28, 28, 1)).astype(np.float32)
    with pytest.raises(ValueError, match=r"layers must name each layer once .*\['conv1'\] twice"):
        equivariance(lenet5("valid"), x, layers=["conv1", 1])
    result = equivariance(lenet5("valid"), x, layers=np.array(["conv1"]))
    assert type(result["layers"][0]) is str


# --- pixel_paths -------------------------------------------------------------------------------


def _stack(size: int, *layers: keras.layers.Layer) -> keras.Model:
    inputs = keras.Input((size, size, 1))
    h = inputs
    for layer in layers:
        h = layer(h)
    return keras.Model(inputs, h)


def test_pixel_paths_of_lenet5_match_the_issue():
    valid = pixel_paths(lenet5("valid"), "conv1")
    assert valid.shape == (28, 28)
    assert valid.dtype == np.int64
    assert (valid[0, 0], valid[0, 14], valid[14, 14]) == (1, 5, 25)
    assert pixel_paths(lenet5("same"), "conv1")[0, 0] == 9


def test_pixel_paths_of_a_strided_convolution_by_hand():
    # A 3x3 stride-2 valid convolution of 7 pixels: outputs read 0-2, 2-4, 4-6.
    model = _stack(7, keras.layers.Conv2D(1, 3, strides=2, name="c"))
    along = np.array([1, 1, 2, 1, 2, 1, 1])
    np.testing.assert_array_equal(pixel_paths(model, "c"), np.outer(along, along))


def test_pixel_paths_of_same_padding_then_pooling_by_hand():
    # 3x3 same on 4 pixels: pixel k is read by outputs k-1..k+1 that exist: 2, 3, 3, 2;
    # a 2x2 pooling then reads each of those outputs once.
    model = _stack(
        4, keras.layers.Conv2D(1, 3, padding="same"), keras.layers.MaxPooling2D(name="p")
    )
    along = np.array([2, 3, 3, 2])
    np.testing.assert_array_equal(pixel_paths(model, "p"), np.outer(along, along))
    # A 3x3 pooling of stride 1 on a 3x3 valid convolution of 6 pixels (4 -> 2 outputs):
    # paths multiply along the way.
    deeper = _stack(6, keras.layers.Conv2D(1, 3), keras.layers.MaxPooling2D(3, strides=1, name="q"))
    conv = np.zeros((4, 6))
    for o in range(4):
        conv[o, o : o + 3] = 1
    pool = np.zeros((2, 4))
    for o in range(2):
        pool[o, o : o + 3] = 1
    along = (pool @ conv).sum(axis=0)
    np.testing.assert_array_equal(pixel_paths(deeper, "q"), np.outer(along, along))


def test_pixel_paths_add_over_the_branches_of_a_merge():
    inputs = keras.Input((5, 5, 1))
    branch = keras.layers.Conv2D(1, 3, padding="same")(inputs)
    outputs = keras.layers.Add(name="add")([branch, inputs])
    model = keras.Model(inputs, outputs)
    along = np.array([2, 3, 3, 3, 2])
    np.testing.assert_array_equal(pixel_paths(model, "add"), np.outer(along, along) + 1)


def test_pixel_paths_are_the_same_for_sequential_functional_and_nested_models():
    layers = [keras.layers.Conv2D(2, 5), keras.layers.MaxPooling2D(), keras.layers.Conv2D(3, 3)]
    sequential = keras.Sequential([keras.Input((16, 16, 3)), *layers])
    inputs = keras.Input((16, 16, 3))
    nested = keras.Model(inputs, keras.layers.ReLU(name="after")(sequential(inputs)))
    expected = pixel_paths(sequential, -1)
    assert expected.sum() == 4 * 4 * 9 * 4 * 25  # units x their taps, layer by layer
    np.testing.assert_array_equal(pixel_paths(nested, "after"), expected)
    np.testing.assert_array_equal(pixel_paths(nested, layers[-1].name), expected)


def test_pixel_paths_of_a_model_of_any_size_need_the_image_size():
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 3, name="c")(inputs))
    with pytest.raises(ValueError, match=r"give image_size=\(height, width\)"):
        pixel_paths(model, "c")
    along = np.array([1, 2, 3, 3, 2, 1])
    np.testing.assert_array_equal(
        pixel_paths(model, "c", image_size=(6, 6)), np.outer(along, along)
    )
    # A size too small for the layers is said of image_size, the argument it came from.
    with pytest.raises(ValueError, match=r"^image_size=\(2, 2\) is too small for layer 'c'"):
        pixel_paths(model, "c", image_size=(2, 2))


def test_pixel_paths_of_a_cropped_pixel_are_zero():
    model = _stack(6, keras.layers.Cropping2D(1), keras.layers.Conv2D(1, 1, name="c"))
    paths = pixel_paths(model, "c")
    assert paths[0].sum() == 0
    assert paths[:, -1].sum() == 0
    np.testing.assert_array_equal(paths[1:-1, 1:-1], 1)


def test_pixel_paths_of_the_real_lenet5_total_the_units_times_their_taps():
    # Every unit of max_pool2 (4x4) reads 2x2 of conv2, each 5x5 of max_pool1, each 2x2 of
    # conv1, each 5x5 pixels: the total over the pixels is the product.
    paths = pixel_paths(cnnviz.lenet5("valid"), "max_pool2")
    assert paths.sum() == 16 * 4 * 25 * 4 * 25


def test_pixel_paths_of_a_deep_network_are_float_and_drawn_by_plot_pixel_paths():
    # Past 2**53 the counts are float64 (as the docstring says); plot_pixel_paths refused them.
    ones = {"kernel_initializer": "ones", "use_bias": False}
    inputs = keras.Input((20, 20, 1))
    h = inputs
    for _ in range(40):
        h = keras.layers.Conv2D(1, 3, padding="same", **ones)(h)
    paths = pixel_paths(keras.Model(inputs, h), -1)
    assert paths.dtype == np.float64
    assert paths.max() > 2**53
    fig = cnnviz.plot_pixel_paths(paths)
    assert fig.axes[0].get_images()[0].norm.vmax == paths.max()
