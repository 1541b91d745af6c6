"""Which pixels a prediction depends on: gradients, SmoothGrad, integrated gradients, Grad-CAM, occlusion.

And whether to trust the maps: the cascading model randomization check
(:func:`randomization_check`) and the deletion and insertion curves
(:func:`deletion_curve`, :func:`insertion_curve`).

Every method has one signature, ``f(model, images, target=None, **options)``,
and returns one float32 map per image, (N, H, W), at the input's resolution.

The score that the gradient methods explain is the target class's input to
the final softmax when the model ends in one (a ``Dense`` with a softmax
activation: its pre-activation, computed from the layer's input with its
kernel and bias; an ``Activation("softmax")`` or ``Softmax`` layer: its
input), and otherwise the model's output for the target. Probabilities
saturate, so their gradients vanish on confident predictions; the softmax's
input does not. Occlusion, which needs no gradient, measures the drop of the
model's output (the probability) instead.

To reach the layers of a nested model, the model is traced once into one flat
graph: each layer is called, with its own weights, on a symbolic input
(``keras.models.clone_model`` with a ``call_function`` for functional models,
a loop for Sequential ones), so inner layers' outputs are tensors of that one
graph. keras.io's Grad-CAM example asks ``model.get_layer(name).output`` of
the given model and fails on Sequential and nested models for that reason.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from . import _checks, _graph

__all__ = [
    "deletion_curve",
    "grad_cam",
    "gradients",
    "insertion_curve",
    "integrated_gradients",
    "occlusion",
    "randomization_check",
    "smoothgrad",
]

# Images per forward and backward pass; bounds memory for large batches.
_CHUNK = 256


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
        tf.function(scores, input_signature=[images]),
        tf.function(gradients, input_signature=[images, tf.TensorSpec((None,), tf.int64)]),
    )


def _images_spec(model: keras.Model) -> tf.TensorSpec:
    """float32 images of the model's input shape, any number of them."""
    return tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)


def _tensor(x: np.ndarray, dtype=tf.float32) -> tf.Tensor:
    return tf.convert_to_tensor(np.asarray(x, dtype=dtype.as_numpy_dtype))


# One compiled forward pass per model, for the probabilities of many images (curves, occlusion).
_FORWARDS: weakref.WeakKeyDictionary[keras.Model, Callable] = weakref.WeakKeyDictionary()


def _forward(model: keras.Model) -> Callable:
    forward = _FORWARDS.get(model)
    if forward is None:
        # A weak reference: the compiled function, kept as the model's value, must not keep
        # the model alive.
        ref = weakref.ref(model)
        forward = tf.function(
            lambda t: ref()(t, training=False), input_signature=[_images_spec(model)]
        )
        _FORWARDS[model] = forward
    return forward


# One explainer per (model, Grad-CAM layer or None), built once and reused.
_EXPLAINERS: weakref.WeakKeyDictionary[keras.Model, dict[str | None, _Explainer]] = (
    weakref.WeakKeyDictionary()
)


# --- the flat graph (cnnviz._graph) ----------------------------------------------------------


def _last_layer(model: keras.Model):
    layer = model
    while isinstance(layer, keras.Model) and layer.layers:
        layer = layer.layers[-1]
    return layer


def _identity(z):
    return z


def _explainer(model: keras.Model, layer: str | None = None) -> _Explainer:
    per_model = _EXPLAINERS.setdefault(model, {})
    if layer in per_model:
        return per_model[layer]
    x, output, trace = _graph.trace(model)
    pre, head = output, _identity
    last = _last_layer(model)
    seen = trace.calls.get(id(last))
    if _checks.softmax_end(model) and seen is not None and seen[2] is output:
        pre = seen[1]
        if isinstance(last, keras.layers.Dense):

            def head(z, dense=last):
                scores = keras.ops.matmul(z, dense.kernel)
                return scores + dense.bias if dense.use_bias else scores

    outputs = [pre]
    if layer is not None:
        found = _graph.find(trace, layer)
        outputs = [found[2], pre]
    flat = keras.Model(x, outputs)
    explainer = _Explainer(flat, head, layer is not None, *_compiled(flat, head))
    per_model[layer] = explainer
    return explainer


