"""Predictions, the confusion matrix and the mistakes, against hand-counted answers."""

from __future__ import annotations

import re
import warnings

import keras
import numpy as np
import pytest

import cnnviz


def sequential_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def nested_model() -> keras.Model:
    inputs = keras.Input((8, 8, 1))
    return keras.Model(inputs, sequential_model()(inputs))


def rgb_model() -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))
    return keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(3)(x)))


@pytest.mark.parametrize("make", [sequential_model, nested_model, rgb_model])
def test_predict_gives_the_models_probabilities_for_any_model(make):
    keras.utils.set_random_seed(0)
    model = make()
    channels = model.inputs[0].shape[-1]
    x = np.random.default_rng(0).integers(0, 256, size=(5, 8, 8, channels), dtype=np.uint8)
    probabilities = cnnviz.predict(model, x, batch_size=2)
    assert probabilities.dtype == np.float32
    assert probabilities.shape == (5, 3)
    expected = keras.ops.convert_to_numpy(model(x.astype(np.float32) / 255, training=False))
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)


def test_predict_takes_one_image():
    model = sequential_model()
    assert cnnviz.predict(model, np.zeros((8, 8), np.uint8)).shape == (1, 3)


def test_confusion_matrix_against_hand_counts():
    y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 0, 1, 2, 2, 2, 0, 2]
    # Counted by hand: class 0 -> 0,0 right and one as 1; class 1 -> one right, one as 2;
    # class 2 -> three right, one as 0.
    expected = np.array([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    matrix = cnnviz.confusion_matrix(y_true, y_pred)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.sum() == len(y_true)
    np.testing.assert_array_equal(matrix.sum(axis=1), [3, 2, 4])  # rows are true classes


def test_confusion_matrix_with_num_classes_keeps_absent_classes():
    matrix = cnnviz.confusion_matrix([1, 1], [1, 0], num_classes=4)
    expected = np.zeros((4, 4), np.int64)
    expected[1, 1] = expected[1, 0] = 1
    np.testing.assert_array_equal(matrix, expected)
    np.testing.assert_array_equal(cnnviz.confusion_matrix([], [], 2), np.zeros((2, 2)))


def test_confusion_matrix_agrees_with_a_loop():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    expected = np.zeros((10, 10), np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(cnnviz.confusion_matrix(y_true, y_pred, 10), expected)


def test_a_stray_label_is_refused_by_name_value_and_index_not_allocated():
    # One stray prediction of 10**6 would make a matrix of 10**12 counts (7.28 TiB).
    with pytest.raises(
        ValueError,
        match=r"y_pred must hold labels in range\(0, 10000\) .*the first 1000000 at index 1",
    ):
        cnnviz.confusion_matrix([0, 1], [0, 10**6])
    with pytest.raises(ValueError, match=r"y_true must hold .*the first 10000 at index 2"):
        cnnviz.confusion_matrix([0, 1, 10_000], [0, 1, 2])
    # A uint64 label past the int64 range is not wrapped to a negative one and let through.
    with pytest.raises(ValueError, match=r"y_true must hold .*the first 18446744073709551615 at"):
        cnnviz.confusion_matrix(np.array([0, 2**64 - 1], np.uint64), [0, 1])
    with pytest.raises(ValueError, match=r"num_classes must be at most 10,000 .*got 1000000"):
        cnnviz.confusion_matrix([0], [0], num_classes=10**6)
    # The largest matrix without num_classes, and with it, are still made.
    assert cnnviz.confusion_matrix([0], [9_999]).shape == (10_000, 10_000)
    assert cnnviz.confusion_matrix([0], [0], num_classes=10_000)[0, 0] == 1


def test_misclassified_against_hand_counts():
    probabilities = np.array(
        [
            [0.8, 0.1, 0.1],  # 0: true 0, right
            [0.3, 0.6, 0.1],  # 1: true 0, wrong at 0.6
            [0.1, 0.1, 0.8],  # 2: true 1, wrong at 0.8
            [0.2, 0.7, 0.1],  # 3: true 1, right
            [0.6, 0.3, 0.1],  # 4: true 2, wrong at 0.6 (a tie with 1: kept in order)
            [0.05, 0.05, 0.9],  # 5: true 0, wrong at 0.9
        ]
    )
    y_true = [0, 0, 1, 1, 2, 0]
    indices = cnnviz.misclassified(y_true, probabilities)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, [5, 2, 1, 4])
    np.testing.assert_array_equal(cnnviz.misclassified(y_true, probabilities, k=2), [5, 2])
    np.testing.assert_array_equal(cnnviz.misclassified(y_true, probabilities, k=99), [5, 2, 1, 4])


def test_misclassified_with_no_mistakes_is_empty():
    assert cnnviz.misclassified([1], [[0.2, 0.8]]).shape == (0,)


def test_evaluate_lives_in_evaluation_and_nowhere_else():
    import cnnviz.evaluation
    import cnnviz.training

    assert cnnviz.evaluate is cnnviz.evaluation.evaluate
    assert not hasattr(cnnviz.training, "evaluate")


# --- arrays, tf.data and iterables of batches -------------------------------------------------


def classifier() -> keras.Model:
    keras.utils.set_random_seed(0)
    return sequential_model()


def labelled(n: int = 30):
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (n, 8, 8, 1), dtype=np.uint8), rng.integers(0, 3, n)


@pytest.fixture
def chunks_of_8(monkeypatch):
    """Arrays cut into chunks of 8 images, as the streams' batches of 8 below."""
    monkeypatch.setattr(cnnviz._batches, "MAX_IMAGES", 8)


@pytest.mark.parametrize("form", ["tf.data", "generator", "list"])
def test_predict_of_a_stream_equals_predict_of_the_array(form, streams):
    model, (x, _) = classifier(), labelled()
    expected = cnnviz.predict(model, x, batch_size=8)
    # Exact: the same chunks of 8 (the last of 6) go through the same compiled step.
    np.testing.assert_array_equal(cnnviz.predict(model, streams(x)[form]), expected)
    # Labels in the stream are ignored.
    np.testing.assert_array_equal(cnnviz.predict(model, streams(x, labelled()[1])[form]), expected)


@pytest.mark.parametrize("form", ["tf.data", "generator", "list"])
def test_evaluate_of_a_stream_of_pairs_equals_evaluate_of_the_arrays(form, streams, chunks_of_8):
    model, (x, y) = classifier(), labelled()
    # Exact: the same chunks of 8 images, and the same sums in the same order.
    assert cnnviz.evaluate(model, streams(x, y)[form]) == cnnviz.evaluate(model, x, y)
    one_hot = np.eye(3, dtype=np.float32)[y]
    assert cnnviz.evaluate(model, streams(x, one_hot)[form]) == cnnviz.evaluate(model, x, y)


def test_evaluate_of_batches_of_another_size_agrees_within_rounding(streams):
    model, (x, y) = classifier(), labelled(64)
    arrays = cnnviz.evaluate(model, x, y)
    stream = cnnviz.evaluate(model, streams(x, y, batch=7)["tf.data"])
    # Batches of 7 and one chunk of 64 round differently: float32 arithmetic of the model.
    assert stream["loss"] == pytest.approx(arrays["loss"], rel=1e-5)
    assert stream["accuracy"] == pytest.approx(arrays["accuracy"], abs=1 / 64)  # a near tie


def test_evaluate_of_uneven_batches_is_the_mean_over_the_images_not_over_the_batches():
    model, (x, y) = classifier(), labelled(10)
    uneven = [(x[:1], y[:1]), (x[1:7], y[1:7]), (x[7:], y[7:])]
    # Each batch alone, as arrays: the same chunks as the stream's batches.
    each = [cnnviz.evaluate(model, images, labels) for images, labels in uneven]
    sizes = np.array([1, 6, 3])
    result = cnnviz.evaluate(model, uneven)
    for key in ("loss", "accuracy"):
        weighted = sum(size * part[key] for size, part in zip(sizes, each, strict=True)) / 10
        assert result[key] == pytest.approx(weighted, rel=1e-12)  # float64 sums in another order


@pytest.mark.parametrize("form", ["tf.data", "generator", "list"])
def test_misclassified_of_a_model_and_a_stream_equals_that_of_the_probabilities(
    form, streams, chunks_of_8
):
    model, (x, y) = classifier(), labelled()
    expected = cnnviz.misclassified(y, cnnviz.predict(model, x, batch_size=8))
    assert len(expected) > 10  # an untrained model: many mistakes to order
    stream = streams(x, y)[form]
    np.testing.assert_array_equal(cnnviz.misclassified(model=model, images=stream), expected)
    np.testing.assert_array_equal(cnnviz.misclassified(y, model=model, images=x), expected)
    top = cnnviz.misclassified(model=model, images=streams(x, y)[form], k=4)
    np.testing.assert_array_equal(top, expected[:4])


def test_misclassified_keeps_the_earlier_image_first_on_ties_across_batches():
    model = classifier()
    x, _ = labelled(4)
    # Batches of one image each: a repeated image gives exactly its first copy's output.
    probabilities = cnnviz.predict(model, x, batch_size=1)
    wrong = (probabilities.argmax(axis=1) + 1) % 3  # every image mislabelled
    confidence = probabilities.max(axis=1)
    order = [0, 1, 2, 3, 0, 1, 2, 3]
    stream = [(x[[i]], wrong[[i]]) for i in order]
    expected = sorted(range(8), key=lambda i: (-confidence[order[i]], i))
    for k in (None, 3, 5):
        result = cnnviz.misclassified(model=model, images=list(stream), k=k)
        np.testing.assert_array_equal(result, expected[:k])


def counted(batches: list):
    """A generator of `batches` and the list of those it gave so far."""
    pulled = []

    def generate():
        for batch in batches:
            pulled.append(batch)
            yield batch

    return generate(), pulled


def test_steps_reads_exactly_that_many_batches():
    model, (x, y) = classifier(), labelled()
    pairs = [(x[s : s + 4], y[s : s + 4]) for s in range(0, 24, 4)]  # 6 batches of 4
    stream, pulled = counted(pairs)
    assert cnnviz.predict(model, stream, steps=2).shape == (8, 3)
    assert len(pulled) == 2
    stream, pulled = counted(pairs)
    assert cnnviz.evaluate(model, stream, steps=3) == cnnviz.evaluate(model, pairs[:3])
    assert len(pulled) == 3
    stream, pulled = counted(pairs)
    cnnviz.misclassified(model=model, images=stream, steps=4)
    assert len(pulled) == 4
    stream, pulled = counted(pairs)
    assert cnnviz.predict(model, stream, steps=10).shape == (24, 3)  # ends sooner: read to its end
    assert len(pulled) == 6


def test_steps_bounds_a_dataset_that_repeats():
    import tensorflow as tf

    model, (x, y) = classifier(), labelled(8)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4).repeat()
    probabilities = cnnviz.predict(model, dataset, steps=5)
    assert probabilities.shape == (20, 3)
    np.testing.assert_array_equal(probabilities[16:], probabilities[:4])  # batch 4 is batch 0
    result = cnnviz.evaluate(model, dataset, steps=4)
    assert result == cnnviz.evaluate(model, [(x[:4], y[:4]), (x[4:], y[4:])] * 2)


