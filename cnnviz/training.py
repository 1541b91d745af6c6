"""The notebook's training recipe, run fast, and a cache of trained models."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np

from . import __version__
from .data import FILES, load_fashion_mnist, one_hot, scale_images
from .models import _check_padding, lenet5

__all__ = ["cache_path", "evaluate", "train", "trained_lenet5"]

#: Environment variable naming the trained-model cache directory.
CACHE_DIR_ENV = "CNNVIZ_CACHE_DIR"

# Training steps run per call into the compiled graph (and so per progress-bar
# update). It changes only how often Python is re-entered, not what is
# computed: the weights are bit for bit those of one step per call.
_STEPS_PER_EXECUTION = 64

# Source files whose code decides what a trained model is; their text is part
# of the cache key so a changed recipe is never served from an old entry.
_RECIPE_SOURCES = ("models.py", "training.py")


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _as_inputs(x: object, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return scale_images(x)
    if np.issubdtype(x.dtype, np.floating):
        # Converted once here rather than per batch inside Keras.
        return np.ascontiguousarray(x, dtype=np.float32)
    raise TypeError(f"{name} must be uint8 images (scaled for you) or float; got dtype {x.dtype}")


def _as_targets(y: object, num_classes: int, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 1:
        return one_hot(y, num_classes)
    if y.ndim == 2 and y.shape[1] == num_classes:
        return np.ascontiguousarray(y, dtype=np.float32)
    raise ValueError(
        f"{name} must be integer labels of shape (N,) or one-hot of shape (N, {num_classes}); "
        f"got shape {y.shape}"
    )


def _prepare(model: keras.Model, x: object, y: object, names: tuple[str, str]):
    x = _as_inputs(x, names[0])
    y = _as_targets(y, int(model.outputs[0].shape[-1]), names[1])
    if len(x) != len(y):
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same length; got {len(x)} images and "
            f"{len(y)} labels"
        )
    if len(x) == 0:
        raise ValueError(f"{names[0]} is empty")
    return x, y


def _compile(model: keras.Model, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=_STEPS_PER_EXECUTION,
    )


def train(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    verbose: int | str = "auto",
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> keras.callbacks.History:
    """Train `model` with the notebook's recipe.

    The model is compiled with Adam (`learning_rate`), categorical
    cross-entropy and accuracy, and fitted for `epochs` epochs of shuffled
    batches of `batch_size`, exactly as ``model.fit`` would fit them: same
    batches in the same order, same steps, same weights bit for bit. It runs
    faster than ``model.fit``: the images are converted to float32 once, stay
    in one tensor, and each call into the compiled graph gathers its own
    batches and runs 64 steps, with no input pipeline in between.

    Parameters
    ----------
    model : keras.Model
        The model to train (for example :func:`~cnnviz.lenet5`); it is
        compiled here.
    x : array_like
        Images (N, H, W, C): ``uint8`` (scaled to [0, 1] for you) or float.
    y : array_like
        Integer labels (N,) or one-hot labels (N, num_classes).
    epochs : int, default 30
        Number of passes over the data.
    batch_size : int, default 64
        Images per gradient step.
    learning_rate : float, default 0.001
        Adam's learning rate.
    seed : int, default 0
        Seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``)
        before fitting, so the shuffling is reproducible. Same seed, same
        data, same machine: the same weights, bit for bit.
    validation_data : tuple of (x, y), optional
        Data evaluated after each epoch (``val_loss``, ``val_accuracy``);
        same conventions as `x` and `y`.
    verbose : "auto", 0, 1 or 2, default "auto"
        Keras' progress display: a progress bar (1, "auto"), one line per
        epoch (2) or nothing (0).
    callbacks : list of keras.callbacks.Callback, optional
        Keras callbacks (for example to time or log epochs), called as
        ``model.fit`` calls them; batch-level hooks see groups of 64 steps.

    Returns
    -------
    keras.callbacks.History
        Its ``history`` attribute maps ``loss``, ``accuracy`` (and
        ``val_loss``, ``val_accuracy``) to per-epoch lists.

    Raises
    ------
    ValueError
        If `epochs` or `batch_size` is not a positive integer, `x` and `y`
        differ in length, or `y` has the wrong shape or labels.
    TypeError
        If `model` is not a Keras model or `x` is neither ``uint8`` nor float.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, train
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 256, size=(128, 28, 28, 1), dtype=np.uint8)
    >>> y = rng.integers(0, 10, size=128)
    >>> history = train(lenet5(), x, y, epochs=2, verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss']
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}")
    epochs = _positive_int(epochs, "epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    if not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise ValueError(f"learning_rate must be a positive number; got {learning_rate!r}")
    if verbose not in ("auto", 0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2; got {verbose!r}")
    x, y = _prepare(model, x, y, ("x", "y"))
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_val, y_val)")
        validation_data = _prepare(
            model, *validation_data, ("validation_data[0]", "validation_data[1]")
        )

    keras.utils.set_random_seed(seed)
    _compile(model, learning_rate)
    # Where Keras compiles fit's step with XLA (its choice when a GPU is
    # present), only fit itself computes what fit computes.
    order = None if model.jit_compile else _batch_order(len(x), batch_size)
    if order is None:
        return model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            validation_data=validation_data,
            shuffle=True,
            verbose=verbose,
            callbacks=callbacks,
        )
    return _fit(model, x, y, order, batch_size, epochs, validation_data, verbose, callbacks)


