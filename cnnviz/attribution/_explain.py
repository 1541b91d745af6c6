"""The gradient machinery that every attribution method shares (private).

The score that every method explains (the gradient methods, and occlusion by
default, through the same explainer) is the target class's input to
the final softmax when the model ends in one (a ``Dense`` with a softmax
activation: its pre-activation, computed from the layer's input with its
kernel and bias; an ``Activation("softmax")`` or ``Softmax`` layer: its
input), and otherwise the model's output for the target. Probabilities
saturate, so their gradients vanish on confident predictions and their drops
under occlusion shrink to float32 rounding; the softmax's input does not.

The model is traced once into one flat graph (:mod:`cnnviz._graph`), so a
layer inside a nested model is a tensor of that graph; an explainer is the
flat model from the input to [a feature map and] the softmax's input, with
its forward pass and input gradients compiled once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from .. import _batches, _checks, _graph


@dataclass(frozen=True)
class _Explainer:
    """A flat model from the input to [feature map,] the softmax's input, and the head after it.

    `scores` and `gradients` are compiled (``tf.function``) once per explainer: run eagerly,
    each chunk of a few hundred images paid Python's dispatch per layer, several times the
    arithmetic of a small network such as LeNet-5.
    """

    model: keras.Model
    head: Callable  # the softmax's input -> the class scores explained
    feature: bool  # whether the first output is a feature map (Grad-CAM)
    scores: Callable  # images -> the class scores explained
    gradients: Callable  # images, target -> d score[target] / d image


def _compiled(model: keras.Model, head: Callable) -> tuple[Callable, Callable]:
    """Return the compiled class scores and input gradients of a flat model and its head."""

    def scores(batch):
        out = model(batch, training=False)
        return head(out[-1] if isinstance(out, (list, tuple)) else out)

    def gradients(batch, target):
        with tf.GradientTape() as tape:
            tape.watch(batch)
            # The images are independent, so the gradient of the sum is each image's own.
            total = keras.ops.sum(_picked(scores(batch), target))
        return tape.gradient(total, batch)

    # One trace for any number of images (the last chunk of a batch is shorter).
    images = _images_spec(model)
    return (
        _graph.compiled(model, scores, input_signature=[images]),
        _graph.compiled(
            model, gradients, input_signature=[images, tf.TensorSpec((None,), tf.int64)]
        ),
    )


def _images_spec(model: keras.Model) -> tf.TensorSpec:
    """float32 images of the model's input shape, any number of them."""
    return tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)


def _tensor(x: np.ndarray, dtype=tf.float32) -> tf.Tensor:
    return tf.convert_to_tensor(np.asarray(x, dtype=dtype.as_numpy_dtype))


def _forward(model: keras.Model) -> Callable:
    """Return the model's forward pass, compiled once per model (``_graph.cached``)."""

    def build() -> Callable:
        # A weak reference: the compiled function, kept for the model, must not keep the
        # model alive.
        ref = weakref.ref(model)
        return _graph.compiled(
            model, lambda t: ref()(t, training=False), input_signature=[_images_spec(model)]
        )

    # For the probabilities of many images (curves, occlusion with measure="probability").
    return _graph.cached(model, "forward", None, build)


def _explainer(model: keras.Model, layer: str | None = None) -> _Explainer:
    """Return the explainer of `model` [with Grad-CAM's `layer`], built once per model and layer."""
    return _graph.cached(model, "explainer", layer, lambda: _built_explainer(model, layer))


def _built_explainer(model: keras.Model, layer: str | None) -> _Explainer:
    x, output, trace = _graph.trace(model)
    logits = _graph.softmax_input(model)
    pre, head = (output, _graph.identity) if logits is None else (logits.tensor, logits.head)
    outputs = [pre]
    if layer is not None:
        found = _graph.find(trace, layer)
        outputs = [found[2], pre]
    flat = keras.Model(x, outputs)
    return _Explainer(flat, head, layer is not None, *_compiled(flat, head))


def _prepared(model: object, images: object) -> tuple[keras.Model, np.ndarray]:
    """Return the checked model and all the images as one float32 batch.

    The maps are per image, so a finite stream is read whole (``_batches.whole``).
    """
    model = _graph.class_output(model)
    return model, _batches.whole(model, images)


def _chunked(compiled: Callable, x: np.ndarray, chunk: int) -> np.ndarray:
    """Return ``compiled(x)`` as NumPy, run on `chunk` images at a time."""
    parts = [
        keras.ops.convert_to_numpy(compiled(_tensor(x[start : start + chunk])))
        for start in range(0, len(x), chunk)
    ]
    return np.concatenate(parts)


def _scores(explainer: _Explainer, x: np.ndarray) -> np.ndarray:
    """Return the explained class scores (N, C), in chunks of the one policy."""
    return _chunked(explainer.scores, x, _batches.chunk_size(explainer.model, x.shape[1:]))


def _probabilities(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Return the model's outputs (N, C), in chunks of the one policy."""
    return _chunked(_forward(model), x, _batches.chunk_size(model, x.shape[1:]))


def _targets(target: object, scores: np.ndarray) -> np.ndarray:
    """One class index per image: the predicted class (None), one for all, or one per image."""
    n, classes = scores.shape
    if target is None:
        return scores.argmax(axis=1)
    if _checks.is_integer(target):
        if not 0 <= target < classes:
            raise ValueError(
                f"target {target} is out of range: the model has {classes} classes "
                f"(0 to {classes - 1})"
            )
        return np.full(n, int(target), dtype=np.int64)
    if isinstance(target, (str, bytes, bool, np.bool_, float)):
        raise TypeError(
            f"target must be None, a class index (int) or one index per image; got {target!r}"
        )
    labels = _checks.labels(target, "target", classes)
    if len(labels) != n:
        raise ValueError(
            f"target must give one class index per image: {n} for {n} images; got {len(labels)}"
        )
    return labels


def _picked(scores, target):
    return keras.ops.take_along_axis(scores, keras.ops.expand_dims(target, 1), axis=1)[:, 0]


def _input_gradients(explainer: _Explainer, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Return the gradient of each target score with respect to its image, (N, H, W, C)."""
    grads = np.empty_like(x)
    chunk = _batches.chunk_size(explainer.model, x.shape[1:])
    for start in range(0, len(x), chunk):
        batch = _tensor(x[start : start + chunk])
        chosen = _tensor(target[start : start + chunk], tf.int64)
        grads[start : start + len(batch)] = keras.ops.convert_to_numpy(
            explainer.gradients(batch, chosen)
        )
    return grads
