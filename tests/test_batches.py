"""cnnviz._batches: the chunk policy by hand, and per-image results gathered without a second copy.

The three forms, steps and the refusals are tested through the public functions that
use them (test_evaluation, test_activations, test_channels, test_attribution) and in
the catalogue of bad inputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import keras
import numpy as np
import pytest
import tensorflow as tf

import cnnviz
from cnnviz import _batches


@pytest.mark.parametrize(
    ("padding", "values", "chunk"),
    [
        # 784 input values; conv1, relu1 24x24x6; pool1 12x12x6; conv2, relu2 8x8x16;
        # pool2, flatten 256; fc1 120, fc2 84, op 10.
        ("valid", 784 + 2 * 3456 + 864 + 2 * 1024 + 2 * 256 + 120 + 84 + 10, 1480),
        # conv1, relu1 28x28x6; pool1 14x14x6; conv2, relu2 14x14x16; pool2, flatten 7x7x16.
        ("same", 784 + 2 * 4704 + 1176 + 2 * 3136 + 2 * 784 + 120 + 84 + 10, 863),
    ],
)
def test_lenet5_chunks_by_hand(padding, values, chunk):
    model = cnnviz.lenet5(padding)
    assert _batches._values_per_image(model) == values
    # 64 MiB over 4 bytes a value: 1480 images (valid), 863 (same); the ceiling is far.
    assert _batches.chunk_size(model) == 64 * 2**20 // (4 * values) == chunk


def test_the_rest_of_lenet5_after_conv2_takes_copies_of_its_output_by_the_same_rule():
    from cnnviz import _graph

    model = cnnviz.lenet5()
    tail = _graph.tail(model, _graph.split(model, "conv2"))
    # conv2's output 8x8x16 in; relu2 1024, pool2 and flatten 256, fc1 120, fc2 84, op 10.
    values = 1024 + 1024 + 2 * 256 + 120 + 84 + 10
    assert _batches._values_per_image(tail) == values
    assert _batches.chunk_size(tail) == 64 * 2**20 // (4 * values) == 6048


def test_a_nested_model_counts_its_inner_layers():
    inner = cnnviz.lenet5()
    inputs = keras.Input((28, 28, 1))
    outer = keras.Model(inputs, inner(inputs))
    assert _batches._values_per_image(outer) == _batches._values_per_image(inner)


def test_the_floor_and_the_ceiling(monkeypatch):
    model = cnnviz.lenet5()
    monkeypatch.setattr(_batches, "CHUNK_BYTES", 1)  # nothing fits: still MIN_IMAGES
    assert _batches.chunk_size(model) == _batches.MIN_IMAGES == 8
    monkeypatch.setattr(_batches, "CHUNK_BYTES", 100 * 45336)  # 100 LeNet-5 images
    assert _batches.chunk_size(model) == 100
    monkeypatch.setattr(_batches, "MAX_IMAGES", 2)  # the ceiling last: tests patch it
    assert _batches.chunk_size(model) == 2


def test_rows_of_a_known_count_fill_one_array_and_keep_a_single_piece_as_it_is():
    rows = _batches.Rows(5)
    parts = [np.arange(6.0).reshape(3, 2), np.arange(6.0, 10.0).reshape(2, 2)]
    for part in parts:
        rows.add(part)
    result = rows.result()
    np.testing.assert_array_equal(result, np.arange(10.0).reshape(5, 2))
    assert not any(np.shares_memory(result, part) for part in parts)
    one = _batches.Rows(3)
    one.add(parts[0])
    assert one.result() is parts[0]  # the whole in one piece: no copy at all


def test_rows_of_an_unknown_count_are_joined_in_order():
    rows = _batches.Rows(None)
    for start in (0, 1, 4):
        rows.add(np.arange(start, {0: 1, 1: 4, 4: 9}[start], dtype=np.int64))
    result = rows.result()
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, np.arange(9))


def open_size_model() -> keras.Model:
    """A model that takes images of any size: Input((None, None, 1))."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", name="c1")(inputs)
    x = keras.layers.GlobalMaxPooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def test_an_open_input_size_is_taken_from_the_images():
    model = open_size_model()
    # The input 28x28x1 and c1's 28x28x4 from the images' size; the pooled 4 and the 10 known.
    assert _batches._values_per_image(model, (28, 28, 1)) == 784 + 3136 + 4 + 10
    assert _batches._values_per_image(model, (160, 160, 1)) == 25600 + 102400 + 4 + 10
    assert _batches.chunk_size(model, (160, 160, 1)) == 64 * 2**20 // (4 * 128014) == 131