def _grad_cam_layer(model: keras.Model, layer: object) -> str:
    """Return the name of the Grad-CAM layer: given by name or index, or the default."""
    _, _, trace = _graph.trace(model)
    flat = [entry[0] for entry in trace.calls.values()]
    if layer is None:
        convs = [i for i, item in enumerate(flat) if isinstance(item, keras.layers.Conv2D)]
        if not convs:
            raise ValueError(
                f"model {model.name!r} has no Conv2D layer, so Grad-CAM has no default layer; "
                "give layer= the name of a layer whose output is a feature map"
            )
        conv = flat[convs[-1]]
        after = flat[convs[-1] + 1] if convs[-1] + 1 < len(flat) else None
        activations = (
            keras.layers.Activation,
            keras.layers.ReLU,
            keras.layers.LeakyReLU,
            keras.layers.ELU,
            keras.layers.PReLU,
        )
        feeds = after is not None and trace.calls[id(after)][1] is trace.calls[id(conv)][2]
        name = after.name if feeds and isinstance(after, activations) else conv.name
    elif isinstance(layer, (str, int, np.integer)) and not isinstance(layer, bool):
        name = _graph.layer_name(model, layer)
    else:
        raise TypeError(f"layer must be a layer name (str), an index (int) or None; got {layer!r}")
    output = _graph.find(trace, name)[2]
    if len(output.shape) != 4:
        raise ValueError(
            f"Grad-CAM needs a layer whose output is a feature map (batch, height, width, "
            f"channels); layer {name!r} gives {tuple(output.shape)}"
        )
    return name


# --- the shared arithmetic ---------------------------------------------------------------------


def _prepared(model: object, images: object) -> tuple[keras.Model, np.ndarray]:
    model = _checks.class_output(model)
    return model, _checks.image_batch(images, model)


def _chunked(compiled: Callable, x: np.ndarray) -> np.ndarray:
    """Return ``compiled(x)`` as NumPy, run on `_CHUNK` images at a time."""
    parts = [
        keras.ops.convert_to_numpy(compiled(_tensor(x[start : start + _CHUNK])))
        for start in range(0, len(x), _CHUNK)
    ]
    return np.concatenate(parts)


def _scores(explainer: _Explainer, x: np.ndarray) -> np.ndarray:
    """Return the explained class scores (N, C), in chunks."""
    return _chunked(explainer.scores, x)


