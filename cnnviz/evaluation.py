"""How well a trained classifier does: predictions, loss and accuracy, the confusion matrix, mistakes."""

from __future__ import annotations

import keras
import numpy as np

from . import _checks, _graph

__all__ = ["confusion_matrix", "evaluate", "misclassified", "predict"]


def predict(model: keras.Model, images: np.ndarray, *, batch_size: int = 1024) -> np.ndarray:
    """Return the class probabilities of `model` for `images`.

    Parameters
    ----------
    model : keras.Model
        A classifier that ends in a softmax, with one image input (for
        example :func:`~cnnviz.lenet5`).
    images : array_like
        One image, (H, W) or (H, W, C), or a batch (N, H, W, C), as for
        :func:`~cnnviz.layer_outputs`: ``uint8`` images are scaled to [0, 1]
        unless the model scales its own input; float images are used as
        they are.
    batch_size : int, default 1024
        Images per forward pass; it bounds memory, not the result.

    Returns
    -------
    numpy.ndarray
        float32 array (N, C): one row of class probabilities per image.

    Raises
    ------
    TypeError
        If `model` is not a Keras model or `images` is neither ``uint8``
        nor float.
    ValueError
        If `model` is not a built image classifier ending in a softmax, the
        images do not fit its input, or `batch_size` is not a positive
        integer.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, predict
    >>> probabilities = predict(lenet5(), np.zeros((3, 28, 28, 1), dtype=np.uint8))
    >>> probabilities.shape, probabilities.dtype
    ((3, 10), dtype('float32'))
    >>> bool(np.allclose(probabilities.sum(axis=1), 1))
    True
    """
    model = _graph.classifier(model)
    batch_size = _checks.positive_int(batch_size, "batch_size")
    x = _checks.image_batch(images, model)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, *, scale: bool | None = None
) -> dict[str, float]:
    """Return the loss and accuracy of a trained model on `x`, `y`.

    Parameters
    ----------
    model : keras.Model
        A trained classifier with a softmax output.
    x : array_like
        Images, as for :func:`~cnnviz.train`.
    y : array_like
        Integer labels (N,) or one-hot labels.
    scale : bool, optional
        Whether ``uint8`` images are divided by 255. By default they are,
        unless the model scales its own input (its first layer is a
        ``Rescaling`` or ``Normalization`` layer), so that pixels are never
        scaled twice. Float images are always used as they are.

    Returns
    -------
    dict
        ``{"loss": categorical cross-entropy, "accuracy": fraction correct}``.

    Raises
    ------
    ValueError, TypeError
        For the model, images and labels that :func:`~cnnviz.train` refuses.

    Examples
    --------
    >>> from cnnviz import evaluate, load_fashion_mnist, trained_lenet5
    >>> model, history = trained_lenet5("valid")  # doctest: +SKIP
    >>> _, (x_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
    >>> evaluate(model, x_test, y_test)["accuracy"]  # doctest: +SKIP
    0.89...
    """
    model = _graph.classifier(model)
    x, y = _checks.labelled_images(model, x, y, ("x", "y"), scale)
    probabilities = model.predict(x, batch_size=1024, verbose=0)
    eps = keras.config.epsilon()
    clipped = np.clip(probabilities, eps, 1 - eps)
    loss = float(np.mean(-np.sum(y * np.log(clipped), axis=1)))
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == np.argmax(y, axis=1)))
    return {"loss": loss, "accuracy": accuracy}


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
        Number of classes; by default one more than the largest label in
        `y_true` and `y_pred`.

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
        below `num_classes`, or both are empty and `num_classes` is not
        given.
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
        num_classes = _checks.positive_int(num_classes, "num_classes")
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
    y_true: np.ndarray, probabilities: np.ndarray, *, k: int | None = None
) -> np.ndarray:
    """Return the indices of the wrong predictions, the most confident first.

    The prediction for an image is its most probable class; its confidence
    is that class's probability. Ties keep the images' order.

    Parameters
    ----------
    y_true : array_like
        True integer labels (N,).
    probabilities : array_like
        Class probabilities (N, C), for example from :func:`predict`.
    k : int, optional
        Return at most the `k` most confident mistakes; by default all.

    Returns
    -------
    numpy.ndarray
        int64 indices into `y_true` of the images whose predicted class is
        not their true class, by falling confidence.

    Raises
    ------
    ValueError
        If `y_true` is not 1-D labels in ``range(C)``, `probabilities` is
        not (N, C) of finite numbers for the same N, or `k` is not a
        positive integer.
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
    """
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
    if k is not None:
        k = _checks.positive_int(k, "k")
    predicted = p.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = p[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")]
    return order[:k].astype(np.int64)