def test_a_batch_size_lowers_the_policy_and_never_raises_it(monkeypatch):
    model = cnnviz.lenet5()
    monkeypatch.setattr(_batches, "MAX_IMAGES", 3)
    x = np.zeros((10, 28, 28, 1), np.uint8)
    sizes = [len(piece) for piece, _ in _batches.source(model, x, chunk=1024)]
    assert sizes == [3, 3, 3, 1]
    sizes = [len(piece) for piece, _ in _batches.source(model, x, chunk=2)]
    assert sizes == [2, 2, 2, 2, 2]


def test_one_image_in_a_stream_is_refused_where_the_size_is_open():
    model = open_size_model()
    x = np.zeros((6, 28, 28, 1), np.uint8)
    for stream in (list(x), [image[..., 0] for image in x]):
        with pytest.raises(ValueError, match=r"batch 0 of images .* one image, not a batch"):
            cnnviz.predict(model, stream)
    assert cnnviz.predict(model, [x[:4], x[4:]]).shape == (6, 10)


def test_a_stream_of_several_image_sizes_gives_what_has_one_shape_and_refuses_the_rest():
    # A model of any size given batches of 12x12 and 9x7 images: its predictions are one
    # array; its images (gradients) and c1's maps are not, and NumPy's "could not broadcast
    # input array" from inside the gathering was all the user saw.
    model = open_size_model()
    rng = np.random.default_rng(0)
    stream = [rng.random((2, 12, 12, 1), np.float32), rng.random((3, 9, 7, 1), np.float32)]
    expected = np.concatenate([cnnviz.predict(model, x) for x in stream])
    np.testing.assert_array_equal(cnnviz.predict(model, stream), expected)
    pooled = model.layers[2].name
    assert cnnviz.layer_outputs(model, stream, [pooled])[pooled].shape == (5, 4)
    with pytest.raises(
        ValueError,
        match=r"images must hold images of one size here: this function returns its outputs of "
        r"layer 'c1' for all of them as one array, and theirs differ in shape from one batch "
        r"to another \(\(12, 12, 4\), then \(9, 7, 4\)\), as images of different sizes give "
        r"for a model that takes any size; give the images of each size in their own call",
    ):
        cnnviz.layer_outputs(model, stream, ["c1", pooled])
    with pytest.raises(
        ValueError,
        match=r"images must hold images of one size here: this function returns its images "
        r"for all of them as one array, .*\(\(12, 12, 1\), then \(9, 7, 1\)\)",
    ):
        cnnviz.gradients(model, stream)


def test_images_too_small_for_a_model_of_any_size_are_refused_before_it_runs():
    # A 3x3 then a 5x5 convolution: 6x6 images leave 4x4 for the 5x5 window. Called eagerly
    # on oneDNN's kernels, Keras gave layer_outputs a 4x4 map of zeros for it, not an error.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3, name="a")(inputs)
    x = keras.layers.Conv2D(2, 5, name="b")(x)
    model = keras.Model(inputs, keras.layers.GlobalMaxPooling2D()(x), name="net")
    words = (
        r"images \(6x6 pixels\) are too small for model 'net', which takes images of any size "
        r"but needs them large enough for its layers: Computed output size would be zero or "
        r"negative"
    )
    small = np.zeros((2, 6, 6, 1), np.float32)
    for call in (
        lambda: cnnviz.layer_outputs(model, small, ["b"]),
        lambda: cnnviz.layer_outputs(model, [small]),
    ):
        with pytest.raises(ValueError, match=words):
            call()
    with pytest.raises(ValueError, match="batch 1 of " + words):
        cnnviz.layer_outputs(model, [np.zeros((1, 7, 7, 1), np.float32), small], ["a"])
    assert cnnviz.layer_outputs(model, np.zeros((2, 7, 7, 1), np.float32))["b"].shape == (
        2,
        1,
        1,
        2,
    )


# --- the one scaling rule: [0, 1] or [0, 255], looked for past layers that keep the scale -------

L = keras.layers


