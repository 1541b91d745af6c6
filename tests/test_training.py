"""Tests of cnnviz.training: the recipe, determinism, the cache and every error path."""

from __future__ import annotations

import json
import re

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz import training


def fresh_model(seed: int = 0, padding: str = "valid") -> keras.Model:
    keras.utils.set_random_seed(seed)
    return cnnviz.lenet5(padding)


def weights_equal(a: keras.Model, b: keras.Model) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights(), strict=True))


# --- the recipe ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uneven():
    """4,200 made-up images: 65 full batches of 64 (more than one group of steps per graph
    call) and a last batch of 40; and as many other images to validate on, batched alike."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(8400, 28, 28, 1), dtype=np.uint8)
    y = (x[:, :14].mean(axis=(1, 2, 3)) > x[:, 14:].mean(axis=(1, 2, 3))).astype(np.uint8) * 7
    return (x[:4200], y[:4200]), (x[4200:], y[4200:])


def notebook_fit(model, x, y, validation, *, epochs, steps_per_execution=1, callbacks=None):
    """The notebook's compile and fit (float64 x / 255., np.eye one-hot), seeded as train seeds."""
    keras.utils.set_random_seed(0)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model.fit(
        x / 255.0,
        np.eye(10)[y],
        batch_size=64,
        epochs=epochs,
        validation_data=(validation[0] / 255.0, np.eye(10)[validation[1]]),
        verbose=0,
        callbacks=callbacks,
    )


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_train_gives_the_notebooks_weights_bit_for_bit(uneven, padding):
    (x, y), (x_val, y_val) = uneven
    notebook = fresh_model(padding=padding)
    expected = notebook_fit(notebook, x, y, (x_val, y_val), epochs=2)

    model = fresh_model(padding=padding)
    history = cnnviz.train(model, x, y, epochs=2, validation_data=(x_val, y_val), verbose=0)

    assert weights_equal(model, notebook)
    assert history.history == expected.history
    assert model.history is history