@pytest.mark.parametrize("function", ["predict", "evaluate", "misclassified"])
def test_a_dataset_that_never_ends_without_steps_is_refused_before_it_is_read(
    function, endless_stream
):
    model, (x, y) = classifier(), labelled(4)
    dataset, pulled = endless_stream((x, y))
    call = {
        "predict": lambda: cnnviz.predict(model, dataset),
        "evaluate": lambda: cnnviz.evaluate(model, dataset),
        "misclassified": lambda: cnnviz.misclassified(model=model, images=dataset),
    }[function]
    with pytest.raises(ValueError, match=r"never ends .*: give steps=, the number of batches"):
        call()
    assert pulled == []


def test_a_bad_batch_is_named_by_its_number():
    model, (x, y) = classifier(), labelled(12)
    stream = [(x[:4], y[:4]), (x[4:8], y[4:8]), (x[8:, :6], y[8:])]
    with pytest.raises(
        ValueError, match=r"batch 2 of x must be a batch of images .* \(4, 6, 8, 1\)"
    ):
        cnnviz.evaluate(model, stream)
    stream[2] = (x[8:], y[8:] + 3)
    with pytest.raises(
        ValueError, match=r"the labels of batch 2 of x must hold labels in range\(0, 3\)"
    ):
        cnnviz.evaluate(model, stream)
    with pytest.raises(ValueError, match=r"x gave no batches: the stream is empty"):
        cnnviz.evaluate(model, iter([]))
    with pytest.raises(ValueError, match=r"y must be None when x is a stream of batches"):
        cnnviz.evaluate(model, stream, y)


