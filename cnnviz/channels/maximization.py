"""Activation maximization: the image that excites a channel most, by gradient ascent."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from .. import _checks, _graph
from .._geometry import _image_size


def _gaussian(sigma: float) -> np.ndarray:
    """Return a normalised 1-D Gaussian of standard deviation `sigma` (at least 3 taps)."""
    radius = max(1, int(np.ceil(2 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma, 1e-6)) ** 2)
    return (taps / taps.sum()).astype(np.float32)


def _blurred(z, taps):
    """Blur images (B, H, W, C) over H and W with the separable kernel `taps`, edges repeated."""
    radius = (taps.shape[0] - 1) // 2
    channels = z.shape[-1]
    x = tf.pad(z, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "SYMMETRIC")
    column = tf.tile(tf.reshape(taps, (-1, 1, 1, 1)), (1, 1, channels, 1))
    row = tf.reshape(column, (1, -1, channels, 1))
    x = tf.nn.depthwise_conv2d(x, column, (1, 1, 1, 1), "VALID")
    return tf.nn.depthwise_conv2d(x, row, (1, 1, 1, 1), "VALID")


def _ascent(model: keras.Model, parts: _graph.Split):
    """Return the compiled objective and ascent step (Adam by hand) of the layer, built once.

    Both work on a batch of images, each with its own channel (one-hot rows) and its
    own weights over the layer's positions (the mean, or one unit); the images do not
    interact, so a batch gives each image what it would get alone. The settings are
    tensors, so one trace serves every channel and setting (a new blur width or number
    of channels traces once more). Kept per model and layer while the model computes the
    same (``_graph.cached``).
    """
    return _graph.cached(model, "ascent", parts.name, lambda: _built_ascent(model, parts))


def _built_ascent(model: keras.Model, parts: _graph.Split):
    head = parts.head

    def objective(unit, low, high, shift, chosen, where, l2, tv):
        image = low + (high - low) * tf.roll(unit, shift, axis=(1, 2))
        # float32 whatever the layer computes in (a mixed_float16 model gives float16,
        # which the float32 weights and penalties below cannot be multiplied with).
        out = tf.cast(head(image, training=False), tf.float32)  # (B, ..., K)
        picked = tf.reduce_sum(out * chosen, axis=-1)  # (B, ...): each image's channel
        activation = tf.reduce_sum(tf.reshape(picked * where, (tf.shape(picked)[0], -1)), 1)
        axes = [1, 2, 3]
        smooth = tf.reduce_mean(tf.abs(unit[:, 1:] - unit[:, :-1]), axes) + tf.reduce_mean(
            tf.abs(unit[:, :, 1:] - unit[:, :, :-1]), axes
        )
        penalty = l2 * tf.reduce_mean(unit**2, axes) + tv * smooth
        return activation, tf.reduce_sum(penalty - activation)

    def step(z, m, v, t, shift, chosen, where, low, high, rate, l2, tv, taps, blur):
        with tf.GradientTape() as tape:
            tape.watch(z)
            _, loss = objective(tf.sigmoid(z), low, high, shift, chosen, where, l2, tv)
        g = tape.gradient(loss, z)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        z = z - rate * (m / (1 - 0.9**t)) / (tf.sqrt(v / (1 - 0.999**t)) + 1e-7)
        z = tf.cond(blur, lambda: _blurred(z, taps), lambda: z)
        return z, m, v

    def score(z, chosen, where, low, high):
        no_shift = tf.zeros(2, tf.int32)
        zero = tf.constant(0.0)
        return objective(tf.sigmoid(z), low, high, no_shift, chosen, where, zero, zero)[0]

    # Not reduce_retracing: the blur's taps need a known length, one trace per width.
    return _graph.compiled(model, step), _graph.compiled(model, score)


def _unit_weights(parts: _graph.Split, position: object, spatial: tuple) -> np.ndarray:
    """Weights over the layer's `spatial` positions: the mean (None) or one unit (row, col)."""
    if position is None:
        return np.full(spatial, 1 / max(int(np.prod(spatial)), 1), np.float32)
    if len(spatial) != 2:
        raise ValueError(
            f"position needs a layer with feature maps (batch, height, width, channels); "
            f"layer {parts.name!r} gives shape {tuple(parts.feature.shape)}"
        )
    if not isinstance(position, (tuple, list)) or len(position) != 2:
        raise ValueError(f"position must be None or a pair (row, col); got {position!r}")
    row = _checks.index(position[0], spatial[0], "position's row", f"of layer {parts.name!r}")
    col = _checks.index(position[1], spatial[1], "position's col", f"of layer {parts.name!r}")
    weights = np.zeros(spatial, np.float32)
    weights[row, col] = 1
    return weights