def head(x):
    """A small classifier after the pixels: a convolution and a softmax."""
    x = L.Conv2D(2, 3, name="conv")(x)
    return L.Dense(10, activation="softmax", name="out")(L.Flatten()(x))


def chain(*layers, shape=(28, 28, 1)) -> keras.Model:
    """A functional model: `layers` one after the other from the input, then the head."""
    inputs = keras.Input(shape)
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, head(x))


def adapted(data: np.ndarray) -> keras.layers.Normalization:
    layer = L.Normalization(name="norm")
    layer.adapt(data.astype(np.float32))
    return layer


def keras_io_model() -> keras.Model:
    """keras.io's pattern: an augmentation Sequential, then Rescaling(1/255), in a functional model."""
    augmentation = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1)])
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, head(L.Rescaling(1 / 255, name="rescale")(augmentation(inputs))))


def branches(left, right) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    joined = L.Concatenate()([left(inputs), right(inputs)])
    return keras.Model(inputs, head(joined))


class Net(keras.Model):
    """A subclassed model: cnnviz calls it whole, and cannot see the order of its layers."""

    def __init__(self, rescale: bool):
        super().__init__(name="net")
        self.rescale = L.Rescaling(1 / 255) if rescale else L.Identity()
        self.conv = L.Conv2D(2, 3)

    def call(self, x):
        return self.conv(self.rescale(x))


def wrapped(rescale: bool) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, head(Net(rescale)(inputs)))


RNG = np.random.default_rng(0)
UNIT_DATA = RNG.random((64, 28, 28, 1))  # the statistics of [0, 1] pixels
BYTE_DATA = UNIT_DATA * 255
_graph = cnnviz._graph

MODELS = {
    # A first layer that computes, no scaling layer: cnnviz's convention, [0, 1].
    "lenet5": (lambda: cnnviz.lenet5(), _graph.UNIT),
    "only layers that keep the scale": (
        lambda: keras.Sequential([keras.Input((6, 6, 1)), L.Flatten()]),
        _graph.UNIT,
    ),
    "Rescaling first": (lambda: chain(L.Rescaling(1 / 255)), _graph.BYTE),
    "RandomFlip, then Rescaling": (
        lambda: chain(L.RandomFlip(), L.Rescaling(1 / 255)),
        _graph.BYTE,
    ),
    "keras.io: an augmentation Sequential, then Rescaling": (keras_io_model, _graph.BYTE),
    "Sequential of Sequentials": (
        lambda: keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.Sequential([L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1)]),
                keras.Sequential([L.Rescaling(1 / 127.5, offset=-1), L.Conv2D(2, 3)]),
                L.Flatten(),
                L.Dense(10, activation="softmax"),
            ]
        ),
        _graph.BYTE,
    ),
    "shape and noise layers, then Rescaling": (
        lambda: chain(
            L.ZeroPadding2D(2),
            L.Resizing(30, 30, interpolation="bicubic"),
            L.CenterCrop(28, 28),
            L.RandomContrast(0.2),
            L.RandomBrightness(0.2),
            L.GaussianNoise(0.1),
            L.Dropout(0.2),
            L.Permute((2, 1, 3)),
            L.Rescaling(1 / 255),
        ),
        _graph.BYTE,
    ),
    "a Pipeline holding the Rescaling": (
        lambda: chain(L.Pipeline([L.RandomFlip(), L.Rescaling(1 / 255)])),
        _graph.BYTE,
    ),
    "Normalization adapted on [0, 1]": (lambda: chain(adapted(UNIT_DATA)), _graph.UNIT),
    "Normalization adapted on [0, 255]": (lambda: chain(adapted(BYTE_DATA)), _graph.BYTE),
    "Normalization given ImageNet's [0, 1] statistics": (
        lambda: chain(
            L.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.052, 0.050, 0.051]),
            shape=(28, 28, 3),
        ),
        _graph.UNIT,
    ),
    "Rescaling, then Normalization: the first decides": (
        lambda: chain(L.Rescaling(1 / 255), adapted(UNIT_DATA)),
        _graph.BYTE,
    ),
    "branches that agree": (
        lambda: branches(
            L.Rescaling(1 / 255), keras.Sequential([L.RandomFlip(), L.Rescaling(1 / 255)])
        ),
        _graph.BYTE,
    ),
    # What cannot be told.
    "an un-adapted Normalization": (lambda: chain(L.Normalization()), None),
    "Normalization adapted on [-1, 1]": (lambda: chain(adapted(UNIT_DATA * 2 - 1)), None),
    "Normalization with invert=True": (
        lambda: chain(L.Normalization(mean=0.5, variance=0.25, invert=True)),
        None,
    ),
    "Rescaling(2, offset=-1)": (lambda: chain(L.Rescaling(2.0, offset=-1.0)), None),
    "a Lambda before the Rescaling": (
        lambda: chain(L.Lambda(lambda t: t, name="mystery"), L.Rescaling(1 / 255)),
        None,
    ),
    "branches that disagree": (lambda: branches(L.Rescaling(1 / 255), L.Conv2D(1, 1)), None),
    "a subclassed model holding a Rescaling, called whole": (lambda: wrapped(True), None),
    "a subclassed model without one, called whole": (lambda: wrapped(False), _graph.UNIT),
}