def test_evaluate_takes_y_by_position_and_by_name_as_before():
    model, (x, y) = classifier(), labelled()
    assert cnnviz.evaluate(model, x, y) == cnnviz.evaluate(model, x=x, y=y)


@pytest.mark.integration
@pytest.mark.slow
def test_evaluate_of_the_test_set_as_a_dataset_equals_the_arrays(lenet5_one_epoch, fashion_mnist):
    import tensorflow as tf

    _, (x_test, y_test) = fashion_mnist
    arrays = cnnviz.evaluate(lenet5_one_epoch, x_test, y_test)
    dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(1000)
    streamed = cnnviz.evaluate(lenet5_one_epoch, dataset)
    assert arrays["accuracy"] > 0.8  # it learned something: the two agree on real answers
    # Batches of 1000 against chunks of the policy: rounding of the model's float32 arithmetic.
    assert streamed["loss"] == pytest.approx(arrays["loss"], rel=1e-5)
    assert streamed["accuracy"] == pytest.approx(arrays["accuracy"], abs=2e-4)  # 2 near ties
    worst = cnnviz.misclassified(model=lenet5_one_epoch, images=dataset, k=20)
    assert (cnnviz.predict(lenet5_one_epoch, x_test[worst]).argmax(axis=1) != y_test[worst]).all()


