"""Tests of cnnviz.training: the recipe, determinism, the cache and every error path."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

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


@pytest.fixture(scope="module")
def small():
    """320 made-up images with labels that depend on the image, so there is something to learn."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(320, 28, 28, 1), dtype=np.uint8)
    y = (x[:, :14].mean(axis=(1, 2, 3)) > x[:, 14:].mean(axis=(1, 2, 3))).astype(np.uint8) * 7
    return x, y


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


def test_without_the_fast_loop_train_falls_back_to_fit_with_the_same_result(uneven, monkeypatch):
    (x, y), _ = uneven
    fast = fresh_model()
    fast_history = cnnviz.train(fast, x[:1000], y[:1000], epochs=2, verbose=0)
    monkeypatch.setattr(training, "_batch_order", lambda num_samples, batch_size: None)
    slow = fresh_model()
    slow_history = cnnviz.train(slow, x[:1000], y[:1000], epochs=2, verbose=0)
    assert weights_equal(fast, slow)
    assert fast_history.history == slow_history.history


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


def test_where_keras_compiles_with_xla_train_leaves_it_to_fit(small, monkeypatch):
    # Keras turns XLA on by itself where a GPU is present; do that here on the CPU.
    def compile_with_xla(model, learning_rate):
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=True,
        )

    fit, fit_calls = keras.Model.fit, []

    def spy(self, *args, **kwargs):
        fit_calls.append(kwargs["batch_size"])
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(training, "_compile", compile_with_xla)
    monkeypatch.setattr(keras.Model, "fit", spy)
    x, y = small
    history = cnnviz.train(fresh_model(), x[:128], y[:128], epochs=1, verbose=0)
    assert fit_calls == [64]
    assert len(history.history["loss"]) == 1


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
    assert result["accuracy"] == pytest.approx(accuracy)
    assert result["loss"] == pytest.approx(loss, rel=1e-5)
    predicted = model.predict(x / 255.0, verbose=0).argmax(axis=1)
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
        ({"learning_rate": 0}, "learning_rate must be a positive number"),
        ({"learning_rate": "fast"}, "learning_rate must be a positive number"),
        ({"verbose": 3}, "verbose must be 'auto', 0, 1 or 2"),
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
    with pytest.raises(ValueError, match="x is empty"):
        cnnviz.train(fresh_model(), np.zeros((0, 28, 28, 1), np.uint8), np.zeros(0, int))


# --- the cache -------------------------------------------------------------------------------


def test_cache_path_changes_with_every_setting(tmp_path):
    base = cnnviz.cache_path(cache_dir=tmp_path)
    assert base.parent == tmp_path
    assert base.name.startswith("lenet5-valid-")
    variants = [
        cnnviz.cache_path("same", cache_dir=tmp_path),
        cnnviz.cache_path(epochs=29, cache_dir=tmp_path),
        cnnviz.cache_path(batch_size=32, cache_dir=tmp_path),
        cnnviz.cache_path(learning_rate=1e-4, cache_dir=tmp_path),
        cnnviz.cache_path(seed=1, cache_dir=tmp_path),
    ]
    assert len({base, *variants}) == 6
    assert cnnviz.cache_path(cache_dir=tmp_path) == base


def test_cache_key_covers_versions_and_recipe_source(tmp_path, monkeypatch):
    base = cnnviz.cache_path(cache_dir=tmp_path)
    monkeypatch.setattr(training, "__version__", "0.0.0")
    assert cnnviz.cache_path(cache_dir=tmp_path) != base
    monkeypatch.undo()
    monkeypatch.setattr(keras, "__version__", "0.0.0")
    assert cnnviz.cache_path(cache_dir=tmp_path) != base
    monkeypatch.undo()
    monkeypatch.setattr(training, "_RECIPE_SOURCES", ("models.py",))
    assert cnnviz.cache_path(cache_dir=tmp_path) != base


def test_cache_dir_comes_from_argument_then_env_then_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CNNVIZ_CACHE_DIR", raising=False)
    assert cnnviz.cache_path().parent == tmp_path / "xdg" / "cnnviz"
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path / "env"))
    assert cnnviz.cache_path().parent == tmp_path / "env"
    assert cnnviz.cache_path(cache_dir=tmp_path / "arg").parent == tmp_path / "arg"


@pytest.mark.parametrize("padding", ["full", None])
def test_trained_lenet5_rejects_bad_padding(tmp_path, padding):
    with pytest.raises(ValueError, match=r"padding must be one of \('valid', 'same'\)"):
        cnnviz.trained_lenet5(padding, cache_dir=tmp_path)


def test_trained_lenet5_rejects_bad_epochs_before_loading_anything(tmp_path):
    with pytest.raises(ValueError, match="epochs must be a positive integer; got 0"):
        cnnviz.trained_lenet5(epochs=0, cache_dir=tmp_path)


@pytest.fixture
def small_data(small, monkeypatch):
    """Make trained_lenet5 train on the small made-up set: a cache test needs a model, not accuracy."""
    x, y = small
    monkeypatch.setattr(training, "load_fashion_mnist", lambda data_dir=None: ((x, y), (x, y)))
    return x, y


def entries(cache_dir: Path) -> list[str]:
    """What a cache directory holds, leftovers included, except the lock files of trainings."""
    if not cache_dir.exists():
        return []
    return sorted(p.name for p in cache_dir.iterdir() if not p.name.endswith(".lock"))


