"""Tests of cnnviz.models: LeNet-5's layers, shapes and parameters, and the shape arithmetic."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnviz import PADDINGS, lenet5, output_size, same_padding

LAYER_NAMES = [
    "input",
    "conv1",
    "relu1",
    "max_pool1",
    "conv2",
    "relu2",
    "max_pool2",
    "flatten",
    "fc1",
    "fc2",
    "op",
]

# The issue's table: every layer's output shape (without the batch axis) for each padding.
SHAPES = {
    "valid": {
        "input": (28, 28, 1),
        "conv1": (24, 24, 6),
        "relu1": (24, 24, 6),
        "max_pool1": (12, 12, 6),
        "conv2": (8, 8, 16),
        "relu2": (8, 8, 16),
        "max_pool2": (4, 4, 16),
        "flatten": (4 * 4 * 16,),
        "fc1": (120,),
        "fc2": (84,),
        "op": (10,),
    },
    "same": {
        "input": (28, 28, 1),
        "conv1": (28, 28, 6),
        "relu1": (28, 28, 6),
        "max_pool1": (14, 14, 6),
        "conv2": (14, 14, 16),
        "relu2": (14, 14, 16),
        "max_pool2": (7, 7, 16),
        "flatten": (7 * 7 * 16,),
        "fc1": (120,),
        "fc2": (84,),
        "op": (10,),
    },
}


@pytest.fixture(scope="module", params=PADDINGS)
def model(request):
    return lenet5(request.param)


def test_paddings_are_valid_and_same():
    assert tuple(PADDINGS) == ("valid", "same")


@pytest.mark.parametrize(("padding", "count"), [("valid", 44_426), ("same", 107_786)])
def test_parameter_counts(padding, count):
    assert lenet5(padding).count_params() == count


def test_parameter_count_follows_from_the_layer_sizes(model):
    # conv: (5*5*in + 1) * out; dense: (in + 1) * out.
    flat = SHAPES[model_padding(model)]["flatten"][0]
    expected = (25 * 1 + 1) * 6 + (25 * 6 + 1) * 16 + (flat + 1) * 120 + 121 * 84 + 85 * 10
    assert model.count_params() == expected


def model_padding(model: keras.Model) -> str:
    return model.get_layer("conv1").padding


def test_layer_names_in_order(model):
    assert [layer.name for layer in model.layers] == LAYER_NAMES


def test_every_layer_output_shape(model):
    expected = SHAPES[model_padding(model)]
    assert {layer.name: tuple(layer.output.shape)[1:] for layer in model.layers} == expected
    assert tuple(model.input.shape) == (None, 28, 28, 1)
    assert tuple(model.output.shape) == (None, 10)


def test_running_the_model_gives_the_declared_shapes(model):
    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    probabilities = keras.ops.convert_to_numpy(model(images))
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities >= 0).all()


def test_layer_configuration(model):
    padding = model_padding(model)
    assert isinstance(model.get_layer("input"), keras.layers.InputLayer)
    for name, filters in (("conv1", 6), ("conv2", 16)):
        conv = model.get_layer(name)
        assert isinstance(conv, keras.layers.Conv2D)
        assert conv.filters == filters
        assert tuple(conv.kernel_size) == (5, 5)
        assert tuple(conv.strides) == (1, 1)
        assert conv.padding == padding
        assert conv.activation.__name__ == "linear"
        assert conv.use_bias
    for name in ("relu1", "relu2"):
        relu = model.get_layer(name)
        assert isinstance(relu, keras.layers.Activation)
        assert relu.activation.__name__ == "relu"
    for name in ("max_pool1", "max_pool2"):
        pool = model.get_layer(name)
        assert isinstance(pool, keras.layers.MaxPooling2D)
        assert tuple(pool.pool_size) == (2, 2)
        assert tuple(pool.strides) == (2, 2)
        assert pool.padding == padding
    assert isinstance(model.get_layer("flatten"), keras.layers.Flatten)
    for name, units, activation in (
        ("fc1", 120, "relu"),
        ("fc2", 84, "relu"),
        ("op", 10, "softmax"),
    ):
        dense = model.get_layer(name)
        assert isinstance(dense, keras.layers.Dense)
        assert dense.units == units
        assert dense.activation.__name__ == activation


def test_layer_index_1_is_conv1_as_in_the_notebook(model):
    assert model.get_layer(index=1).name == "conv1"
    assert model.layers[1] is model.get_layer("conv1")


def test_the_default_is_valid_padding():
    assert model_padding(lenet5()) == "valid"
    assert lenet5().count_params() == 44_426


def test_models_are_functional_and_separate():
    first, second = lenet5(), lenet5()
    assert not isinstance(first, keras.Sequential)
    assert first.get_layer("conv1") is not second.get_layer("conv1")


def test_num_classes_and_input_shape_change_the_ends():
    model = lenet5("same", input_shape=(32, 32, 3), num_classes=4)
    assert tuple(model.input.shape) == (None, 32, 32, 3)
    assert tuple(model.get_layer("max_pool2").output.shape) == (None, 8, 8, 16)
    assert tuple(model.output.shape) == (None, 4)


@pytest.mark.parametrize("padding", ["full", "VALID", "Same", None, "", 0])
def test_other_paddings_are_refused_naming_the_allowed_values(padding):
    with pytest.raises(ValueError, match="valid") as info:
        lenet5(padding)
    message = str(info.value)
    assert "'same'" in message
    assert repr(padding) in message


def test_input_shape_may_be_a_list():
    assert tuple(lenet5(input_shape=[28, 28, 1]).input.shape) == (None, 28, 28, 1)


def test_numpy_integers_are_taken_as_python_integers():
    model = lenet5(input_shape=(np.int64(28), np.int32(28), np.uint8(1)), num_classes=np.int64(10))
    assert tuple(model.input.shape) == (None, 28, 28, 1)
    assert all(type(d) is int for d in model.input.shape[1:])  # Keras gets Python's ints
    assert model.count_params() == lenet5().count_params()


@pytest.mark.parametrize("side", [5, 12, 15])
def test_input_too_small_for_valid_padding_is_a_clear_error(side):
    with pytest.raises(ValueError, match=r"too small.*valid") as info:
        lenet5("valid", input_shape=(side, side, 1))
    assert f"({side}, {side}, 1)" in str(info.value)


def test_a_narrow_input_names_the_width():
    with pytest.raises(ValueError, match="width"):
        lenet5("valid", input_shape=(28, 12, 1))


def test_the_smallest_input_for_valid_padding_works():
    model = lenet5("valid", input_shape=(16, 16, 1))
    assert tuple(model.get_layer("max_pool2").output.shape) == (None, 1, 1, 16)


@pytest.mark.parametrize("side", [1, 5, 12])
def test_same_padding_takes_small_inputs(side):
    model = lenet5("same", input_shape=(side, side, 1))
    images = np.zeros((1, side, side, 1), dtype=np.float32)
    assert keras.ops.convert_to_numpy(model(images)).shape == (1, 10)


@pytest.mark.parametrize(
    "input_shape",
    [
        (28, 28),
        (28, 28, 1, 1),
        (28, 0, 1),
        (28, 28, -1),
        (28.0, 28, 1),
        (True, 28, 1),
        (np.True_, 28, 1),
        (np.float64(28), 28, 1),
        "28x28",
        None,
    ],
)
def test_malformed_input_shapes_are_refused(input_shape):
    with pytest.raises(ValueError, match="input_shape"):
        lenet5(input_shape=input_shape)


@pytest.mark.parametrize("num_classes", [0, -1, 2.5, True, "10", None])
def test_malformed_num_classes_are_refused(num_classes):
    with pytest.raises(ValueError, match="num_classes"):
        lenet5(num_classes=num_classes)


# --- output_size -----------------------------------------------------------------------------


@pytest.mark.parametrize("padding", PADDINGS)
def test_output_size_matches_keras_conv_and_pooling(padding):
    conv = keras.layers.Conv2D(1, 5, padding=padding)
    pool = keras.layers.MaxPooling2D(2, strides=2, padding=padding)
    for size in range(16, 41):
        image = np.zeros((1, size, size + 1, 1), dtype=np.float32)
        conv_shape = keras.ops.convert_to_numpy(conv(image)).shape
        pool_shape = keras.ops.convert_to_numpy(pool(image)).shape
        assert conv_shape[1:3] == (
            output_size(size, 5, padding=padding),
            output_size(size + 1, 5, padding=padding),
        ), size
        assert pool_shape[1:3] == (
            output_size(size, 2, stride=2, padding=padding),
            output_size(size + 1, 2, stride=2, padding=padding),
        ), size


@pytest.mark.parametrize(("size", "kernel", "stride"), [(10, 3, 3), (11, 4, 2), (7, 7, 1)])
@pytest.mark.parametrize("padding", PADDINGS)
def test_output_size_matches_keras_for_other_kernels_and_strides(size, kernel, stride, padding):
    pool = keras.layers.MaxPooling2D(kernel, strides=stride, padding=padding)
    image = np.zeros((1, size, size, 1), dtype=np.float32)
    assert keras.ops.convert_to_numpy(pool(image)).shape[1] == output_size(
        size, kernel, stride=stride, padding=padding
    )


def test_output_size_chains_to_the_issues_shapes():
    for padding, final in (("valid", 4), ("same", 7)):
        n = 28
        for kernel, stride in ((5, 1), (2, 2), (5, 1), (2, 2)):
            n = output_size(n, kernel, stride=stride, padding=padding)
        assert n == final


def test_output_size_refuses_other_paddings():
    with pytest.raises(ValueError, match="valid"):
        output_size(28, 5, padding="full")


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((28, 5), {"stride": -2}, "stride"),
        ((28, 5), {"stride": 0}, "stride"),
        ((28, 0), {}, "kernel_size"),
        ((28.5, 5), {}, "size"),
        ((0, 5), {}, "size"),
        ((28, 5.0), {}, "kernel_size"),
        ((True, 5), {}, "size"),
    ],
)
def test_output_size_refuses_what_is_not_a_positive_integer(args, kwargs, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        output_size(*args, **kwargs)


def test_output_size_takes_numpy_integers():
    assert output_size(np.int64(28), np.int32(5), stride=np.uint8(1)) == 24


# --- same_padding ----------------------------------------------------------------------------


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
def test_same_padding_is_where_keras_puts_the_zeros(kernel, stride):
    # A window of ones over an image of ones counts the real pixels it covers, so the
    # first window's count is kernel - before and the last one's kernel - after (exact:
    # small integers in float32).
    conv = keras.layers.Conv2D(
        1,
        (kernel, 1),
        strides=(stride, 1),
        padding="same",
        use_bias=False,
        kernel_initializer="ones",
    )
    for size in range(max(kernel, stride + 1), 20):
        counts = keras.ops.convert_to_numpy(conv(np.ones((1, size, 1, 1), np.float32)))[0, :, 0, 0]
        before, after = same_padding(size, kernel, stride)
        assert len(counts) == output_size(size, kernel, stride=stride, padding="same")
        assert (counts[0], counts[-1]) == (kernel - before, kernel - after), size
        assert before + after == max((len(counts) - 1) * stride + kernel - size, 0)


def test_same_padding_puts_the_smaller_half_before():
    assert same_padding(28, 5) == (2, 2)  # lenet5("same")'s conv1 and conv2
    assert same_padding(28, 2, 2) == (0, 0)
    assert same_padding(7, 2, 2) == (0, 1)
    assert same_padding(28, 4) == (1, 2)
    assert same_padding(np.int64(14), np.int32(5), np.uint8(1)) == (2, 2)