def _probabilities(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Return the model's outputs (N, C), in chunks."""
    return _chunked(_forward(model), x)


def _targets(target: object, scores: np.ndarray) -> np.ndarray:
    """One class index per image: the predicted class (None), one for all, or one per image."""
    n, classes = scores.shape
    if target is None:
        return scores.argmax(axis=1)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not 0 <= target < classes:
            raise ValueError(
                f"target {target} is out of range: the model has {classes} classes "
                f"(0 to {classes - 1})"
            )
        return np.full(n, int(target), dtype=np.int64)
    if isinstance(target, (str, bytes, bool, float)):
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
    for start in range(0, len(x), _CHUNK):
        batch = _tensor(x[start : start + _CHUNK])
        chosen = _tensor(target[start : start + _CHUNK], tf.int64)
        grads[start : start + len(batch)] = keras.ops.convert_to_numpy(
            explainer.gradients(batch, chosen)
        )
    return grads


# --- the methods -----------------------------------------------------------------------------


def gradients(model: keras.Model, images: np.ndarray, target: object = None) -> np.ndarray:
    """Return the saliency map: the absolute gradient of the target's score, max over channels.

    The score is the target class's input to the final softmax (see the
    module's notes). The map says which pixels would change the score most
    if nudged; it is noisy and says nothing about the direction.

    Parameters
    ----------
    model : keras.Model
        Any built Keras image classifier with one image input and one
        output (batch, classes): functional, Sequential or nested, any
        number of channels.
    images : array_like
        One image, (H, W) or (H, W, C), or a batch (N, H, W, C), as for
        :func:`~cnnviz.layer_outputs`: ``uint8`` images are scaled to
        [0, 1] unless the model scales its own input; float images are used
        as they are.
    target : int or array_like of int, optional
        The class to explain: by default each image's predicted class, or
        one class index for all images, or one per image (N,).

    Returns
    -------
    numpy.ndarray
        float32 (N, H, W), non-negative.

    Raises
    ------
    TypeError
        If `model` is not a Keras model, `images` neither ``uint8`` nor
        float, or `target` not integers.
    ValueError
        If `model` has not one image input and one (batch, classes) output,
        the images do not fit it, or a target is out of range or there is
        not one per image.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import gradients, lenet5
    >>> maps = gradients(lenet5(), np.zeros((2, 28, 28, 1), dtype=np.uint8), target=3)
    >>> maps.shape, maps.dtype
    ((2, 28, 28), dtype('float32'))
    """
    model, x = _prepared(model, images)
    explainer = _explainer(model)
    target = _targets(target, _scores(explainer, x))
    return np.abs(_input_gradients(explainer, x, target)).max(axis=-1).astype(np.float32)


def smoothgrad(
    model: keras.Model,
    images: np.ndarray,
    target: object = None,
    *,
    samples: int = 50,
    noise: float = 0.15,
    seed: int = 0,
) -> np.ndarray:
    """Return SmoothGrad: :func:`gradients` maps averaged over noisy copies of each image.

    Each copy adds Gaussian noise whose standard deviation is `noise` times
    the image's range (its largest minus its smallest pixel), as in
    Smilkov et al. (2017); the saliency maps of the copies (absolute
    gradient, max over channels) are averaged. The target of each image is
    chosen on the image itself, not on its noisy copies.

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`.
    samples : int, default 50
        Noisy copies per image.
    noise : float, default 0.15
        Noise level, a fraction of each image's range; 0 gives
        :func:`gradients`.
    seed : int, default 0
        Seed of the noise: the same seed gives the same maps.

    Returns
    -------
    numpy.ndarray
        float32 (N, H, W), non-negative.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients`; ValueError also if `samples` is not a
        positive integer, `noise` not a finite number of at least 0, or
        `seed` not a non-negative integer.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, smoothgrad
    >>> image = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    >>> maps = smoothgrad(lenet5(), image, samples=8, seed=1)
    >>> maps.shape
    (1, 28, 28)
    """
    model, x = _prepared(model, images)
    samples = _checks.positive_int(samples, "samples")
    noise = _checks.non_negative_number(noise, "noise")
    seed = _checks.non_negative_int(seed, "seed")
    explainer = _explainer(model)
    target = _targets(target, _scores(explainer, x))
    axes = tuple(range(1, x.ndim))
    sigma = (noise * (x.max(axis=axes) - x.min(axis=axes))).astype(np.float32)
    sigma = sigma.reshape(-1, *([1] * (x.ndim - 1)))
    rng = np.random.default_rng(seed)
    total = np.zeros(x.shape[:3], np.float64)
    for _ in range(samples):
        noisy = x + rng.standard_normal(x.shape, dtype=np.float32) * sigma
        total += np.abs(_input_gradients(explainer, noisy, target)).max(axis=-1)
    return (total / samples).astype(np.float32)


def integrated_gradients(
    model: keras.Model,
    images: np.ndarray,
    target: object = None,
    *,
    baseline: object = None,
    steps: int = 64,
) -> np.ndarray:
    """Return integrated gradients: the score's gradient along the path from a baseline, times the path.

    For each image ``x`` and baseline ``b`` the map is
    ``(x - b) * mean(gradient at b + a (x - b))`` over `steps` values of
    ``a`` (the midpoints of `steps` equal intervals of [0, 1]), summed over
    channels (Sundararajan et al., 2017). The map is signed, and it is
    *complete*: it sums to ``score(x) - score(b)`` up to the error of the
    sum, which falls with `steps` (for ReLU networks roughly as
    ``1 / steps``; within a few percent at the default 64 on LeNet-5). The
    score is the target class's input to the final softmax.

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`.
    baseline : float or array_like, optional
        The image that stands for "nothing": by default black (zeros). A
        number (every pixel), one image, or one image per image, in the
        same form as `images` (``uint8`` scaled alike, float as is).
    steps : int, default 64
        Points on the path at which the gradient is taken.

    Returns
    -------
    numpy.ndarray
        float32 (N, H, W), signed.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients`; ValueError also if `steps` is not a
        positive integer or `baseline` is not finite or does not fit the
        images.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import integrated_gradients, lenet5
    >>> image = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    >>> maps = integrated_gradients(lenet5(), image, target=0, steps=16)
    >>> maps.shape, maps.dtype
    ((1, 28, 28), dtype('float32'))
    """
    model, x = _prepared(model, images)
    steps = _checks.positive_int(steps, "steps")
    if baseline is None:
        base = np.zeros_like(x)
    elif np.ndim(baseline) == 0 and not isinstance(baseline, np.ndarray):
        base = np.full_like(x, _checks.finite_number(baseline, "baseline"))
    else:
        base = _checks.image_batch(baseline, model, "baseline")
        if len(base) not in (1, len(x)):
            raise ValueError(
                f"baseline must be one image or one per image ({len(x)}); got {len(base)}"
            )
        base = np.broadcast_to(base, x.shape)
    explainer = _explainer(model)
    target = _targets(target, _scores(explainer, x))
    path = x - base
    total = np.zeros(x.shape, np.float64)
    for step in range(steps):
        alpha = np.float32((step + 0.5) / steps)
        total += _input_gradients(explainer, base + alpha * path, target)
    return (path * (total / steps)).sum(axis=-1).astype(np.float32)


def grad_cam(
    model: keras.Model, images: np.ndarray, target: object = None, *, layer: object = None
) -> np.ndarray:
    """Return Grad-CAM: a layer's channels weighted by the score's gradient, upsampled to the input.

    Each channel of the layer's output is weighted by the mean gradient of
    the target's score over that channel, the weighted channels are summed,
    negative values are set to 0 and the map is resized to the input size
    (bilinear), as in Selvaraju et al. (2017). The map is as coarse as the
    layer: for LeNet-5's ``relu2``, 8x8 (valid) or 14x14 (same) cells.

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`; nested and Sequential models work too.
    layer : str or int, optional
        The layer whose output is weighted: a name (of any layer, also one
        inside a nested model) or an index into ``model.layers``, as for
        :func:`~cnnviz.layer_outputs`. By default the last ``Conv2D``, or
        the activation layer right after it when there is one (for
        :func:`~cnnviz.lenet5`, ``relu2``).

    Returns
    -------
    numpy.ndarray
        float32 (N, H, W), non-negative.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients`; ValueError also if the layer is unknown,
        its output is not a 4-D feature map, it is called more than once,
        or the model has no ``Conv2D`` layer and `layer` is not given.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import grad_cam, lenet5
    >>> maps = grad_cam(lenet5(), np.zeros((2, 28, 28, 1), dtype=np.uint8), layer="relu1")
    >>> maps.shape, bool((maps >= 0).all())
    ((2, 28, 28), True)
    """
    model, x = _prepared(model, images)
    name = _grad_cam_layer(model, layer)
    explainer = _explainer(model, name)
    target = _targets(target, _scores(explainer, x))
    height, width = x.shape[1:3]
    maps = np.empty(x.shape[:3], np.float32)
    for start in range(0, len(x), _CHUNK):
        batch = tf.convert_to_tensor(x[start : start + _CHUNK])
        with tf.GradientTape() as tape:
            tape.watch(batch)
            feature, pre = explainer.model(batch, training=False)
            total = keras.ops.sum(_picked(explainer.head(pre), target[start : start + _CHUNK]))
        grads = tape.gradient(total, feature)
        weights = keras.ops.mean(grads, axis=(1, 2), keepdims=True)
        cam = keras.ops.relu(keras.ops.sum(weights * feature, axis=-1, keepdims=True))
        cam = keras.ops.image.resize(cam, (height, width), interpolation="bilinear")
        maps[start : start + len(batch)] = keras.ops.convert_to_numpy(cam)[..., 0]
    # Bilinear weights are non-negative, but float rounding can leave -0.0 or -1e-9.
    return np.maximum(maps, 0)


def _window_starts(size: int, window: int, stride: int) -> list[int]:
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)  # the last window reaches the edge, so every pixel is covered
    return starts


