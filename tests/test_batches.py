"""cnnviz._batches: the chunk policy by hand, and per-image results gathered without a second copy.

The three forms, steps and the refusals are tested through the public functions that
use them (test_evaluation, test_activations, test_channels, test_attribution) and in
the catalogue of bad inputs.
"""

from __future__ import annotations

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


def test_receptive_fields_of_an_open_size_model_are_refused_by_name():
    with pytest.raises(ValueError, match=r"input size is fixed; model .* \(None, None, 1\)"):
        cnnviz.top_patches(open_size_model(), np.zeros((3, 28, 28, 1), np.uint8), "c1", k=1)


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
            if "model" in parameters and {"images", "image", "x"} & set(parameters):
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