# --- uint8 images scaled once: the rule looks past layers that keep the pixels' scale ----------


def augmented_classifier() -> keras.Model:
    """keras.io's pattern: augmentation layers, then Rescaling(1/255), then the network."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.RandomFlip(),
            keras.layers.RandomRotation(0.1),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def normalized_classifier(normalization: keras.layers.Layer) -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            normalization,
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def pixels(n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8), rng.integers(0, 10, n)


def cross_entropy(probabilities: np.ndarray, y: np.ndarray) -> float:
    eps = keras.config.epsilon()
    picked = np.clip(probabilities, eps, 1 - eps)[np.arange(len(y)), y]
    return float(np.mean(-np.log(picked.astype(np.float64))))


def test_uint8_images_reach_a_rescaling_behind_augmentation_layers_unscaled():
    model = augmented_classifier()
    x, y = pixels()
    # What the model is meant to see: the pixels as they are (floats in [0, 1] times 255).
    direct = np.asarray(model.predict_on_batch(x.astype(np.float32)))
    twice = np.asarray(model.predict_on_batch(cnnviz.scale_images(x)))  # divided twice
    assert np.abs(direct - twice).max() > 1e-3  # the two are far apart for this model
    np.testing.assert_allclose(cnnviz.predict(model, x), direct, rtol=1e-5, atol=1e-7)
    result = cnnviz.evaluate(model, x, y)
    assert result["loss"] == pytest.approx(cross_entropy(direct, y), rel=1e-5)
    # An explicit scale always wins: the caller may divide on purpose.
    scaled = cnnviz.evaluate(model, x, y, scale=True)
    assert scaled["loss"] == pytest.approx(cross_entropy(twice, y), rel=1e-5)
    mistakes = cnnviz.misclassified(model=model, images=x, y_true=y)
    np.testing.assert_array_equal(
        mistakes, cnnviz.misclassified(y, cnnviz.predict(model, x.astype(np.float32)))
    )


@pytest.mark.parametrize("adapted_on", ["[0, 1]", "[0, 255]"])
def test_a_first_normalization_takes_the_pixels_its_statistics_show(adapted_on):
    x, y = pixels()
    data = np.random.default_rng(4).random((64, 28, 28, 1)).astype(np.float32)
    normalization = keras.layers.Normalization()
    normalization.adapt(data if adapted_on == "[0, 1]" else data * 255)
    model = normalized_classifier(normalization)
    expected = cnnviz.scale_images(x) if adapted_on == "[0, 1]" else x.astype(np.float32)
    # The same float32 pixels in one batch of the same shape: the same computation. The
    # statistics say what the layer was adapted on, not what it is given: a warning says so.
    said = "divided by 255" if adapted_on == "[0, 1]" else "passed as they are"
    warning = rf"uint8 (x|images) {said} for model .* statistics of data in {re.escape(adapted_on)}"
    with pytest.warns(UserWarning, match=warning + r".*scale=True divides"):
        evaluated = cnnviz.evaluate(model, x, y)
    assert evaluated == cnnviz.evaluate(model, expected, y)
    with pytest.warns(UserWarning, match=warning + r".*give images as floats, used as they are"):
        predicted = cnnviz.predict(model, x)
    np.testing.assert_array_equal(predicted, cnnviz.predict(model, expected))
    # Saying it outright is heard without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outright = cnnviz.evaluate(model, x, y, scale=adapted_on == "[0, 1]")
    assert outright == evaluated


def test_uint8_images_for_a_model_that_cannot_say_are_refused_unless_scale_is_given():
    model = normalized_classifier(keras.layers.Normalization(name="norm"))  # never adapted
    x, y = pixels()
    with pytest.raises(
        ValueError, match=r"cannot scale uint8 images: .*'norm'.*give images as floats"
    ):
        cnnviz.predict(model, x)
    with pytest.raises(
        ValueError, match=r"cannot scale uint8 images: .*'norm'.*give images as floats"
    ):
        cnnviz.predict(model, [x[:6], x[6:]])  # a stream: the argument is named all the same
    with pytest.raises(ValueError, match=r"cannot scale uint8 x: .*scale=True divides"):
        cnnviz.evaluate(model, x, y)
    with pytest.raises(ValueError, match=r"cannot scale uint8 images"):
        cnnviz.misclassified(model=model, images=x, y_true=y)
    # Float images need no answer; an explicit scale is taken at its word, both ways.
    assert cnnviz.predict(model, x.astype(np.float32)).shape == (12, 10)
    unscaled = cnnviz.evaluate(model, x.astype(np.float32), y)
    assert cnnviz.evaluate(model, x, y, scale=False) == unscaled
    assert cnnviz.evaluate(model, x, y, scale=True) == cnnviz.evaluate(
        model, cnnviz.scale_images(x), y
    )


# --- the loss as Keras computes it: from the softmax's input, no cap (issue 21) ----------------


def saturated_model() -> keras.Model:
    """A softmax over logits of about +-100: certain of class 0, whatever the image.

    The 16 pixels (each in [0.25, 0.75]) sum to 4..12, so the logits are ``12 * sum``,
    ``-12 * sum`` and 0.5: from (48, -48, 0.5) to (144, -144, 0.5). An image of class 1 or
    2 is a confident mistake whose loss is the difference of its logits, 96 to 288 or 47.5 to
    143.5: far above the 16.1 that clipping probabilities at 1e-7 allows.
    """
    inputs = keras.Input((4, 4, 1))
    h = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(3, activation="softmax", name="op")
    model = keras.Model(inputs, dense(h))
    kernel = np.zeros((16, 3), np.float32)
    kernel[:, 0], kernel[:, 1] = 12, -12
    dense.set_weights([kernel, np.array([0.0, 0.0, 0.5], np.float32)])
    return model


def saturated_data(n: int = 40):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.25, 0.75, (n, 4, 4, 1)).astype(np.float32)
    return x, np.arange(n) % 3  # a third right (class 0), two thirds confident mistakes


def by_hand(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each image's loss, -log_softmax(z)[y], from the logits worked out in float64."""
    s = x.reshape(len(x), -1).astype(np.float64).sum(axis=1)
    z = np.stack([12 * s, -12 * s, np.full_like(s, 0.5)], axis=1)
    top = z.max(axis=1)
    return top + np.log(np.exp(z - top[:, None]).sum(axis=1)) - z[np.arange(len(y)), y]


