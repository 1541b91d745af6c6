"""Checks that judge an attribution method: model randomization, deletion and insertion.

:func:`randomization_check` (Adebayo et al., 2018) asks whether a method's
maps depend on what the model learned, and :func:`data_randomization_check`
(their second test) whether they depend on the labels it learned from;
:func:`deletion_curve` and :func:`insertion_curve` (Petsiuk et al., 2018) ask whether the pixels a map
ranks first are the ones the prediction rests on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import keras
import numpy as np

from .. import _batches, _checks, _graph
from ._explain import _prepared, _probabilities, _targets
from .methods import grad_cam, gradients, integrated_gradients, occlusion, smoothgrad

__all__ = ["data_randomization_check", "deletion_curve", "insertion_curve", "randomization_check"]

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
        return str(method), _METHODS[method]  # str: a np.str_ name is shown as the name
    if not callable(method):
        raise TypeError(
            f"method must be the name of an attribution method (str) or the function itself; "
            f"got {method!r}"
        )
    return getattr(method, "__name__", repr(method)), method


def _ranks(values: np.ndarray) -> np.ndarray:
    """Return the ranks of each row of `values` (1 to n), ties getting their average rank.

    All rows at once: a value's tie group runs from the first to the last
    place its value holds in the sorted row, and its rank is their mean.
    The order within a tie group does not change the ranks, so the sort
    need not be stable (the unstable one is some twice as fast).
    """
    rows, n = values.shape
    order = np.argsort(values, axis=1)
    ordered = np.take_along_axis(values, order, axis=1)
    places = np.broadcast_to(np.arange(n), (rows, n))
    differs = ordered[:, 1:] != ordered[:, :-1]
    ones = np.ones((rows, 1), bool)
    starts = np.concatenate([ones, differs], axis=1)  # the first place of each tie group
    stops = np.concatenate([differs, ones], axis=1)  # the last place of each tie group
    first = np.maximum.accumulate(np.where(starts, places, 0), axis=1)
    last = np.minimum.accumulate(np.where(stops, places, n)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(values.shape, np.float64)
    np.put_along_axis(ranks, order, (first + last) / 2 + 1, axis=1)
    return ranks


def _centred_ranks(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each map's ranks minus their mean, (N, pixels), and whether the map varies, (N,)."""
    flat = maps.reshape(len(maps), -1)
    # Constant is decided on the values, not on the centred ranks, whose rounding is not 0.
    varies = flat.min(axis=1) < flat.max(axis=1)
    ranks = _ranks(flat)
    ranks -= ranks.mean(axis=1, keepdims=True)
    return ranks, varies


def _rank_correlation(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Spearman's correlation of each pair of maps from their :func:`_centred_ranks`, (N,)."""
    (ra, varies_a), (rb, varies_b) = a, b
    both = varies_a & varies_b
    norm = np.sqrt((ra[both] ** 2).sum(axis=1) * (rb[both] ** 2).sum(axis=1))
    rho = np.zeros(len(ra))
    rho[both] = (ra[both] * rb[both]).sum(axis=1) / norm
    return np.where(varies_a, rho, np.nan)


def _signed_and_absolute_ranks(maps: np.ndarray) -> tuple[tuple, tuple]:
    """Return the :func:`_centred_ranks` of `maps` and of their absolute values.

    Maps without a negative value (gradients' magnitudes, Grad-CAM) are their
    own absolute values: ranked once.
    """
    signed = _centred_ranks(maps)
    return signed, (_centred_ranks(np.abs(maps)) if (maps < 0).any() else signed)


def _spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the Spearman rank correlation of each pair of maps, (N,).

    Where `a` (the original map) is constant it has no order to keep: NaN.
    Where only `b` is constant, it keeps none of `a`'s order: 0 (Spearman's
    formula divides 0 by 0 there, but the check asks how much of the order
    survives, and a flat map keeps none of it).
    """
    return _rank_correlation(_centred_ranks(a), _centred_ranks(b))


def _mean_over_images(per_image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each step's mean over the images that have a correlation, and how many have one.

    A step where no image has one (every original map constant) has the mean NaN.
    """
    counted = ~np.isnan(per_image)
    count = counted.sum(axis=1)
    total = np.where(counted, per_image, 0.0).sum(axis=1)
    mean = np.full(len(per_image), np.nan)
    np.divide(total, count, out=mean, where=count > 0)
    return mean, count.astype(np.int64)


