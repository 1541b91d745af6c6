"""How well a trained classifier does: predictions, loss and accuracy, the confusion matrix, mistakes."""

from __future__ import annotations

import keras
import numpy as np

from . import _batches, _checks, _graph

__all__ = ["confusion_matrix", "evaluate", "misclassified", "predict"]


def _loss_outputs(model: keras.Model) -> keras.Model:
    """Return a flat model from images to [logits,] the model's output, built once per model.

    One forward pass gives both: the softmax's input (:func:`cnnviz._graph.softmax_input`)
    for the loss, and the model's output for the predicted class. Where the softmax's input
    cannot be reached, it gives the output alone.
    """

    def build() -> keras.Model:
        x, output, _ = _graph.trace(model)
        logits = _graph.softmax_input(model)
        outputs = [output] if logits is None else [logits.head(logits.tensor), output]
        return keras.Model(x, outputs, name=f"{model.name}_loss")

    return _graph.cached(model, "loss_outputs", None, build)


def _cross_entropy(targets: np.ndarray, logits: object, probabilities: np.ndarray) -> float:
    """Return the summed categorical cross-entropy of a chunk, as Keras computes it.

    From the logits (the softmax's input): ``logsumexp(z) * sum(t) - t . z``
    per image, which is ``-sum(t * log_softmax(z))``, in float64 with the
    largest logit taken out first, so it neither overflows nor is capped
    (``tf.nn.softmax_cross_entropy_with_logits``, which Keras uses for a
    softmax's output). Without logits: Keras' formula on probabilities,
    each row divided by its sum, clipped to ``[epsilon, 1 - epsilon]``
    (``keras.config.epsilon()``, 1e-7), then ``-sum(t * log(p))``.
    """
    t = targets.astype(np.float64)
    if logits is None:
        eps = keras.config.epsilon()
        p = probabilities.astype(np.float64)
        p = np.clip(p / p.sum(axis=1, keepdims=True), eps, 1 - eps)
        return float(-np.sum(t * np.log(p)))
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.sum(np.exp(z - top), axis=1))
    return float(np.sum(lse * t.sum(axis=1) - np.sum(t * z, axis=1)))


def predict(
    model: keras.Model, images: object, *, batch_size: int = 1024, steps: int | None = None
) -> np.ndarray:
    """Return the class probabilities of `model` for `images`.

    Parameters
    ----------
    model : keras.Model
        A classifier that ends in a softmax, with one image input (for
        example :func:`~cnnviz.lenet5`).
    images : array_like or iterable
        One image, (H, W) or (H, W, C), or a batch (N, H, W, C), as for
        :func:`~cnnviz.layer_outputs`: ``uint8`` images are scaled to [0, 1]
        unless the model takes [0, 255] (the rule of its `scale`); float
        images are used as they are. Or a stream of batches: a ``tf.data.Dataset`` or any
        iterable of batches of images or of ``(images, labels)`` pairs
        (labels ignored), read once, one batch at a time.
    batch_size : int, default 1024
        At most this many images per forward pass (arrays are cut into
        passes, and so are larger batches of a stream); it bounds memory,
        not the result.
    steps : int, optional
        The number of batches to read from a stream (Keras' convention); by
        default all of them. Needed for a stream that never ends (a dataset
        after ``dataset.repeat()`` is refused without it); refused with an
        array (slice it instead).

    Returns
    -------
    numpy.ndarray
        float32 array (N, C): one row of class probabilities per image, in
        the order of the images (of the stream).

    Raises
    ------
    TypeError
        If `model` is not a Keras model, `images` is neither ``uint8``
        nor float, or neither an array nor an iterable of batches.
    ValueError
        If `model` is not a built image classifier ending in a softmax, the
        images do not fit its input (a stream's batch: which one), the
        stream is empty or never ends without `steps`, `batch_size` or
        `steps` is not a positive integer, or the images are ``uint8`` and
        cnnviz cannot tell whether the model takes [0, 1] or [0, 255] (give
        float images then).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, predict
    >>> model = lenet5()
    >>> probabilities = predict(model, np.zeros((3, 28, 28, 1), dtype=np.uint8))
    >>> probabilities.shape, probabilities.dtype
    ((3, 10), dtype('float32'))
    >>> bool(np.allclose(probabilities.sum(axis=1), 1))
    True
    >>> batches = (np.zeros((2, 28, 28, 1), dtype=np.uint8) for _ in range(4))
    >>> predict(model, batches, steps=3).shape  # three batches of a stream
    (6, 10)
    """
    model = _graph.classifier(model, need="predict returns class probabilities")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    images = _batches.source(model, images, chunk=batch_size, steps=steps, one_image=True)
    rows = _batches.Rows(images.count)
    for x, _ in images:
        rows.add(_graph.predict(model, x))
    return rows.result()