@pytest.mark.parametrize("name", MODELS)
def test_the_rule_finds_the_first_layer_that_changes_pixel_values(name):
    make, expected = MODELS[name]
    model = make()
    found = _graph.input_scale(model)
    assert found.range == expected, found.reason
    assert _graph.input_range(model) == expected
    if expected is None:
        with pytest.raises(ValueError, match=r"cannot scale uint8 images: cnnviz cannot tell"):
            _batches.scale_setting(None, model)
    elif found.inferred:  # read from a Normalization's statistics: said, with the way out
        with pytest.warns(UserWarning, match=r"statistics say which data .* give images as"):
            assert _batches.scale_setting(None, model) is (expected == _graph.UNIT)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert _batches.scale_setting(None, model) is (expected == _graph.UNIT)
    # An explicit scale always wins, and is never second-guessed.
    assert _batches.scale_setting(True, model) is True
    assert _batches.scale_setting(False, model) is False


def test_what_cannot_be_told_is_said_with_the_layer_and_the_way_out():
    model = chain(L.Normalization(name="norm"))
    with pytest.raises(ValueError, match="cannot tell") as raised:
        _batches.scale_setting(None, model, "x", takes_scale=True)
    message = str(raised.value)
    assert f"cannot scale uint8 x: cnnviz cannot tell whether model {model.name!r}" in message
    assert "'norm' (Normalization with mean 0 and variance 1)" in message
    assert "scale=True divides uint8 pixels by 255" in message
    assert "scale=False passes them as they are" in message
    assert "give x as floats" in message
    # A function without scale only offers float images; a pixel value, a float number.
    with pytest.raises(ValueError, match=r"To go on, give images as floats") as raised:
        _batches.scale_setting(None, model)
    assert "scale=" not in str(raised.value)
    with pytest.raises(ValueError, match=r"give value as a float in the model's input scale"):
        _batches.pixel_value(np.uint8(255), model, "value")
    chained = chain(L.Lambda(lambda t: t, name="mystery"), L.Rescaling(1 / 255, name="rescale"))
    with pytest.raises(ValueError, match=r"'mystery' \(Lambda\), which cnnviz cannot look through"):
        _batches.scale_setting(None, chained)


def test_a_pixel_value_in_uint8_follows_the_images_rule_and_other_numbers_are_taken_as_they_are():
    plain, scaling = cnnviz.lenet5(), chain(L.RandomFlip(), L.Rescaling(1 / 255))
    for value in (np.uint8(255), np.array(255, np.uint8)):
        assert _batches.pixel_value(value, plain, "value") == np.float32(1.0)
        assert _batches.pixel_value(value, scaling, "value") == np.float32(255.0)
    assert _batches.pixel_value(np.uint8(51), plain, "value") == np.float32(51 / 255)
    for value in (255, 255.0, np.int64(255), np.float32(255), np.array(255.0)):
        assert _batches.pixel_value(value, plain, "value") == np.float32(255.0)
    with pytest.raises(ValueError, match=r"value must be a finite number; got nan"):
        _batches.pixel_value(np.nan, plain, "value")
    # uint8 images of both models: the same rule.
    image = np.full((1, 28, 28, 1), 51, np.uint8)
    assert _batches.image_batch(image, plain)[0, 0, 0, 0] == np.float32(51 / 255)
    assert _batches.image_batch(image, scaling)[0, 0, 0, 0] == np.float32(51)