def _maps(maps: object, name: str, x: np.ndarray, when: str) -> np.ndarray:
    """Return a method's `maps` as an array if they are one finite map per image of `x`, (N, H, W).

    The method is the user's: its output is checked like any argument, so
    that NaN maps (which rank alike) or maps of another shape never come out
    as a correlation. The values are kept in their own dtype, to be ranked
    as given; they must fit float32, in which ``result["maps"]`` holds them.
    """
    expected = x.shape[:3]
    what = f"method {name!r} must return one finite map per image, (N, H, W) = {expected}"
    try:
        array = np.asarray(maps)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{what}; {when} it returned {type(maps).__name__}: {error}") from None
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(
            f"{what}; {when} it returned {type(maps).__name__} of dtype {array.dtype}, not "
            "real numbers"
        )
    if array.shape != expected:
        raise ValueError(f"{what}; {when} it returned shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{what}; {when} it returned {_checks.where_bad(array, bad)}")
    largest = float(np.finfo(np.float32).max)
    peak = max(abs(float(array.max())), abs(float(array.min()))) if array.size else 0.0
    if peak > largest:
        raise ValueError(
            f"{what}, of values within float32's range (±{largest:.4g}), in which "
            f"result['maps'] holds them; {when} it returned values up to {peak:.4g}: scale "
            "the maps"
        )
    return array


def _weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Layers with weights, nested models' included, in the order they are called."""
    _, _, trace = _graph.trace(model)
    return [
        layer
        for layer, _, _ in trace.calls.values()
        if not isinstance(layer, (keras.Model, keras.layers.Normalization)) and layer.weights
    ]


def _copy(model: keras.Model) -> keras.Model:
    """Return a copy of `model` that computes what it computes, or say why there is none."""
    try:
        copy = keras.models.clone_model(model)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"model {model.name!r} cannot be copied with keras.models.clone_model ({error}); "
            "the randomization check needs a copy, so the given model is never changed"
        ) from error
    copy.set_weights(model.get_weights())
    # set_weights writes a preprocessing layer's stored state (a Normalization's adapted
    # mean and variance) but not what the layer derives from it; finalize_state does.
    for layer in _graph.layers(copy):
        finalize = getattr(layer, "finalize_state", None)
        if callable(finalize) and layer.built:
            finalize()
    return copy


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


def _restore(layer: keras.layers.Layer, values: list[np.ndarray]) -> None:
    """Put back `layer`'s weights as :meth:`get_weights` gave them (the inverse of a draw)."""
    for variable, value in zip(layer.weights, values, strict=True):
        variable.assign(value)