def evaluate(
    model: keras.Model,
    x: object,
    y: object = None,
    *,
    scale: bool | None = None,
    steps: int | None = None,
) -> dict[str, float]:
    """Return the loss and accuracy of a trained model on `x`, `y`.

    The images are read chunk by chunk and the loss and the count of right
    answers summed as they go, so memory does not grow with the number of
    images, from arrays and streams alike.

    The loss is categorical cross-entropy computed as Keras computes it
    for a model that ends in a softmax (``model.evaluate`` with
    ``loss="categorical_crossentropy"``): from the softmax's input, the
    logits ``z`` (for a ``Dense(..., activation="softmax")`` its
    pre-activation), as ``-sum(y * log_softmax(z))`` with the log-sum-exp
    taken stably, in one forward pass that also gives the probabilities
    for the accuracy. It has no cap: a confident mistake costs the full
    difference of its logits. Where the softmax's input cannot be reached
    (the softmax inside a subclassed model, which cnnviz calls whole), it
    is computed from the output probabilities as Keras computes it from
    probabilities: each row divided by its sum, clipped to
    ``[epsilon, 1 - epsilon]`` (``keras.config.epsilon()``, 1e-7), so an
    image's loss is then at most ``-log(1e-7)``, about 16.1.

    Parameters
    ----------
    model : keras.Model
        A trained classifier with a softmax output.
    x : array_like or iterable
        Images, as for :func:`~cnnviz.train`; or a stream of ``(x, y)``
        batches (a ``tf.data.Dataset`` or any iterable of pairs), read once,
        one batch at a time, and then `y` is omitted.
    y : array_like, optional
        Integer labels (N,) or one-hot labels (N, classes) of array `x`;
        None (the default) when `x` is a stream, whose batches hold them,
        in the same two forms.
    scale : bool, optional
        Whether ``uint8`` images are divided by 255; ``True`` or ``False``
        always wins. By default they are unless the model takes pixels in
        [0, 255], by the one rule spelled out at
        :func:`~cnnviz.layer_outputs`. Float images are always used as
        they are.
    steps : int, optional
        The number of batches to read from a stream (Keras' convention); by
        default all of them. Needed for a stream that never ends (a dataset
        after ``dataset.repeat()`` is refused without it); refused with
        arrays (slice them instead).

    Returns
    -------
    dict
        ``{"loss": categorical cross-entropy, the mean over the images,
        "accuracy": fraction whose most probable class is the label}``.

    Raises
    ------
    ValueError, TypeError
        For the model, images and labels that :func:`~cnnviz.train` refuses;
        ValueError also if `y` is missing beside arrays or given beside a
        stream, a batch of the stream has no labels or does not fit the
        model (the message says which batch), the stream is empty or never
        ends without `steps`, or `steps` is not a positive integer.

    Examples
    --------
    >>> from cnnviz import evaluate, load_fashion_mnist, trained_lenet5
    >>> model, history = trained_lenet5("valid")  # doctest: +SKIP
    >>> _, (x_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
    >>> evaluate(model, x_test, y_test)["accuracy"]  # doctest: +SKIP
    0.89...

    The same from a ``tf.data`` pipeline:

    >>> import tensorflow as tf
    >>> dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(1000)  # doctest: +SKIP
    >>> evaluate(model, dataset)["accuracy"]  # doctest: +SKIP
    0.89...
    """
    model = _graph.classifier(model)
    classes = int(model.outputs[0].shape[-1])
    batches = _batches.source(
        model,
        x,
        y,
        steps=steps,
        need_labels=True,
        one_hot=True,
        num_classes=classes,
        scale=scale,
        names=("x", "y"),
        takes_scale=True,
    )
    flat = _loss_outputs(model)
    loss = 0.0
    correct = count = 0
    for images, targets in batches:
        *logits, probabilities = keras.tree.flatten(_graph.predict_outputs(flat, images))
        probabilities = np.asarray(probabilities, dtype=np.float32)
        logits = np.asarray(logits[0], dtype=np.float32) if logits else None
        loss += _cross_entropy(targets, logits, probabilities)
        correct += int(np.sum(np.argmax(probabilities, axis=1) == np.argmax(targets, axis=1)))
        count += len(images)
    return {"loss": loss / count, "accuracy": correct / count}


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None
) -> np.ndarray:
    """Return the confusion matrix: how often each true class was predicted as each class.

    Parameters
    ----------
    y_true : array_like
        True integer labels (N,).
    y_pred : array_like
        Predicted integer labels (N,), for example
        ``predict(model, x).argmax(axis=1)``.
    num_classes : int, optional
        Number of classes, at most 10,000; by default one more than the
        largest label in `y_true` and `y_pred`, which must then be below
        10,000, so that one stray label cannot ask for a matrix of its size
        squared.

    Returns
    -------
    numpy.ndarray
        int64 array (num_classes, num_classes): entry ``[i, j]`` counts the
        images of true class ``i`` predicted as class ``j``. Rows are true
        classes, so the diagonal holds the correct predictions and a row's
        sum is the number of images of that class.

    Raises
    ------
    ValueError
        If the labels are not 1-D, differ in length, are negative or not
        below `num_classes` (10,000 if it is not given; the message names the
        argument, the label and its index), `num_classes` is not an integer
        in [1, 10000], or both are empty and `num_classes` is not given.
    TypeError
        If the labels are not integers.

    Examples
    --------
    >>> from cnnviz import confusion_matrix
    >>> confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0])
    array([[1, 1, 0],
           [0, 1, 0],
           [1, 0, 1]])
    """
    if num_classes is not None:
        num_classes = _checks.class_count(num_classes)
    y_true = _checks.labels(y_true, "y_true", num_classes)
    y_pred = _checks.labels(y_pred, "y_pred", num_classes)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must have the same length; got {len(y_true)} and {len(y_pred)}"
        )
    if num_classes is None:
        if not len(y_true):
            raise ValueError("y_true and y_pred are empty: give num_classes for an empty matrix")
        num_classes = int(max(y_true.max(), y_pred.max())) + 1
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def misclassified(
    y_true: np.ndarray | None = None,
    probabilities: np.ndarray | None = None,
    *,
    k: int | None = None,
    model: keras.Model | None = None,
    images: object = None,
    steps: int | None = None,
) -> np.ndarray:
    """Return the indices of the wrong predictions, the most confident first.

    The prediction for an image is its most probable class; its confidence
    is that class's probability. Ties keep the images' order. Give the
    probabilities, or `model` and `images` to have them computed here, one
    chunk at a time (with `k`, only the `k` most confident mistakes so far
    are kept, so memory does not grow with the number of images).

    Parameters
    ----------
    y_true : array_like, optional
        True labels (N,): integers, or with `model` also one-hot rows. None
        when `images` is a stream of ``(images, labels)`` batches.
    probabilities : array_like, optional
        Class probabilities (N, C), for example from :func:`predict`; not
        with `model`.
    k : int, optional
        Return at most the `k` most confident mistakes; by default all.
    model : keras.Model, optional
        A classifier that ends in a softmax, run on `images` (as by
        :func:`predict`) instead of giving `probabilities`.
    images : array_like or iterable, optional
        With `model`: images as for :func:`predict` (an array with
        `y_true` beside it), or a stream of ``(images, labels)`` batches (a
        ``tf.data.Dataset`` or any iterable of pairs), read once.
    steps : int, optional
        With `model`, the number of batches to read from a stream (Keras'
        convention); by default all. Needed for a stream that never ends
        (a dataset after ``dataset.repeat()`` is refused without it);
        refused with arrays.

    Returns
    -------
    numpy.ndarray
        int64 indices into `y_true` (or the images, in the order of the
        stream) of the images whose predicted class is not their true
        class, by falling confidence.

    Raises
    ------
    ValueError
        If `y_true` is not 1-D labels in ``range(C)``, `probabilities` is
        not (N, C) of finite numbers for the same N, `k` or `steps` is not
        a positive integer, both `probabilities` and `model` are given or
        neither, `model` comes without `images` or `images` without
        `model`; and for `model` and `images`, what :func:`predict` and
        :func:`evaluate` refuse (labels beside a stream, a batch without
        labels, an empty or endless stream).
    TypeError
        If `y_true` does not hold integers or `probabilities` not numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import misclassified
    >>> probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.7, 0.3]])
    >>> misclassified([0, 0, 0, 1], probabilities)
    array([2, 3, 1])
    >>> misclassified([0, 0, 0, 1], probabilities, k=1)
    array([2])

    From a model and a stream of labelled batches (here the untrained
    LeNet-5, which is wrong about most images):

    >>> from cnnviz import lenet5
    >>> rng = np.random.default_rng(0)
    >>> batches = [(rng.integers(0, 256, (8, 28, 28), np.uint8), np.arange(8)) for _ in range(3)]
    >>> misclassified(model=lenet5(), images=batches, k=5).shape
    (5,)
    """
    if k is not None:
        k = _checks.positive_int(k, "k")
    if model is None and images is None:
        if steps is not None:
            raise ValueError(
                "steps bounds the batches of a stream of images, read with model= and images=; "
                f"given probabilities, there is nothing to read; got steps={steps!r}"
            )
        if probabilities is None:
            raise ValueError(
                "probabilities is missing: give class probabilities (N, C), or model= and "
                "images= to have them computed"
            )
        return _ranked_mistakes(y_true, probabilities, k)
    if probabilities is not None:
        raise ValueError(
            "give probabilities, or model= and images= to compute them, not both; got "
            f"probabilities and {'model' if model is not None else 'images'}"
        )
    if model is None or images is None:
        given, missing = ("model", "images") if images is None else ("images", "model")
        raise ValueError(
            f"model= and images= go together (the model's predictions for the images); got "
            f"{given} without {missing}"
        )
    model = _graph.classifier(
        model, need="misclassified ranks mistakes by their class probabilities"
    )
    batches = _batches.source(
        model,
        images,
        y_true,
        steps=steps,
        need_labels=True,
        num_classes=int(model.outputs[0].shape[-1]),
        one_image=True,
        names=("images", "y_true"),
    )
    confidence, index = [np.empty(0)], [np.empty(0, np.int64)]
    seen = 0
    for x, y in batches:
        p = _graph.predict(model, x).astype(np.float64)
        predicted = p.argmax(axis=1)
        wrong = np.flatnonzero(predicted != y)
        confidence.append(p[wrong, predicted[wrong]])
        index.append(seen + wrong)
        seen += len(x)
        if k is not None:
            # Keep the k most confident so far: they come first, so a tie keeps the earlier image.
            kept_confidence, kept_index = np.concatenate(confidence), np.concatenate(index)
            keep = np.argsort(-kept_confidence, kind="stable")[:k]
            confidence, index = [kept_confidence[keep]], [kept_index[keep]]
    confidence, index = np.concatenate(confidence), np.concatenate(index)
    return index[np.argsort(-confidence, kind="stable")][:k].astype(np.int64)


def _ranked_mistakes(y_true: object, probabilities: object, k: int | None) -> np.ndarray:
    """Return the wrong predictions' indices by falling confidence, from labels and probabilities."""
    if y_true is None:
        raise ValueError("y_true is missing: give the true labels (N,) beside probabilities")
    p = np.asarray(probabilities)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(
            f"probabilities must be one row of class scores per image, (N, C); got shape {p.shape}"
        )
    if not np.issubdtype(p.dtype, np.number) or p.dtype == np.bool_:
        raise TypeError(f"probabilities must hold numbers; got dtype {p.dtype}")
    p = _checks.finite(p.astype(np.float64), "probabilities")
    y_true = _checks.labels(y_true, "y_true", p.shape[1])
    if len(y_true) != len(p):
        raise ValueError(
            f"y_true and probabilities must have the same length; got {len(y_true)} labels "
            f"and {len(p)} rows"
        )
    predicted = p.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = p[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")]
    return order[:k].astype(np.int64)