def occlusion(
    model: keras.Model,
    images: np.ndarray,
    target: object = None,
    *,
    window: int = 4,
    stride: int = 2,
    value: float = 0.0,
) -> np.ndarray:
    """Return the drop of the target's probability when a window over each pixel is hidden.

    A `window` x `window` square, moved by `stride` pixels (and placed once
    more against the right and bottom edges, so every pixel is covered), is
    set to `value` in every channel; each pixel's map value is the drop of
    the model's output for the target (its probability, for a model that
    ends in a softmax) averaged over the windows that cover it (Zeiler and
    Fergus, 2014). Many occluded copies of the batch go through the model
    together. Positive where hiding the pixel hurts the prediction.

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`.
    window : int, default 4
        Side of the square, in pixels; at most the image's smaller side.
    stride : int, default 2
        Pixels between one window and the next.
    value : float, default 0.0
        What the hidden pixels become, in the model's input scale (after
        ``uint8`` images are scaled): 0 is black.

    Returns
    -------
    numpy.ndarray
        float32 (N, H, W), signed.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients`; ValueError also if `window` or `stride`
        is not a positive integer, `window` is larger than the image, or
        `value` is not a finite number.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, occlusion
    >>> maps = occlusion(lenet5(), np.zeros((28, 28), dtype=np.uint8), window=7, stride=7)
    >>> maps.shape
    (1, 28, 28)
    """
    model, x = _prepared(model, images)
    window = _checks.positive_int(window, "window")
    stride = _checks.positive_int(stride, "stride")
    value = np.float32(_checks.finite_number(value, "value"))
    n, height, width = x.shape[:3]
    if window > min(height, width):
        raise ValueError(
            f"window must be at most the image's smaller side ({min(height, width)}); got {window}"
        )
    probabilities = _probabilities(model, x)
    target = _targets(target, probabilities)
    rows = np.arange(n)
    places = [
        (top, left)
        for top in _window_starts(height, window, stride)
        for left in _window_starts(width, window, stride)
    ]
    total = np.zeros((n, height, width), np.float64)
    covered = np.zeros((height, width), np.int64)
    # Groups of windows, each over every image, so a pass holds about _CHUNK images or more.
    per_pass = max(1, _CHUNK // n)
    # The unoccluded outputs that a pass subtracts from, per pass size: computed in a batch
    # of the same shape, each image in the row its occluded copies take. Kernels round
    # differently for other batch shapes (and other CPUs pick other kernels), so only
    # this way does a window that cannot change the output give a drop of exactly 0.
    references = {1: probabilities[np.newaxis]}  # one window per pass: the batch is x itself
    for first in range(0, len(places), per_pass):
        group = places[first : first + per_pass]
        hidden = np.repeat(x[np.newaxis], len(group), axis=0)
        if len(group) not in references:
            whole = _probabilities(model, hidden.reshape(-1, *x.shape[1:]))
            references[len(group)] = whole.reshape(len(group), n, -1)
        before = references[len(group)]
        for k, (top, left) in enumerate(group):
            hidden[k, :, top : top + window, left : left + window, :] = value
        after = _probabilities(model, hidden.reshape(-1, *x.shape[1:])).reshape(len(group), n, -1)
        for k, (top, left) in enumerate(group):
            drop = before[k, rows, target] - after[k, rows, target]
            total[:, top : top + window, left : left + window] += drop[:, None, None]
            covered[top : top + window, left : left + window] += 1
    return (total / covered).astype(np.float32)


# --- sanity checks: cascading randomization, deletion and insertion -----------------------------

_METHODS: dict[str, Callable] = {
    "gradients": gradients,
    "smoothgrad": smoothgrad,
    "integrated_gradients": integrated_gradients,
    "grad_cam": grad_cam,
    "occlusion": occlusion,
}


def _method(method: object) -> tuple[str, Callable]:
    if isinstance(method, str):
        if method not in _METHODS:
            raise ValueError(
                f"method must be one of {tuple(_METHODS)} or one of those functions; got {method!r}"
            )
        return method, _METHODS[method]
    if not callable(method):
        raise TypeError(
            f"method must be the name of an attribution method (str) or the function itself; "
            f"got {method!r}"
        )
    return getattr(method, "__name__", repr(method)), method


def _ranks(values: np.ndarray) -> np.ndarray:
    """Return the ranks of each row of `values` (1 to n), ties getting their average rank."""
    ranks = np.empty(values.shape, np.float64)
    for row, line in enumerate(values):
        order = np.argsort(line, kind="stable")
        ordered = line[order]
        starts = np.r_[True, ordered[1:] != ordered[:-1]]
        group = np.cumsum(starts) - 1  # the tie group of each sorted value
        ends = np.r_[np.flatnonzero(starts)[1:], len(line)]  # one past each group's last rank
        firsts = np.flatnonzero(starts)
        ranks[row, order] = ((firsts + 1 + ends) / 2)[group]
    return ranks


def _spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the Spearman rank correlation of each pair of maps, (N,); NaN where a map is constant."""
    ra = _ranks(a.reshape(len(a), -1))
    rb = _ranks(b.reshape(len(b), -1))
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    norm = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (ra * rb).sum(axis=1) / np.where(norm > 0, norm, 1), np.nan)


def _weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Layers with weights, nested models' included, in the order they are called."""
    _, _, trace = _graph.trace(model)
    return [
        layer
        for layer, _, _ in trace.calls.values()
        if not isinstance(layer, keras.Model) and layer.weights
    ]


def _reinitialise(layer: keras.layers.Layer, seed: int, step: int) -> None:
    """Draw new values for each of `layer`'s weights from the layer's own initializer."""
    config = layer.get_config()
    for k, variable in enumerate(layer.weights):
        name = variable.name.rsplit("/", 1)[-1]
        spec = config.get(f"{name}_initializer")
        if spec is None:
            # A layer that does not say how it is initialised: Keras' default for kernels.
            spec = "glorot_uniform" if len(variable.shape) >= 2 else "zeros"
        initializer = keras.initializers.get(spec)
        init_config = initializer.get_config()
        if "seed" in init_config:
            # One seed per (seed, step, weight): the same call draws the same weights.
            drawn = int(np.random.default_rng([seed, step, k]).integers(2**31 - 1))
            initializer = type(initializer).from_config({**init_config, "seed": drawn})
        variable.assign(initializer(tuple(variable.shape), dtype=variable.dtype))


def randomization_check(
    model: keras.Model,
    images: np.ndarray,
    method: object = "gradients",
    *,
    target: object = None,
    seed: int = 0,
    **options: object,
) -> dict:
    """Return the cascading model randomization check of an attribution method.

    The check of Adebayo et al. (2018, "Sanity Checks for Saliency Maps"):
    on a copy of the model, the layers that have weights are re-initialised
    from the output down, one more at a time, and after each step the maps
    are computed again and compared with the original maps by their
    Spearman rank correlation (over the pixels of each image, then averaged
    over the images). A method whose maps depend on what the model learned
    gives low correlations once the layers are random; maps that stay alike
    explain the image, not the model. Passing the check does not make a map
    informative (Binder et al., 2023).

    The given model is never changed: the copy is made with
    ``keras.models.clone_model`` and ``set_weights``. Each weight is drawn
    anew from the layer's own initializer (its ``kernel_initializer``,
    ``bias_initializer``, ... in ``layer.get_config()``; Glorot uniform for a
    kernel and zeros for other weights where the layer names none), seeded
    from `seed`. Layers of nested models are re-initialised too, in the same
    output-to-input order. The target of each image is chosen once, on the
    original model, and kept for every step.

    Parameters
    ----------
    model, images
        As for :func:`gradients`.
    method : str or callable, default "gradients"
        The attribution method: ``"gradients"``, ``"smoothgrad"``,
        ``"integrated_gradients"``, ``"grad_cam"`` or ``"occlusion"``, or a
        function with their signature ``f(model, images, target, **options)``.
    target : int or array_like of int, optional
        As for :func:`gradients`; by default each image's class as the
        original model predicts it.
    seed : int, default 0
        Seed of the new weights: the same seed gives the same result.
    **options
        Passed to `method` (for example ``samples=8`` for SmoothGrad).

    Returns
    -------
    dict
        ``"method"``: the method's name; ``"layers"``: the names of the
        re-initialised layers, output first (one per step);
        ``"correlation"``: float64 (steps,), the mean over the images of the
        Spearman rank correlation between the original maps and the maps
        after each step (NaN images, whose map is constant, are left out of
        the mean; NaN if every map is constant); ``"per_image"``: float64
        (steps, N), each image's correlation; ``"maps"``: float32
        (steps + 1, N, H, W), the original maps first.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients` and for `method` with `options`;
        ValueError also if `method` is an unknown name, `seed` is not a
        non-negative integer, or the model has no layer with weights;
        TypeError if `method` is neither a name nor a function.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, randomization_check
    >>> image = np.random.default_rng(0).integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    >>> result = randomization_check(lenet5(), image, "gradients")
    >>> result["layers"]
    ['op', 'fc2', 'fc1', 'conv2', 'conv1']
    >>> result["correlation"].shape, result["maps"].shape
    ((5,), (6, 2, 28, 28))
    """
    model, x = _prepared(model, images)
    name, function = _method(method)
    seed = _checks.non_negative_int(seed, "seed")
    try:
        copy = keras.models.clone_model(model)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"model {model.name!r} cannot be copied with keras.models.clone_model ({error}); "
            "the randomization check needs a copy, so the given model is never changed"
        ) from error
    copy.set_weights(model.get_weights())
    layers = _weighted_layers(copy)[::-1]
    if not layers:
        raise ValueError(f"model {model.name!r} has no layer with weights to randomize")
    target = _targets(target, _probabilities(copy, x))
    maps = [np.asarray(function(copy, x, target, **options), np.float32)]
    for step, layer in enumerate(layers):
        _reinitialise(layer, seed, step)
        maps.append(np.asarray(function(copy, x, target, **options), np.float32))
    per_image = np.stack([_spearman(maps[0], after) for after in maps[1:]])
    valid = np.isfinite(per_image)
    counts = valid.sum(axis=1)
    sums = np.where(valid, per_image, 0).sum(axis=1)
    correlation = np.full(len(layers), np.nan)
    np.divide(sums, counts, out=correlation, where=counts > 0)
    return {
        "method": name,
        "layers": [layer.name for layer in layers],
        "correlation": correlation,
        "per_image": per_image,
        "maps": np.stack(maps),
    }