def _batch_order(num_samples: int, batch_size: int):
    """Return the index batches ``model.fit(..., shuffle=True)`` draws, one pass per epoch.

    It is made by the data adapter ``fit`` itself uses (a Keras internal),
    over the sample indices rather than the samples; ``None`` where that is
    not available (another Keras backend, or a Keras that moved it), and
    `train` then calls ``model.fit``: the same result, only slower.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    try:
        from keras.src.trainers.data_adapters import get_data_adapter
    except ImportError:
        return None
    indices = np.arange(num_samples, dtype=np.int64)
    return get_data_adapter(x=indices, batch_size=batch_size, shuffle=True).get_tf_dataset()


def _calls(batches: list[np.ndarray], batch_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split an epoch's index batches into graph calls as ``fit`` does.

    Each call takes up to `_STEPS_PER_EXECUTION` batches: the full ones
    stacked, and the short last batch of the epoch (empty if none) apart.
    """
    calls = []
    for start in range(0, len(batches), _STEPS_PER_EXECUTION):
        chunk = batches[start : start + _STEPS_PER_EXECUTION]
        full = [batch for batch in chunk if len(batch) == batch_size]
        short = [batch for batch in chunk if len(batch) != batch_size]
        calls.append(
            (
                np.stack(full) if full else np.empty((0, batch_size), np.int64),
                short[0] if short else np.empty(0, np.int64),
            )
        )
    return calls


def _steps_in_graph(model, step, images, targets):
    """Compile a function that runs `step` on each index batch it gets, gathered in the graph."""
    import tensorflow as tf

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int64),
            tf.TensorSpec([None], tf.int64),
        ]
    )
    def run_steps(full, short):
        for i in tf.range(tf.shape(full)[0]):
            batch = full[i]
            step((tf.gather(images, batch), tf.gather(targets, batch)))
        if tf.size(short) > 0:
            step((tf.gather(images, short), tf.gather(targets, short)))
        return model.get_metrics_result()

    return run_steps


def _fit(model, x, y, order, batch_size, epochs, validation_data, verbose, callbacks):
    """``model.fit(x, y, shuffle=True, ...)``, bit for bit, without its input pipeline.

    ``fit`` feeds each step through a ``tf.data`` pipeline that gathers every
    batch on a background thread; on two cores that costs about a third of
    an epoch. Here the images stay in one tensor and each graph call runs
    `_STEPS_PER_EXECUTION` steps of Keras' own ``train_step`` on batches
    gathered in the graph. The batches are those ``fit`` would draw: `order`
    comes from `_batch_order`, made after the same seeding. The validation
    data is kept and evaluated the same way, with ``test_step`` on ``fit``'s
    unshuffled batches. Callbacks, progress bar and the returned History are
    ``fit``'s.
    """
    import tensorflow as tf

    train_steps = _steps_in_graph(model, model.train_step, tf.constant(x), tf.constant(y))
    steps = -(-len(x) // batch_size)
    if validation_data is not None:
        x_val, y_val = validation_data
        test_steps = _steps_in_graph(model, model.test_step, tf.constant(x_val), tf.constant(y_val))
        indices = np.arange(len(x_val), dtype=np.int64)
        test_calls = _calls(
            [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)], batch_size
        )

    callbacks = keras.callbacks.CallbackList(
        callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
        model=model,
    )
    model.stop_training = False
    model.optimizer.build(model.trainable_variables)
    callbacks.on_train_begin()
    epoch_logs: dict[str, Any] = {}
    for epoch in range(epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        # This epoch's shuffle, drawn as fit draws it.
        _run_calls(
            train_steps,
            _calls([batch.numpy() for batch in order], batch_size),
            callbacks.on_train_batch_begin,
            callbacks.on_train_batch_end,
            lambda: model.stop_training,
        )
        epoch_logs = _python_logs(model)
        if validation_data is not None:
            # What fit's call of evaluate does, callbacks included.
            model.stop_evaluating = False
            callbacks.on_test_begin()
            model.reset_metrics()
            _run_calls(
                test_steps,
                test_calls,
                callbacks.on_test_batch_begin,
                callbacks.on_test_batch_end,
                lambda: model.stop_evaluating,
            )
            scores = _python_logs(model)
            callbacks.on_test_end(scores)
            epoch_logs.update({f"val_{name}": value for name, value in scores.items()})
        callbacks.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs=epoch_logs)
    return model.history