def randomization_check(
    model: keras.Model,
    images: np.ndarray,
    method: object = "gradients",
    *,
    target: object = None,
    seed: int = 0,
    cascade: bool = True,
    **options: object,
) -> dict:
    """Return the model randomization check of an attribution method, cascading or independent.

    The check of Adebayo et al. (2018, "Sanity Checks for Saliency Maps"):
    on a copy of the model, the layers that have weights are re-initialised
    from the output down, and after each step the maps are computed again
    and compared with the original maps by their Spearman rank correlation
    (over the pixels of each image, then averaged over the images). A
    method whose maps depend on what the model learned gives low
    correlations once the layers are random; maps that stay alike explain
    the image, not the model. Passing the check does not make a map
    informative (Binder et al., 2023).

    Like the paper, the check runs two ways and reports two correlations:

    * *Cascading* (``cascade=True``, the default): each step re-initialises
      one more layer, keeping the layers above it random, until every layer
      is. *Independent* (``cascade=False``): each step re-initialises one
      layer alone, every other layer keeping its trained weights, so a step
      shows what that one layer contributes to the maps. Step ``k``
      re-initialises its layer with the same new weights both ways.
    * ``"correlation"`` ranks the signed maps; ``"correlation_abs"`` ranks
      their absolute values, as Adebayo et al. also report. A sign flip
      scrambles signed ranks but not absolute ones: maps that keep their
      shape while their signs change (an outline of the garment, now
      negative where it was positive) fall towards 0 signed and stay high
      absolute. Read both: a method passes only if the maps lose their
      shape, not just their signs.

    The given model is never changed: the copy is made with
    ``keras.models.clone_model`` and ``set_weights``, and checked to give
    the model's probabilities. Each weight is drawn anew from the layer's
    own initializer (its ``kernel_initializer``, ``bias_initializer``, ...
    in ``layer.get_config()``; Glorot uniform for a kernel and zeros for
    other weights where the layer names none), seeded from `seed`. Layers
    of nested models are re-initialised too, in the same output-to-input
    order. A ``Normalization`` layer keeps its mean and variance: they are
    statistics of the data, not learned weights. The target of each image
    is chosen once, on the original model, and kept for every step.

    Parameters
    ----------
    model, images
        As for :func:`gradients`.
    method : str or callable, default "gradients"
        The attribution method: ``"gradients"``, ``"smoothgrad"``,
        ``"integrated_gradients"``, ``"grad_cam"`` or ``"occlusion"``, or a
        function with their signature ``f(model, images, target, **options)``.
        A function is given the images read-only (changed in place, every
        later step would explain other images) and its maps are ranked as it
        returns them, in their own dtype.
    target : int or array_like of int, optional
        As for :func:`gradients`; by default each image's class as the
        original model predicts it.
    seed : int, default 0
        Seed of the new weights: the same seed gives the same result.
    cascade : bool, default True
        True: cascading randomization, each step keeping the earlier steps'
        layers random. False: independent randomization, one layer at a
        time, the others trained.
    **options
        Passed to `method` (for example ``samples=8`` for SmoothGrad).

    Returns
    -------
    dict
        ``"method"``: the method's name; ``"layers"``: the names of the
        re-initialised layers, output first (one per step); ``"cascade"``:
        the `cascade` it ran with; ``"correlation"``: float64 (steps,), the
        mean over the images of the Spearman rank correlation between the
        original maps and the maps after each step; ``"correlation_abs"``:
        float64 (steps,), the same between the maps' absolute values;
        ``"per_image"`` and ``"per_image_abs"``: float64 (steps, N), each
        image's correlations; ``"n_images"`` and ``"n_images_abs"``: int64
        (steps,), how many images each step's mean is over (those whose
        original map, or its absolute value, is not constant);
        ``"maps"``: float32 (steps + 1, N, H, W), the original maps first
        (signed, as the method returned them).

        Constant maps (zero variance, such as all zeros) rank no pixel above
        another, and Spearman's formula divides 0 by 0 for them. The check
        asks how much of the original order survives, so: an image whose
        original map is constant has no order to follow, its correlations
        are NaN and left out of the mean and of the count (if every image's
        signed map is, the check is refused); a map that becomes constant
        after a step keeps none of the order, correlation 0. So
        ``"correlation"`` is always a number. A map can vary while its
        absolute value is constant (only +1 and -1): if that holds for
        every image, ``"correlation_abs"`` is NaN and ``"n_images_abs"`` 0.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients` and for `method` with `options`;
        ValueError also if `method` is an unknown name, `seed` is not a
        non-negative integer, the model has no layer with weights or cannot
        be copied faithfully, or
        `method` returns maps that are not one finite (N, H, W) map per
        image of the images' size, or values beyond float32's range (the
        message says at which step), or
        constant maps for every image on the original model; TypeError if
        `method` is neither a name nor a function or returns anything but
        real numbers, or `cascade` is not True or False.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, randomization_check
    >>> image = np.random.default_rng(0).integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    >>> result = randomization_check(lenet5(), image, "gradients")
    >>> result["layers"]
    ['op', 'fc2', 'fc1', 'conv2', 'conv1']
    >>> result["correlation"].shape, result["correlation_abs"].shape, result["maps"].shape
    ((5,), (5,), (6, 2, 28, 28))
    >>> result["n_images"].tolist()
    [2, 2, 2, 2, 2]
    >>> one_at_a_time = randomization_check(lenet5(), image, "gradients", cascade=False)
    >>> one_at_a_time["cascade"], one_at_a_time["layers"] == result["layers"]
    (False, True)
    """
    model, x = _prepared(model, images)
    name, function = _method(method)
    seed = _checks.non_negative_int(seed, "seed")
    cascade = _checks.flag(cascade, "cascade")
    copy = _copy(model)
    layers = _weighted_layers(copy)[::-1]
    if not layers:
        raise ValueError(f"model {model.name!r} has no layer with weights to randomize")
    probabilities = _probabilities(copy, x)
    # The maps on the copy stand for the model's: a copy that computes otherwise (a layer
    # whose state set_weights cannot carry) would explain another model, silently.
    apart = float(np.max(np.abs(probabilities - _probabilities(model, x)), initial=0.0))
    if not apart <= 1e-4:
        raise ValueError(
            f"model {model.name!r} cannot be copied faithfully for the check: its copy "
            f"(keras.models.clone_model and set_weights) gives probabilities up to {apart:.3g} "
            "apart from the model's, so its maps would be of another model"
        )
    target = _targets(target, probabilities)
    # The method is given the images read-only: one that changed them in place would
    # explain other images at each step, and the correlations would compare those.
    # (A view: the images may be the caller's own array, which stays writeable.)
    x = x.view()
    x.flags.writeable = False
    # Ranked as the method returned them (float64 maps that float32 would round alike,
    # integers beyond 2**24); kept as float32 in result["maps"].
    ranked = [_maps(function(copy, x, target, **options), name, x, "on the model")]
    if all(m.min() == m.max() for m in ranked[0]):
        raise ValueError(
            f"method {name!r} must give at least one image a map that is not constant; on the "
            f"model it returned constant maps for all {len(x)} image(s) (e.g. all "
            f"{float(ranked[0][0, 0, 0])}), which rank no pixel above another, so there is no "
            "order for the check to follow: choose images whose maps vary, or another method"
        )
    # The original maps' ranks, signed and absolute, once for every step.
    original = _signed_and_absolute_ranks(ranked[0])
    per_image, per_image_abs = [], []
    trained = None  # the trained weights of the layer an independent step re-initialised
    for step, layer in enumerate(layers):
        if not cascade and trained is not None:
            _restore(layers[step - 1], trained)
        if not cascade:
            trained = layer.get_weights()
        _reinitialise(layer, seed, step)
        if cascade:
            randomized = ", ".join(repr(lay.name) for lay in layers[: step + 1])
        else:
            randomized = f"{layer.name!r} alone"
        after = _maps(
            function(copy, x, target, **options), name, x, f"after re-initialising {randomized}"
        )
        ranked.append(after)
        signed, absolute = _signed_and_absolute_ranks(after)
        per_image.append(_rank_correlation(original[0], signed))
        per_image_abs.append(_rank_correlation(original[1], absolute))
    per_image, per_image_abs = np.stack(per_image), np.stack(per_image_abs)
    correlation, counted = _mean_over_images(per_image)  # at least one image's map varies
    correlation_abs, counted_abs = _mean_over_images(per_image_abs)
    return {
        "method": name,
        "layers": [layer.name for layer in layers],
        "cascade": cascade,
        "correlation": correlation,
        "correlation_abs": correlation_abs,
        "per_image": per_image,
        "per_image_abs": per_image_abs,
        "n_images": counted,
        "n_images_abs": counted_abs,
        "maps": np.stack(ranked).astype(np.float32),
    }