def test_cache_miss_trains_and_stores_then_hit_loads_without_training(
    tmp_path, small_data, monkeypatch
):
    model, history = cnnviz.trained_lenet5(epochs=2, cache_dir=tmp_path, verbose=0)
    entry = cnnviz.cache_path(epochs=2, cache_dir=tmp_path)
    assert entries(tmp_path) == [entry.name]
    assert sorted(p.name for p in entry.iterdir()) == [
        "history.json",
        "manifest.json",
        "model.keras",
    ]
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 2 and isinstance(v[0], float) for v in history.values())

    def no_training(*args, **kwargs):
        raise AssertionError("a cache hit must not train")

    monkeypatch.setattr(training, "train", no_training)
    cached, cached_history = cnnviz.trained_lenet5(epochs=2, cache_dir=tmp_path)
    assert cached is not model
    assert weights_equal(cached, model)
    assert cached_history == history


def test_a_second_caller_waits_for_the_training_and_loads_it(tmp_path, small_data, monkeypatch):
    # Two threads stand in for two processes: flock locks conflict between separate opens.
    import fcntl

    trainings, waiting, results = [], threading.Event(), {}
    real_train, real_flock = training.train, fcntl.flock

    def train_once_the_second_caller_waits(*args, **kwargs):
        trainings.append(threading.current_thread().name)
        assert waiting.wait(60), "the second caller never reached the lock"
        return real_train(*args, **kwargs)

    def flock(handle, operation):
        if threading.current_thread().name == "second":
            waiting.set()
        return real_flock(handle, operation)

    monkeypatch.setattr(training, "train", train_once_the_second_caller_waits)
    monkeypatch.setattr(fcntl, "flock", flock)

    def call(name):
        results[name] = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)

    first = threading.Thread(target=call, args=("first",), name="first")
    second = threading.Thread(target=call, args=("second",), name="second")
    first.start()
    while not trainings:  # the first caller holds the lock and is training
        time.sleep(0.01)
    second.start()
    first.join(120)
    second.join(120)

    assert trainings == ["first"]
    assert weights_equal(results["first"][0], results["second"][0])
    assert results["first"][1] == results["second"][1]
    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    assert entries(tmp_path) == [entry.name]
    assert (tmp_path / f".{entry.name}.lock").is_file()


def test_a_file_system_without_locks_still_trains_and_caches(tmp_path, small_data, monkeypatch):
    import errno
    import fcntl

    def no_locks(handle, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    model, _ = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)
    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    assert entries(tmp_path) == [entry.name]
    assert weights_equal(training._read_entry(entry)[0], model)


def test_trained_lenet5_is_deterministic(tmp_path, small_data):
    first, _ = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path / "a", verbose=0)
    second, _ = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path / "b", verbose=0)
    assert weights_equal(first, second)


def truncate_model(entry: Path) -> None:
    path = entry / "model.keras"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble_manifest(entry: Path) -> None:
    (entry / "manifest.json").write_text("{not json")


def drop_history(entry: Path) -> None:
    (entry / "history.json").unlink()


def flip_a_weight_byte(entry: Path) -> None:
    path = entry / "model.keras"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage", [truncate_model, garble_manifest, drop_history, flip_a_weight_byte]
)
def test_a_damaged_entry_is_reported_and_retrained(tmp_path, small_data, damage):
    model, history = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)
    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    damage(entry)

    with pytest.warns(UserWarning, match=r"cached model .* is unusable .*training it again"):
        again, again_history = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)

    assert weights_equal(again, model)
    assert again_history == history
    assert entries(tmp_path) == [entry.name]
    reloaded, _ = training._read_entry(entry)
    assert weights_equal(reloaded, model)


def test_an_entry_that_needs_unsafe_deserialization_is_not_loaded(tmp_path, small_data):
    """safe_mode=True: a cached model with a Lambda layer (arbitrary code) is refused."""
    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    inputs = keras.Input((28, 28, 1))
    lam = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    training._write_entry(entry, lam, {"loss": [0.0]})

    with pytest.warns(UserWarning, match="unusable"):
        model, _ = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)
    assert model.name == "lenet5_valid"


def test_a_failed_write_leaves_no_entry_and_no_temporary_files(tmp_path, small_data, monkeypatch):
    def broken_save(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.warns(UserWarning, match=r"could not write the model cache .* uncached"):
        model, history = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)
    assert isinstance(model, keras.Model)
    assert len(history["loss"]) == 1
    assert entries(tmp_path) == []


def test_an_interrupted_write_leaves_no_entry(tmp_path, small_data, monkeypatch):
    def interrupted_save(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)
    assert entries(tmp_path) == []


def test_an_unwritable_cache_dir_warns_and_returns_the_model(tmp_path, small_data):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.warns(UserWarning, match=r"could not write the model cache .*a-file"):
        model, _ = cnnviz.trained_lenet5(epochs=1, cache_dir=blocker / "cache", verbose=0)
    assert model.count_params() == 44_426


# --- on the real data ------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.slow
def test_one_epoch_on_fashion_mnist_beats_80_percent(fashion_mnist, tmp_path):
    (_, _), (x_test, y_test) = fashion_mnist
    model, history = cnnviz.trained_lenet5("valid", epochs=1, cache_dir=tmp_path, verbose=0)
    accuracy = cnnviz.evaluate(model, x_test, y_test)["accuracy"]
    assert accuracy > 0.80
    assert history["val_accuracy"][0] == pytest.approx(accuracy, abs=1e-6)
    manifest = json.loads(
        (cnnviz.cache_path(epochs=1, cache_dir=tmp_path) / "manifest.json").read_text()
    )
    assert set(manifest["sha256"]) == {"model.keras", "history.json"}
