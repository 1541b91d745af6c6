"""The notebook's training recipe on public ``model.fit``, and LeNet-5 trained once and cached."""

from __future__ import annotations

import json
import math
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from . import _batches, _checks, _graph, cache
from . import layers as _layers  # noqa: F401 (registers Padding2D, which cache.load may meet)
from .data import FILES, load_fashion_mnist
from .models import PADDINGS, POOLINGS, lenet5

__all__ = ["cache_path", "train", "trained_lenet5"]

# The notebook's recipe, defined once: the defaults of train, trained_lenet5 and cache_path.
EPOCHS = 30
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
SEED = 0
# Seconds trained_lenet5 waits for another process that trains the same model.
LOCK_TIMEOUT = 3600.0
# The training labels trained_lenet5 can train on: the true ones (the default), or the same
# labels permuted once (the data randomization test of Adebayo et al., 2018).
LABELS = ("true", "permuted")

# How "permuted" labels are drawn, part of the key of every such entry (never of the default
# one). NumPy's legacy RandomState is used because its stream is frozen (NEP 19): the same
# seed permutes the labels the same way under every NumPy version, which a Generator's
# stream does not promise. A change of this rule must change this text.
_PERMUTATION = "y_train[numpy.random.RandomState(seed).permutation(len(y_train))]"

# Training steps run per call into the compiled graph (and so per progress-bar
# update). It changes only how often Python is re-entered, not what is
# computed: the weights are bit for bit those of one step per call
# (test_train_gives_the_notebooks_weights_bit_for_bit), so it is not part of
# the cache key. A value that changed the bits would need a RECIPE_VERSION bump.
_STEPS_PER_EXECUTION = 64

# The version of the training computation, part of every cache key. The key
# follows the model's configuration, the settings above, the optimizer and
# the loss by itself, but not code: bump RECIPE_VERSION in the same commit as
# any change that can change the weights or history trained from the same
# settings and data. That is train's computation (compile, fit, shuffling,
# seeding, float32 inputs), trained_lenet5's (seeding before the model is
# built, the test set as validation data), and the rules that turn the data
# into the numbers trained on: uint8 pixels divided by 255 and cast to
# float32, integer labels to float32 one-hot rows (data.scale_images,
# _checks.float_images, _checks.one_hot_targets and _batches.labelled_images today).
# Bump it too when what an entry holds changes. A comment, a refactoring, or a
# new builder option that leaves existing models' configurations alone is no
# reason to bump it: cached models stay valid.
RECIPE_VERSION = 1

# The recipe's loss; its optimizer is _optimizer's. Both go into the cache key.
_LOSS = "categorical_crossentropy"


def _optimizer(learning_rate: float) -> keras.optimizers.Optimizer:
    """Return the recipe's optimizer: Adam with Keras' defaults but `learning_rate`."""
    return keras.optimizers.Adam(learning_rate=learning_rate)