#: The baseline orders `maps` may name in :func:`deletion_curve` and :func:`insertion_curve`.
_BASELINES = ("random", "random_foreground")


def _blurred(x: np.ndarray, sigma: float) -> np.ndarray:
    """Return each image of `x` (N, H, W, C) blurred by a Gaussian of `sigma` pixels, float32.

    Separable: rows, then columns, each channel alone; the kernel is
    truncated at 4 sigma (as ``scipy.ndimage.gaussian_filter`` by default)
    and normalised to sum 1, the image mirrored at its edges (``symmetric``,
    scipy's ``reflect``). Summed in float64 and rounded once to float32, so
    a constant image comes back exactly as it was.
    """
    radius = int(np.ceil(4 * sigma))
    taps = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (taps / sigma) ** 2)
    kernel /= kernel.sum()
    out = x.astype(np.float64)
    for axis in (1, 2):
        size = out.shape[axis]
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        summed = np.zeros_like(out)
        for k, weight in enumerate(kernel):
            summed += weight * padded.take(np.arange(k, k + size), axis=axis)
        out = summed
    return out.astype(np.float32)


def _background(images: np.ndarray, substrate: np.ndarray | np.float32) -> np.ndarray:
    """Return which pixels of each image the substrate leaves as they are, (N, H * W) bool.

    A pixel is background if it equals the substrate in every channel:
    deleting it, or inserting it into the substrate, changes no input.
    """
    return (images == substrate).all(axis=-1).reshape(len(images), -1)


