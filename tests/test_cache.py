"""Tests of the trained-model cache (cnnviz.cache) through trained_lenet5 and cache_path."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz import cache, training


def weights_equal(a: keras.Model, b: keras.Model) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights(), strict=True))


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


def test_learning_rates_that_train_the_same_weights_share_a_key(tmp_path):
    # Adam holds the rate as a float32: these three are one rate to it, 0.0011 is not.
    base = cnnviz.cache_path(cache_dir=tmp_path)
    assert cnnviz.cache_path(learning_rate=np.float32(0.001), cache_dir=tmp_path) == base
    assert cnnviz.cache_path(learning_rate=0.001 + 1e-12, cache_dir=tmp_path) == base
    assert cnnviz.cache_path(learning_rate=0.0011, cache_dir=tmp_path) != base
    recipe = training._key_material(cnnviz.lenet5(), **RECIPE)["recipe"]
    assert recipe["learning_rate"] == 0.001


# The notebook's recipe, as cache_path's defaults give it.
RECIPE = {"epochs": 30, "batch_size": 64, "learning_rate": 0.001, "seed": 0}


def lenet5_built_another_way(
    padding="valid", input_shape=(28, 28, 1), num_classes=10, *, pooling="max", filters=6
):
    """LeNet-5 from a table of layers, with a new option whose default is the notebook's model."""
    assert pooling == "max"  # the seed's models only
    layers = keras.layers
    stack = [
        layers.Conv2D(filters, (5, 5), padding=padding, name="conv1"),
        layers.Activation("relu", name="relu1"),
        layers.MaxPooling2D((2, 2), padding=padding, name="max_pool1"),
        layers.Conv2D(16, (5, 5), padding=padding, name="conv2"),
        layers.Activation("relu", name="relu2"),
        layers.MaxPooling2D((2, 2), padding=padding, name="max_pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(120, activation="relu", name="fc1"),
        layers.Dense(84, activation="relu", name="fc2"),
        layers.Dense(num_classes, activation="softmax", name="op"),
    ]
    inputs = x = keras.Input(input_shape, name="input")
    for layer in stack:
        x = layer(x)
    return keras.Model(inputs, x, name=f"lenet5_{padding}")


def test_the_key_is_the_model_config_the_recipe_the_data_and_two_versions_only(tmp_path):
    # Recomputed from these alone: no source code and not cnnviz's version, so a comment, a
    # refactoring or a release that leaves them as they are keeps every cached model.
    import tensorflow as tf

    config = json.loads(cnnviz.lenet5("valid").to_json())
    config.pop("compile_config", None)
    optimizer = keras.optimizers.serialize(keras.optimizers.Adam(learning_rate=0.001))
    del optimizer["config"]["name"]  # adam, adam_1, ...: Keras counts them per process
    material = {
        "model": config,
        "recipe": {
            "version": training.RECIPE_VERSION,
            **RECIPE,
            "optimizer": optimizer,
            "loss": "categorical_crossentropy",
        },
        "data_sha256": {name: sha for name, (sha, _) in cnnviz.data.FILES.items()},
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    assert cnnviz.cache_path(cache_dir=tmp_path) == tmp_path / f"lenet5-valid-{digest[:20]}"


def test_a_builder_with_a_new_option_or_other_code_keeps_the_key_of_the_same_model(
    tmp_path, monkeypatch
):
    base = cnnviz.cache_path(cache_dir=tmp_path)
    same = cnnviz.cache_path("same", cache_dir=tmp_path)
    monkeypatch.setattr(training, "lenet5", lenet5_built_another_way)
    assert cnnviz.cache_path(cache_dir=tmp_path) == base
    assert cnnviz.cache_path("same", cache_dir=tmp_path) == same
    # A model read back from its JSON is the same model to the key.
    rebuilt = keras.models.model_from_json(cnnviz.lenet5("valid").to_json())
    assert training._key_material(rebuilt, **RECIPE) == training._key_material(
        cnnviz.lenet5("valid"), **RECIPE
    )


def test_the_model_config_holds_no_name_keras_makes_up():
    first = training._key_material(cnnviz.lenet5("valid"), **RECIPE)
    # Unnamed layers, models and optimizers move Keras' per-process name counters.
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    keras.layers.Conv2D(1, 1)
    keras.optimizers.Adam()
    assert training._key_material(cnnviz.lenet5("valid"), **RECIPE) == first


def test_a_change_of_the_recipe_the_model_the_data_or_the_versions_changes_the_key(
    tmp_path, monkeypatch
):
    base = cnnviz.cache_path(cache_dir=tmp_path)

    def changed(target, name, value):
        monkeypatch.setattr(target, name, value)
        key = cnnviz.cache_path(cache_dir=tmp_path)
        monkeypatch.undo()
        assert cnnviz.cache_path(cache_dir=tmp_path) == base
        return key

    import tensorflow as tf

    keys = [
        changed(training, "RECIPE_VERSION", training.RECIPE_VERSION + 1),
        changed(training, "_LOSS", "kl_divergence"),
        changed(training, "_optimizer", lambda lr: keras.optimizers.Adam(lr, amsgrad=True)),
        changed(training, "_optimizer", lambda lr: keras.optimizers.SGD(lr)),
        # A changed layer: conv1 with 8 filters instead of 6.
        changed(
            training,
            "lenet5",
            lambda padding, pooling: lenet5_built_another_way(padding, filters=8),
        ),
        changed(training, "FILES", {**training.FILES, "train-labels-idx1-ubyte": ("0" * 64, 0)}),
        changed(keras, "__version__", "0.0.0"),
        changed(tf, "__version__", "0.0.0"),
    ]
    assert len({base, *keys}) == len(keys) + 1
    # cnnviz's own version is not part of the key (the recipe's version is).
    assert changed(cnnviz, "__version__", "0.0.0") == base


def test_a_global_keras_setting_that_changes_the_model_changes_the_key(tmp_path):
    base = cnnviz.cache_path(cache_dir=tmp_path)
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = cnnviz.cache_path(cache_dir=tmp_path)
    finally:
        keras.config.set_dtype_policy("float32")
    assert mixed != base
    assert cnnviz.cache_path(cache_dir=tmp_path) == base


def test_cache_path_leaves_the_callers_random_state_alone(tmp_path):
    # It builds the model to read its configuration; a seeded build after it must not notice.
    keras.utils.set_random_seed(3)
    expected = cnnviz.lenet5("valid").get_weights()
    keras.utils.set_random_seed(3)
    cnnviz.cache_path("same", cache_dir=tmp_path)
    got = cnnviz.lenet5("valid").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))