class _StopWhenDiverged(keras.callbacks.Callback):
    """Raise as soon as the loss or a weight stops being finite.

    A diverged run otherwise goes on with NaN weights, returns a history
    that only looks normal, and (through trained_lenet5) would be cached.
    """

    def __init__(self, learning_rate: float):
        super().__init__()
        self.learning_rate = learning_rate
        self.epoch = 0

    def _diverged(self, what: str) -> None:
        raise FloatingPointError(
            f"training diverged: {what} in epoch {self.epoch + 1}, so the model's weights are "
            f"no longer usable. Lower learning_rate (it is {self.learning_rate:g}) or look "
            "for extreme values in x and y."
        )

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self._diverged(f"the loss became {float(loss)} by step {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        for weight in self.model.weights:
            if not np.isfinite(keras.ops.convert_to_numpy(weight)).all():
                self._diverged(f"the weights of {weight.path} became NaN or infinite")


class _EpochWeights(keras.callbacks.Callback):
    """Keep the weights before training and after every epoch (how the filters formed)."""

    def __init__(self):
        super().__init__()
        self.weights: cache.EpochWeights = []

    def on_train_begin(self, logs=None):
        self.weights = [self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def train(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    seed: int = SEED,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    verbose: int | str = "auto",
    callbacks: list[keras.callbacks.Callback] | None = None,
    scale: bool | None = None,
) -> keras.callbacks.History:
    """Train `model` with the notebook's recipe.

    The model is compiled with Adam (`learning_rate`), categorical
    cross-entropy and accuracy, and fitted with Keras' own ``model.fit`` for
    `epochs` epochs of shuffled batches of `batch_size`. Two things make it
    faster than the notebook's ``fit`` without changing what is computed:
    the images are converted to float32 once (``uint8`` divided by 255
    exactly as the notebook's ``x / 255.``, then cast, which Keras would do
    per batch), and each call into the compiled graph runs 64 steps
    (``steps_per_execution``). The weights are those of the notebook's
    ``fit``, bit for bit.

    Parameters
    ----------
    model : keras.Model
        The model to train (for example :func:`~cnnviz.lenet5`); it is
        compiled here.
    x : array_like
        Images (N, H, W, C), or (N, H, W) for a one-channel model: ``uint8``
        (scaled to [0, 1] for you, see `scale`) or float.
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
        before fitting, so the shuffling is reproducible. The seed does not
        reach the initial weights: they were drawn when `model` was built.
        Seed before building as well (as the example below and
        :func:`trained_lenet5` do) for the same weights, bit for bit, from
        the same data on the same machine and versions.
    validation_data : tuple of (x, y), optional
        Data evaluated after each epoch (``val_loss``, ``val_accuracy``);
        same conventions as `x` and `y`.
    verbose : "auto", 0, 1 or 2, default "auto"
        Keras' progress display: a progress bar (1, "auto"), one line per
        epoch (2) or nothing (0).
    callbacks : list of keras.callbacks.Callback, optional
        Keras callbacks, passed to ``model.fit``; batch-level hooks see
        groups of 64 steps.
    scale : bool, optional
        Whether ``uint8`` images are divided by 255; ``True`` or ``False``
        always wins. By default they are unless the model takes pixels in
        [0, 255], by the one rule spelled out at
        :func:`~cnnviz.layer_outputs`. Float images are always used as
        they are.

    Returns
    -------
    keras.callbacks.History
        Its ``history`` attribute maps ``loss``, ``accuracy`` (and
        ``val_loss``, ``val_accuracy``) to per-epoch lists.

    Raises
    ------
    ValueError
        If `epochs` or `batch_size` is not a positive integer,
        `learning_rate` not a finite positive number, `seed` not a
        non-negative integer, `x` or `y` holds NaN or infinite values, `x`
        and `y` differ in length, or `y` is neither labels nor rows that
        sum to 1.
        Also if `model` has not one image input and one output, or does not
        end in a softmax (the loss needs class probabilities), or the images
        do not fit its input, or they are ``uint8``, `scale` is None and
        cnnviz cannot tell whether the model takes [0, 1] or [0, 255].
    TypeError
        If `model` is not a Keras model, `x` is neither ``uint8`` nor float,
        or `callbacks` is not a list of Keras callbacks.
    FloatingPointError
        If the loss or a weight becomes NaN or infinite while training (the
        run diverged); `model` is left with those weights.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from cnnviz import lenet5, train
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 256, size=(128, 28, 28, 1), dtype=np.uint8)
    >>> y = rng.integers(0, 10, size=128)
    >>> keras.utils.set_random_seed(0)  # the initial weights
    >>> history = train(lenet5(), x, y, epochs=2, seed=0, verbose=0)  # the shuffling
    >>> sorted(history.history)
    ['accuracy', 'loss']
    """
    model = _graph.classifier(model)
    epochs = _checks.positive_int(epochs, "epochs")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    learning_rate = _checks.positive_number(learning_rate, "learning_rate")
    seed = _checks.non_negative_int(seed, "seed")
    verbose = _checks.verbose(verbose)
    if callbacks is not None and (
        not isinstance(callbacks, (list, tuple))
        or not all(isinstance(c, keras.callbacks.Callback) for c in callbacks)
    ):
        raise TypeError(f"callbacks must be a list of keras.callbacks.Callback; got {callbacks!r}")
    x, y = _batches.labelled_images(model, x, y, ("x", "y"), scale)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_val, y_val)")
        validation_data = _batches.labelled_images(
            model, *validation_data, ("validation_data[0]", "validation_data[1]"), scale
        )

    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=_optimizer(learning_rate),
        loss=_LOSS,
        metrics=["accuracy"],
        steps_per_execution=_STEPS_PER_EXECUTION,
        # A layer name TensorFlow cannot compile ("conv ü") fails Keras' compiled step.
        run_eagerly=not _graph.compilable(model),
    )
    return model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=validation_data,
        shuffle=True,
        verbose=verbose,
        callbacks=[*(callbacks or []), _StopWhenDiverged(learning_rate)],
    )