class BatchLog(keras.callbacks.Callback):
    """Every batch-level callback call, with its step number."""

    def on_train_begin(self, logs=None):
        self.calls = []

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("train begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("train end", batch))

    def on_test_batch_begin(self, batch, logs=None):
        self.calls.append(("test begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(("test end", batch))


def test_callbacks_see_the_batches_fit_reports(uneven):
    # 66 training batches (the last one short) and as many validation batches: with 64
    # steps per graph call, fit reports steps 0-63 and 64-127 for each, the short batch
    # inside the second call.
    (x, y), (x_val, y_val) = uneven
    seen_by_fit = BatchLog()
    notebook_fit(
        fresh_model(),
        x,
        y,
        (x_val, y_val),
        epochs=1,
        steps_per_execution=training._STEPS_PER_EXECUTION,
        callbacks=[seen_by_fit],
    )
    seen_by_train = BatchLog()
    cnnviz.train(
        fresh_model(),
        x,
        y,
        epochs=1,
        validation_data=(x_val, y_val),
        verbose=0,
        callbacks=[seen_by_train],
    )
    assert seen_by_train.calls == seen_by_fit.calls
    assert seen_by_train.calls[:4] == [
        ("train begin", 0),
        ("train end", 63),
        ("train begin", 64),
        ("train end", 127),
    ]


class StopEvaluatingAfterFirstCall(keras.callbacks.Callback):
    def on_test_batch_end(self, batch, logs=None):
        self.model.stop_evaluating = True


def test_a_callback_can_stop_validation_early_as_in_fit(uneven):
    (x, y), (x_val, y_val) = uneven
    expected = notebook_fit(
        fresh_model(),
        x[:1000],
        y[:1000],
        (x_val, y_val),
        epochs=1,
        steps_per_execution=training._STEPS_PER_EXECUTION,
        callbacks=[StopEvaluatingAfterFirstCall()],
    )
    full = cnnviz.train(
        fresh_model(), x[:1000], y[:1000], epochs=1, validation_data=(x_val, y_val), verbose=0
    )
    stopped = cnnviz.train(
        fresh_model(),
        x[:1000],
        y[:1000],
        epochs=1,
        validation_data=(x_val, y_val),
        verbose=0,
        callbacks=[StopEvaluatingAfterFirstCall()],
    )
    # Only the first graph call's 64 batches were validated: as fit does it, not the full set.
    assert stopped.history == expected.history
    assert stopped.history["val_loss"] != full.history["val_loss"]


def test_a_callback_can_stop_training_early(small):
    x, y = small

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    history = cnnviz.train(
        fresh_model(), x, y, epochs=5, verbose=0, callbacks=[StopAfterFirstEpoch()]
    )
    assert history.epoch == [0]
    assert len(history.history["loss"]) == 1


def test_same_seed_same_weights_other_seed_other_weights(small):
    x, y = small
    first, second, other = fresh_model(), fresh_model(), fresh_model()
    cnnviz.train(first, x, y, epochs=2, seed=3, verbose=0)
    cnnviz.train(second, x, y, epochs=2, seed=3, verbose=0)
    cnnviz.train(other, x, y, epochs=2, seed=4, verbose=0)
    assert weights_equal(first, second)
    assert not weights_equal(first, other)


def test_the_seed_of_train_does_not_reach_weights_drawn_before_it(small):
    # What train's docstring says: its seed covers the shuffling; the initial weights
    # were drawn when the model was built, so seed before building as well.
    x, y = small
    keras.utils.set_random_seed(0)
    first, second = cnnviz.lenet5(), cnnviz.lenet5()  # two draws of initial weights
    cnnviz.train(first, x, y, epochs=1, seed=0, verbose=0)
    cnnviz.train(second, x, y, epochs=1, seed=0, verbose=0)
    assert not weights_equal(first, second)


def test_numpy_scalars_are_settings_like_python_numbers(small):
    x, y = small
    plain, numpy = fresh_model(), fresh_model()
    cnnviz.train(plain, x, y, epochs=1, batch_size=32, learning_rate=1e-3, seed=2, verbose=0)
    cnnviz.train(
        numpy,
        x,
        y,
        epochs=np.int64(1),
        batch_size=np.int32(32),
        learning_rate=np.float32(1e-3),
        seed=np.uint8(2),
        verbose=0,
    )
    # float32(1e-3) is not 1e-3 exactly, so the weights may differ in the last bits.
    for p, q in zip(plain.get_weights(), numpy.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-6)


def test_uint8_behind_augmentation_and_rescaling_trains_as_the_pixels_as_floats(small):
    x, y = small

    def augmented():
        # keras.io's pattern; RandomFlip acts in training, drawn from the seed train sets.
        keras.utils.set_random_seed(0)
        inputs = keras.Input((28, 28, 1))
        flipped = keras.Sequential([keras.layers.RandomFlip("horizontal")])(inputs)
        return keras.Model(inputs, fresh_model()(keras.layers.Rescaling(1 / 255)(flipped)))

    from_uint8, from_float = augmented(), augmented()
    cnnviz.train(from_uint8, x, y, epochs=1, verbose=0)
    cnnviz.train(from_float, x.astype(np.float32), y, epochs=1, verbose=0)
    assert weights_equal(from_uint8, from_float)


def test_train_refuses_uint8_for_a_model_whose_scale_cannot_be_told_unless_told(small):
    x, y = small

    def normalized():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((28, 28, 1))
        return keras.Model(inputs, fresh_model()(keras.layers.Normalization(name="norm")(inputs)))

    with pytest.raises(ValueError, match=r"cannot scale uint8 x: .*'norm'.*scale=True divides"):
        cnnviz.train(normalized(), x, y, epochs=1, verbose=0)
    told, floats = normalized(), normalized()
    cnnviz.train(told, x, y, epochs=1, verbose=0, scale=True)
    cnnviz.train(floats, cnnviz.scale_images(x), y, epochs=1, verbose=0)
    assert weights_equal(told, floats)


def test_uint8_and_scaled_float_inputs_train_alike(small):
    x, y = small
    from_uint8, from_float = fresh_model(), fresh_model()
    cnnviz.train(from_uint8, x, y, epochs=1, verbose=0)
    cnnviz.train(from_float, x.astype(np.float64) / 255.0, y, epochs=1, verbose=0)
    assert weights_equal(from_uint8, from_float)


def test_integer_and_one_hot_labels_train_alike(small):
    x, y = small
    from_labels, from_one_hot = fresh_model(), fresh_model()
    cnnviz.train(from_labels, x, y, epochs=1, verbose=0)
    cnnviz.train(from_one_hot, x, np.eye(10)[y], epochs=1, verbose=0)
    assert weights_equal(from_labels, from_one_hot)


def test_history_has_per_epoch_metrics_and_validation(small):
    x, y = small
    history = cnnviz.train(
        fresh_model(), x, y, epochs=3, batch_size=32, validation_data=(x[:64], y[:64]), verbose=0
    ).history
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 3 for values in history.values())
    assert history["loss"][-1] < history["loss"][0]


def test_verbose_0_is_silent_and_2_prints_one_line_per_epoch(small, capsys):
    x, y = small
    cnnviz.train(fresh_model(), x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    cnnviz.train(fresh_model(), x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out
    assert "Epoch 2/2" in out


def test_evaluate_matches_keras(small):
    x, y = small
    model = fresh_model()
    cnnviz.train(model, x, y, epochs=1, verbose=0)
    result = cnnviz.evaluate(model, x, y)
    loss, accuracy = model.evaluate(x / 255.0, np.eye(10)[y], verbose=0, return_dict=False)
    # Keras evaluates in batches of 32, evaluate predicts in one batch: other rounding, but
    # no image here is near a tie (the best class wins by 0.03 or more), so no argmax flips.
    assert result["accuracy"] == pytest.approx(accuracy)
    assert result["loss"] == pytest.approx(loss, rel=1e-5)
    # The same predict, on the same float32 pixels in the same batches: the same bits.
    predicted = model.predict(x / 255.0, batch_size=1024, verbose=0).argmax(axis=1)
    assert result["accuracy"] == np.mean(predicted == y)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("epochs", [0, -1, 1.5, True, "3", None])
def test_train_rejects_bad_epochs(small, epochs):
    x, y = small
    with pytest.raises(ValueError, match=r"epochs must be a positive integer; got"):
        cnnviz.train(fresh_model(), x, y, epochs=epochs)


@pytest.mark.parametrize("batch_size", [0, -64, 64.0, False])
def test_train_rejects_bad_batch_size(small, batch_size):
    x, y = small
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer; got"):
        cnnviz.train(fresh_model(), x, y, batch_size=batch_size)


def test_train_rejects_x_and_y_of_different_lengths(small):
    x, y = small
    with pytest.raises(ValueError, match=r"same length; got 320 images and 319 labels"):
        cnnviz.train(fresh_model(), x, y[:-1])


def test_train_rejects_labels_out_of_range(small):
    x, y = small
    bad = y.astype(int)
    bad[5] = 10
    with pytest.raises(ValueError, match=r"range\(0, 10\)"):
        cnnviz.train(fresh_model(), x, bad)


def test_train_rejects_one_hot_of_the_wrong_width(small):
    x, _ = small
    with pytest.raises(ValueError, match=r"one-hot of shape \(N, 10\); got shape \(320, 3\)"):
        cnnviz.train(fresh_model(), x, np.zeros((320, 3)))


def test_train_rejects_integer_images_other_than_uint8(small):
    x, y = small
    with pytest.raises(TypeError, match=r"x must be uint8 .* got dtype int32"):
        cnnviz.train(fresh_model(), x.astype(np.int32), y)


def test_train_rejects_something_that_is_not_a_model(small):
    x, y = small
    with pytest.raises(TypeError, match=r"model must be a keras.Model; got str"):
        cnnviz.train("lenet5", x, y)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0}, "learning_rate must be a finite number above 0; got 0"),
        ({"learning_rate": "fast"}, "learning_rate must be a finite number above 0; got 'fast'"),
        ({"learning_rate": float("inf")}, "learning_rate must be a finite number above 0; got inf"),
        ({"learning_rate": float("nan")}, "learning_rate must be a finite number above 0; got nan"),
        ({"learning_rate": True}, "learning_rate must be a finite number above 0; got True"),
        ({"seed": -1}, "seed must be a non-negative integer; got -1"),
        ({"seed": 1.7}, "seed must be a non-negative integer; got 1.7"),
        ({"verbose": 3}, "verbose must be 'auto', 0, 1 or 2"),
        ({"verbose": True}, "verbose must be 'auto', 0, 1 or 2"),
        ({"validation_data": [1, 2, 3]}, r"validation_data must be a pair"),
    ],
)
def test_train_rejects_bad_settings(small, kwargs, message):
    x, y = small
    with pytest.raises(ValueError, match=message):
        cnnviz.train(fresh_model(), x, y, **kwargs)