def _run_calls(steps, calls, on_batch_begin, on_batch_end, stop) -> None:
    """Make the graph calls, with the batch callbacks and step numbers of ``fit``."""
    import tensorflow as tf

    for number, (full, short) in enumerate(calls):
        begin = number * _STEPS_PER_EXECUTION
        on_batch_begin(begin)
        logs = steps(tf.constant(full), tf.constant(short))
        on_batch_end(begin + _STEPS_PER_EXECUTION - 1, logs)
        if stop():
            break


def _python_logs(model) -> dict[str, float]:
    return {name: float(value) for name, value in model.get_metrics_result().items()}


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Return the loss and accuracy of a trained model on `x`, `y`.

    Parameters
    ----------
    model : keras.Model
        A trained classifier with a softmax output.
    x : array_like
        Images: ``uint8`` (scaled for you) or float.
    y : array_like
        Integer labels (N,) or one-hot labels.

    Returns
    -------
    dict
        ``{"loss": categorical cross-entropy, "accuracy": fraction correct}``.

    Examples
    --------
    >>> from cnnviz import evaluate, load_fashion_mnist, trained_lenet5
    >>> model, history = trained_lenet5("valid")  # doctest: +SKIP
    >>> _, (x_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
    >>> evaluate(model, x_test, y_test)["accuracy"]  # doctest: +SKIP
    0.89...
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}")
    x, y = _prepare(model, x, y, ("x", "y"))
    probabilities = model.predict(x, batch_size=1024, verbose=0)
    eps = keras.config.epsilon()
    clipped = np.clip(probabilities, eps, 1 - eps)
    loss = float(np.mean(-np.sum(y * np.log(clipped), axis=1)))
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == np.argmax(y, axis=1)))
    return {"loss": loss, "accuracy": accuracy}


def _default_cache_dir() -> Path:
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnnviz"