def test_train_compiles_with_the_optimizer_and_loss_the_key_records(small):
    x, y = small
    keras.utils.set_random_seed(0)
    model = cnnviz.lenet5("valid")
    cnnviz.train(model, x[:64], y[:64], epochs=1, learning_rate=0.002, verbose=0)
    recorded = training._key_material(model, **{**RECIPE, "learning_rate": 0.002})["recipe"]
    used = keras.optimizers.serialize(model.optimizer)
    del used["config"]["name"]
    assert used == recorded["optimizer"]
    assert model.loss == recorded["loss"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": "0.001"}, "learning_rate must be a finite number above 0"),
        ({"learning_rate": float("inf")}, "learning_rate must be a finite number above 0"),
        ({"seed": 1.7}, "seed must be a non-negative integer; got 1.7"),
        ({"seed": -1}, "seed must be a non-negative integer; got -1"),
        ({"epochs": 30.0}, "epochs must be a positive integer; got 30.0"),
    ],
)
def test_every_setting_is_checked_before_the_key_even_when_an_entry_exists(
    tmp_path, small_data, kwargs, message
):
    # A stored default model must not be served for a setting that only looks like a default.
    cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)
    settings = {"epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        cnnviz.cache_path(cache_dir=tmp_path, **settings)
    with pytest.raises(ValueError, match=message):
        cnnviz.trained_lenet5(cache_dir=tmp_path, verbose=0, **settings)


def test_cache_dir_comes_from_argument_then_env_then_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CNNVIZ_CACHE_DIR", raising=False)
    assert cnnviz.cache_path().parent == tmp_path / "xdg" / "cnnviz"
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path / "env"))
    assert cnnviz.cache_path().parent == tmp_path / "env"
    assert cnnviz.cache_path(cache_dir=tmp_path / "arg").parent == tmp_path / "arg"


@pytest.mark.parametrize("padding", ["full", None])
def test_trained_lenet5_rejects_bad_padding(tmp_path, padding):
    with pytest.raises(
        ValueError, match=r"padding must be one of \('valid', 'same', 'reflect', 'circular'\)"
    ):
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
        "epochs.npz",
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


def test_every_epochs_weights_come_from_the_one_entry_without_training_again(
    tmp_path, small_data, monkeypatch
):
    model, history = cnnviz.trained_lenet5(epochs=2, cache_dir=tmp_path, verbose=0)
    # Epoch 1 of a two-epoch run is a one-epoch run: the same seed, the same first shuffle.
    one_epoch, _ = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path / "one", verbose=0)
    keras.utils.set_random_seed(training.SEED)
    initial = cnnviz.lenet5("valid")

    def no_training(*args, **kwargs):
        raise AssertionError("every epoch must come from the cache entry")

    monkeypatch.setattr(training, "train", no_training)
    after = {e: cnnviz.trained_lenet5(epochs=2, epoch=e, cache_dir=tmp_path) for e in (0, 1, 2)}
    assert weights_equal(after[0][0], initial)
    assert weights_equal(after[1][0], one_epoch)
    assert weights_equal(after[2][0], model)
    assert not weights_equal(after[1][0], model)
    assert not weights_equal(after[1][0], initial)
    assert all(h == history for _, h in after.values())  # the whole run's history
    stored = np.load(cnnviz.cache_path(epochs=2, cache_dir=tmp_path) / "epochs.npz")
    assert len(stored.files) == 3 * len(model.get_weights())
    assert {stored[name].dtype for name in stored.files} == {np.dtype(np.float32)}


