"""Checks that judge an attribution method: cascading randomization, deletion and insertion.

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
    """Return the Spearman rank correlation of each pair of maps, (N,).

    Where `a` (the original map) is constant it has no order to keep: NaN.
    Where only `b` is constant, it keeps none of `a`'s order: 0 (Spearman's
    formula divides 0 by 0 there, but the check asks how much of the order
    survives, and a flat map keeps none of it).
    """
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    # Constant is decided on the values, not on the centred ranks, whose rounding is not 0.
    varies_a, varies_b = a.min(axis=1) < a.max(axis=1), b.min(axis=1) < b.max(axis=1)
    ra, rb = _ranks(a), _ranks(b)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    both = varies_a & varies_b
    norm = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    rho = np.zeros(len(a))
    rho[both] = (ra[both] * rb[both]).sum(axis=1) / norm[both]
    return np.where(varies_a, rho, np.nan)


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
    output-to-input order. A ``Normalization`` layer keeps its mean and
    variance: they are statistics of the data, not learned weights. The
    target of each image is chosen once, on the original model, and kept
    for every step.

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
    **options
        Passed to `method` (for example ``samples=8`` for SmoothGrad).

    Returns
    -------
    dict
        ``"method"``: the method's name; ``"layers"``: the names of the
        re-initialised layers, output first (one per step);
        ``"correlation"``: float64 (steps,), the mean over the images of the
        Spearman rank correlation between the original maps and the maps
        after each step; ``"per_image"``: float64 (steps, N), each image's
        correlation; ``"maps"``: float32 (steps + 1, N, H, W), the original
        maps first.

        Constant maps (zero variance, such as all zeros) rank no pixel above
        another, and Spearman's formula divides 0 by 0 for them. The check
        asks how much of the original order survives, so: an image whose
        original map is constant has no order to follow, its correlations
        are NaN and left out of the mean (if every image's is, the check is
        refused); a map that becomes constant after a step keeps none of
        the order, correlation 0. So ``"correlation"`` is always a number.

    Raises
    ------
    TypeError, ValueError
        As for :func:`gradients` and for `method` with `options`;
        ValueError also if `method` is an unknown name, `seed` is not a
        non-negative integer, the model has no layer with weights, or
        `method` returns maps that are not one finite (N, H, W) map per
        image of the images' size, or values beyond float32's range (the
        message says at which step), or
        constant maps for every image on the original model; TypeError if
        `method` is neither a name nor a function or returns anything but
        real numbers.

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
    for step, layer in enumerate(layers):
        _reinitialise(layer, seed, step)
        when = f"after re-initialising {', '.join(repr(lay.name) for lay in layers[: step + 1])}"
        ranked.append(_maps(function(copy, x, target, **options), name, x, when))
    per_image = np.stack([_spearman(ranked[0], after) for after in ranked[1:]])
    correlation = np.nanmean(per_image, axis=1)  # at least one image has a map that varies
    return {
        "method": name,
        "layers": [layer.name for layer in layers],
        "correlation": correlation,
        "per_image": per_image,
        "maps": np.stack(ranked).astype(np.float32),
    }


def _pixel_curve(model, images, maps, target, steps, value, *, insert: bool) -> dict:
    model, x = _prepared(model, images)
    steps = _checks.positive_int(steps, "steps")
    value = _batches.pixel_value(value, model, "value")
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
    # Groups of images, all steps of each together, so a group is about one chunk of images
    # (the one policy of cnnviz._batches).
    per_group = max(1, _batches.chunk_size(model, x.shape[1:]) // (steps + 1))
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
        scale (after ``uint8`` images are scaled): 0 is black. A ``uint8``
        number (``np.uint8(255)``: white) is a pixel in [0, 255] and is
        scaled as ``uint8`` images are.

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
        scale (after ``uint8`` images are scaled): 0 is black. A ``uint8``
        number (``np.uint8(255)``: white) is a pixel in [0, 255] and is
        scaled as ``uint8`` images are.

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
    methods : str, callable or list of them, default all five
        The attribution methods, by name (``"gradients"``,
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
        ``"per_image"`` and ``"absolute_per_image"``: float64 (N,), each
        image's Spearman rank correlation between its two maps, signed and
        of the absolute values; ``"correlation"`` and
        ``"absolute_correlation"``: their means over the images used;
        ``"images"``: how many images were used; ``"flat"``: how many of
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
    >>> round(float(same["correlation"]), 6), int(same["images"])
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
            "absolute_per_image": absolute,
            "correlation": float(np.mean(signed[used])),
            "absolute_correlation": float(np.mean(absolute[used])),
            "images": int(used.sum()),
            "flat": int((used & (other.min(axis=(1, 2)) == other.max(axis=(1, 2)))).sum()),
        }
    return results