def _pixel_curve(
    model, images, maps, target, steps, value, blur_sigma, seed, *, insert: bool
) -> dict:
    model, x = _prepared(model, images)
    steps = _checks.positive_int(steps, "steps")
    blur_sigma = _checks.positive_number(blur_sigma, "blur_sigma")
    seed = _checks.non_negative_int(seed, "seed")
    if isinstance(value, str):
        if value != "blur":
            raise ValueError(
                "value must be a number (the fill, in the model's input scale) or 'blur' (a "
                f"blurred copy of each image); got {value!r}"
            )
        blur = True
    else:
        value, blur = _batches.pixel_value(value, model, "value"), False
    n, height, width = x.shape[:3]
    if blur and blur_sigma > max(height, width):
        raise ValueError(
            f"blur_sigma must be at most the images' larger side ({max(height, width)} pixels) "
            "with value='blur': a wider blur makes each image nearly its mean, which a number "
            f"value gives; got {blur_sigma:g}"
        )
    pixels = height * width
    baseline = None
    if isinstance(maps, str):
        if maps not in _BASELINES:
            raise ValueError(
                f"maps must be one map per image, (N, H, W) = ({n}, {height}, {width}), or a "
                f"baseline order, one of {_BASELINES}; got {maps!r}"
            )
        baseline = str(maps)
        # Larger first, like a map's values: a random order, drawn for every image at once so
        # that it does not depend on how the images are grouped below.
        scores = np.random.default_rng(seed).random((n, pixels))
    else:
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
        scores = _checks.finite(array.astype(np.float64), "maps").reshape(n, pixels)
    target = _targets(target, _probabilities(model, x))
    fractions = np.linspace(0.0, 1.0, steps + 1)
    # Pixels changed at each step: the nearest whole number to fraction * pixels.
    counts = (2 * np.arange(steps + 1) * pixels + steps) // (2 * steps)
    probabilities = np.empty((n, steps + 1), np.float64)
    # Groups of images, all steps of each together, so a group is about one chunk of images
    # (the one policy of cnnviz._batches).
    per_group = max(1, _batches.chunk_size(model, x.shape[1:]) // (steps + 1))
    for start in range(0, n, per_group):
        part = slice(start, start + per_group)
        original = x[part]
        # What a deleted pixel becomes and an inserted pixel starts as: the fill or the blur.
        substrate = _blurred(original, blur_sigma) if blur else value
        score = scores[part]
        if baseline == "random_foreground":
            # The background goes after every other pixel: scores in [-1, 0) below [0, 1).
            score = np.where(_background(original, substrate), score - 1.0, score)
        # Each pixel's place in its image's order, largest score first (ties: the earlier pixel).
        order = np.argsort(-score, axis=1, kind="stable")
        place = np.empty_like(order)
        np.put_along_axis(place, order, np.arange(pixels)[np.newaxis], axis=1)
        changed = place[:, np.newaxis, :] < counts[np.newaxis, :, np.newaxis]
        changed = changed.reshape(-1, steps + 1, height, width, 1)
        fill = substrate[:, np.newaxis] if blur else substrate
        kept = original[:, np.newaxis]
        batch = np.where(changed, kept, fill) if insert else np.where(changed, fill, kept)
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
    value: float | str = 0.0,
    blur_sigma: float = 4.0,
    seed: int = 0,
) -> dict:
    """Return the deletion curve: the target's probability as the most attributed pixels are removed.

    Petsiuk et al. (2018, RISE): the pixels are deleted in the order of the
    map, most attributed first, in `steps` equal steps; a map that finds
    the pixels the prediction rests on makes the probability fall fast, so
    a *lower* area under the curve is better. Compare with a baseline order
    (`maps` ``"random"`` or ``"random_foreground"``). All steps of all
    images go through the model together, in chunks.

    What a deleted pixel becomes: RISE deletes to zero (the default,
    ``value=0.0``). But where the images have a black background, as
    Fashion-MNIST's, deleting to black changes nothing for the background
    pixels, and a map or an order that reaches them wastes its steps.
    ``value="blur"`` deletes each pixel to the image's blurred copy
    instead: that is not RISE's deletion but the substrate RISE uses for
    insertion, so that deletion and insertion then run between the same
    two images (the image and its blur), and a deleted pixel of the garment
    becomes a smooth version of itself, not a black hole the model never
    saw in training.

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`.
    maps : array_like or str
        One attribution map per image, (N, H, W) (or (H, W) for one image),
        as any method of this module returns: the pixels are taken in the
        order of their values, largest first (ties: the earlier pixel in
        row-major order). Or a baseline order to compare maps with:
        ``"random"``, every pixel in a random order; ``"random_foreground"``,
        the pixels that are not background in a random order, then the
        background in a random order. Background here: the pixels the
        substrate leaves as they are, equal to it in every channel (for a
        number `value`, the pixels of that value: with 0, the black
        background of Fashion-MNIST, half of each image; for ``"blur"``,
        the pixels equal to their blurred copy, which is few, as the blur
        spreads the garment over its black surround). Changing them changes
        no input, so a random order among all pixels spends steps on
        nothing; ``"random_foreground"`` spends none until the rest is done.
    steps : int, default 20
        Equal steps from no pixel to every pixel; step ``i`` changes the
        ``round(i / steps * H * W)`` first pixels of the order.
    value : float or "blur", default 0.0
        The substrate: what a deleted pixel becomes and what an inserted
        pixel replaces. A number is one fill for every pixel and channel, in
        the model's input scale (after ``uint8`` images are scaled): 0 is
        black. A ``uint8`` number (``np.uint8(255)``: white) is a pixel in
        [0, 255] and is scaled as ``uint8`` images are. ``"blur"``: each
        image's own blurred copy (a Gaussian of `blur_sigma` pixels).
    blur_sigma : float, default 4.0
        The blur's standard deviation in pixels, for ``value="blur"`` (at
        most the images' larger side). Each channel is blurred alone, rows
        then columns, by a Gaussian truncated at 4 standard deviations and
        normalised to sum 1, the image mirrored at its edges; a constant
        image is its own blurred copy. Choose it so the blurred copy keeps
        little of the class: the curve's value at the blurred copy (the
        deletion curve's last, the insertion curve's first) says how much
        it keeps. RISE's code blurs 224-pixel images with an 11 x 11
        Gaussian kernel of sigma 5; the default 4 suits 28-pixel images,
        where a blur of 1 or 2 pixels leaves a garment recognisable.
    seed : int, default 0
        Seed of a baseline order (`maps` ``"random"`` or
        ``"random_foreground"``): the same seed, the same order, for the
        deletion and the insertion curve alike; unused with maps.

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
        per image of the images' size nor a baseline's name, or holds
        non-finite values, `steps` is not a positive integer, `value` is
        neither a finite number nor ``"blur"``, `blur_sigma` is not a
        finite number above 0 (or, with ``"blur"``, above the images'
        larger side) or `seed` is not a non-negative integer;
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
    >>> blurred = deletion_curve(model, x, "random_foreground", steps=4, value="blur")
    >>> blurred["probabilities"].shape
    (2, 5)
    """
    return _pixel_curve(model, images, maps, target, steps, value, blur_sigma, seed, insert=False)