def test_an_uncached_run_still_gives_any_epoch(tmp_path, small_data):
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    with pytest.warns(UserWarning, match="could not write the model cache"):
        first, _ = cnnviz.trained_lenet5(epochs=2, epoch=1, cache_dir=blocker / "c", verbose=0)
    cached, _ = cnnviz.trained_lenet5(epochs=2, epoch=1, cache_dir=tmp_path / "ok", verbose=0)
    assert weights_equal(first, cached)


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
    # The warnings machinery is process-wide: this records the second thread's warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first.start()
        while not trainings:  # the first caller holds the lock and is training
            time.sleep(0.01)
        second.start()
        first.join(120)
        second.join(120)
    assert [str(w.message) for w in caught if "another process is training" in str(w.message)]

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
    assert weights_equal(cache.read_entry(entry)[0], model)


def test_trained_lenet5_is_deterministic(tmp_path, small_data):
    first, _ = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path / "a", verbose=0)
    second, _ = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path / "b", verbose=0)
    assert weights_equal(first, second)


def truncate_model(entry: Path) -> None:
    path = entry / "model.keras"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def truncate_epoch_weights(entry: Path) -> None:
    path = entry / "epochs.npz"
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


def empty_the_manifest(entry: Path) -> None:
    # The manifest then vouches for nothing: it must not vouch for whatever is there.
    (entry / "manifest.json").write_text(json.dumps({"entry": entry.name, "sha256": {}}))


def copy_another_entrys_manifest(entry: Path) -> None:
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["entry"] = "lenet5-same-0123456789abcdef0123"
    (entry / "manifest.json").write_text(json.dumps(manifest))


def replace_the_model_with_another(entry: Path) -> None:
    # A valid model of the same architecture, other weights; the manifest is left as it was.
    keras.utils.set_random_seed(5)
    cnnviz.lenet5("valid").save(entry / "model.keras")


def put_another_entry_in_its_place(entry: Path) -> None:
    # An impostor: a complete entry, true to its own manifest, which names another entry.
    other = entry.with_name("lenet5-valid-" + "0" * 20)
    keras.utils.set_random_seed(5)
    impostor = cnnviz.lenet5("valid")
    cache.write_entry(other, impostor, {"loss": [0.0]}, [impostor.get_weights()])
    shutil.rmtree(entry)
    other.rename(entry)


@pytest.mark.parametrize(
    "damage",
    [
        truncate_model,
        truncate_epoch_weights,
        garble_manifest,
        drop_history,
        flip_a_weight_byte,
        empty_the_manifest,
        copy_another_entrys_manifest,
        replace_the_model_with_another,
        put_another_entry_in_its_place,
    ],
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
    reloaded, _ = cache.read_entry(entry)
    assert weights_equal(reloaded, model)


def test_an_entry_that_needs_unsafe_deserialization_is_not_loaded(tmp_path, small_data):
    """safe_mode=True: a cached model with a Lambda layer (arbitrary code) is refused."""
    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    inputs = keras.Input((28, 28, 1))
    lam = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    cache.write_entry(entry, lam, {"loss": [0.0]}, [lam.get_weights()])

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


def test_an_impostor_model_with_an_empty_manifest_is_not_served(tmp_path, small_data):
    # Another model's file beside a manifest that names no file: refused, not served.
    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    entry.mkdir(parents=True)
    keras.utils.set_random_seed(5)
    cnnviz.lenet5("same").save(entry / "model.keras")
    (entry / "history.json").write_text(json.dumps({"loss": [0.0]}))
    (entry / "manifest.json").write_text(json.dumps({"sha256": {}}))
    with pytest.warns(UserWarning, match="unusable.*does not belong"):
        model, history = cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)
    assert model.name == "lenet5_valid"
    assert history["loss"] != [0.0]