def test_evaluate_computes_the_loss_of_confident_mistakes_from_the_logits_uncapped():
    model, (x, y) = saturated_model(), saturated_data()
    each = by_hand(x, y)
    assert each.max() > 200  # far above the old cap of 16.1
    assert (each[y != 0] > 47).all()
    result = cnnviz.evaluate(model, x, y)
    # float32 logits (sums of 16 products) against float64 ones: a few float32 ulps.
    assert result["loss"] == pytest.approx(each.mean(), rel=1e-6)
    assert result["loss"] > 16.2
    assert result["accuracy"] == pytest.approx(np.mean(y == 0), abs=0)
    wrong = int(np.flatnonzero(y == 1)[0])
    one = cnnviz.evaluate(model, x[wrong : wrong + 1], y[wrong : wrong + 1])
    assert one["loss"] == pytest.approx(each[wrong], rel=1e-6)


@pytest.mark.parametrize("form", ["tf.data", "generator", "list"])
def test_evaluate_equals_keras_evaluate_on_a_saturated_model(form, streams):
    model, (x, y) = saturated_model(), saturated_data()
    one_hot = np.eye(3, dtype=np.float32)[y]
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    keras_loss, keras_accuracy = model.evaluate(x, one_hot, batch_size=8, verbose=0)
    assert keras_loss > 5 * 16.2  # Keras reads the softmax's input too: no cap
    # Keras sums float32 losses batch by batch; cnnviz sums them in float64: float32 rounding.
    for result in (cnnviz.evaluate(model, x, y), cnnviz.evaluate(model, streams(x, y)[form])):
        assert result["loss"] == pytest.approx(keras_loss, rel=1e-5)
        assert result["accuracy"] == pytest.approx(keras_accuracy, abs=1e-7)