def test_train_rejects_validation_data_of_mismatched_lengths(small):
    x, y = small
    with pytest.raises(ValueError, match=r"validation_data\[0\] and validation_data\[1\]"):
        cnnviz.train(fresh_model(), x, y, validation_data=(x[:10], y[:9]))


def test_train_rejects_empty_data():
    with pytest.raises(ValueError, match="x is an empty batch"):
        cnnviz.train(fresh_model(), np.zeros((0, 28, 28, 1), np.uint8), np.zeros(0, int))


@pytest.mark.integration
@pytest.mark.slow
def test_one_epoch_on_fashion_mnist_beats_80_percent(fashion_mnist, tmp_path):
    (_, _), (x_test, y_test) = fashion_mnist
    model, history = cnnviz.trained_lenet5("valid", epochs=1, cache_dir=tmp_path, verbose=0)
    accuracy = cnnviz.evaluate(model, x_test, y_test)["accuracy"]
    assert accuracy > 0.80
    # fit validates in batches of 64, evaluate predicts in batches of 1,024: on another CPU they
    # round differently, and a near tie among the 10,000 images may go the other way (one image
    # is 1e-4 of accuracy).
    assert history["val_accuracy"][0] == pytest.approx(accuracy, abs=2e-4)
    manifest = json.loads(
        (cnnviz.cache_path(epochs=1, cache_dir=tmp_path) / "manifest.json").read_text()
    )
    assert set(manifest["sha256"]) == {"model.keras", "history.json", "epochs.npz"}