def test_waiting_for_a_held_lock_warns_once_then_times_out_naming_it(tmp_path, small_data):
    import fcntl

    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    lock = entry.with_name(f".{entry.name}.lock")
    with lock.open("a") as holder:  # another open file: conflicts as another process would
        fcntl.flock(holder, fcntl.LOCK_EX)
        start = time.monotonic()
        with (
            pytest.warns(UserWarning, match=f"waiting up to 0.5 s .*{lock.name}") as caught,
            pytest.raises(TimeoutError, match=rf"waited 0.5 s for the lock .*{lock.name}"),
        ):
            cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0, lock_timeout=0.5)
        assert time.monotonic() - start >= 0.5
    assert len(caught) == 1
    assert not entry.exists()


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "60"])
def test_a_bad_lock_timeout_is_refused(tmp_path, timeout):
    with pytest.raises(ValueError, match="lock_timeout must be a finite number above 0"):
        cnnviz.trained_lenet5(cache_dir=tmp_path, lock_timeout=timeout)


def dead_pid() -> int:
    """The id of a process that has ended (a child that printed it and exited)."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(dead.stdout)


def test_leftovers_of_dead_processes_are_removed_at_the_next_store(tmp_path, small_data):
    pid = dead_pid()
    stale_tmp = tmp_path / f".lenet5-valid-abc.{pid}.x1y2.tmp"
    stale_trash = tmp_path / f".lenet5-valid-abc.{pid}.trash"
    live_tmp = tmp_path / f".lenet5-valid-abc.{os.getppid()}.x1y2.tmp"  # a live process's
    for directory in (stale_tmp, stale_trash, live_tmp):
        directory.mkdir()
        (directory / "model.keras").write_bytes(b"half a model")

    cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0)

    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    assert entries(tmp_path) == sorted([live_tmp.name, entry.name])


def test_temporary_and_set_aside_directories_are_what_remove_leftovers_cleans(tmp_path):
    # The two names every writer of the cache directory (and the docs build's kept gallery
    # outputs) uses: this process's are left alone, a dead process's are removed.
    parent = tmp_path / "not" / "yet"
    staged = cache.temporary_dir(parent, "lenet5-valid-abc")
    assert staged.is_dir()
    assert staged.parent == parent
    assert staged.name.startswith(f".lenet5-valid-abc.{os.getpid()}.")
    assert staged.name.endswith(".tmp")
    bad = parent / "lenet5-valid-abc"
    bad.mkdir()
    trash = cache.set_aside(bad, parent)
    assert trash == parent / f".lenet5-valid-abc.{os.getpid()}.trash"
    assert trash.is_dir()
    assert not bad.exists()
    assert cache.remove_leftovers(parent) == []  # ours: perhaps still being written

    pid = dead_pid()
    for path in (staged, trash):
        path.rename(parent / path.name.replace(f".{os.getpid()}.", f".{pid}."))
    # Not a process id: a directory of someone else's, left alone (int() refuses "²").
    (parent / ".other.².trash").mkdir()
    again = cache.temporary_dir(parent, "lenet5-valid-abc")  # removes the dead one's first
    assert sorted(p.name for p in parent.iterdir()) == sorted([again.name, ".other.².trash"])


def test_a_set_aside_left_by_an_earlier_process_with_this_id_does_not_block_a_discard(tmp_path):
    # Process ids are reused: a process killed while it removed an entry leaves
    # .<entry>.<pid>.trash, which a later process with that id cannot rename onto.
    entry = tmp_path / ("a" * 64)
    entry.mkdir()
    (entry / "manifest.json").write_text("{}")
    left = tmp_path / f".{entry.name}.{os.getpid()}.trash"
    left.mkdir()
    (left / "model.keras").write_text("an earlier process's")
    cache.discard(entry)
    assert not entry.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["   ", " /tmp/cache"])
def test_a_cache_dir_variable_of_white_space_is_refused(monkeypatch, value):
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", value)
    with pytest.raises(ValueError, match="CNNVIZ_CACHE_DIR="):
        cnnviz.cache_path()


def test_a_diverged_run_raises_and_stores_nothing(tmp_path, small_data):
    with pytest.raises(
        FloatingPointError, match=r"training diverged: .*learning_rate \(it is 1e\+30\)"
    ):
        cnnviz.trained_lenet5(epochs=2, learning_rate=1e30, cache_dir=tmp_path, verbose=0)
    assert entries(tmp_path) == []


# --- faults in other processes: SIGKILL, concurrent callers, a stopped lock holder ----------

# A child process that asks for the same entry as the test (epochs=1, the `small` images).
# It is told where to die (kill mode) or how many callers there are (concurrent mode).
CHILD = r"""
import fcntl, json, os, pathlib, signal, sys, time, warnings, zipfile
from pathlib import Path

import numpy as np

from cnnviz import training

mode, cache_dir, expected_entry, data, arg, out = sys.argv[1:7]
small = np.load(data)
# These tests need a stored model, not a good one: a few images, trained eagerly (no graph
# to trace), keep each child's cost near that of importing TensorFlow.
x, y = small["x"][:64], small["y"][:64]
training.load_fashion_mnist = lambda data_dir=None: ((x, y), (x, y))
import tensorflow as tf