def test_evaluate_with_soft_labels_weighs_each_class_log_probability():
    model, (x, _) = saturated_model(), saturated_data(6)
    soft = np.tile(np.array([[0.5, 0.25, 0.25]], np.float32), (6, 1))
    expected = sum(w * by_hand(x, np.full(6, c)) for c, w in enumerate((0.5, 0.25, 0.25)))
    model.compile(loss="categorical_crossentropy")
    keras_loss = model.evaluate(x, soft, verbose=0)
    result = cnnviz.evaluate(model, x, soft)
    assert result["loss"] == pytest.approx(expected.mean(), rel=1e-6)
    assert result["loss"] == pytest.approx(keras_loss, rel=1e-5)


@pytest.mark.integration
def test_evaluate_equals_keras_evaluate_for_the_gallery_model(trained_valid, fashion_mnist):
    model, _ = trained_valid
    _, (x_test, y_test) = fashion_mnist
    twin = keras.models.clone_model(model)  # compiled here, so the cached model is left as it is
    twin.set_weights(model.get_weights())
    twin.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    x = x_test.astype(np.float32) / 255
    keras_loss, keras_accuracy = twin.evaluate(x, np.eye(10)[y_test], batch_size=1000, verbose=0)
    result = cnnviz.evaluate(model, x_test, y_test)
    # 10,000 float32 losses summed in other batches and orders: rounding only.
    assert result["loss"] == pytest.approx(keras_loss, rel=1e-4)
    assert result["accuracy"] == pytest.approx(keras_accuracy, abs=2e-4)  # near ties