def test_float_images_need_no_answer_and_a_bad_scale_is_refused_before_any_image():
    model = chain(L.Normalization())
    x = RNG.random((2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(_batches.image_batch(x, model), x)
    assert sum(len(piece) for piece, _ in _batches.source(model, [x, x])) == 4
    with pytest.raises(ValueError, match=r"scale must be None, True or False; got 'no'"):
        _batches.image_batch(x, model, scale="no")
    with pytest.raises(ValueError, match=r"scale must be None, True or False; got 1"):
        _batches.source(model, x, scale=1)


# --- every function that takes images, and what it does with a stream ------------------------


def small_classifier() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))


def batches(count: int, size: int = 2) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(count)
    return [
        (rng.integers(0, 256, (size, 8, 8, 1), np.uint8), rng.integers(0, 3, size))
        for _ in range(count)
    ]


# Streams bounded by steps= (the number of batches to read), as Keras reads them.
READ_STEPS = {
    "layer_outputs": lambda m, s, **kw: cnnviz.layer_outputs(m, s, ["conv"], **kw),
    "top_patches": lambda m, s, **kw: cnnviz.top_patches(m, s, "conv", k=1, **kw),
    "class_mean_activations": lambda m, s, **kw: cnnviz.class_mean_activations(
        m, s, None, "relu", **kw
    ),
    "channel_ablation": lambda m, s, **kw: cnnviz.channel_ablation(m, s, None, "relu", **kw),
    "predict": lambda m, s, **kw: cnnviz.predict(m, s, **kw),
    "evaluate": lambda m, s, **kw: cnnviz.evaluate(m, s, **kw),
    "misclassified": lambda m, s, **kw: cnnviz.misclassified(model=m, images=s, **kw),
    "shift_accuracy": lambda m, s, **kw: cnnviz.shift_accuracy(m, s, max_shift=1, **kw),
    "shift_consistency": lambda m, s, **kw: cnnviz.shift_consistency(m, s, max_shift=1, **kw),
    "equivariance": lambda m, s, **kw: cnnviz.equivariance(m, s, **kw),
    "layer_similarity": lambda m, s, **kw: cnnviz.layer_similarity(
        m, m, s, layers_a=["conv"], layers_b=["relu"], **kw
    ),
    "match_channels": lambda m, s, **kw: cnnviz.match_channels(m, m, s, "conv", "conv", **kw),
}
# Per-image results, all images at once: a finite stream is read to its end.
READ_WHOLE = {
    "gradients": lambda m, s: cnnviz.gradients(m, s),
    "smoothgrad": lambda m, s: cnnviz.smoothgrad(m, s, samples=2),
    "integrated_gradients": lambda m, s: cnnviz.integrated_gradients(m, s, steps=2),
    "grad_cam": lambda m, s: cnnviz.grad_cam(m, s),
    "occlusion": lambda m, s: cnnviz.occlusion(m, s, window=4, stride=4),
    "deletion_curve": lambda m, s: cnnviz.deletion_curve(m, s, np.ones((6, 8, 8)), steps=2),
    "insertion_curve": lambda m, s: cnnviz.insertion_curve(m, s, np.ones((6, 8, 8)), steps=2),
    "randomization_check": lambda m, s: cnnviz.randomization_check(m, s),
    "data_randomization_check": lambda m, s: cnnviz.data_randomization_check(m, m, s, "gradients"),
}
# Arrays only: a stream is refused by its type.
ARRAYS_ONLY = {
    "train": lambda m, s: cnnviz.train(m, s, np.zeros(4, int), epochs=1, verbose=0),
    "plot_layer_outputs": lambda m, s: cnnviz.plot_layer_outputs(m, s),
    "explorer.export": lambda m, s: cnnviz.explorer.export(
        m, "unused", images=s, labels=np.zeros(4, int)
    ),
}