def cache_path(
    padding: str = "valid",
    *,
    pooling: str = "max",
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    seed: int = SEED,
    labels: str = "true",
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Return the cache entry directory that :func:`trained_lenet5` uses.

    The entry's key is the SHA-256 of what decides the trained weights: the
    configuration of ``lenet5(padding, pooling=pooling)`` (its Keras JSON), the settings, the
    recipe's optimizer and loss, its version (``training.RECIPE_VERSION``,
    changed whenever the training computation changes), the checksums of
    the data, and the Keras and TensorFlow versions. ``labels="permuted"``
    adds itself and the rule that permutes the labels to the key, and its
    entry is named ``lenet5-<padding>-permuted-<key>``; the default,
    ``"true"``, adds nothing, so the key of a model trained on the true
    labels is the one it had before `labels` existed. Blur pooling names
    its entries ``lenet5-<padding>-blur-<key>``; max pooling, the default,
    keeps the names and keys it had before `pooling` existed (its model's
    configuration is the same). Source code is not part
    of it, so neither a comment nor a new :func:`~cnnviz.lenet5` option
    that leaves a model as it was retrains that model. The model is built
    to read its configuration (not trained), once per process; the random
    state of the caller is left as it was.

    Every argument is checked before the key is computed, so an invalid
    setting can never name (or be served) an entry.

    Parameters
    ----------
    padding, pooling, epochs, batch_size, learning_rate, seed, labels, cache_dir
        As for :func:`trained_lenet5`.

    Returns
    -------
    pathlib.Path
        ``<cache dir>/lenet5-<padding>-<key>`` (``lenet5-<padding>-permuted-<key>``
        for permuted labels, ``lenet5-<padding>-blur-<key>`` for blur pooling,
        ``lenet5-<padding>-blur-permuted-<key>`` for both): the entry, which may not exist yet. Delete it
        (or the whole cache directory) to retrain.

    Raises
    ------
    ValueError
        If a setting is invalid, as for :func:`train` and
        :func:`~cnnviz.lenet5`, or `labels` is neither ``"true"`` nor
        ``"permuted"``.

    Examples
    --------
    >>> from cnnviz import cache_path
    >>> entry = cache_path("same", epochs=5, cache_dir="models")
    >>> entry.parent.name, entry.name[:12]
    ('models', 'lenet5-same-')
    >>> cache_path("valid", labels="permuted", cache_dir="models").name[:22]
    'lenet5-valid-permuted-'
    >>> cache_path("reflect", pooling="blur", cache_dir="models").name[:20]
    'lenet5-reflect-blur-'
    """
    padding = _checks.one_of(padding, PADDINGS, "padding")
    pooling = _checks.one_of(pooling, POOLINGS, "pooling")
    settings = {
        "epochs": _checks.positive_int(epochs, "epochs"),
        "batch_size": _checks.positive_int(batch_size, "batch_size"),
        "learning_rate": _checks.positive_number(learning_rate, "learning_rate"),
        "seed": _checks.non_negative_int(seed, "seed"),
        "labels": _checks.one_of(labels, LABELS, "labels"),
    }
    material = _key_material(_configured(padding, pooling), **settings)
    kind = "" if pooling == "max" else f"{pooling}-"
    kind += "" if settings["labels"] == "true" else f"{settings['labels']}-"
    return cache.cache_dir(cache_dir) / f"lenet5-{padding}-{kind}{cache.key(material)[:20]}"


# lenet5's configuration per (builder, padding, pooling and the Keras settings it depends on),
# built once per process: see _configured.
_CONFIGURED: dict[tuple, keras.Model] = {}
_CONFIGURED_LOCK = threading.Lock()


def _configured(padding: str, pooling: str = "max") -> keras.Model:
    """Return ``lenet5(padding, pooling=pooling)``, built once per process to read its configuration.

    Building draws the layers' initializer seeds from Python's random module.
    The caller's stream (seeded, say, for its own model) must not move, so the
    state is put back; and since putting it back would repeat the numbers that
    another thread drew meanwhile, the model is built once, under a lock, and
    kept for the next calls.
    """
    settings = (lenet5, padding, pooling, keras.config.floatx(), keras.config.dtype_policy().name)
    with _CONFIGURED_LOCK:
        if settings not in _CONFIGURED:
            state = random.getstate()
            try:
                _CONFIGURED[settings] = lenet5(padding, pooling=pooling)
            finally:
                random.setstate(state)
        return _CONFIGURED[settings]


def _key_material(
    model: keras.Model,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    labels: str = "true",
) -> dict:
    """Return what decides the weights `model` is trained to, for :func:`cache.key`.

    Nothing else goes into the key but the Keras and TensorFlow versions
    (``cache.key`` adds them): not the source of cnnviz, nor its version. A
    release that changes what training computes bumps ``RECIPE_VERSION``.
    Labels other than the true ones add an entry to the recipe (what they
    are and how they are drawn); the true labels add none, so the keys of
    the models trained before `labels` existed stay as they were.
    """
    # The configuration holds no name Keras makes up (every layer of lenet5 and
    # the model are named) and no weights; the recipe compiles the model itself.
    config = json.loads(model.to_json())
    config.pop("compile_config", None)
    optimizer = keras.optimizers.serialize(_optimizer(learning_rate))
    # Keras numbers optimizers' default names (adam, adam_1, ...) per process.
    optimizer["config"].pop("name", None)
    material = {
        "model": config,
        "recipe": {
            "version": RECIPE_VERSION,
            "epochs": epochs,
            "batch_size": batch_size,
            # Adam keeps the rate as a float32 variable: rates that round to the same
            # float32 (0.001 and np.float32(0.001)) train the same weights and share
            # a key. The float32's shortest repr keeps 0.001 written as 0.001.
            "learning_rate": float(str(np.float32(learning_rate))),
            "seed": seed,
            "optimizer": optimizer,
            "loss": _LOSS,
        },
        "data_sha256": {name: sha for name, (sha, _) in FILES.items()},
    }
    if labels != "true":
        material["recipe"]["labels"] = {"kind": labels, "rule": _PERMUTATION}
    return material


def _permuted_labels(y: np.ndarray, seed: int) -> np.ndarray:
    """Return the labels `y` permuted once, by the rule the cache key records (``_PERMUTATION``).

    Every label keeps its count (the classes stay balanced as they were);
    which image has which label is random, so nothing in an image tells its
    label any more.
    """
    # The legacy RandomState on purpose, not a Generator: see _PERMUTATION.
    order = np.random.RandomState(seed).permutation(len(y))
    return np.asarray(y)[order]


def trained_lenet5(
    padding: str = "valid",
    *,
    pooling: str = "max",
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    seed: int = SEED,
    labels: str = "true",
    cache_dir: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    verbose: int | str = "auto",
    lock_timeout: float = LOCK_TIMEOUT,
    epoch: int | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Return LeNet-5 trained on Fashion-MNIST, from the cache or trained now.

    A model trained with the same settings before is loaded from the cache
    (with Keras' ``safe_mode=True``); otherwise :func:`~cnnviz.lenet5` is
    built and trained with :func:`train` on the real training set, with the
    test set as validation data, and stored.

    The cache directory is `cache_dir`, else ``$CNNVIZ_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/cnnviz`` (``~/.cache/cnnviz``). Each entry is a
    directory named by a key that covers what decides the result: the
    model's configuration, the settings, the recipe's version, the data
    checksums, and the Keras and TensorFlow versions (see
    :func:`cache_path`). An entry is written to a temporary directory
    beside it and renamed into place, so it is either complete or absent.
    An entry that is corrupt or truncated is reported with a
    ``UserWarning``, removed and rebuilt. If the cache directory cannot be
    created or written, a ``UserWarning`` names it and the trained model is
    returned uncached. While a model is being trained, its entry is
    locked: another process asking for the same model waits and then loads
    it, rather than training it a second time.

    The entry also keeps the weights before training and after every epoch
    (float32; about 5 MB for ``"valid"`` and 13 MB for ``"same"`` over 30
    epochs), so `epoch` gives the model as it was after that epoch from the
    same entry, without training again.

    Parameters
    ----------
    padding : {"valid", "same", "reflect", "circular"}, default "valid"
        Padding of :func:`~cnnviz.lenet5`.
    pooling : {"max", "blur"}, default "max"
        Pooling of :func:`~cnnviz.lenet5`. Each padding and pooling is
        trained and cached in an entry of its own.
    epochs, batch_size, learning_rate, seed
        As for :func:`train` (the notebook's recipe by default). The seed
        is set before the model is built as well as before training, so the
        same settings give the same weights, bit for bit, on the same
        machine with the same versions.
    labels : {"true", "permuted"}, default "true"
        The training labels. ``"permuted"`` trains on the true labels
        permuted once, the same way for the same `seed` (NumPy's
        ``RandomState(seed).permutation``, whose stream NumPy keeps across
        versions): each class keeps its number of images, but which image
        carries which label is random, so nothing it learns can generalise:
        it can at most memorise (in 10 epochs LeNet-5 does not: it learns
        only how often each class comes, and answers alike for every
        image). It is the data randomization test of Adebayo et al. (2018, "Sanity
        Checks for Saliency Maps"): a method whose maps look alike for this
        model and the real one explains the images, not what a model
        learned from its labels. The test set keeps its true labels, so
        ``val_accuracy`` is measured against the truth (chance is 0.1),
        while ``accuracy`` is against the permuted labels it trained on.
        Its entry is its own (see :func:`cache_path`).
    cache_dir : path-like, optional
        The cache directory.
    data_dir : path-like, optional
        Where the Fashion-MNIST files are (see
        :func:`~cnnviz.load_fashion_mnist`); read only when training.
    verbose : "auto", 0, 1 or 2, default "auto"
        Progress display while training, as for :func:`train`.
    lock_timeout : float, default 3600
        Seconds to wait for another process that is training the same
        model (a ``UserWarning`` says that it waits, and for which lock).
    epoch : int, optional
        Return the model as it was after this epoch: 0 for the weights
        before training, up to `epochs` (the default, the trained model).
        The history is the whole run's either way.

    Returns
    -------
    model : keras.Model
        The trained model.
    history : dict of str to list of float
        Per-epoch ``loss``, ``accuracy``, ``val_loss`` and ``val_accuracy``
        (the last two on the test set, with its true labels).

    Raises
    ------
    ValueError
        If a setting is invalid (checked before the cache is looked at), or
        ``$CNNVIZ_CACHE_DIR`` is set to white space, or `epoch` is not an
        integer from 0 to `epochs`.
    TimeoutError
        If another process held the model's lock for `lock_timeout` seconds.
    FloatingPointError
        If training diverged (see :func:`train`); nothing is stored.

    Examples
    --------
    >>> from cnnviz import trained_lenet5
    >>> model, history = trained_lenet5("valid")  # doctest: +SKIP
    >>> round(history["val_accuracy"][-1], 2)  # doctest: +SKIP
    0.9
    >>> untrained, _ = trained_lenet5("valid", epoch=0)  # the initial weights  # doctest: +SKIP
    >>> random_labels, _ = trained_lenet5("valid", epochs=10, labels="permuted")  # doctest: +SKIP
    """
    verbose = _checks.verbose(verbose)
    lock_timeout = _checks.positive_number(lock_timeout, "lock_timeout")
    entry = cache_path(
        padding,
        pooling=pooling,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        labels=labels,
        cache_dir=cache_dir,
    )
    if epoch is not None:
        epoch = _checks.non_negative_int(epoch, "epoch")
        if epoch > epochs:
            raise ValueError(
                f"epoch must be at most epochs={epochs} (0 is the model before training); "
                f"got {epoch}"
            )
    cached = cache.load(entry)
    if cached is not None:
        return _at_epoch(*cached, epoch, epochs, lambda: cache.epoch_weights(entry, epoch))
    with cache.locked(entry, lock_timeout):
        # Another process may have stored it while this one waited for the lock.
        cached = cache.load(entry)
        if cached is not None:
            return _at_epoch(*cached, epoch, epochs, lambda: cache.epoch_weights(entry, epoch))
        (x_train, y_train), (x_test, y_test) = load_fashion_mnist(data_dir)
        if labels == "permuted":  # the test set keeps the truth it is measured against
            y_train = _permuted_labels(y_train, seed)
        # Seeded before building, so the initial weights are reproducible too.
        keras.utils.set_random_seed(seed)
        model = lenet5(padding, pooling=pooling)
        snapshots = _EpochWeights()
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
            callbacks=[snapshots],
        )
        history = {key: [float(v) for v in values] for key, values in fit.history.items()}
        cache.store(entry, model, history, snapshots.weights)
    return _at_epoch(model, history, epoch, epochs, lambda: snapshots.weights[epoch])


def _at_epoch(
    model: keras.Model,
    history: dict[str, list[float]],
    epoch: int | None,
    epochs: int,
    weights: Callable[[], list[np.ndarray]],
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Give `model` the weights after `epoch` (``weights()``), unless that is the last one."""
    if epoch is not None and epoch != epochs:
        model.set_weights(weights())
    return model, history