def insertion_curve(
    model: keras.Model,
    images: np.ndarray,
    maps: object,
    target: object = None,
    *,
    steps: int = 20,
    value: float | str = 0.0,
    blur_sigma: float = 4.0,
    seed: int = 0,
) -> dict:
    """Return the insertion curve: the target's probability as the most attributed pixels are put back.

    Petsiuk et al. (2018, RISE): starting from the substrate alone, the
    image's own pixels are put back in the order of the map, most
    attributed first, in `steps` equal steps; a map that finds the pixels
    the prediction rests on makes the probability rise fast, so a *higher*
    area under the curve is better. Compare with a baseline order (`maps`
    ``"random"`` or ``"random_foreground"``). All steps of all images go
    through the model together, in chunks.

    RISE inserts into a blurred copy of the image: ``value="blur"``. A
    blurred start keeps the image's brightness and rough shape without its
    detail, where a black one is an input unlike any the model was trained
    on; and on a black background, putting back a background pixel into
    black changes nothing. The default, ``value=0.0``, inserts into a black
    image, as earlier versions of cnnviz did.

    Parameters
    ----------
    model, images, target
        As for :func:`gradients`.
    maps, steps, value, blur_sigma, seed
        As for :func:`deletion_curve`: one map per image or a baseline
        order (``"random"``, ``"random_foreground"``); `value` is the
        substrate the pixels are put back into (a number, or ``"blur"``).

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
        per image of the images' size nor a baseline's name, or holds
        non-finite values, `steps` is not a positive integer, `value` is
        neither a finite number nor ``"blur"``, `blur_sigma` is not a
        finite number above 0 (or, with ``"blur"``, above the images'
        larger side) or `seed` is not a non-negative integer;
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
    >>> from_blur = insertion_curve(model, x, occlusion(model, x), steps=4, value="blur")
    >>> from_blur["probabilities"].shape
    (2, 5)
    """
    return _pixel_curve(model, images, maps, target, steps, value, blur_sigma, seed, insert=True)


# --- the data randomization test ---------------------------------------------------------------