# --- never a silent wrong answer --------------------------------------------------------------


def with_nan(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32) / 255
    x[3, 10, 11, 0] = np.nan
    return x


def tiled_labels(y: np.ndarray) -> np.ndarray:
    return np.tile(y[:, None], (1, 10)).astype(np.float32)


def one_hot_with_nan(y: np.ndarray) -> np.ndarray:
    hot = cnnviz.one_hot(y)
    hot[5, 0] = np.nan
    return hot


@pytest.mark.parametrize(
    ("make_x", "make_y", "message"),
    [
        (with_nan, lambda y: y, r"x must hold finite values; got 1 NaN .* index \(3, 10, 11, 0\)"),
        (lambda x: x, tiled_labels, r"y of shape \(320, 10\) must hold one-hot rows"),
        (lambda x: x, one_hot_with_nan, r"y must hold finite values; got 1 NaN .*\(5, 0\)"),
        (
            lambda x: x[:, :, :, 0].repeat(3, axis=-1).reshape(320, 28, 28, 3),
            lambda y: y,
            r"x must be a batch of images \(N, H, W, C\) = \(N, 28, 28, 1\); got shape \(320, 28, 28, 3\)",
        ),
        (lambda x: x.reshape(320, 784), lambda y: y, r"x must be a batch of images"),
    ],
)
def test_train_and_evaluate_refuse_data_that_would_give_a_wrong_answer(
    small, make_x, make_y, message
):
    x, y = small
    with pytest.raises(ValueError, match=message):
        cnnviz.train(fresh_model(), make_x(x), make_y(y), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=message):
        cnnviz.evaluate(fresh_model(), make_x(x), make_y(y))