tf.config.run_functions_eagerly(True)
if training.cache_path(epochs=1, cache_dir=cache_dir) != Path(expected_entry):
    sys.exit(f"the child's entry {training.cache_path(epochs=1, cache_dir=cache_dir)} is not "
             f"the test's {expected_entry}")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if mode == "kill":
    point = arg
    real_writestr = zipfile.ZipFile.writestr
    real_write_text = pathlib.Path.write_text
    real_rename = pathlib.Path.rename

    def writestr(self, name, data, *args, **kwargs):
        # model.keras's metadata and config are written; its weights are next.
        if point == "saving-model" and str(getattr(name, "filename", name)).endswith(".h5"):
            self.fp.flush()  # what is written so far reaches the file, as on a real kill
            die()
        return real_writestr(self, name, data, *args, **kwargs)

    def write_text(self, *args, **kwargs):
        if (point, self.name) in {
            ("before-history", "history.json"),
            ("before-manifest", "manifest.json"),
        }:
            die()
        return real_write_text(self, *args, **kwargs)

    def rename(self, target):
        if point == "before-rename":
            die()
        moved = real_rename(self, target)
        if point == "after-rename":
            die()
        return moved

    zipfile.ZipFile.writestr = writestr
    pathlib.Path.write_text = write_text
    pathlib.Path.rename = rename
    training.trained_lenet5(epochs=1, cache_dir=cache_dir, verbose=0)
    sys.exit(f"the child was never killed at {point}")

# mode == "concurrent": one of `callers` processes trains; it goes on training only once
# every other caller has found the lock taken, so the callers are known to overlap.
callers, out = int(arg), Path(out)
real_flock, real_train = fcntl.flock, training.train


def flock(handle, operation):
    try:
        return real_flock(handle, operation)
    except BlockingIOError:
        (out / f"blocked-{os.getpid()}").touch()
        raise


def train(*args, **kwargs):
    with (out / "trainings").open("a") as log:
        log.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + 120
    while len(list(out.glob("blocked-*"))) < callers - 1:
        if time.monotonic() > deadline:
            sys.exit("the other callers never found the lock taken")
        time.sleep(0.05)
    return real_train(*args, **kwargs)