def test_every_public_function_that_takes_images_says_how_it_reads_a_stream():
    """A new function that takes a model and images must join one of the three groups."""
    import inspect

    taking_images = set()
    for name in cnnviz.__all__:
        value = getattr(cnnviz, name)
        functions = (
            {f"{name}.{f}": getattr(value, f) for f in value.__all__}
            if inspect.ismodule(value)
            else {name: value}
        )
        for qualified, function in functions.items():
            if not callable(function) or isinstance(function, type):
                continue
            parameters = inspect.signature(function).parameters
            if {"model", "model_a"} & set(parameters) and {"images", "image", "x"} & set(
                parameters
            ):
                taking_images.add(qualified)
    assert taking_images == set(READ_STEPS) | set(READ_WHOLE) | set(ARRAYS_ONLY)


def counted(pairs: list) -> tuple[Iterator, list]:
    pulled: list = []

    def generate():
        for pair in pairs:
            pulled.append(1)
            yield pair

    return generate(), pulled


@pytest.mark.parametrize("name", READ_STEPS)
def test_steps_reads_exactly_that_many_batches_and_no_more(name):
    model, pairs = small_classifier(), batches(5)
    call = READ_STEPS[name]
    stream, pulled = counted(pairs)
    call(model, stream, steps=2)
    assert len(pulled) == 2  # islice never pulls batch 3 to find the end
    stream, pulled = counted(pairs)
    call(model, stream)
    assert len(pulled) == 5
    # A tf.data pipeline over the same generator: the same count.
    stream, pulled = counted(pairs)
    dataset = tf.data.Dataset.from_generator(
        lambda: stream,
        output_signature=(
            tf.TensorSpec((None, 8, 8, 1), tf.uint8),
            tf.TensorSpec((None,), tf.int64),
        ),
    )
    call(model, dataset, steps=3)
    assert len(pulled) == 3


@pytest.mark.parametrize("name", READ_WHOLE)
def test_a_function_of_per_image_results_reads_a_finite_stream_to_its_end(name):
    stream, pulled = counted(batches(3))
    READ_WHOLE[name](small_classifier(), stream)
    assert len(pulled) == 3


@pytest.mark.parametrize("name", [*READ_STEPS, *READ_WHOLE])
def test_a_dataset_that_never_ends_is_refused_before_a_batch_is_read(name, endless_stream):
    dataset, pulled = endless_stream(batches(1)[0])
    advice = (
        r"give steps=, the number of batches to read"
        if name in READ_STEPS
        else r"so give a finite one, e\.g\. dataset\.take\(n\)"
    )
    call = READ_STEPS.get(name) or READ_WHOLE[name]
    with pytest.raises(ValueError, match=r"is a tf\.data\.Dataset that never ends .*" + advice):
        call(small_classifier(), dataset)
    assert pulled == []
    # With steps, the same dataset is read: steps batches of it.
    if name in READ_STEPS:
        dataset, pulled = endless_stream(batches(1)[0])
        call(small_classifier(), dataset, steps=2)
        assert len(pulled) == 2


@pytest.mark.parametrize("name", ARRAYS_ONLY)
def test_a_function_of_arrays_refuses_a_stream_by_its_type_before_reading_it(name, endless_stream):
    dataset, pulled = endless_stream(batches(1)[0])
    stream, generated = counted(batches(3))
    for given, count in ((dataset, pulled), (stream, generated)):
        with pytest.raises((TypeError, ValueError), match=r"must be .*array|must be a batch"):
            ARRAYS_ONLY[name](
                cnnviz.lenet5() if name == "explorer.export" else small_classifier(), given
            )
        assert count == []


@pytest.mark.parametrize("steps", [10**30, np.uint64(2**64 - 1)])
def test_steps_beyond_int64_reads_a_stream_to_its_end(steps):
    # islice and tf.data's take() hold at most 2**63 - 1: steps beyond it mean every batch,
    # not an error from inside TensorFlow or itertools about an out-of-range integer.
    model, pairs = small_classifier(), batches(3)
    dataset = tf.data.Dataset.from_tensor_slices(
        (np.concatenate([x for x, _ in pairs]), np.concatenate([y for _, y in pairs]))
    ).batch(len(pairs[0][0]))
    expected = cnnviz.predict(model, dataset)
    np.testing.assert_array_equal(cnnviz.predict(model, dataset, steps=steps), expected)
    assert len(expected) == sum(len(x) for x, _ in pairs)
    stream, pulled = counted(pairs)
    np.testing.assert_array_equal(cnnviz.predict(model, stream, steps=steps), expected)
    assert len(pulled) == len(pairs)
