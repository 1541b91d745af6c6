"""Figures of explanations: attribution maps and the checks that judge the methods.

They draw what :mod:`cnnviz.attribution` computes (NumPy arrays, never a
model). How colours are scaled, everywhere here: a map with negative values
is drawn on ``RdBu_r`` with limits symmetric about zero (white is zero); a
map without is drawn on ``magma`` from 0 (black) to its maximum. ``magma``
grows steadily lighter, so it still reads printed in grey, and it does not
look like the grey image under it. :func:`plot_attribution` prints each
map's range and draws a map that is zero up to float32 rounding flat
(``ROUNDING``) instead of stretching its rounding to full colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure

from .. import _checks
from ._figures import (
    _DIVERGING,
    _SEQUENTIAL,
    _bare,
    _draw_image,
    _draw_map,
    _field,
    _figure,
    _grey_images,
    _grid,
    _map_scale,
    _maps,
    _numbers,
    _sequence,
    _suptitle,
)

#: The largest |value| of a map that :func:`plot_attribution` draws flat, as zero up to
#: rounding: 4 float32 steps at 1 (4 * 2**-23, about 4.8e-7). The maps are differences
#: and gradients of class scores and probabilities, float32 values of order 1, which
#: float32 resolves to 2**-24 to 2**-23 (a probability a hair below 1.0 moves in steps of
#: 6e-8); a map no larger than a few such steps is rounding, not the model.
ROUNDING = float(4 * np.finfo(np.float32).eps)

# --- plot_attribution ------------------------------------------------------------------------


def _attribution_scale(values: np.ndarray) -> tuple[str, Normalize, str, bool]:
    """Return ``(cmap, norm, label, flat)`` for one map: its own scale, or flat if it is rounding."""
    if float(np.abs(values).max()) <= ROUNDING:
        # Stretched to full colour, float32 rounding looks like a finding: the map is drawn
        # as zeros, on a diverging scale about 0 (white, or transparent over the image).
        label = f"zero up to rounding (|value| ≤ {ROUNDING:.2g})"
        return _DIVERGING, Normalize(-ROUNDING, ROUNDING), label, True
    cmap, norm, label = _map_scale(values)
    return cmap, norm, label, False


def _value_range(values: np.ndarray) -> str:
    low, high = (float(v) + 0.0 for v in (values.min(), values.max()))  # + 0.0: no "-0"
    return f"{low:.3g} .. {high:.3g}"


def plot_attribution(
    images: np.ndarray,
    maps: np.ndarray,
    *,
    titles: Sequence[str] | None = None,
    overlay: bool = True,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    r"""Draw each image with its attribution map, overlaid or side by side.

    Each map has its own colour scale and colour bar, whose label says how
    it is scaled: a map with negative values on ``RdBu_r`` with limits
    symmetric about zero (red raises the class score, blue lowers it,
    white is zero); a map without on ``magma`` from 0 to its maximum.
    Each tile's title gives the map's range, ``min .. max``, in the map's
    own units (those of the method: a score's drop, a gradient), so maps
    on their own scales can still be compared in size. A map whose
    largest absolute value is at most ``ROUNDING`` (4 float32 steps at 1,
    about 4.8e-7) is zero up to float32 rounding: it is drawn flat (white,
    or nothing over the image), titled "zero up to rounding" with its
    range, never stretched to full colour. Pixels are drawn as squares
    (no smoothing), so a 28x28 map stays readable. Overlaid, the map's
    opacity grows with its magnitude: the grey image shows through where
    the map is near zero.

    Parameters
    ----------
    images : array_like
        (N, H, W), (N, H, W, 1) or (N, H, W, 3); ``uint8`` (0 to 255) or
        float images (drawn as given, in grey if one-channel).
    maps : array_like
        (N, H, W), one map per image, as :func:`cnnviz.gradients` and the
        other attribution methods return.
    titles : sequence of str, optional
        One title per image (for example its class); by default
        ``"image 0"``, ``"image 1"``, ... The map's range is added below.
    overlay : bool, default True
        Draw the map over the image, or beside it.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `images` or `maps` have the wrong shape, differ in number or
        size, hold NaN or infinite values, or `titles` is not one per image.
    TypeError
        If `maps` are not numbers, `overlay` is not a bool or `fig` is not
        a figure.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_attribution
    >>> images = np.zeros((3, 28, 28), dtype=np.uint8)
    >>> noise = np.random.default_rng(0).normal(0, 1e-9, (28, 28))
    >>> maps = np.stack([np.linspace(-1, 3, 784).reshape(28, 28), np.ones((28, 28)), noise])
    >>> fig = plot_attribution(images, maps, titles=["coat", "shirt", "bag"])
    >>> [ax.get_images()[-1].norm.vmin for ax in fig.axes if ax.get_title()][:2]
    [-3.0, 0.0]
    >>> [ax.get_title() for ax in fig.axes if ax.get_title()][:2]
    ['coat\n-1 .. 3', 'shirt\n1 .. 1']
    >>> print(fig.axes[2].get_title())
    bag
    -3.9e-09 .. 3.07e-09
    zero up to rounding
    """
    x = _grey_images(images)
    m = _maps(maps, "maps", x)
    if titles is None:
        titles = [f"image {i}" for i in range(len(x))]
    elif len(_sequence(titles, "titles")) != len(x):
        raise ValueError(f"titles must give one title per image, {len(x)}; got {titles!r}")
    overlay = _checks.flag(overlay, "overlay")

    per_tile = 1 if overlay else 2
    rows, columns = _grid(len(x), 4 if overlay else 2)
    figure = _figure(fig, max(2.6 * per_tile * columns, 4.4), 2.5 * rows + 0.9)
    axes = figure.subplots(rows, columns * per_tile, squeeze=False).ravel()
    for ax in axes[len(x) * per_tile :]:
        ax.set_visible(False)
    scales = [_attribution_scale(values) for values in m]
    for i, (cmap, norm, scale, flat) in enumerate(scales):
        drawn = np.zeros_like(m[i]) if flat else m[i]
        if overlay:
            ax = axes[i]
            image = _draw_map(ax, x[i], drawn, cmap, norm)
        else:
            _draw_image(axes[2 * i], x[i])
            axes[2 * i].set_title(str(titles[i]))
            ax = axes[2 * i + 1]
            image = _draw_map(ax, None, drawn, cmap, norm)
        _bare(ax)
        note = "\nzero up to rounding" if flat else ""
        ax.set_title(f"{titles[i] if overlay else 'map'}\n{_value_range(m[i])}{note}")
        bar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        bar.set_label(scale, fontsize="small")
        bar.ax.tick_params(labelsize="small")
        if flat:
            # A flat map has no scale to read, only its one value: the bar keeps its place
            # (the tiles stay one size) with the one tick 0, not a scale of ±4.8e-7.
            bar.set_ticks([0.0], labels=["0"])
    how = "over its image, more opaque where larger" if overlay else "beside its image"
    names = {_DIVERGING: "RdBu_r symmetric about 0", _SEQUENTIAL: "magma from 0"}
    kinds = sorted({cmap for cmap, _, _, flat in scales if not flat}, reverse=True)
    lines = [f"Each map {how}, titled with its range (min .. max)"]
    if kinds:
        lines.append(f"on its own scale: {' or '.join(names[kind] for kind in kinds)}")
    if any(flat for *_, flat in scales):
        lines.append(f"|map| ≤ {ROUNDING:.2g} everywhere: zero up to float32 rounding, drawn flat")
    _suptitle(figure, ",\n".join(lines), fontsize="medium")
    return figure


# --- plot_randomization ----------------------------------------------------------------------


def _correlations(result: object, key: str, layers: list) -> np.ndarray:
    """Return ``result[key]``: one correlation in [-1, 1] (or NaN) per randomized layer."""
    correlation = _numbers(_field(result, key, "result"), f"result[{key!r}]")
    if correlation.shape != (len(layers),):
        raise ValueError(
            f"result[{key!r}] must hold one value per randomized layer, shape "
            f"({len(layers)},); got shape {correlation.shape}"
        )
    outside = ~np.isnan(correlation) & ~((correlation >= -1) & (correlation <= 1))
    if outside.any():
        raise ValueError(
            f"result[{key!r}] must hold correlations in [-1, 1] (or NaN where undefined); "
            f"got {correlation[outside][0]}"
        )
    return correlation


def plot_randomization(
    result: object, *, fig: Figure | SubFigure | None = None
) -> Figure | SubFigure:
    """Draw a model randomization check: how far the maps change as layers are randomized.

    The curves give, after each step of the check (from the output layer to
    the input), the mean Spearman rank correlation between the maps and the
    original maps, on a y axis from -1 to 1: the solid blue line ranks the
    signed maps (``"correlation"``), the dashed orange line their absolute
    values (``"correlation_abs"``), when the result has it. A method that
    explains the model falls towards 0. A signed curve that falls while the
    absolute one stays high means the maps changed sign but kept their
    shape (the same pixels stand out, positive or negative): the maps still
    draw the image, not the weights. In a cascading check each step keeps
    the earlier layers random; in an independent one (``"cascade"`` False)
    each step randomizes its layer alone. If the result holds maps, a row
    below shows the first image's map at each step, each divided by its
    largest absolute value (rank correlation ignores scale), all on one
    colour bar.

    Parameters
    ----------
    result : dict or object
        The result of :func:`cnnviz.randomization_check`: with keys or
        attributes ``"layers"`` (names, in the order randomized),
        ``"correlation"`` (steps,) and optionally ``"correlation_abs"``
        (steps,), ``"cascade"`` (bool, True when missing) and ``"maps"``
        (steps + 1, N, H, W), step 0 the original maps. A correlation may be
        NaN (undefined, for a constant map); it is left out of the curve.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If a key is missing, ``layers`` is empty or not names,
        ``correlation`` or ``correlation_abs`` is not one value in [-1, 1]
        per layer, or ``maps`` is not (steps + 1, N, H, W) of finite values.
    TypeError
        If `result` is neither a mapping nor has the attributes, or its
        ``cascade`` is not True or False.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_randomization
    >>> result = {
    ...     "layers": ["dense3", "conv1"],
    ...     "correlation": np.array([0.6, 0.1]),
    ...     "correlation_abs": np.array([0.8, 0.7]),
    ... }
    >>> fig = plot_randomization(result)
    >>> [float(limit) for limit in fig.axes[0].get_ylim()]
    [-1.0, 1.0]
    >>> [label.get_text() for label in fig.axes[0].get_xticklabels()]
    ['dense3', 'conv1']
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['signed maps', 'absolute values |map|']
    """
    layers = _field(result, "layers", "result")
    if isinstance(layers, np.ndarray):
        layers = layers.tolist()
    if isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
        raise ValueError(
            f"result['layers'] must be a non-empty list of layer names; got {layers!r}"
        )
    if not all(isinstance(layer, str) for layer in layers):
        raise ValueError(f"result['layers'] must hold layer names (str); got {list(layers)!r}")
    correlation = _correlations(result, "correlation", layers)
    absolute = _field(result, "correlation_abs", "result", required=False)
    if absolute is not None:
        absolute = _correlations(result, "correlation_abs", layers)
    cascade = _field(result, "cascade", "result", required=False)
    cascade = True if cascade is None else _checks.flag(cascade, "result['cascade']")
    maps = _field(result, "maps", "result", required=False)
    if maps is not None:
        maps = _numbers(maps, "result['maps']")
        if maps.ndim != 4 or len(maps) != len(layers) + 1 or maps.shape[1] == 0:
            raise ValueError(
                f"result['maps'] must be (steps + 1, N, H, W) = ({len(layers) + 1}, N, H, W), "
                f"step 0 the original maps; got shape {maps.shape}"
            )
        _checks.finite(maps, "result['maps']")

    figure = _figure(fig, max(6.0, 1.7 * (len(layers) + 1) + 0.8), 6.2 if maps is not None else 3.6)
    if maps is not None:
        top, bottom = figure.subfigures(2, 1, height_ratios=[1.25, 1])
    else:
        top, bottom = figure, None
    ax = top.subplots()
    steps = np.arange(1, len(layers) + 1)
    ax.plot(steps, correlation, marker="o", color="tab:blue", label="signed maps")
    if absolute is not None:
        ax.plot(
            steps,
            absolute,
            marker="s",
            linestyle="--",
            color="tab:orange",
            label="absolute values |map|",
        )
        ax.legend(fontsize="small", loc="lower left")
    ax.axhline(0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xticks(steps, labels=list(layers), rotation=30, ha="right", rotation_mode="anchor")
    ax.set_xlim(0.5, len(layers) + 0.5)
    ax.set_ylim(-1.0, 1.0)
    if cascade:
        ax.set_xlabel("layers randomized, in order (each step keeps the earlier ones randomized)")
        ax.set_title("Cascading randomization: the maps should change (fall towards 0)")
    else:
        ax.set_xlabel("layer randomized alone (the others keep their trained weights)")
        ax.set_title("Independent randomization: the maps should change (fall towards 0)")
    ax.set_ylabel("mean Spearman correlation\nwith the original maps")
    ax.grid(alpha=0.3)
    if bottom is not None:
        first = maps[:, 0]
        signed = bool((first < 0).any())
        cmap, norm = (_DIVERGING, Normalize(-1, 1)) if signed else (_SEQUENTIAL, Normalize(0, 1))
        tiles = bottom.subplots(1, len(first), squeeze=False).ravel()
        for step, (tile, values) in enumerate(zip(tiles, first, strict=True)):
            peak = float(np.abs(values).max())
            image = tile.imshow(
                values / (peak if peak > 0 else 1.0), cmap=cmap, norm=norm, interpolation="nearest"
            )
            _bare(tile)
            changed = f"{'+' if cascade else 'only'} {layers[step - 1]}" if step else ""
            tile.set_title(changed or "original", fontsize="small")
        bar = bottom.colorbar(image, ax=list(tiles), fraction=0.03, pad=0.02)
        bar.set_label("map / its largest |value|", fontsize="small")
        bottom.suptitle("First image's map after each step", fontsize="medium")
    return figure


# --- plot_deletion ---------------------------------------------------------------------------


def _is_curve(value: object) -> bool:
    if isinstance(value, Mapping):
        return "fractions" in value
    return hasattr(value, "fractions")


def _curve(result: object, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fractions = _numbers(_field(result, "fractions", name), f"{name}['fractions']")
    if fractions.ndim != 1 or fractions.size < 2:
        raise ValueError(
            f"{name}['fractions'] must be 1-D (steps + 1,) with at least 2 values; "
            f"got shape {fractions.shape}"
        )
    _checks.finite(fractions, f"{name}['fractions']")
    if fractions.min() < 0 or fractions.max() > 1 or (np.diff(fractions) < 0).any():
        raise ValueError(
            f"{name}['fractions'] must rise from 0 to 1 (fractions of the pixels); "
            f"got {fractions.tolist()}"
        )
    p = _numbers(_field(result, "probabilities", name), f"{name}['probabilities']")
    if p.ndim != 2 or p.shape[1] != fractions.size or len(p) == 0:
        raise ValueError(
            f"{name}['probabilities'] must be (N, steps + 1) = (N, {fractions.size}), one row "
            f"per image; got shape {p.shape}"
        )
    _checks.finite(p, f"{name}['probabilities']")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(
            f"{name}['probabilities'] must be probabilities in [0, 1]; got values from "
            f"{p.min():.4g} to {p.max():.4g}"
        )
    auc = _numbers(_field(result, "auc", name), f"{name}['auc']")
    if auc.shape != (len(p),):
        raise ValueError(
            f"{name}['auc'] must hold one area per image, shape ({len(p)},); got shape {auc.shape}"
        )
    _checks.finite(auc, f"{name}['auc']")
    return fractions, p, auc


def plot_deletion(
    curves: object,
    *,
    labels: Sequence[str] | None = None,
    bands: bool = True,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw deletion or insertion curves: the class probability as pixels are removed or added.

    For each result, the line is the mean probability over its images at
    each fraction of pixels, the band (unless `bands` is False) spans the
    25th to 75th percentile, and the legend gives the mean area under the
    curve (lower is better for deletion, higher for insertion). Bands of
    several results often overlap until no line can be told from another:
    ``bands=False`` draws the means alone.

    Parameters
    ----------
    curves : dict, object, sequence or dict
        One result with keys or attributes ``"fractions"`` (steps + 1,),
        ``"probabilities"`` (N, steps + 1) and ``"auc"`` (N,); or several,
        as a sequence or as a mapping of label to result.
    labels : sequence of str, optional
        One legend label per result; by default the mapping's keys, else
        ``"curve 0"``, ``"curve 1"``, ...
    bands : bool, default True
        Whether to draw each result's band from the 25th to the 75th
        percentile of its images.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If there is no result, a key is missing, the shapes do not match,
        fractions do not rise within [0, 1], probabilities are outside
        [0, 1], values are not finite or `labels` is not one per result.
    TypeError
        If a result is neither a mapping nor has the attributes, or `bands`
        is not True or False.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_deletion
    >>> fractions = np.linspace(0, 1, 5)
    >>> p = np.array([[0.9, 0.5, 0.2, 0.1, 0.1], [0.8, 0.7, 0.3, 0.2, 0.1]])
    >>> curve = {"fractions": fractions, "probabilities": p, "auc": np.array([0.33, 0.4])}
    >>> fig = plot_deletion({"gradients": curve})
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['gradients (mean AUC 0.365)']
    >>> len(plot_deletion({"gradients": curve}, bands=False).axes[0].collections)
    0
    """
    if _is_curve(curves):
        results, default = [curves], ["curve 0"]
    elif isinstance(curves, Mapping):
        results, default = list(curves.values()), [str(key) for key in curves]
    elif isinstance(curves, Sequence) and not isinstance(curves, str):
        results, default = list(curves), [f"curve {i}" for i in range(len(curves))]
    else:
        raise TypeError(
            "curves must be a result with 'fractions', 'probabilities' and 'auc', or a sequence "
            f"or mapping of them; got {type(curves).__name__}"
        )
    if not results:
        raise ValueError("curves is empty: give at least one deletion or insertion result")
    if labels is None:
        labels = default
    elif len(_sequence(labels, "labels")) != len(results):
        raise ValueError(f"labels must give one label per result, {len(results)}; got {labels!r}")
    checked = [_curve(result, f"curves[{i}]") for i, result in enumerate(results)]
    bands = _checks.flag(bands, "bands")

    figure = _figure(fig, 6.4, 4.0)
    ax = figure.subplots()
    count = set()
    for label, (fractions, p, auc) in zip(labels, checked, strict=True):
        (line,) = ax.plot(fractions, p.mean(axis=0), label=f"{label} (mean AUC {auc.mean():.3f})")
        if bands:
            low, high = np.percentile(p, [25, 75], axis=0)
            ax.fill_between(fractions, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        count.add(len(p))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("fraction of pixels deleted (or inserted), most important first")
    ax.set_ylabel("probability of the explained class")
    number = count.pop() if len(count) == 1 else None
    images = "the images" if number is None else f"{number} image{'s' if number > 1 else ''}"
    band = "; band: 25th to 75th percentile" if bands else ""
    ax.set_title(f"Mean over {images}{band}", fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return figure