def _cache_key(settings: dict[str, Any]) -> str:
    import tensorflow as tf

    here = Path(__file__).parent
    recipe = hashlib.sha256()
    for name in _RECIPE_SOURCES:
        recipe.update((here / name).read_bytes())
    material = {
        **settings,
        "data_sha256": {name: sha for name, (sha, _) in FILES.items()},
        "cnnviz": __version__,
        "recipe_sha256": recipe.hexdigest(),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def cache_path(
    padding: str = "valid",
    *,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Return the cache entry directory that :func:`trained_lenet5` uses.

    Parameters
    ----------
    padding, epochs, batch_size, learning_rate, seed, cache_dir
        As for :func:`trained_lenet5`.

    Returns
    -------
    pathlib.Path
        ``<cache dir>/lenet5-<padding>-<key>``: the entry, which may not
        exist yet. Delete it (or the whole cache directory) to retrain.
    """
    padding = _check_padding(padding)
    settings = {
        "model": "lenet5",
        "padding": padding,
        "epochs": _positive_int(epochs, "epochs"),
        "batch_size": _positive_int(batch_size, "batch_size"),
        "learning_rate": float(learning_rate),
        "seed": int(seed),
    }
    root = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
    return root / f"lenet5-{padding}-{_cache_key(settings)[:20]}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_entry(entry: Path) -> tuple[keras.Model, dict[str, list[float]]]:
    """Load a cache entry after checking it is complete and unchanged."""
    manifest = json.loads((entry / "manifest.json").read_text())
    for name, sha in manifest["sha256"].items():
        if _file_sha256(entry / name) != sha:
            raise ValueError(f"{entry / name} does not match its recorded SHA-256")
    history = json.loads((entry / "history.json").read_text())
    model = keras.models.load_model(entry / "model.keras", safe_mode=True)
    return model, history


def _write_entry(entry: Path, model: keras.Model, history: dict[str, list[float]]) -> None:
    """Write an entry into a temporary directory beside it, then rename it into place."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent))
    try:
        model.save(tmp / "model.keras")
        (tmp / "history.json").write_text(json.dumps(history))
        files = ("model.keras", "history.json")
        manifest = {"sha256": {name: _file_sha256(tmp / name) for name in files}}
        # The manifest is written last: an entry without it is incomplete.
        (tmp / "manifest.json").write_text(json.dumps(manifest))
        try:
            tmp.rename(entry)
        except OSError:
            if not (entry / "manifest.json").is_file():
                raise
            # Another process stored the same entry first; theirs is as good.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _training_lock(entry: Path):
    """Hold an exclusive lock on `entry` while it is being trained.

    A second process (or thread) that wants the same entry waits here and
    then finds it stored, instead of training it again. The lock is a file
    beside the entry (``.<entry>.lock``, left in place) locked with
    ``flock``; it is released when the holder finishes or dies. Where there
    is no ``fcntl`` (Windows), the lock file cannot be created or the file
    system cannot lock, nothing is locked and the worst case is the same
    model trained twice.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle = entry.with_name(f".{entry.name}.lock").open("a")
    except OSError:
        yield
        return
    with handle:
        with contextlib.suppress(OSError):  # a file system without locks (some network ones)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _cached(entry: Path) -> tuple[keras.Model, dict[str, list[float]]] | None:
    """Return the model and history stored in `entry`, or None; discard a bad entry."""
    if not entry.exists():
        return None
    try:
        return _read_entry(entry)
    except Exception as error:  # noqa: BLE001 - whatever is wrong with an entry, rebuild it
        warnings.warn(
            f"cnnviz: the cached model {entry} is unusable ({type(error).__name__}: "
            f"{error}); training it again",
            UserWarning,
            stacklevel=3,
        )
        _discard(entry)
        return None


def _discard(entry: Path) -> None:
    """Remove a bad entry without ever leaving a half-removed one in place."""
    trash = entry.with_name(f".{entry.name}.{os.getpid()}.trash")
    try:
        entry.rename(trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def trained_lenet5(
    padding: str = "valid",
    *,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    verbose: int | str = "auto",
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Return LeNet-5 trained on Fashion-MNIST, from the cache or trained now.

    A model trained with the same settings before is loaded from the cache
    (with Keras' ``safe_mode=True``); otherwise :func:`~cnnviz.lenet5` is
    built and trained with :func:`train` on the real training set, with the
    test set as validation data, and stored.

    The cache directory is `cache_dir`, else ``$CNNVIZ_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/cnnviz`` (``~/.cache/cnnviz``). Each entry is a
    directory named by a key that covers every setting that changes the
    result: the arguments, the data checksums, the source of the model and
    training code, and the cnnviz, Keras and TensorFlow versions. An entry is
    written to a temporary directory beside it and renamed into place, so it
    is either complete or absent. An entry that is corrupt or truncated is
    reported with a ``UserWarning``, removed and rebuilt. If the cache
    directory cannot be created or written, a ``UserWarning`` names it and
    the trained model is returned uncached. While a model is being trained,
    its entry is locked: another process asking for the same model waits
    and then loads it, rather than training it a second time.

    Parameters
    ----------
    padding : {"valid", "same"}, default "valid"
        Padding of :func:`~cnnviz.lenet5`.
    epochs, batch_size, learning_rate, seed
        As for :func:`train` (the notebook's recipe by default).
    cache_dir : path-like, optional
        The cache directory.
    data_dir : path-like, optional
        Where the Fashion-MNIST files are (see
        :func:`~cnnviz.load_fashion_mnist`); read only when training.
    verbose : "auto", 0, 1 or 2, default "auto"
        Progress display while training, as for :func:`train`.

    Returns
    -------
    model : keras.Model
        The trained model.
    history : dict of str to list of float
        Per-epoch ``loss``, ``accuracy``, ``val_loss`` and ``val_accuracy``
        (the last two on the test set).

    Examples
    --------
    >>> from cnnviz import trained_lenet5
    >>> model, history = trained_lenet5("valid")  # doctest: +SKIP
    >>> round(history["val_accuracy"][-1], 2)  # doctest: +SKIP
    0.9
    """
    if verbose not in ("auto", 0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2; got {verbose!r}")
    entry = cache_path(
        padding,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        cache_dir=cache_dir,
    )
    cached = _cached(entry)
    if cached is not None:
        return cached
    with _training_lock(entry):
        # Another process may have stored it while this one waited for the lock.
        cached = _cached(entry)
        if cached is not None:
            return cached
        return _train_and_store(
            entry, padding, epochs, batch_size, learning_rate, seed, data_dir, verbose
        )


def _train_and_store(entry, padding, epochs, batch_size, learning_rate, seed, data_dir, verbose):
    """Train the model that `entry` stands for, as trained_lenet5 documents, and store it."""
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(data_dir)
    keras.utils.set_random_seed(seed)
    model = lenet5(padding)
    fit = train(
        model,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        validation_data=(x_test, y_test),
        verbose=verbose,
    )
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    try:
        _write_entry(entry, model, history)
    except OSError as error:
        warnings.warn(
            f"cnnviz: could not write the model cache {entry.parent} ({error}); "
            "returning the trained model uncached",
            UserWarning,
            stacklevel=3,
        )
    return model, history