def test_a_learning_rate_that_diverges_stops_training_with_a_clear_error(small):
    x, y = small
    # Which sign shows first depends on the CPU's kernels: where they use FMA the loss is NaN
    # by the first call's last step; with AVX alone (ONEDNN_MAX_CPU_ISA=AVX) the logged loss
    # is still 3e29, a finite number, when the weights overflow at the end of the epoch.
    diverged = r"training diverged: (the loss became nan|the weights of \S+ became NaN or infinite)"
    with pytest.raises(FloatingPointError, match=diverged):
        cnnviz.train(fresh_model(), x, y, epochs=3, learning_rate=1e30, verbose=0)


def test_images_without_a_channel_axis_are_accepted_by_train_and_evaluate_alike(small):
    x, y = small
    with_axis, without = fresh_model(), fresh_model()
    cnnviz.train(with_axis, x, y, epochs=1, verbose=0)
    cnnviz.train(without, x[..., 0], y, epochs=1, verbose=0)
    assert weights_equal(with_axis, without)
    assert cnnviz.evaluate(without, x[..., 0], y) == cnnviz.evaluate(without, x, y)


def logits_model() -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))


def two_output_model() -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(inputs)
    return keras.Model(
        inputs,
        [
            keras.layers.Dense(10, activation="softmax")(flat),
            keras.layers.Dense(10, activation="softmax")(flat),
        ],
    )


def map_output_model() -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Conv2D(10, 3, activation="softmax")(inputs))


@pytest.mark.parametrize(
    ("make_model", "message"),
    [
        (logits_model, r"does not end in a softmax.*activation='softmax'"),
        (two_output_model, r"one output of shape \(batch, classes\).*has \[\(None, 10\)"),
        (map_output_model, r"one output of shape \(batch, classes\).*\(None, 26, 26, 10\)"),
        (lambda: keras.Sequential([keras.layers.Dense(10)]), "is not built"),
    ],
)
def test_train_refuses_models_the_recipe_cannot_train(small, make_model, message):
    x, y = small
    with pytest.raises(ValueError, match=message):
        cnnviz.train(make_model(), x, y, epochs=1, verbose=0)