def _methods(methods: object) -> list[tuple[str, Callable]]:
    """Return `methods` (a method, or a sequence of them) as (name, function) pairs, checked."""
    if isinstance(methods, str) or callable(methods):
        methods = [methods]
    elif not isinstance(methods, (list, tuple)):
        raise TypeError(
            "methods must be an attribution method (its name or the function) or a list of "
            f"them; got {type(methods).__name__}"
        )
    if not methods:
        raise ValueError(f"methods must name at least one attribution method; got {methods!r}")
    expected = f"methods must hold attribution methods, names among {tuple(_METHODS)} or functions"
    for method in methods:
        if isinstance(method, str) and method not in _METHODS:
            raise ValueError(f"{expected}; got {method!r}")
        if not isinstance(method, str) and not callable(method):
            raise TypeError(f"{expected}; got {method!r} ({type(method).__name__})")
    pairs = [_method(method) for method in methods]
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"methods must name each method once (the result is keyed by name); got {names}, "
            f"where {repeated} come more than once"
        )
    return pairs


def _method_options(options: object, names: list[str]) -> dict[str, dict]:
    """Return each method's options: `options` maps a method's name to its keyword arguments."""
    if options is None:
        return {name: {} for name in names}
    if not isinstance(options, Mapping):
        raise TypeError(
            "options must map a method's name to its options, e.g. "
            f"{{'smoothgrad': {{'samples': 8}}}}; got {type(options).__name__}"
        )
    strangers = [key for key in options if key not in names]
    if strangers:
        raise ValueError(
            f"options must be keyed by the names of the methods checked, {names}; got "
            f"{strangers[0]!r}, which is not one of them"
        )
    for key, value in options.items():
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise TypeError(
                f"options[{key!r}] must map option names to values, e.g. {{'samples': 8}}; "
                f"got {value!r}"
            )
    return {name: dict(options.get(name, {})) for name in names}


def _same_task(model: keras.Model, random_model: keras.Model) -> None:
    """Refuse a `random_model` that does not take `model`'s images or give its classes."""
    shape, other = tuple(model.inputs[0].shape[1:]), tuple(random_model.inputs[0].shape[1:])
    if shape != other:
        raise ValueError(
            f"random_model must take the images model takes, (H, W, C) = {shape}; "
            f"{random_model.name!r} takes {other}"
        )
    classes, others = model.outputs[0].shape[-1], random_model.outputs[0].shape[-1]
    if classes != others:
        raise ValueError(
            f"random_model must give the {classes} classes model gives, so that both explain "
            f"the same class; {random_model.name!r} gives {others}"
        )
    # uint8 images are scaled once, by model's rule: a random_model that takes pixels in the
    # other range would be given images it does not expect.
    mine, theirs = _graph.input_scale(model), _graph.input_scale(random_model)
    if mine.range is not None and theirs.range is not None and mine.range != theirs.range:
        raise ValueError(
            f"random_model must take pixels in the range model takes, {list(mine.range)}; "
            f"{random_model.name!r} takes {list(theirs.range)} ({theirs.reason})"
        )