def maximize_activation(
    model: keras.Model,
    layer: str | int,
    channel: int | Sequence[int],
    *,
    steps: int = 256,
    seed: int = 0,
    learning_rate: float = 0.05,
    jitter: int = 1,
    blur: float = 0.5,
    l2: float = 0.02,
    tv: float = 0.05,
    position: tuple[int, int] | None = None,
    image_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Return an image that excites a channel: gradient ascent on its activation.

    The image is ``low + (high - low) * sigmoid(z)``, so it stays in the
    model's input range ([0, 1], or [0, 255] for a model that scales its own
    input: the rule that decides whether ``uint8`` images are divided by
    255, see :func:`~cnnviz.layer_outputs`; where the rule cannot tell, a
    warning says so and the image is in [0, 1]); ``z`` starts as the
    best of 16 noise images of several grains and brightnesses. Each of
    `steps` Adam steps (``tf.GradientTape``) raises the channel's mean
    activation over the layer's positions (or, with `position`, the
    activation of one unit), minus penalties that keep the image readable at
    28x28: an L2 penalty that pulls pixels to the low end (black,
    Fashion-MNIST's background), a total variation penalty against pixel
    noise, a random shift of up to `jitter` pixels before each step (the
    image must work wherever it lies), and a Gaussian blur of ``z`` after
    each step (Yosinski et al., 2015; Olah et al., 2017). The same seed gives
    the same image, and a channel asked for in a list gets what it gets alone
    up to rounding (a batch of another size may round differently). A
    channel that no start excites (a dead channel, or one that needs more
    than noise) has no gradient and gives back its start: check the
    activation, as below.

    Several channels are one batch: one ascent for all of them, each image
    its own channel's, at about the cost of one.

    What is maximised matters. For a convolution with no non-linearity
    before it (a first layer), the mean over all positions is linear in the
    image, so its best image is flat: white where the kernel's weights sum
    to more than zero, black otherwise. One unit (`position`, for example
    the centre) gives the kernel's own pattern inside the unit's receptive
    field (:func:`receptive_box`); outside it the image has no effect, so
    the L2 penalty keeps it black (with ``l2=0`` it keeps its start).

    To compare a first layer's unit with its kernel, turn every aid off:
    ``jitter=0, blur=0, l2=0, tv=0`` (the shift moves the unit's field, the
    blur and the total variation smooth the pattern, the L2 penalty dims
    it). The unit's activation ``w . x + b`` is then linear in the image
    and the ascent goes to its best image within the input range, a corner
    of it: ``high`` where the kernel's weight is positive, ``low`` where it
    is negative. That is the kernel's sign pattern, not its values (Adam
    moves every pixel at the same pace, whatever its weight). With the L2
    penalty alone (``jitter=0, blur=0, tv=0``), the best image is the
    kernel itself within the range: ``(x - low) / (high - low) = n (high -
    low) w / (2 l2)``, `n` the number of values in the image, clipped to
    [0, 1] (0 where the weight is negative), as in Simonyan et al.'s
    L2-regularised class images (2014).

    The penalties are relative to the image in [0, 1] and the objective is
    in the layer's units. Adam's steps have the same size whatever the
    size of the gradient, so the ascent alone, and the blur after each step,
    do the same for a unit whose activations are a thousand times smaller;
    the L2 and total variation penalties do not: their size is fixed while
    the unit's gradient shrinks with it, so they dim a weak unit's image
    (the L2 solution above is a thousand times fainter) and a layer with
    small activations may want smaller `l2` and `tv`. To see whether the image is stronger than real data,
    compare its activation with that of the test images, for example
    ``layer_outputs(model, x_test, [name])[name][..., channel].mean(axis=(1,
    2)).max()`` against the same for ``image[np.newaxis]`` (the means over
    positions, which is what is maximised without `position`;
    :func:`top_patches` reports the maximum over positions instead).

    Parameters
    ----------
    model : keras.Model
        Any built Keras image model with one input: functional, Sequential
        or nested, any number of channels.
    layer : str or int
        A layer by name (nested models' layers included) or index into
        ``model.layers``; its last axis is the channels.
    channel : int or sequence of int
        The channel to excite, or several (one image each).
    steps : int, default 256
        Gradient steps.
    seed : int, default 0
        Seed of the starting noise (drawn per channel) and of the shifts.
    learning_rate : float, default 0.05
        Adam's step size on ``z``.
    jitter : int, default 1
        Largest random shift in pixels, each step; 0 for none (to compare
        a unit with its kernel, see above).
    blur : float, default 0.5
        Standard deviation in pixels of the blur after each step; 0 for none.
    l2 : float, default 0.02
        Weight of the L2 penalty; 0 for none.
    tv : float, default 0.05
        Weight of the total variation penalty; 0 for none.
    position : tuple of int, optional
        ``(row, col)`` of one unit of the layer's feature maps to maximise
        instead of the channel's mean over all positions.
    image_size : tuple of int, optional
        ``(height, width)`` of the image to make. Needed for a model that
        takes images of any size (its input has ``None`` for them); for a
        model of one input size it may be given, and must be that size.

    Returns
    -------
    numpy.ndarray
        float32 (H, W, C), the model's input shape (of `image_size`), in its
        input range; for a sequence of channels, (len(channel), H, W, C) in
        their order.

    Raises
    ------
    TypeError, ValueError
        If `model` is not a Keras model, the layer is unknown or the
        model's input layer (it has nothing to explain), a channel
        is out of range or the sequence is empty, `steps` is not a positive
        integer, `seed` or `jitter` not a non-negative integer,
        `learning_rate` not above 0, `blur`, `l2` or `tv` not finite
        numbers of at least 0, `position` not a unit of the layer, or
        `image_size` missing for a model of any input size, not a pair of
        positive integers, not the model's own size, or too small for it.

    Warns
    -----
    UserWarning
        If cnnviz cannot tell whether the model takes pixels in [0, 1] or
        in [0, 255] (a first ``Normalization`` that is not adapted, say).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, maximize_activation
    >>> image = maximize_activation(lenet5(), "conv1", 2, steps=4)
    >>> image.shape, image.dtype, bool(0 <= image.min() and image.max() <= 1)
    ((28, 28, 1), dtype('float32'), True)
    >>> maximize_activation(lenet5(), "conv2", [0, 5, 9], steps=4, position=(4, 4)).shape
    (3, 28, 28, 1)

    conv1's unit at the centre with every aid off, against its kernel (an
    untrained model's: the sign pattern appears after a few dozen steps):

    >>> from cnnviz import kernels
    >>> model = lenet5()
    >>> plain = maximize_activation(
    ...     model, "conv1", 0, steps=64, position=(12, 12), jitter=0, blur=0, l2=0, tv=0
    ... )
    >>> field = plain[12:17, 12:17, 0]  # receptive_box(model, "conv1", 12, 12)
    >>> bool(((field > 0.5) == (kernels(model, "conv1")[:, :, 0, 0] > 0)).all())
    True
    """
    model = _graph.image_model(model)
    parts = _graph.split(model, layer)
    count = _graph.channel_count(parts, spatial=False)
    chosen = _checks.indices(channel, count, "channel", f"of layer {parts.name!r}")
    steps = _checks.positive_int(steps, "steps")
    seed = _checks.non_negative_int(seed, "seed")
    learning_rate = _checks.positive_number(learning_rate, "learning_rate")
    jitter = _checks.non_negative_int(jitter, "jitter")
    blur = _checks.non_negative_number(blur, "blur")
    l2 = _checks.non_negative_number(l2, "l2")
    tv = _checks.non_negative_number(tv, "tv")
    one = np.ndim(channel) == 0  # one channel: one image, not a batch of one
    height, width = _image_size(model, image_size, "the size of the image to make is open")
    shape = (height, width, *(int(n) for n in model.inputs[0].shape[3:]))
    spatial = tuple(parts.feature.shape[1:-1])
    if None in spatial:  # an open size: the layer's, for these images
        try:
            spatial = parts.head.compute_output_shape((1, *shape))[1:-1]
        except ValueError as error:  # Keras' words for a window larger than its input
            raise ValueError(
                f"image_size={image_size!r} is too small for model {model.name!r} up to "
                f"layer {parts.name!r}: {error}"
            ) from error
    spatial = tuple(int(n) for n in spatial)
    where = tf.constant(_unit_weights(parts, position, spatial))
    found = _graph.input_scale(model)
    if found.range is None:
        warnings.warn(
            f"cnnviz cannot tell whether model {model.name!r} takes pixels in [0, 1] or in "
            f"[0, 255], since {found.reason}; the image is made in [0, 1]",
            UserWarning,
            stacklevel=2,
        )
    low, high = found.range or _graph.UNIT
    step, score = _ascent(model, parts)
    onehot = np.eye(count, dtype=np.float32)[chosen]
    rank = len(parts.feature.shape)
    rows = onehot.reshape(len(chosen), *([1] * (rank - 2)), count)
    bounds = [tf.constant(low), tf.constant(high)]
    # The start: the best of 16 noise images, from fine to coarse grain and dark to bright,
    # so that a channel which flat noise leaves at zero (after a ReLU: no gradient) has
    # somewhere to start from. Each channel draws its own, so a channel's image does not
    # depend on which channels are asked for with it.
    grains = [np.ones(1, np.float32)] + [_gaussian(sigma) for sigma in (1.0, 2.0, 3.0)]
    candidates = np.empty((len(chosen), 16, *shape), np.float32)
    for i, c in enumerate(chosen):
        rng = np.random.default_rng([seed, int(c)])
        noise = rng.normal(0.0, 1.0, (16, *shape)).astype(np.float32)
        for g, taps in enumerate(grains):
            group = noise[4 * g : 4 * g + 4]
            if g:
                group = _blurred(group, taps).numpy()
                group /= group.std(axis=(1, 2, 3), keepdims=True) + 1e-6
            candidates[i, 4 * g : 4 * g + 4] = group + np.array([-1.5, -0.5, 0.5, 1.5]).reshape(
                4, *([1] * len(shape))
            )
    flat = candidates.reshape(-1, *shape)
    scores = score(
        tf.constant(flat), tf.constant(np.repeat(rows, 16, axis=0)), where, *bounds
    ).numpy()
    best = scores.reshape(len(chosen), 16).argmax(axis=1)
    z = tf.constant(candidates[np.arange(len(chosen)), best])
    m = v = tf.zeros_like(z)
    taps = tf.constant(_gaussian(blur) if blur > 0 else np.ones(3, np.float32) / 3)
    fixed = [tf.constant(rows), where, *bounds]
    rates = [tf.constant(learning_rate), tf.constant(l2), tf.constant(tv)]
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-jitter, jitter + 1, (steps, 2)).astype(np.int32)
    for t in range(1, steps + 1):
        z, m, v = step(
            z,
            m,
            v,
            tf.constant(float(t)),
            tf.constant(shifts[t - 1]),
            *fixed,
            *rates,
            taps,
            tf.constant(blur > 0),
        )
    unit = 1 / (1 + np.exp(-z.numpy().astype(np.float64)))
    images = (low + (high - low) * unit).astype(np.float32)
    return images[0] if one else images
