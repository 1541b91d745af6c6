"""The five attribution methods: gradients, SmoothGrad, integrated gradients, Grad-CAM, occlusion.

Every method has one signature, ``f(model, images, target=None, **options)``,
and returns one float32 map per image, (N, H, W), at the input's resolution.
Every method explains the target class's score, its input to the final
softmax (see :mod:`cnnviz.attribution._explain`): the gradient methods its
gradient, occlusion (which needs no gradient) its drop; occlusion measures
the drop of the probability instead on request (``measure="probability"``).
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import tensorflow as tf

from .. import _batches, _checks, _geometry, _graph
from ._explain import (
    _explainer,
    _input_gradients,
    _picked,
    _prepared,
    _probabilities,
    _scores,
    _targets,
)

__all__ = ["grad_cam", "gradients", "integrated_gradients", "occlusion", "smoothgrad"]

#: What :func:`smoothgrad` averages over the noisy copies: the paper's signed gradients first.
SMOOTHGRAD_KINDS = ("signed", "squared", "absolute")
#: What :func:`occlusion` measures the drop of: the class score first, as every method explains.
OCCLUSION_MEASURES = ("score", "probability")


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
    elif isinstance(layer, str) or _checks.is_integer(layer):
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
    images : array_like or iterable
        One image, (H, W) or (H, W, C), or a batch (N, H, W, C), as for
        :func:`~cnnviz.layer_outputs`: ``uint8`` images are scaled to
        [0, 1] unless the model takes [0, 255] (the rule of its `scale`);
        float images are used as they are. Or a finite stream of batches (a ``tf.data.Dataset``
        or any iterable of batches of images or of ``(images, labels)``
        pairs, labels ignored), read whole: the maps are per image. There is
        no ``steps`` (the methods' own ``steps`` is their path or curve), so
        a dataset that never ends is refused: give ``dataset.take(n)``.
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
        float, or neither an array nor an iterable of batches, or `target`
        not integers.
    ValueError
        If `model` has not one image input and one (batch, classes) output,
        the images do not fit it (a stream's batch: which one), the stream
        is empty or never ends, a target is out of range or there is not
        one per image (of the stream's images, in their order), or the
        images are ``uint8`` and cnnviz cannot tell the model's input scale
        (see :func:`~cnnviz.layer_outputs`' `scale`).

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
    kind: str = "signed",
) -> np.ndarray:
    """Return SmoothGrad: the score's gradient averaged over noisy copies of each image.

    SmoothGrad (Smilkov et al., 2017) averages the gradients of the target's
    score (its input to the final softmax, as for :func:`gradients`) at
    `samples` copies of the image, each with Gaussian noise added; the
    gradients are averaged with their signs, so the noise cancels where
    the gradient flips sign from copy to copy. The target of each image is
    chosen on the image itself, not on its noisy copies.

    The noise: `noise` is the paper's noise level, ``sigma / (x_max -
    x_min)``, a fraction of the image's range (its largest minus its
    smallest pixel, in the model's input scale, after ``uint8`` images are
    scaled). In pixel units the noise's standard deviation is ``sigma =
    noise * (x_max - x_min)``, one per image: for a Fashion-MNIST image
    scaled to [0, 1] whose pixels span black to white, the default 0.15 is
    ``sigma = 0.15``, some 38 of 255 grey levels. An image whose pixels are
    all equal gets no noise (its range is 0).

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`.
    samples : int, default 50
        Noisy copies per image.
    noise : float, default 0.15
        The noise level ``sigma / (x_max - x_min)``, a fraction of each
        image's range (the paper found 0.1 to 0.2 best); 0 gives the
        gradient of the image itself.
    seed : int, default 0
        Seed of the noise: the same seed gives the same maps.
    kind : {"signed", "squared", "absolute"}, default "signed"
        What is averaged. ``"signed"``: the gradients, as in the paper,
        summed over channels (the derivative of the score as the pixel
        brightens in every channel together); signed maps. ``"squared"``:
        the squared gradients, summed over channels, the variant of the
        authors' own code (PAIR's ``saliency``, ``magnitude=True``) that
        Hooker et al. (2019) call SmoothGrad-Squared; non-negative.
        ``"absolute"``: the maps of :func:`gradients` (absolute gradient,
        max over channels), which is what cnnviz averaged before issue 21;
        non-negative.

    Returns
    -------
    numpy.ndarray
        float32 (N, H, W): signed for ``kind="signed"``, non-negative
        otherwise.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients`; ValueError also if `samples` is not a
        positive integer, `noise` not a finite number of at least 0,
        `seed` not a non-negative integer, or `kind` not one of the three.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, smoothgrad
    >>> image = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    >>> maps = smoothgrad(lenet5(), image, samples=8, seed=1)
    >>> maps.shape
    (1, 28, 28)
    >>> bool((smoothgrad(lenet5(), image, samples=8, kind="squared") >= 0).all())
    True
    """
    samples = _checks.positive_int(samples, "samples")
    noise = _checks.non_negative_number(noise, "noise")
    seed = _checks.non_negative_int(seed, "seed")
    kind = _checks.one_of(kind, SMOOTHGRAD_KINDS, "kind")
    model, x = _prepared(model, images)
    explainer = _explainer(model)
    target = _targets(target, _scores(explainer, x))
    axes = tuple(range(1, x.ndim))
    sigma = (noise * (x.max(axis=axes) - x.min(axis=axes))).astype(np.float32)
    sigma = sigma.reshape(-1, *([1] * (x.ndim - 1)))
    rng = np.random.default_rng(seed)
    total = np.zeros(x.shape[:3], np.float64)
    for _ in range(samples):
        noisy = x + rng.standard_normal(x.shape, dtype=np.float32) * sigma
        grads = _input_gradients(explainer, noisy, target)
        if kind == "signed":
            total += grads.sum(axis=-1, dtype=np.float64)
        elif kind == "squared":
            total += np.square(grads, dtype=np.float64).sum(axis=-1)
        else:
            total += np.abs(grads).max(axis=-1)
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
        number (every pixel), one image, or one image per image. ``uint8``
        values, an image or one number such as ``np.uint8(255)`` (white),
        are pixels in [0, 255] and are scaled as ``uint8`` images are; any
        other number is in the model's input scale, as float images are.
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
        positive integer or `baseline` is not finite, does not fit the
        images, or is ``uint8`` and cnnviz cannot tell the model's input
        scale.

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
    elif np.ndim(baseline) == 0:
        base = np.full_like(x, _batches.pixel_value(baseline, model, "baseline"))
    else:
        base = _batches.image_batch(baseline, model, "baseline")
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


def _cell_centres(model: keras.Model, name: str, size: tuple[int, int]) -> tuple | str:
    """Return the layer's cell centres and covered pixels, or why they cannot be known.

    ``((row centres, column centres), (rows covered, columns covered))``
    (:func:`cnnviz._geometry._centres`, :func:`cnnviz._geometry._covered`), built once
    per model, layer and image size; a str, the reason, where the fields cannot be
    followed.
    """

    def build() -> tuple | str:
        parts = _graph.split(model, name)
        try:
            field = _geometry._field(model, parts, size, boxes=False)
            return _geometry._centres(field), _geometry._covered(field)
        except ValueError as error:
            return str(error)

    return _graph.cached(model, "grad_cam_centres", (name, size), build)


def _between(centres: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Return (pixels, cells) float32 weights that interpolate linearly between cell centres.

    Pixel k (at k) takes the two cells whose centres are on either side of it, weighted by
    nearness; beyond the outermost centre it takes that cell's value. A pixel that is not
    `covered` (beyond the outermost cells' fields) takes nothing: its row of weights is 0.
    """
    cells = np.eye(len(centres))
    at = np.arange(len(covered), dtype=np.float64)
    # np.interp holds the end values beyond the ends: the nearest centre's value.
    weights = np.stack([np.interp(at, centres, cell) for cell in cells], axis=1)
    return np.where(covered[:, np.newaxis], weights, 0.0).astype(np.float32)