def test_models_ending_in_any_kind_of_softmax_train(small):
    x, y = small
    inputs = keras.Input((28, 28, 1))
    logits = keras.layers.Dense(10)(keras.layers.Flatten()(inputs))
    for end in (keras.layers.Softmax(), keras.layers.Activation("softmax")):
        model = keras.Model(inputs, end(logits))
        history = cnnviz.train(model, x[:64], y[:64], epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
    nested = keras.Sequential([keras.Input((28, 28, 1)), fresh_model()])
    assert np.isfinite(cnnviz.train(nested, x[:64], y[:64], epochs=1, verbose=0).history["loss"][0])


def test_train_refuses_callbacks_that_are_not_a_list_of_callbacks(small):
    x, y = small
    with pytest.raises(TypeError, match=r"callbacks must be a list of keras\.callbacks\.Callback"):
        cnnviz.train(fresh_model(), x, y, callbacks="abc")


def test_a_model_that_scales_its_own_input_gets_uint8_pixels_unscaled(small):
    # Rescaling(1/255) first: train on uint8 must equal train on the same model given
    # the pixels as float, never 1/255 of them (which left it learning nothing).
    x, y = small

    def scaling_model():
        # The Rescaling sits first inside a nested model: the rule looks into it.
        keras.utils.set_random_seed(0)
        inputs = keras.Input((28, 28, 1))
        inner = keras.Model(inputs, fresh_model()(keras.layers.Rescaling(1 / 255)(inputs)))
        outer_inputs = keras.Input((28, 28, 1))
        return keras.Model(outer_inputs, inner(outer_inputs))

    from_uint8, from_float = scaling_model(), scaling_model()
    cnnviz.train(from_uint8, x, y, epochs=1, verbose=0)
    cnnviz.train(from_float, x.astype(np.float32), y, epochs=1, verbose=0)
    assert weights_equal(from_uint8, from_float)
    assert cnnviz.evaluate(from_uint8, x, y) == cnnviz.evaluate(from_uint8, x.astype(np.float32), y)


# --- the variants of issue 24: their own entries, trained and loaded with safe_mode ------------


def test_the_seed_models_keep_their_entries_and_every_variant_has_its_own(tmp_path):
    seed = {p: cnnviz.cache_path(p, cache_dir=tmp_path) for p in ("valid", "same")}
    for padding, entry in seed.items():
        # pooling="max" is the seed model itself: the same configuration, the same key.
        assert cnnviz.cache_path(padding, pooling="max", cache_dir=tmp_path) == entry
        assert training._key_material(cnnviz.lenet5(padding), **RECIPE) == training._key_material(
            training._configured(padding, "max"), **RECIPE
        )
        assert entry.name.startswith(f"lenet5-{padding}-")
        assert "blur" not in entry.name
    entries = {
        (p, q): cnnviz.cache_path(p, pooling=q, cache_dir=tmp_path)
        for p in cnnviz.PADDINGS
        for q in ("max", "blur")
    }
    assert len(set(entries.values())) == 8
    for (padding, pooling), entry in entries.items():
        kind = "" if pooling == "max" else "blur-"
        assert re.fullmatch(f"lenet5-{padding}-{kind}[0-9a-f]{{20}}", entry.name), entry.name
    permuted = cnnviz.cache_path("same", pooling="blur", labels="permuted", cache_dir=tmp_path)
    assert permuted.name.startswith("lenet5-same-blur-permuted-")


# The notebook's recipe, as cache_path's defaults give it.
RECIPE = {"epochs": 30, "batch_size": 64, "learning_rate": 0.001, "seed": 0}


@pytest.mark.integration
@pytest.mark.parametrize("padding", ["circular", "reflect"])
def test_a_variant_trains_caches_and_loads_with_safe_mode(
    padding, fashion_mnist, tmp_path, monkeypatch
):
    # One epoch on 320 real images: a model to cache, not an accuracy.
    (x_train, y_train), (x_test, y_test) = fashion_mnist
    few = ((x_train[:320], y_train[:320]), (x_test[:64], y_test[:64]))
    monkeypatch.setattr(training, "load_fashion_mnist", lambda data_dir=None: few)
    model, history = cnnviz.trained_lenet5(
        padding, pooling="blur", epochs=1, cache_dir=tmp_path, verbose=0
    )
    entry = cnnviz.cache_path(padding, pooling="blur", epochs=1, cache_dir=tmp_path)
    assert entry.is_dir()
    assert entry.name.startswith(f"lenet5-{padding}-blur-")
    assert model.name == f"lenet5_{padding}_blur"
    # Training moved the weights it trains and left the blur's fixed kernel alone.
    keras.utils.set_random_seed(training.SEED)
    initial = cnnviz.lenet5(padding, pooling="blur")
    for layer in ("conv1", "fc1"):
        assert not np.array_equal(model.get_layer(layer).kernel, initial.get_layer(layer).kernel)
    for layer in ("blur1", "blur2"):
        np.testing.assert_array_equal(
            model.get_layer(layer).get_weights()[0], initial.get_layer(layer).get_weights()[0]
        )

    def no_training(*args, **kwargs):
        raise AssertionError("a cache hit must not train")

    monkeypatch.setattr(training, "train", no_training)
    loaded, loaded_history = cnnviz.trained_lenet5(
        padding, pooling="blur", epochs=1, cache_dir=tmp_path
    )
    assert loaded is not model
    assert loaded_history == history
    assert isinstance(loaded.get_layer("pad1"), cnnviz.Padding2D)
    assert loaded.get_layer("pad1").mode == padding
    assert all(
        np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True)
    )
    x = x_test[:16].astype(np.float32) / 255
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    # Its epoch 0 is the initial weights, from the same entry.
    before, _ = cnnviz.trained_lenet5(
        padding, pooling="blur", epochs=1, epoch=0, cache_dir=tmp_path
    )
    assert all(
        np.array_equal(a, b)
        for a, b in zip(before.get_weights(), initial.get_weights(), strict=True)
    )


@pytest.mark.parametrize("pooling", ["mean", "MAX", None, 1])
def test_trained_lenet5_and_cache_path_refuse_other_poolings(pooling, tmp_path):
    for call in (cnnviz.trained_lenet5, cnnviz.cache_path):
        with pytest.raises(ValueError, match=r"pooling must be one of \('max', 'blur'\)"):
            call("same", pooling=pooling, cache_dir=tmp_path)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