fcntl.flock, training.train = flock, train
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model, history = training.trained_lenet5(epochs=1, cache_dir=cache_dir, verbose=0)
np.savez(out / f"weights-{os.getpid()}.npz", *model.get_weights())
(out / f"result-{os.getpid()}.json").write_text(
    json.dumps({"history": history, "warnings": [str(w.message) for w in caught]})
)
"""


def start_child(tmp: Path, mode: str, cache_dir: Path, arg: str, out: Path) -> subprocess.Popen:
    """Start CHILD in a fresh interpreter, from a directory that is not the source tree.

    From `tmp`, the child imports the same cnnviz as the tests (the installed one under nox).
    """
    entry = cnnviz.cache_path(epochs=1, cache_dir=cache_dir)
    argv = [mode, str(cache_dir), str(entry), str(tmp / "small.npz"), arg, str(out)]
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def save_small(tmp: Path, small) -> None:
    x, y = small
    np.savez(tmp / "small.npz", x=x, y=y)


KILL_POINTS = ["saving-model", "before-history", "before-manifest", "before-rename", "after-rename"]


@pytest.fixture(scope="module")
def killed_stores(tmp_path_factory, small):
    """One child per kill point, run side by side (each imports TensorFlow): point -> result."""
    tmp = tmp_path_factory.mktemp("killed")
    save_small(tmp, small)
    children = {point: start_child(tmp, "kill", tmp / point, point, tmp) for point in KILL_POINTS}
    results = {}
    for point, child in children.items():
        _, stderr = child.communicate(timeout=600)
        results[point] = {
            "cache_dir": tmp / point,
            "pid": child.pid,
            "returncode": child.returncode,
            "stderr": stderr,
        }
    return results


def flock_is_free(lock: Path) -> bool:
    import fcntl

    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_store_killed_at_any_point_leaves_no_partial_entry(
    killed_stores, small_data, monkeypatch, point
):
    killed = killed_stores[point]
    assert killed["returncode"] == -signal.SIGKILL, killed["stderr"][-3000:]
    cache_dir, pid = killed["cache_dir"], killed["pid"]
    entry = cnnviz.cache_path(epochs=1, cache_dir=cache_dir)
    leftovers = sorted(cache_dir.glob(f".{entry.name}.{pid}.*.tmp"))
    lock = entry.with_name(f".{entry.name}.lock")
    # The kill released the lock: nobody has to wait for a dead process.
    assert flock_is_free(lock)

    if point == "after-rename":
        # Renamed into place, the entry is complete: it is served, not trained again.
        assert leftovers == []
        monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained again"))
        model, history = cnnviz.trained_lenet5(epochs=1, cache_dir=cache_dir, verbose=0)
        assert weights_equal(model, cache.read_entry(entry)[0])
        assert len(history["loss"]) == 1
        return

    # Killed before the rename: no entry at all, and the temporary directory of the dead
    # process, with what it had written so far, is beside it.
    assert not entry.exists()
    assert len(leftovers) == 1
    written = {
        "saving-model": ["model.keras"],
        "before-history": ["model.keras"],
        "before-manifest": ["epochs.npz", "history.json", "model.keras"],
        "before-rename": ["epochs.npz", "history.json", "manifest.json", "model.keras"],
    }[point]
    assert sorted(p.name for p in leftovers[0].iterdir()) == written
    if point == "saving-model":  # a model file cut short, not a loadable one
        size = (leftovers[0] / "model.keras").stat().st_size
        assert 0 < size < 20_000

    trainings = []
    real_train = training.train

    def counted_train(*args, **kwargs):
        trainings.append(1)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(training, "train", counted_train)
    # No warning of any kind: not about the lock (it is free), not about a bad entry (there
    # is none to load).
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model, history = cnnviz.trained_lenet5(epochs=1, cache_dir=cache_dir, verbose=0)

    assert trainings == [1]
    assert entries(cache_dir) == [entry.name]  # the dead child's leftovers are gone
    stored, stored_history = cache.read_entry(entry)
    assert weights_equal(stored, model)
    assert stored_history == history


@pytest.mark.parametrize("callers", [2, 3])
def test_concurrent_callers_in_separate_processes_train_once_and_share_it(tmp_path, small, callers):
    save_small(tmp_path, small)
    cache_dir = tmp_path / "cache"
    children = [
        start_child(tmp_path, "concurrent", cache_dir, str(callers), tmp_path)
        for _ in range(callers)
    ]
    for child in children:
        _, stderr = child.communicate(timeout=600)
        assert child.returncode == 0, stderr[-3000:]

    trainers = [int(pid) for pid in (tmp_path / "trainings").read_text().split()]
    assert len(trainers) == 1
    assert trainers[0] in [child.pid for child in children]
    entry = cnnviz.cache_path(epochs=1, cache_dir=cache_dir)
    assert entries(cache_dir) == [entry.name]
    stored, stored_history = cache.read_entry(entry)
    for child in children:
        with np.load(tmp_path / f"weights-{child.pid}.npz") as saved:
            weights = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        assert len(weights) == len(stored.get_weights()) == 10
        for mine, theirs in zip(weights, stored.get_weights(), strict=True):
            assert mine.tobytes() == theirs.tobytes()  # bit for bit
        result = json.loads((tmp_path / f"result-{child.pid}.json").read_text())
        assert result["history"] == stored_history
        # The trainer waited for nobody; every other caller said once that it waited.
        waited = [w for w in result["warnings"] if "another process is training" in w]
        assert len(waited) == (0 if child.pid == trainers[0] else 1), result["warnings"]


HOLD_THE_LOCK_AND_STOP = """
import fcntl, os, signal, sys
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("locked", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""


def test_a_stopped_lock_holder_makes_a_caller_time_out_naming_the_lock(tmp_path, small_data):
    entry = cnnviz.cache_path(epochs=1, cache_dir=tmp_path)
    lock = entry.with_name(f".{entry.name}.lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_THE_LOCK_AND_STOP,
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        assert not flock_is_free(lock)
        start = time.monotonic()
        with (
            pytest.warns(UserWarning, match=f"another process is training {entry.name}") as caught,
            pytest.raises(TimeoutError, match=f"waited 1 s for the lock {re.escape(str(lock))}"),
        ):
            cnnviz.trained_lenet5(epochs=1, cache_dir=tmp_path, verbose=0, lock_timeout=1)
        assert time.monotonic() - start >= 1
        assert len(caught) == 1
        assert str(lock) in str(caught[0].message)
        assert not entry.exists()
    finally:
        holder.kill()  # SIGKILL ends a stopped process too
        holder.wait(60)
        holder.stdout.close()
    # Its death released the lock (the SIGKILL tests show that the next caller then trains).
    assert flock_is_free(lock)


# --- a full or read-only cache directory, for real where the machine allows it ---------------


def mount(*args: str) -> str | None:
    """Run mount(8); return None if it worked, else why not (not root, no mount in a container)."""
    try:
        result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        return str(error)
    return (
        result.stderr.strip() or f"exit status {result.returncode}" if result.returncode else None
    )


@contextlib.contextmanager
def mounted(directory: Path, *steps: tuple[str, ...]):
    """Apply the mount(8) `steps` to `directory`, unmount it at the end; skip if not permitted."""
    for i, step in enumerate(steps):
        problem = mount(*step)
        if problem is not None:
            if i:
                subprocess.run(["umount", str(directory)], check=True)
            pytest.skip(f"this machine does not let the tests mount a file system: {problem}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=True)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param("size=64k", id="no-space"),  # the model alone is about 600 KB
        pytest.param("nr_inodes=3", id="no-inodes"),  # the directory, the lock, the temporary one
    ],
)
def test_a_full_cache_dir_warns_and_returns_the_model_leaving_nothing(
    tmp_path, small_data, options
):
    cache_dir = tmp_path / "full"
    cache_dir.mkdir()
    with mounted(cache_dir, ("-t", "tmpfs", "-o", options, "tmpfs", str(cache_dir))):
        with pytest.warns(UserWarning, match="could not write the model cache") as caught:
            model, history = cnnviz.trained_lenet5(epochs=1, cache_dir=cache_dir, verbose=0)
        [message] = [str(w.message) for w in caught if w.category is UserWarning]
        assert f"could not write the model cache {cache_dir} " in message
        assert "No space left on device" in message
        assert "returning the trained model uncached" in message
        assert model.count_params() == 44_426
        assert len(history["loss"]) == 1
        # Nothing but the (empty) lock file: no entry, no temporary directory, no model file.
        entry = cnnviz.cache_path(epochs=1, cache_dir=cache_dir)
        assert sorted(p.name for p in cache_dir.iterdir()) == [f".{entry.name}.lock"]
        assert shutil.disk_usage(cache_dir).used < 16_384


def can_write(directory: Path) -> bool:
    try:
        (directory / "probe").touch()
    except PermissionError:
        return False
    (directory / "probe").unlink()
    return True


@contextlib.contextmanager
def read_only(directory: Path):
    """Make `directory` read-only for this process; yield the error its writes will meet.

    Permissions bind an ordinary user; root ignores them, so for root the directory is
    bind-mounted onto itself read-only (skipped where mounting is not permitted).
    """
    directory.chmod(0o555)
    try:
        if not can_write(directory):
            yield "Permission denied"
            return
    finally:
        directory.chmod(0o755)
    bind = ("--bind", str(directory), str(directory))
    remount = ("-o", "remount,bind,ro", str(directory))
    with mounted(directory, bind, remount):
        yield "Read-only file system"


def test_a_read_only_cache_dir_warns_and_returns_the_model(tmp_path, small_data):
    cache_dir = tmp_path / "read-only"
    cache_dir.mkdir()
    with read_only(cache_dir) as error:
        with pytest.warns(UserWarning, match="could not write the model cache") as caught:
            model, history = cnnviz.trained_lenet5(epochs=1, cache_dir=cache_dir, verbose=0)
        [message] = [str(w.message) for w in caught if w.category is UserWarning]
        assert f"could not write the model cache {cache_dir} " in message
        assert error in message
        assert model.count_params() == 44_426
        assert len(history["loss"]) == 1
        assert list(cache_dir.iterdir()) == []


def test_a_read_only_cache_dir_still_serves_its_entries(tmp_path, small_data, monkeypatch):
    # A cache filled once and shared read-only (a docs build, a classroom machine).
    cache_dir = tmp_path / "shared"
    model, history = cnnviz.trained_lenet5(epochs=1, cache_dir=cache_dir, verbose=0)
    before = entries(cache_dir)
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained again"))
    with read_only(cache_dir):
        cached, cached_history = cnnviz.trained_lenet5(epochs=1, cache_dir=cache_dir, verbose=0)
    assert weights_equal(cached, model)
    assert cached_history == history
    assert entries(cache_dir) == before


def test_cache_path_builds_the_model_once_per_process(tmp_path, monkeypatch):
    # Each build draws from Python's random module and puts its state back, which would
    # repeat another thread's draws: so it happens once, not on every call.
    built = []

    def counting(padding, *, pooling):
        built.append((padding, pooling))
        return cnnviz.lenet5(padding, pooling=pooling)

    monkeypatch.setattr(training, "lenet5", counting)
    keys = {cnnviz.cache_path("same", seed=seed, cache_dir=tmp_path) for seed in range(3)}
    assert len(keys) == 3  # the seed is in the key; the model's configuration is reused
    assert built == [("same", "max")]
    cnnviz.cache_path("same", pooling="blur", cache_dir=tmp_path)
    cnnviz.cache_path("same", pooling="blur", seed=4, cache_dir=tmp_path)
    assert built == [("same", "max"), ("same", "blur")]  # one build per padding and pooling


# --- permuted labels (issue 21: the data randomization test) ---------------------------------

# The gallery's entries as main named them before `labels` existed, for the versions they were
# computed with; the data checksums and the recipe are in the source, the versions are not.
MAIN_KEYS = {
    ("3.15.1", "2.21.0"): {
        "valid": "lenet5-valid-493c927d00c41cb1ad05",
        "same": "lenet5-same-dff54f5914646c37d66e",
    }
}


def test_the_true_labels_keep_the_keys_the_models_had_before_labels_existed(tmp_path):
    import tensorflow as tf

    for padding in ("valid", "same"):
        default = cnnviz.cache_path(padding, cache_dir=tmp_path)
        assert cnnviz.cache_path(padding, labels="true", cache_dir=tmp_path) == default
        known = MAIN_KEYS.get((keras.__version__, tf.__version__))
        if known is not None:
            assert default.name == known[padding]
    # Nothing about labels is in the default's key material (the digest test above recomputes
    # the key from exactly that material).
    assert "labels" not in training._key_material(cnnviz.lenet5(), **RECIPE)["recipe"]


def test_permuted_labels_have_an_entry_of_their_own_named_so(tmp_path):
    permuted = cnnviz.cache_path(labels="permuted", cache_dir=tmp_path)
    assert permuted.name.startswith("lenet5-valid-permuted-")
    others = {
        cnnviz.cache_path(cache_dir=tmp_path),
        cnnviz.cache_path(labels="permuted", seed=1, cache_dir=tmp_path),
        cnnviz.cache_path(labels="permuted", epochs=10, cache_dir=tmp_path),
        cnnviz.cache_path("same", labels="permuted", cache_dir=tmp_path),
    }
    assert permuted not in others
    assert len(others) == 4
    recipe = training._key_material(cnnviz.lenet5(), **RECIPE, labels="permuted")["recipe"]
    assert recipe["labels"] == {"kind": "permuted", "rule": training._PERMUTATION}


def test_the_permutation_is_numpys_frozen_stream_and_keeps_every_count():
    y = np.repeat(np.arange(10, dtype=np.uint8), 7)
    permuted = training._permuted_labels(y, 3)
    # RandomState's stream is frozen by NumPy (NEP 19): this is the order of every version.
    np.testing.assert_array_equal(permuted, y[np.random.RandomState(3).permutation(70)])
    np.testing.assert_array_equal(np.bincount(permuted), np.bincount(y))
    assert not np.array_equal(permuted, y)
    np.testing.assert_array_equal(training._permuted_labels(y, 3), permuted)
    assert not np.array_equal(training._permuted_labels(y, 4), permuted)
    np.testing.assert_array_equal(training._permuted_labels(np.arange(5), 0), [2, 0, 1, 3, 4])


def test_permuted_labels_train_on_them_and_validate_on_the_true_test_labels(
    tmp_path, small_data, monkeypatch
):
    x, y = small_data
    seen = {}
    original = training.train

    def recording(model, x_train, y_train, **kwargs):
        seen["y"], seen["validation"] = y_train, kwargs["validation_data"]
        return original(model, x_train, y_train, **kwargs)

    monkeypatch.setattr(training, "train", recording)
    model, history = cnnviz.trained_lenet5(
        labels="permuted", epochs=1, seed=2, cache_dir=tmp_path, verbose=0
    )
    np.testing.assert_array_equal(seen["y"], y[np.random.RandomState(2).permutation(len(y))])
    np.testing.assert_array_equal(seen["validation"][1], y)  # the "test set" keeps the truth
    # The recipe on those labels, bit for bit, as a reader would run it.
    keras.utils.set_random_seed(2)
    by_hand = cnnviz.lenet5()
    original(by_hand, x, seen["y"], epochs=1, seed=2, verbose=0)  # cnnviz.train, unrecorded
    assert weights_equal(model, by_hand)
    assert entries(tmp_path) == [
        cnnviz.cache_path(labels="permuted", epochs=1, seed=2, cache_dir=tmp_path).name
    ]

    # Served from its own entry, and never for the true labels.
    class TrainedAgain(Exception):
        pass

    def refuse(*args, **kwargs):
        raise TrainedAgain

    monkeypatch.setattr(training, "train", refuse)
    cached, cached_history = cnnviz.trained_lenet5(
        labels="permuted", epochs=1, seed=2, cache_dir=tmp_path, verbose=0
    )
    assert weights_equal(cached, model)
    assert cached_history == history
    with pytest.raises(TrainedAgain):
        cnnviz.trained_lenet5(epochs=1, seed=2, cache_dir=tmp_path, verbose=0)


@pytest.mark.parametrize("labels", ["random", "True", True, None])
def test_labels_other_than_true_or_permuted_are_refused(tmp_path, labels):
    with pytest.raises(ValueError, match=r"labels must be one of \('true', 'permuted'\); got "):
        cnnviz.cache_path(labels=labels, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"labels must be one of \('true', 'permuted'\)"):
        cnnviz.trained_lenet5(labels=labels, cache_dir=tmp_path)
