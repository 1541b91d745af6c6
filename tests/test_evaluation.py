"""Predictions, the confusion matrix and the mistakes, against hand-counted answers."""

from __future__ import annotations

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
