"""Tests of cnnviz.activations.layer_outputs: one forward pass, the notebook's results."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cnnviz
import cnnviz.activations
from cnnviz import layer_outputs, lenet5

TOLERANCE = {"rtol": 1e-6, "atol": 1e-6}
LENET5_LAYERS = [
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


@pytest.fixture(scope="module", params=["valid", "same"])
def model(request):
    keras.utils.set_random_seed(0)
    return lenet5(request.param)


@pytest.fixture(scope="module")
def valid_model():
    keras.utils.set_random_seed(1)
    return lenet5("valid")


@pytest.fixture(scope="module")
def images():
    """Five float images in [0, 1]."""
    return np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)


@pytest.fixture
def forward_calls(monkeypatch):
    """Record every call of a Keras model (a forward pass): the model and the batch size."""
    calls = []
    original = keras.Model.__call__

    def spy(self, x, *args, **kwargs):
        calls.append((self, len(x)))
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "__call__", spy)
    return calls


def notebook_outputs(model: keras.Model, x: np.ndarray) -> dict[str, np.ndarray]:
    """Each layer's output the notebook's way: one sub-model and one pass per layer.

    The sub-models are called eagerly rather than with ``predict``, which would compile
    each of them: same numbers, a tenth of the time. Built on ``model.inputs`` (a list), as
    in the notebook, they take a list.
    """
    outputs = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        sub_model = keras.Model(inputs=model.inputs, outputs=layer.output)
        outputs[layer.name] = keras.ops.convert_to_numpy(sub_model([x], training=False))
    return outputs


def assert_outputs_close(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for name, value in expected.items():
        assert got[name].shape == value.shape, name
        np.testing.assert_allclose(got[name], value, **TOLERANCE, err_msg=name)


def test_outputs_equal_the_notebooks_per_layer_sub_models(model, images):
    got = layer_outputs(model, images)
    assert list(got) == LENET5_LAYERS
    assert all(isinstance(value, np.ndarray) for value in got.values())
    assert_outputs_close(got, notebook_outputs(model, images))


def test_outputs_have_the_layers_shapes_with_the_batch_axis(model, images):
    got = layer_outputs(model, images[:2])
    for name, value in got.items():
        assert value.shape == (2, *tuple(model.get_layer(name).output.shape)[1:]), name


def test_outputs_are_not_all_zero(model, images):
    # An untrained model still transforms its input: guards against comparing zeros with zeros.
    got = layer_outputs(model, images[:1])
    for name in ("conv1", "conv2", "fc1", "op"):
        assert np.abs(got[name]).max() > 0, name
    np.testing.assert_allclose(got["op"].sum(), 1.0, rtol=1e-5)


def test_all_layers_in_one_forward_pass_and_the_extractor_is_reused(
    valid_model, images, forward_calls
):
    layer_outputs(valid_model, images[:3])
    assert len(forward_calls) == 1
    assert forward_calls[0][1] == 3
    layer_outputs(valid_model, images[3:])
    assert len(forward_calls) == 2
    # The second call ran the same multi-output model: none was built for it.
    assert forward_calls[1][0] is forward_calls[0][0]
    # ... and that model is not the user's model (which only outputs the softmax).
    assert forward_calls[0][0] is not valid_model


def test_another_layer_set_gets_its_own_extractor(valid_model, images, forward_calls):
    layer_outputs(valid_model, images[:1], ["conv1"])
    layer_outputs(valid_model, images[:1], ["conv2", "fc1"])
    layer_outputs(valid_model, images[:1], ["conv1"])
    first, second, third = (model for model, _ in forward_calls)
    assert first is not second
    assert third is first


def test_a_single_image_in_any_form_gives_the_same_outputs(valid_model, images):
    image = images[2]
    reference = layer_outputs(valid_model, image[np.newaxis])
    for form in (image[..., 0], image, image[np.newaxis]):
        got = layer_outputs(valid_model, form)
        assert_outputs_close(got, reference)
        assert all(value.shape[0] == 1 for value in got.values())


def test_an_image_in_a_batch_gives_the_same_outputs_as_alone(valid_model, images):
    batch = layer_outputs(valid_model, images)
    assert all(value.shape[0] == 5 for value in batch.values())
    for i in (0, 2, 4):
        alone = layer_outputs(valid_model, images[i])
        assert_outputs_close({k: v[i : i + 1] for k, v in batch.items()}, alone)


def test_uint8_images_are_scaled_like_x_over_255(valid_model):
    pixels = np.random.default_rng(2).integers(0, 256, size=(3, 28, 28, 1), dtype=np.uint8)
    assert_outputs_close(
        layer_outputs(valid_model, pixels), layer_outputs(valid_model, pixels / 255.0)
    )
    assert_outputs_close(
        layer_outputs(valid_model, pixels[0, ..., 0]),
        layer_outputs(valid_model, pixels[:1] / 255.0),
    )


def test_float64_images_are_used_as_they_are(valid_model, images):
    assert_outputs_close(
        layer_outputs(valid_model, images.astype(np.float64)), layer_outputs(valid_model, images)
    )


def test_layers_by_name_and_index_in_the_requested_order(valid_model, images):
    everything = layer_outputs(valid_model, images[:2])
    got = layer_outputs(valid_model, images[:2], ["op", 1, "max_pool1", np.int64(4)])
    assert list(got) == ["op", "conv1", "max_pool1", "conv2"]
    assert_outputs_close(got, {name: everything[name] for name in got})


def test_index_1_is_conv1_as_in_the_notebook(valid_model, images):
    got = layer_outputs(valid_model, images[:1], [1])
    assert list(got) == ["conv1"]
    assert got["conv1"].shape == (1, 24, 24, 6)
    assert list(layer_outputs(valid_model, images[:1], (len(valid_model.layers) - 1,))) == ["op"]


def test_index_0_is_the_input_itself(valid_model, images):
    got = layer_outputs(valid_model, images[:2], [0])
    assert list(got) == ["input"]
    np.testing.assert_array_equal(got["input"], images[:2])


def test_batches_larger_than_a_chunk_equal_the_unchunked_result(
    valid_model, images, monkeypatch, forward_calls
):
    whole = layer_outputs(valid_model, images)
    assert [size for _, size in forward_calls] == [5]
    monkeypatch.setattr(cnnviz._batches, "MAX_IMAGES", 2)
    chunked = layer_outputs(valid_model, images)
    assert [size for _, size in forward_calls[1:]] == [2, 2, 1]
    assert_outputs_close(chunked, whole)
    single = layer_outputs(valid_model, images, ["fc2"])
    assert_outputs_close(single, {"fc2": whole["fc2"]})


@pytest.mark.parametrize("form", ["tf.data", "generator", "list"])
def test_a_stream_gives_the_outputs_of_the_array_concatenated_per_layer(
    valid_model, form, streams, monkeypatch
):
    x = (np.random.default_rng(2).random((11, 28, 28, 1)) * 255).astype(np.uint8)
    monkeypatch.setattr(cnnviz._batches, "MAX_IMAGES", 4)  # the array in chunks of 4
    expected = layer_outputs(valid_model, x)
    got = layer_outputs(valid_model, streams(x, batch=4)[form])
    assert list(got) == list(expected)
    for name, value in expected.items():
        # Exact: the stream's batches of 4 (the last of 3) are the array's chunks.
        np.testing.assert_array_equal(got[name], value, err_msg=name)
    # Labels in the stream are ignored; the requested layers come in their order.
    pairs = streams(x, np.arange(11), batch=4)[form]
    got = layer_outputs(valid_model, pairs, ["fc2", "conv1"])
    assert list(got) == ["fc2", "conv1"]
    np.testing.assert_array_equal(got["conv1"], expected["conv1"])


def test_stream_batches_larger_than_a_chunk_are_cut_and_agree_within_rounding(
    valid_model, images, monkeypatch, forward_calls
):
    whole = layer_outputs(valid_model, images)
    monkeypatch.setattr(cnnviz._batches, "MAX_IMAGES", 2)
    stream = [images[:3], images[3:]]
    got = layer_outputs(valid_model, stream)
    assert [size for _, size in forward_calls[1:]] == [2, 1, 2]  # batch 0 cut in two
    assert_outputs_close(got, whole)  # passes of 2 and 1 against one of 5: rounding


def test_steps_reads_that_many_batches_of_a_stream(valid_model, images):
    pulled = []

    def generate():
        for i in range(5):
            pulled.append(i)
            yield images[i : i + 1]

    got = layer_outputs(valid_model, generate(), ["conv1"], steps=3)
    assert pulled == [0, 1, 2]
    assert got["conv1"].shape == (3, 24, 24, 6)


def test_a_dataset_that_never_ends_is_refused_before_it_is_read(valid_model, endless_stream):
    dataset, pulled = endless_stream(np.zeros((2, 28, 28, 1), np.uint8))
    with pytest.raises(ValueError, match=r"never ends .*: give steps=, the number of batches"):
        layer_outputs(valid_model, dataset)
    assert pulled == []
    with pytest.raises(ValueError, match=r"steps bounds the batches read from a stream"):
        layer_outputs(valid_model, np.zeros((2, 28, 28, 1), np.uint8), steps=1)


def test_a_bad_batch_of_a_stream_is_named_by_its_number(valid_model, images):
    stream = [images[:2], images[2:4], np.zeros((1, 28, 27, 1), np.float32)]
    with pytest.raises(ValueError, match=r"batch 2 of images must be a batch .*\(1, 28, 27, 1\)"):
        layer_outputs(valid_model, stream)
    with pytest.raises(ValueError, match=r"images gave no batches: the stream is empty"):
        layer_outputs(valid_model, iter([]))


def test_a_large_uint8_array_is_scaled_chunk_by_chunk_as_a_whole(valid_model, monkeypatch):
    x = (np.random.default_rng(3).random((7, 28, 28, 1)) * 255).astype(np.uint8)
    monkeypatch.setattr(cnnviz._batches, "MAX_IMAGES", 3)
    by_chunks = layer_outputs(valid_model, x, ["conv1"])["conv1"]
    # The same chunks of float images, scaled beforehand by the one rule, scale_images.
    scaled = layer_outputs(valid_model, cnnviz.scale_images(x), ["conv1"])["conv1"]
    np.testing.assert_array_equal(by_chunks, scaled)


def test_a_sequential_model_works():
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [
            keras.Input((20, 20, 1)),
            keras.layers.Conv2D(3, 3, activation="relu", name="c"),
            keras.layers.MaxPooling2D(name="p"),
            keras.layers.Flatten(name="f"),
            keras.layers.Dense(4, activation="softmax", name="d"),
        ]
    )
    x = np.random.default_rng(3).random((2, 20, 20, 1), dtype=np.float32)
    got = layer_outputs(model, x)
    assert list(got) == ["c", "p", "f", "d"]
    assert_outputs_close(got, notebook_outputs(model, x))
    assert got["p"].shape == (2, 9, 9, 3)
    # Sequential models have no input layer in model.layers: index 0 is the first layer.
    assert list(layer_outputs(model, x, [0])) == ["c"]


def test_a_sequential_model_built_without_an_input_works():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.layers.Conv2D(2, 3, name="c"), keras.layers.Flatten(name="f")], name="no_input"
    )
    model.build((None, 8, 8, 1))
    x = np.random.default_rng(4).random((1, 8, 8, 1), dtype=np.float32)
    got = layer_outputs(model, x)
    assert list(got) == ["c", "f"]
    assert_outputs_close(got, notebook_outputs(model, x))


def test_an_unbuilt_model_is_a_clear_error():
    model = keras.Sequential([keras.layers.Dense(2)], name="unbuilt")
    with pytest.raises(ValueError, match=r"'unbuilt'.*not built"):
        layer_outputs(model, np.zeros((4, 4, 1), dtype=np.float32))


def test_a_three_channel_functional_model_works():
    keras.utils.set_random_seed(4)
    inputs = keras.Input((32, 32, 3), name="rgb")
    x = keras.layers.Conv2D(8, 5, name="conv")(inputs)
    x = keras.layers.Activation("relu", name="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(5).random((4, 32, 32, 3), dtype=np.float32)
    got = layer_outputs(model, x)
    assert list(got) == ["conv", "relu", "gap", "logits"]
    assert got["conv"].shape == (4, 28, 28, 8)
    assert_outputs_close(got, notebook_outputs(model, x))
    single = layer_outputs(model, (x[1] * 255).astype(np.uint8))
    assert single["gap"].shape == (1, 8)
    with pytest.raises(ValueError, match=r"\(32, 32, 3\)"):
        layer_outputs(model, np.zeros((32, 32, 1), dtype=np.float32))


# --- errors ----------------------------------------------------------------------------------


def test_a_grayscale_image_for_a_color_model_says_what_the_model_takes():
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs), name="rgb")
    with pytest.raises(ValueError, match=r"\(32, 32, 3\)") as info:
        layer_outputs(model, np.zeros((32, 32), dtype=np.float32))
    assert "(32, 32)" in str(info.value)


def test_an_unknown_layer_name_lists_the_known_names(valid_model, images):
    with pytest.raises(ValueError, match="'conv3'") as info:
        layer_outputs(valid_model, images, ["conv1", "conv3"])
    for name in ["input", *LENET5_LAYERS]:
        assert repr(name) in str(info.value)


def test_negative_indices_count_from_the_end_as_get_layer_does(valid_model, images):
    outputs = layer_outputs(valid_model, images, [-1, -4])
    assert list(outputs) == [
        valid_model.get_layer(index=-1).name,
        valid_model.get_layer(index=-4).name,
    ]
    assert list(outputs) == ["op", "flatten"]


@pytest.mark.parametrize("index", [11, 100, -12])
def test_an_index_out_of_range_is_an_error(valid_model, images, index):
    with pytest.raises(ValueError, match=rf"{index}.*out of range.*11 layers"):
        layer_outputs(valid_model, images, [index])


@pytest.mark.parametrize(
    "shape",
    [(27, 28), (28, 28, 3), (1, 28, 27, 1), (28,), (1, 1, 28, 28, 1), (5, 28, 28)],
)
def test_images_of_the_wrong_shape_are_an_error(valid_model, shape):
    with pytest.raises(ValueError, match="shape") as info:
        layer_outputs(valid_model, np.zeros(shape, dtype=np.float32))
    assert str(shape) in str(info.value)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.complex64])
def test_images_of_the_wrong_dtype_are_an_error(valid_model, dtype):
    with pytest.raises(TypeError, match=rf"uint8.*float.*{np.dtype(dtype).name}"):
        layer_outputs(valid_model, np.zeros((28, 28, 1), dtype=dtype))


def test_an_empty_batch_is_an_error(valid_model):
    with pytest.raises(ValueError, match="empty"):
        layer_outputs(valid_model, np.zeros((0, 28, 28, 1), dtype=np.float32))


@pytest.mark.parametrize(
    "not_a_model",
    [None, "lenet5", np.zeros((28, 28)), keras.layers.Dense(3), lambda x: x],
    ids=["None", "str", "array", "layer", "function"],
)
def test_something_that_is_not_a_model_is_a_type_error(not_a_model, images):
    with pytest.raises(TypeError, match=r"keras\.Model"):
        layer_outputs(not_a_model, images)


def test_a_model_with_two_inputs_is_an_error():
    first, second = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    model = keras.Model([first, second], keras.layers.Add()([first, second]), name="two")
    with pytest.raises(ValueError, match="one image input"):
        layer_outputs(model, np.zeros((8, 8, 1), dtype=np.float32))


@pytest.mark.parametrize("layers", ["conv1", 1])
def test_a_bare_name_or_index_is_a_type_error(valid_model, images, layers):
    with pytest.raises(TypeError, match=r"sequence.*\['conv1'\]"):
        layer_outputs(valid_model, images, layers)


@pytest.mark.parametrize("layers", [[1.0], [None], [b"conv1"]])
def test_layers_other_than_names_and_indices_are_a_type_error(valid_model, images, layers):
    with pytest.raises(TypeError, match="names"):
        layer_outputs(valid_model, images, layers)


@pytest.mark.parametrize("layers", [[], ()])
def test_no_layers_is_an_error(valid_model, images, layers):
    with pytest.raises(ValueError, match="empty"):
        layer_outputs(valid_model, images, layers)


def test_a_shared_layer_is_refused_by_name_not_answered_with_its_first_call():
    inputs = keras.Input((8, 8, 2))
    shared = keras.layers.Conv2D(2, 3, padding="same", name="shared")
    first = keras.layers.Activation("relu", name="after_first")(shared(inputs))
    second = keras.layers.Activation("relu", name="after_second")(shared(first))
    model = keras.Model(inputs, second)
    image = np.random.default_rng(0).random((8, 8, 2), dtype=np.float32)

    with pytest.raises(ValueError, match=r"layer 'shared' .* is called 2 times \(a shared layer\)"):
        cnnviz.layer_outputs(model, image)
    with pytest.raises(ValueError, match="'shared'"):
        cnnviz.layer_outputs(model, image, layers=["shared"])
    # The layers after each call are unambiguous, and agree with calling the layers by hand.
    outputs = cnnviz.layer_outputs(model, image, layers=["after_first", "after_second"])
    by_hand = keras.ops.relu(shared(keras.ops.relu(shared(image[np.newaxis]))))
    # Another route to the same layers (a model's call, the layers called by hand): with rtol
    # alone, a value near 0 after the ReLU would have to agree to the last bit.
    np.testing.assert_allclose(
        outputs["after_second"], keras.ops.convert_to_numpy(by_hand), **TOLERANCE
    )


def rescaling_model() -> keras.Model:
    """A model that scales its own input: uint8 pixels must reach it unscaled."""
    inputs = keras.Input((6, 6, 1))
    scaled = keras.layers.Rescaling(1 / 255, name="rescale")(inputs)
    return keras.Model(inputs, keras.layers.Flatten(name="flat")(scaled))


def test_uint8_images_are_scaled_once_whoever_scales_them():
    image = np.arange(36, dtype=np.uint8).reshape(6, 6, 1) * 7
    expected = image.astype(np.float32).ravel() / 255
    own = rescaling_model()
    # The model divides by 255 itself, so cnnviz passes the pixels as they are.
    np.testing.assert_allclose(layer_outputs(own, image)["flat"][0], expected, rtol=1e-6)
    # The caller can say otherwise, both ways.
    np.testing.assert_allclose(
        layer_outputs(own, image, scale=True)["flat"][0], expected / 255, rtol=1e-6
    )
    plain = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(name="flat")])
    np.testing.assert_allclose(layer_outputs(plain, image)["flat"][0], expected, rtol=1e-6)
    np.testing.assert_array_equal(
        layer_outputs(plain, image, scale=False)["flat"][0], image.astype(np.float32).ravel()
    )


@pytest.mark.parametrize("scale", ["yes", 1, 0.5])
def test_scale_must_be_none_true_or_false(scale):
    with pytest.raises(ValueError, match="scale must be None, True or False"):
        layer_outputs(lenet5(), np.zeros((28, 28), np.uint8), scale=scale)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_refused_with_their_place(bad):
    image = np.zeros((28, 28, 1), np.float32)
    image[4, 5, 0] = bad
    with pytest.raises(
        ValueError, match=r"images must hold finite values; .* index \(4, 5, 0\) \((nan|inf|-inf)\)"
    ):
        layer_outputs(lenet5(), image)


# --- a property: equal to per-layer sub-models on any small convolutional model (hypothesis) --


def _after(size: int, window: int, stride: int, padding: str) -> int:
    """Output length of a convolution or pooling window along one axis, as TensorFlow pads."""
    return -(-size // stride) if padding == "same" else (size - window) // stride + 1


@st.composite
def conv_model_specs(draw) -> dict:
    """A random small model of Conv2D, MaxPooling2D and ReLU layers (1-5), as a plain spec.

    Input 8-20 pixels a side with 1-3 channels; any kernel, stride and padding, but no
    "valid" window larger than its input, so every layer has at least one output pixel.
    Functional or Sequential. A spec, not a model, so that a failing example reads clearly
    and the weights are drawn in the test, after seeding.
    """
    shape = (draw(st.integers(8, 20)), draw(st.integers(8, 20)), draw(st.integers(1, 3)))
    height, width = shape[:2]
    layers = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["Conv2D", "MaxPooling2D", "ReLU"]))
        if kind == "ReLU":
            layers.append(("ReLU", {}))
            continue
        padding = draw(st.sampled_from(["valid", "same"]))
        largest = 5 if kind == "Conv2D" else 3
        if padding == "valid":
            largest = min(largest, height, width)
        window = draw(st.integers(1, largest))
        stride = draw(st.integers(1, 3))
        options = {"strides": stride, "padding": padding}
        if kind == "Conv2D":
            layers.append((kind, {"filters": draw(st.integers(1, 4)), "kernel_size": window}))
        else:
            layers.append((kind, {"pool_size": window}))
        layers[-1][1].update(options)
        height = _after(height, window, stride, padding)
        width = _after(width, window, stride, padding)
    return {"input": shape, "layers": layers, "sequential": draw(st.booleans())}


def build(spec: dict, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)  # the initial weights
    inputs = keras.Input(spec["input"])
    layers = [getattr(keras.layers, kind)(**options) for kind, options in spec["layers"]]
    if spec["sequential"]:
        return keras.Sequential([inputs, *layers])
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


def image_batches(shape: tuple[int, int, int]):
    """1-3 images of `shape`: uint8 pixels, or floats (negative ones too)."""
    uint8 = hnp.arrays(np.uint8, st.tuples(st.integers(1, 3), *map(st.just, shape)))
    floats = hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 3), *map(st.just, shape)),
        elements=st.floats(-2, 2, width=32),
    )
    return uint8 | floats


# Few examples (each builds a model and one sub-model per layer); derandomized, without an
# example database, so CI runs the same models every time.
@settings(max_examples=20, derandomize=True, database=None, deadline=None)
@given(conv_model_specs(), st.integers(0, 2**16), st.data())
def test_outputs_equal_per_layer_sub_models_on_any_small_conv_model(spec, seed, data):
    model = build(spec, seed)
    images = data.draw(image_batches(spec["input"]), label="images")
    got = layer_outputs(model, images)

    x = cnnviz.scale_images(images) if images.dtype == np.uint8 else images
    expected = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        sub_model = keras.Model(model.inputs, layer.output)
        expected[layer.name] = keras.ops.convert_to_numpy(sub_model([x], training=False))
    assert len(expected) == len(spec["layers"])
    assert_outputs_close(got, expected)


def nested_model() -> keras.Model:
    """A functional model with a Sequential block inside it: pre -> block(inner_conv, inner_relu) -> head."""
    keras.utils.set_random_seed(0)
    block = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(3, 3, name="inner_conv"),
            keras.layers.ReLU(name="inner_relu"),
        ],
        name="block",
    )
    inputs = keras.Input((8, 8, 1))
    x = block(keras.layers.Conv2D(2, 1, name="pre")(inputs))
    outputs = keras.layers.Dense(4, activation="softmax", name="head")(keras.layers.Flatten()(x))
    return keras.Model(inputs, outputs, name="outer")


@pytest.mark.parametrize("wrap", ["functional", "sequential"])
def test_a_layer_inside_a_nested_model_is_reached_by_name(wrap):
    model = nested_model()
    if wrap == "sequential":
        model = keras.Sequential([keras.Input((8, 8, 1)), model], name="wrapped")
    x = np.random.default_rng(0).random((5, 8, 8, 1), dtype=np.float32)
    outputs = cnnviz.layer_outputs(model, x, layers=["inner_conv", "inner_relu", "block", "head"])
    inner = model.layers[-1] if wrap == "sequential" else model
    by_hand = inner.get_layer("block").layers[0](inner.get_layer("pre")(x))
    # Another batch shape and another graph than the extractor's: rounding differs.
    np.testing.assert_allclose(
        outputs["inner_conv"], keras.ops.convert_to_numpy(by_hand), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(outputs["inner_relu"], np.maximum(outputs["inner_conv"], 0))
    # The block's output is its last layer's: the very same tensor of the flat graph.
    np.testing.assert_array_equal(outputs["block"], outputs["inner_relu"])
    np.testing.assert_allclose(
        outputs["head"], keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6
    )
    # The same names as the other functions take.
    assert cnnviz.grad_cam(model, x, layer="inner_relu").shape == (5, 8, 8)
    assert cnnviz.top_patches(model, x, "inner_conv", k=2)["layer"] == "inner_conv"


def test_the_input_layer_is_reached_by_name_and_by_index_zero(valid_model, images):
    outputs = layer_outputs(valid_model, images, layers=["input", 0])
    assert list(outputs) == ["input"]  # both name the same layer
    np.testing.assert_array_equal(outputs["input"], images)  # the input itself, copied


def test_a_name_two_layers_carry_is_refused_by_name_index_and_default():
    # The block and the layer inside it are both 'conv': the name cannot say which is meant.
    block = keras.Sequential(
        [keras.layers.Conv2D(3, 3, name="conv"), keras.layers.ReLU()], name="conv"
    )
    model = keras.Sequential(
        [keras.Input((12, 12, 1)), block, keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    x = np.random.default_rng(0).random((2, 12, 12, 1), dtype=np.float32)
    for layers in (["conv"], [0], None):
        with pytest.raises(ValueError, match=r"2 layers named 'conv' \(Conv2D, Sequential"):
            cnnviz.layer_outputs(model, x, layers=layers)
    with pytest.raises(ValueError, match="2 layers named 'conv'"):
        cnnviz.grad_cam(model, x, layer=0)
    # Other layers of the same model are unambiguous.
    assert cnnviz.layer_outputs(model, x, layers=[1])[model.layers[1].name].shape == (2, 300)


def test_a_layer_with_several_outputs_is_refused_not_stacked():
    class Two(keras.layers.Layer):
        def call(self, x):
            return x * 2.0, x + 1.0

    inputs = keras.Input((12, 12, 1))
    first, second = Two(name="two")(inputs)
    added = keras.layers.Add(name="add")([first, second])
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(added))
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).random((3, 12, 12, 1), dtype=np.float32)
    for layers in (["two"], ["two", "add"]):
        with pytest.raises(ValueError, match=r"layer 'two' of model .* has several outputs"):
            cnnviz.layer_outputs(model, x, layers=layers)
    with pytest.raises(ValueError, match="several outputs"):
        cnnviz.grad_cam(model, x, layer="two")
    assert cnnviz.layer_outputs(model, x, layers=["add"])["add"].shape == (3, 12, 12, 1)


def test_threads_on_a_fresh_model_get_the_serial_answers_and_leave_it_working():
    import threading

    def fresh() -> keras.Model:
        keras.utils.set_random_seed(3)
        block = keras.Sequential([keras.layers.Conv2D(4, 3, name="c1")], name="block")
        return keras.Sequential(
            [keras.Input((12, 12, 1)), block, keras.layers.Conv2D(2, 3, name="c2")]
        )

    x = np.random.default_rng(0).random((4, 12, 12, 1), dtype=np.float32)
    serial = cnnviz.top_patches(fresh(), x, "c2", k=2)
    model = fresh()
    start = threading.Barrier(4)
    results, errors = [], []

    def run():
        start.wait()
        try:
            results.append(cnnviz.top_patches(model, x, "c2", k=2))
        except Exception as error:  # noqa: BLE001 (reported below, with its message)
            errors.append(repr(error))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # The same model and batch in every thread and in the serial call: the same computation.
    for result in [*results, cnnviz.top_patches(model, x, "c2", k=2)]:
        np.testing.assert_array_equal(result["index"], serial["index"])
        np.testing.assert_allclose(result["value"], serial["value"], rtol=1e-6)


def test_a_model_of_any_input_size_gives_each_images_outputs():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3, name="c")(inputs)
    model = keras.Model(inputs, keras.layers.MaxPooling2D(name="p")(x))
    x = np.random.default_rng(0).random((3, 9, 12, 1), dtype=np.float32)
    got = layer_outputs(model, x)
    assert got["c"].shape == (3, 7, 10, 2)
    assert got["p"].shape == (3, 3, 5, 2)
    kernel, bias = model.get_layer("c").get_weights()
    windows = [
        [(x[:, i : i + 3, j : j + 3, :, None] * kernel).sum(axis=(1, 2, 3)) for j in range(10)]
        for i in range(7)
    ]  # (7, 10, N, 2)
    by_hand = np.array(windows).transpose(2, 0, 1, 3) + bias
    np.testing.assert_allclose(got["c"], by_hand, rtol=1e-5, atol=1e-6)


def test_uint8_images_reach_a_rescaling_behind_an_augmentation_sequential_unscaled():
    # keras.io's pattern: a Sequential of augmentation layers, then Rescaling(1/255).
    augmentation = keras.Sequential([keras.layers.RandomFlip(), keras.layers.RandomZoom(0.1)])
    inputs = keras.Input((6, 6, 1))
    scaled = keras.layers.Rescaling(1 / 255, name="rescale")(augmentation(inputs))
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(scaled))
    image = np.arange(36, dtype=np.uint8).reshape(6, 6, 1) * 7
    expected = image.astype(np.float32).ravel() / 255
    np.testing.assert_allclose(layer_outputs(model, image)["flat"][0], expected, rtol=1e-6)
    # The caller can still say otherwise: an explicit scale always wins.
    np.testing.assert_allclose(
        layer_outputs(model, image, scale=True)["flat"][0], expected / 255, rtol=1e-6
    )


def test_a_model_whose_input_scale_cannot_be_told_takes_floats_or_an_explicit_scale():
    inputs = keras.Input((6, 6, 1))
    normalized = keras.layers.Normalization(name="norm")(inputs)  # never adapted: mean 0, var 1
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(normalized))
    image = np.arange(36, dtype=np.uint8).reshape(6, 6, 1) * 7
    with pytest.raises(ValueError, match=r"cannot scale uint8 images: .*scale=False passes"):
        layer_outputs(model, image)
    np.testing.assert_allclose(
        layer_outputs(model, image, scale=False)["flat"][0],
        image.astype(np.float32).ravel(),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        layer_outputs(model, image.astype(np.float32))["flat"][0],
        image.astype(np.float32).ravel(),
        rtol=1e-6,
    )