def data_randomization_check(
    model: keras.Model,
    random_model: keras.Model,
    images: np.ndarray,
    methods: object = tuple(_METHODS),
    *,
    target: object = None,
    options: Mapping[str, Mapping[str, object]] | None = None,
) -> dict[str, dict]:
    """Return the data randomization test of attribution methods: a real model against a random one.

    The second test of Adebayo et al. (2018, "Sanity Checks for Saliency
    Maps"): the same network trained on the same images, once with their
    true labels (`model`) and once with the labels permuted (`random_model`,
    for example ``trained_lenet5(..., labels="permuted")``), which can only
    memorise. Each method explains both models on the same images, and each
    image's two maps are compared by their Spearman rank correlation over
    the pixels. A method whose maps depend on what a model learned from its
    labels gives low correlations; maps that stay alike explain the image,
    not the model. As Adebayo et al. do, the correlation is reported both
    of the maps as they are (signed) and of their absolute values: a map
    whose signs flip keeps its outline, which the signed ranks hide and the
    absolute ones show.

    Both models explain the same class of each image: `target`, by default
    the class `model` (the real one) predicts. Explaining each model's own
    prediction would change two things at once, the model and the class;
    with one class, the model is the only difference (as in
    :func:`randomization_check`, which keeps the original model's class
    for every step). Give the true labels as `target` to explain those.

    Parameters
    ----------
    model : keras.Model
        The model trained on the true labels.
    random_model : keras.Model
        The same network trained on permuted labels (or any model that takes
        the same images and gives the same classes).
    images
        As for :func:`gradients` (an array or a finite stream, read once);
        ``uint8`` images are scaled by `model`'s rule, which
        `random_model` must share.
    methods : str or callable or list, optional
        The attribution methods (by default all five), by name (``"gradients"``,
        ``"smoothgrad"``, ``"integrated_gradients"``, ``"grad_cam"``,
        ``"occlusion"``) or as functions with their signature
        ``f(model, images, target, **options)``; each method's maps are
        checked like an argument (one finite map per image, within
        float32's range) and ranked as the method returns them.
    target : int or array_like of int, optional
        As for :func:`gradients`, one class for both models; by default
        each image's class as `model` predicts it.
    options : dict of str to dict, optional
        Each method's options by its name, for example
        ``{"smoothgrad": {"samples": 8}}``; the same for both models.

    Returns
    -------
    dict of str to dict
        One entry per method, by its name, each a dict with:
        ``"maps"``: float32 (2, N, H, W), `model`'s maps then
        `random_model`'s; ``"target"``: int64 (N,), the class explained;
        ``"per_image"`` and ``"per_image_abs"``: float64 (N,), each
        image's Spearman rank correlation between its two maps, signed and
        of the absolute values; ``"correlation"`` and
        ``"correlation_abs"``: their means over the images used;
        ``"n_images"``: how many images were used; ``"n_flat"``: how many of
        them `random_model` gave a constant map (a model that learned
        nothing may give every pixel a gradient of exactly 0), which count
        as correlation 0, below.

        An image whose map from `model` is constant, or whose absolute
        map is (every pixel of the same magnitude), ranks no pixel above
        another: there is no order to compare, its correlations are NaN,
        and it is not used (so both means are over the same images). A map
        of `random_model` that is constant keeps none of the order:
        correlation 0.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients` (for either model) and for each method
        with its options; ValueError also if `random_model` does not take
        `model`'s images, give its classes or take pixels in its range,
        `methods` is empty, names an unknown method or one twice, `options`
        names a method not checked, or a method returns maps that are not
        one finite (N, H, W) map per image (the message says on which
        model), or constant maps for every image on `model`; TypeError if
        `methods` or `options` are not of the forms above.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from cnnviz import data_randomization_check, lenet5
    >>> x = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1), dtype=np.uint8)
    >>> keras.utils.set_random_seed(0)
    >>> model, other = lenet5(), lenet5()
    >>> result = data_randomization_check(model, other, x, ["gradients", "grad_cam"])
    >>> list(result), result["gradients"]["maps"].shape
    (['gradients', 'grad_cam'], (2, 4, 28, 28))
    >>> same = data_randomization_check(model, model, x, "gradients")["gradients"]
    >>> round(float(same["correlation"]), 6), int(same["n_images"])
    (1.0, 4)
    """
    model, x = _prepared(model, images)
    random_model = _graph.class_output(random_model, "random_model")
    _same_task(model, random_model)
    pairs = _methods(methods)
    settings = _method_options(options, [name for name, _ in pairs])
    target = _targets(target, _probabilities(model, x))
    # Read-only, as for randomization_check: a method that changed the images in place would
    # give the second model other images than the first.
    x = x.view()
    x.flags.writeable = False
    results = {}
    for name, function in pairs:
        real = _maps(function(model, x, target, **settings[name]), name, x, "on model")
        if all(m.min() == m.max() for m in real):
            raise ValueError(
                f"method {name!r} must give at least one image a map that is not constant; on "
                f"model it returned constant maps for all {len(x)} image(s) (e.g. all "
                f"{float(real[0, 0, 0])}), which rank no pixel above another, so there is no "
                "order to compare: choose images whose maps vary, or another method"
            )
        other = _maps(
            function(random_model, x, target, **settings[name]), name, x, "on random_model"
        )
        signed = _spearman(real, other)
        absolute = _spearman(np.abs(real), np.abs(other))
        used = ~np.isnan(signed) & ~np.isnan(absolute)
        if not used.any():
            raise ValueError(
                f"method {name!r} must give at least one image a map whose absolute values are "
                f"not all alike; on model every map that varies has pixels of one magnitude, "
                "which rank no pixel above another: choose other images, or another method"
            )
        signed[~used], absolute[~used] = np.nan, np.nan
        results[name] = {
            "maps": np.stack([real, other]).astype(np.float32),
            "target": target.astype(np.int64),
            "per_image": signed,
            "per_image_abs": absolute,
            "correlation": float(np.mean(signed[used])),
            "correlation_abs": float(np.mean(absolute[used])),
            "n_images": int(used.sum()),
            "n_flat": int((used & (other.min(axis=(1, 2)) == other.max(axis=(1, 2)))).sum()),
        }
    return results