def grad_cam(
    model: keras.Model, images: np.ndarray, target: object = None, *, layer: object = None
) -> np.ndarray:
    """Return Grad-CAM: a layer's channels weighted by the score's gradient, placed on the input.

    Each channel of the layer's output is weighted by the mean gradient of
    the target's score over that channel, the weighted channels are summed
    and negative values are set to 0, as in Selvaraju et al. (2017). The
    map is as coarse as the layer: for LeNet-5's ``relu2``, 8x8 (valid) or
    14x14 (same) cells.

    Each cell is then placed at the centre of its unit's receptive field in
    input pixels (Araujo et al., 2019, the geometry of
    :func:`~cnnviz.receptive_field`), and the map is interpolated bilinearly
    between those centres. For the valid LeNet-5's ``relu2``, unit i sees
    pixels 2i..2i+13, so the cells sit at pixels 6.5, 8.5, ..., 20.5, not
    spread over the whole image as a resize of the map would spread them
    (which misplaces them by up to 5 pixels). A ``same`` unit's field is
    centred where its window is, padding included: for the ``same``
    LeNet-5 (padding split evenly, every stride dividing the size) that is
    where a resize puts the cells, so its maps are as a resize gives them;
    where TensorFlow splits the padding unevenly (an even kernel, or a
    stride on an even size: a 3x3 stride-2 unit i on 12 pixels is centred
    at 2i + 1, not 2i + 0.5) the cells sit where their fields are.
    Beyond the outermost centres (the outer 6.5 pixels of the valid
    LeNet-5's image) each pixel takes the value of the nearest cell: those
    pixels lie in the outermost units' fields and in no field centred
    nearer to them, so the nearest cell is what the layer says about them;
    zero would claim the layer saw nothing there, and extending the slope
    would invent values the layer does not have. A pixel beyond the
    outermost fields themselves is 0, for the layer did see nothing there:
    one cut off by a ``Cropping2D``, or left over at the far edge by a
    stride that does not reach it (a 3x3 stride-2 valid layer on 16
    pixels: its last unit reads pixels 12..14, and no unit pixel 15).

    Where the geometry cannot be followed back from the layer (a layer on
    the way that :func:`~cnnviz.receptive_field` does not know, such as a
    ``Resizing``, a ``Conv2DTranspose`` or a ``Flatten``, or units without
    one field size and jump, as after an ``UpSampling2D``), the map is
    stretched over the input by a bilinear resize, as Selvaraju et al.
    upsample it, with a ``UserWarning`` that names the layer and says the
    cells may be misplaced: a map that may be off by a few pixels, said
    so, serves more models than a refusal.

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
        As for :func:`gradients`; ValueError also if the layer is unknown
        or the model's input layer (it has nothing to explain), its output is not a 4-D feature map, it is called more than once,
        or the model has no ``Conv2D`` layer and `layer` is not given.

    Warns
    -----
    UserWarning
        Where the cells' receptive fields cannot be computed, and the map
        is resized to the input instead (see above).

    References
    ----------
    Selvaraju, R. R., et al. (2017). Grad-CAM: visual explanations from deep
    networks via gradient-based localization. ICCV.

    Araujo, A., Norris, W., and Sim, J. (2019). Computing receptive fields of
    convolutional neural networks. Distill. https://doi.org/10.23915/distill.00021

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
    centres = _cell_centres(model, name, (height, width))
    if isinstance(centres, str):
        warnings.warn(
            f"Grad-CAM cannot place the cells of layer {name!r} at their receptive fields' "
            f"centres ({centres}), so its map is resized to the {height}x{width} image as "
            "if its cells tiled it, which may misplace them",
            UserWarning,
            stacklevel=2,
        )
    cells = None
    chunk = _batches.chunk_size(explainer.model, x.shape[1:])
    for start in range(0, len(x), chunk):
        batch = tf.convert_to_tensor(x[start : start + chunk])
        with tf.GradientTape() as tape:
            tape.watch(batch)
            feature, pre = explainer.model(batch, training=False)
            total = keras.ops.sum(_picked(explainer.head(pre), target[start : start + chunk]))
        grads = tape.gradient(total, feature)
        weights = keras.ops.mean(grads, axis=(1, 2), keepdims=True)
        cam = keras.ops.relu(keras.ops.sum(weights * feature, axis=-1))
        if cells is None:
            cells = np.empty((len(x), *cam.shape[1:]), np.float32)
        cells[start : start + len(batch)] = keras.ops.convert_to_numpy(cam)
    if isinstance(centres, str):
        maps = keras.ops.image.resize(
            cells[..., np.newaxis], (height, width), interpolation="bilinear"
        )
        # Bilinear weights are non-negative, but float rounding can leave -0.0 or -1e-9.
        return np.maximum(keras.ops.convert_to_numpy(maps)[..., 0], 0)
    centres, covered = centres
    rows, cols = (_between(c, seen) for c, seen in zip(centres, covered, strict=True))
    # Separable: along the rows, then along the columns, every image at once. The weights
    # and the cells are non-negative, so the map is too.
    return rows @ cells @ cols.T


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
    measure: str = "score",
) -> np.ndarray:
    """Return the drop of the target's score when a window over each pixel is hidden.

    A `window` x `window` square, moved by `stride` pixels (and placed once
    more against the right and bottom edges, so every pixel is covered), is
    set to `value` in every channel; each pixel's map value is the drop of
    the target's score averaged over the windows that cover it (Zeiler and
    Fergus, 2014). Many occluded copies of the batch go through the model
    together. Positive where hiding the pixel hurts the prediction.

    The score, by default, is the one every method of cnnviz explains: the
    target class's input to the final softmax (a ``Dense`` with a softmax
    activation: its pre-activation; a ``Softmax`` or
    ``Activation("softmax")`` layer: its input), in the units of that
    input; for a model that does not end in a softmax, the model's output
    for the target (its logits, say). A probability saturates: on a
    confident answer it stays at 1.0 whatever is hidden, and its drops are
    float32 rounding (about 6e-8, an ulp below 1); the score keeps moving.
    ``measure="probability"`` measures the model's output instead (the
    probability, for a model that ends in a softmax).

    A window that cannot change the output gives a drop of exactly 0 on any
    CPU: each pass of occluded copies subtracts from the unoccluded values
    computed in a batch of its own shape (other batch shapes round
    differently).

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
        ``uint8`` images are scaled): 0 is black. A ``uint8`` number
        (``np.uint8(255)``: white) is a pixel in [0, 255] and is scaled as
        ``uint8`` images are.
    measure : {"score", "probability"}, default "score"
        The drop of what: the target's score (see above), or the model's
        output for the target (the probability). The default target is the
        class whose measure is highest, which is the predicted class either
        way.

    Returns
    -------
    numpy.ndarray
        float32 (N, H, W), signed, in the units of the measure.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients`; ValueError also if `window` or `stride`
        is not a positive integer, `window` is larger than the image,
        `value` is not a finite number (or is ``uint8`` and cnnviz cannot
        tell the model's input scale), or `measure` is neither
        ``"score"`` nor ``"probability"``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, occlusion
    >>> maps = occlusion(lenet5(), np.zeros((28, 28), dtype=np.uint8), window=7, stride=7)
    >>> maps.shape
    (1, 28, 28)
    >>> occlusion(lenet5(), np.zeros((28, 28), np.uint8), measure="probability").shape
    (1, 28, 28)
    """
    window = _checks.positive_int(window, "window")
    stride = _checks.positive_int(stride, "stride")
    measure = _checks.one_of(measure, OCCLUSION_MEASURES, "measure")
    model, x = _prepared(model, images)
    value = _batches.pixel_value(value, model, "value")
    n, height, width = x.shape[:3]
    if window > min(height, width):
        raise ValueError(
            f"window must be at most the image's smaller side ({min(height, width)}); got {window}"
        )
    if measure == "score":
        explainer = _explainer(model)

        def measured(batch: np.ndarray) -> np.ndarray:
            return _scores(explainer, batch)

        passes = explainer.model
    else:

        def measured(batch: np.ndarray) -> np.ndarray:
            return _probabilities(model, batch)

        passes = model
    unoccluded = measured(x)
    target = _targets(target, unoccluded)
    rows = np.arange(n)
    places = [
        (top, left)
        for top in _window_starts(height, window, stride)
        for left in _window_starts(width, window, stride)
    ]
    total = np.zeros((n, height, width), np.float64)
    covered = np.zeros((height, width), np.int64)
    # Groups of windows, each over every image, so a pass holds about one chunk of images
    # (the one policy of cnnviz._batches), or more where one window's copies are more.
    per_pass = max(1, _batches.chunk_size(passes, x.shape[1:]) // n)
    # The unoccluded values that a pass subtracts from, per pass size: computed in a batch
    # of the same shape, each image in the row its occluded copies take. Kernels round
    # differently for other batch shapes (and other CPUs pick other kernels), so only
    # this way does a window that cannot change the output give a drop of exactly 0.
    references = {1: unoccluded[np.newaxis]}  # one window per pass: the batch is x itself
    for first in range(0, len(places), per_pass):
        group = places[first : first + per_pass]
        hidden = np.repeat(x[np.newaxis], len(group), axis=0)
        if len(group) not in references:
            whole = measured(hidden.reshape(-1, *x.shape[1:]))
            references[len(group)] = whole.reshape(len(group), n, -1)
        before = references[len(group)]
        for k, (top, left) in enumerate(group):
            hidden[k, :, top : top + window, left : left + window, :] = value
        after = measured(hidden.reshape(-1, *x.shape[1:])).reshape(len(group), n, -1)
        for k, (top, left) in enumerate(group):
            drop = before[k, rows, target] - after[k, rows, target]
            total[:, top : top + window, left : left + window] += drop[:, None, None]
            covered[top : top + window, left : left + window] += 1
    return (total / covered).astype(np.float32)