def _pixel_curve(model, images, maps, target, steps, value, *, insert: bool) -> dict:
    model, x = _prepared(model, images)
    steps = _checks.positive_int(steps, "steps")
    value = np.float32(_checks.finite_number(value, "value"))
    n, height, width = x.shape[:3]
    array = np.asarray(maps)
    if array.ndim == 2 and n == 1:
        array = array[np.newaxis]
    if array.shape != (n, height, width):
        raise ValueError(
            f"maps must hold one map per image, (N, H, W) = ({n}, {height}, {width}); "
            f"got shape {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_:
        raise TypeError(f"maps must hold numbers; got dtype {array.dtype}")
    array = _checks.finite(array.astype(np.float64), "maps")
    target = _targets(target, _probabilities(model, x))
    pixels = height * width
    fractions = np.linspace(0.0, 1.0, steps + 1)
    # Pixels changed at each step: the nearest whole number to fraction * pixels.
    counts = (2 * np.arange(steps + 1) * pixels + steps) // (2 * steps)
    # Each pixel's place in its image's order, most attributed first (ties: the earlier pixel).
    order = np.argsort(-array.reshape(n, pixels), axis=1, kind="stable")
    place = np.empty_like(order)
    np.put_along_axis(place, order, np.arange(pixels)[np.newaxis], axis=1)
    probabilities = np.empty((n, steps + 1), np.float64)
    # Groups of images, all steps of each together, so a group is a few predict chunks.
    per_group = max(1, 4 * _CHUNK // (steps + 1))
    for start in range(0, n, per_group):
        part = slice(start, start + per_group)
        changed = place[part][:, np.newaxis, :] < counts[np.newaxis, :, np.newaxis]
        changed = changed.reshape(-1, steps + 1, height, width, 1)
        original = x[part][:, np.newaxis]
        batch = np.where(changed, original, value) if insert else np.where(changed, value, original)
        batch = batch.astype(np.float32).reshape(-1, *x.shape[1:])
        out = _probabilities(model, batch).reshape(len(original), steps + 1, -1)
        probabilities[part] = out[np.arange(len(out)), :, target[part]]
    widths = np.diff(fractions)
    auc = ((probabilities[:, 1:] + probabilities[:, :-1]) / 2 * widths).sum(axis=1)
    return {"fractions": fractions, "probabilities": probabilities, "auc": auc}


def deletion_curve(
    model: keras.Model,
    images: np.ndarray,
    maps: object,
    target: object = None,
    *,
    steps: int = 20,
    value: float = 0.0,
) -> dict:
    """Return the deletion curve: the target's probability as the most attributed pixels are removed.

    Petsiuk et al. (2018, RISE): the pixels are set to `value` in the order
    of the map, most attributed first, in `steps` equal steps; a map that
    finds the pixels the prediction rests on makes the probability fall
    fast, so a *lower* area under the curve is better. Compare with a
    random order of the pixels. All steps of all images go through the
    model together, in chunks.

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`.
    maps : array_like
        One attribution map per image, (N, H, W) (or (H, W) for one image),
        as any method of this module returns: the pixels are taken in the
        order of their values, largest first (ties: the earlier pixel in
        row-major order).
    steps : int, default 20
        Equal steps from no pixel to every pixel; step ``i`` changes the
        ``round(i / steps * H * W)`` most attributed pixels.
    value : float, default 0.0
        What a removed pixel becomes, in every channel, in the model's input
        scale (after ``uint8`` images are scaled): 0 is black.

    Returns
    -------
    dict
        ``"fractions"``: float64 (steps + 1,), the fraction of pixels
        changed at each step, 0 to 1; ``"probabilities"``: float64
        (N, steps + 1), the model's output for each image's target (its
        probability, for a model that ends in a softmax) at each step;
        ``"auc"``: float64 (N,), the area under each image's curve (the
        trapezoid rule over the fractions).

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients`; ValueError also if `maps` is not one map
        per image of the images' size or holds non-finite values, `steps`
        is not a positive integer or `value` is not a finite number;
        TypeError if `maps` does not hold numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import deletion_curve, gradients, lenet5
    >>> model = lenet5()
    >>> x = np.random.default_rng(0).integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    >>> curve = deletion_curve(model, x, gradients(model, x), steps=4)
    >>> curve["fractions"]
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    >>> curve["probabilities"].shape, curve["auc"].shape
    ((2, 5), (2,))
    """
    return _pixel_curve(model, images, maps, target, steps, value, insert=False)


def insertion_curve(
    model: keras.Model,
    images: np.ndarray,
    maps: object,
    target: object = None,
    *,
    steps: int = 20,
    value: float = 0.0,
) -> dict:
    """Return the insertion curve: the target's probability as the most attributed pixels are put back.

    Petsiuk et al. (2018, RISE): starting from an image of `value` only,
    the image's own pixels are put back in the order of the map, most
    attributed first, in `steps` equal steps; a map that finds the pixels
    the prediction rests on makes the probability rise fast, so a *higher*
    area under the curve is better. All steps of all images go through the
    model together, in chunks.

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`.
    maps : array_like
        One attribution map per image, (N, H, W) (or (H, W) for one image),
        as any method of this module returns: the pixels are taken in the
        order of their values, largest first (ties: the earlier pixel in
        row-major order).
    steps : int, default 20
        Equal steps from no pixel to every pixel; step ``i`` changes the
        ``round(i / steps * H * W)`` most attributed pixels.
    value : float, default 0.0
        What a removed pixel becomes, in every channel, in the model's input
        scale (after ``uint8`` images are scaled): 0 is black.

    Returns
    -------
    dict
        ``"fractions"``: float64 (steps + 1,), the fraction of pixels
        changed at each step, 0 to 1; ``"probabilities"``: float64
        (N, steps + 1), the model's output for each image's target (its
        probability, for a model that ends in a softmax) at each step;
        ``"auc"``: float64 (N,), the area under each image's curve (the
        trapezoid rule over the fractions).

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients`; ValueError also if `maps` is not one map
        per image of the images' size or holds non-finite values, `steps`
        is not a positive integer or `value` is not a finite number;
        TypeError if `maps` does not hold numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import insertion_curve, lenet5, occlusion
    >>> model = lenet5()
    >>> x = np.random.default_rng(0).integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    >>> curve = insertion_curve(model, x, occlusion(model, x), steps=4)
    >>> curve["probabilities"].shape, curve["auc"].shape
    ((2, 5), (2,))
    """
    return _pixel_curve(model, images, maps, target, steps, value, insert=True)
