"""Figures of what shifts and padding do: accuracy over shifts, equivariance per layer, pixel paths.

They draw what :mod:`cnnviz.shifts` computes from a model and images (dicts
of NumPy arrays and arrays, never a model): the accuracy, or the mean
probability of the true class, over a grid of shifts
(:func:`~cnnviz.shift_accuracy`), each layer's cosine similarity to a
shift-equivariant output (:func:`~cnnviz.equivariance`) and the number of
paths from each input pixel into a layer (:func:`~cnnviz.pixel_paths`).
Each takes one result, or a mapping of titles to results, so that two
models (``{"valid": ..., "same": ...}``) are compared in one figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure, SubFigure

from .. import _checks
from ._figures import (
    _SEQUENTIAL,
    _bare,
    _box_rectangle,
    _field,
    _figure,
    _grid,
    _integers,
    _numbers,
    _suptitle,
)

#: What plot_shift_accuracy draws: the result's key, and the words its colour bar says.
_QUANTITIES = {
    "accuracy": "accuracy (fraction of the images classified right)",
    "probability": "mean probability of the true class",
}
#: The most tick labels an axis of shifts gets: a grid of 2m + 1 > 13 is labelled every n-th.
_MOST_TICKS = 13
#: The most panels in a row of plot_shift_accuracy and of plot_pixel_paths' own colour bars.
_MOST_PANELS = 3
#: Cosine similarities computed in float32 may pass 1 (or -1) by this much.
_COSINE_TOLERANCE = 1e-4
#: The percentiles of the images that plot_equivariance's bars span.
_SPREAD = (10, 90)
#: A pixel with no path (outside every unit's field) on a log scale: a light grey magma lacks.
_NO_PATH = "#d9d9d9"
#: Maps up to this many pixels a side get their counts written in the pixels.
_WRITTEN = 12


# --- one result or a mapping of titles to results -------------------------------------------


def _titled(
    value: object,
    name: str,
    is_one: Callable[[object], bool],
    what: str,
    keys: tuple[str, ...] = (),
) -> list[tuple[str | None, str, object]]:
    """Return ``(title, name, result)`` for one result (no title) or each of a mapping of them.

    `name` is how a message names each result: ``results`` for one,
    ``results['valid']`` for one of a mapping. `keys` are a result's keys, the one
    `is_one` looks for first: a mapping with some of them is a result that lacks it,
    not a mapping of titles.
    """
    if is_one(value):
        return [(None, name, value)]
    if isinstance(value, Mapping) and any(
        key in value and not isinstance(value[key], Mapping) for key in keys[1:]
    ):
        raise ValueError(
            f"{name} must have the key {keys[0]!r}, as {what} has; got a mapping with keys "
            f"{sorted(map(str, value))}"
        )
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be {what}, or a mapping of titles to them; got {value!r:.80}")
    if not value:
        raise ValueError(f"{name} is empty: give {what}, or a mapping of titles to them")
    titled = []
    for key, result in value.items():
        if not is_one(result):
            given = (
                f"a mapping with keys {sorted(map(str, result))}"
                if isinstance(result, Mapping)
                else type(result).__name__
            )
            raise ValueError(
                f"{name} must be {what}, or a mapping of titles to them; got {name}[{key!r}] "
                f"as {given}"
            )
        titled.append((str(key), f"{name}[{key!r}]", result))
    return titled


def _has(key: str) -> Callable[[object], bool]:
    """Whether a value is one result: a mapping with `key`."""
    return lambda value: isinstance(value, Mapping) and key in value


def _fractions(values: np.ndarray, name: str) -> np.ndarray:
    _checks.finite(values, name)
    outside = (values < 0) | (values > 1)
    if outside.any():
        raise ValueError(
            f"{name} must hold fractions in [0, 1] (not percentages); got "
            f"{float(values[outside][0]):g}"
        )
    return values


# --- plot_shift_accuracy ---------------------------------------------------------------------


def _shift_grid(result: object, name: str, what: str) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Return the offsets -m..m, the (2m+1, 2m+1) grid of `what` and the image count (or None)."""
    shifts = np.asarray(_field(result, "shifts", name))
    if shifts.ndim != 1 or shifts.size % 2 == 0:
        raise ValueError(
            f"{name}['shifts'] must be the offsets -m..m, 1-D of odd length 2m + 1; got shape "
            f"{shifts.shape}"
        )
    shifts = _integers(shifts, f"{name}['shifts']", shifts.shape)
    m = shifts.size // 2
    if not np.array_equal(shifts, np.arange(-m, m + 1)):
        raise ValueError(
            f"{name}['shifts'] must be the offsets -m..m in order ({-m} to {m}); got "
            f"{shifts.tolist() if shifts.size <= 15 else shifts}"
        )
    grid = _numbers(_field(result, what, name), f"{name}[{what!r}]")
    if grid.shape != (shifts.size, shifts.size):
        raise ValueError(
            f"{name}[{what!r}] must be one value per shift, indexed [dy + m, dx + m]: shape "
            f"({shifts.size}, {shifts.size}); got shape {grid.shape}"
        )
    _fractions(grid, f"{name}[{what!r}]")
    count = _field(result, "count", name, required=False)
    if count is not None:
        count = _checks.positive_int(count, f"{name}['count']")
    return shifts, grid, count


def _shift_ticks(shifts: np.ndarray) -> np.ndarray:
    """Return the offsets an axis labels: all up to 13, else every n-th, 0 among them."""
    step = math.ceil(shifts.size / _MOST_TICKS)
    return shifts[shifts % step == 0]


def _colour_limits(
    grids: list[np.ndarray], vmin: float | None, vmax: float | None
) -> tuple[float, float, str]:
    """Return the colour scale's limits and the words that say where they come from."""
    low = min(float(grid.min()) for grid in grids)
    high = max(float(grid.max()) for grid in grids)
    if vmin is None and vmax is None and low == high:
        # One value everywhere: no difference to show, and a scale of zero width draws nothing.
        return 0.0, 1.0, f"colours 0 to 1:\nevery value is {low:.3g}"
    bottom = low if vmin is None else vmin
    top = high if vmax is None else vmax
    if bottom >= top:
        if vmin is not None and vmax is not None:
            raise ValueError(f"vmin must be below vmax; got vmin={vmin!r} and vmax={vmax!r}")
        if vmin is not None:
            raise ValueError(
                f"vmin must be below the largest value drawn ({high:.4g}) when vmax is not "
                f"given; got {vmin!r}"
            )
        raise ValueError(
            f"vmax must be above the smallest value drawn ({low:.4g}) when vmin is not given; "
            f"got {vmax!r}"
        )
    shared = " of all panels" if len(grids) > 1 else ""
    limits = f"colours {bottom:.3g} to {top:.3g}"
    if vmin is None and vmax is None:
        words = f"{limits}:\nsmallest to largest value{shared}, not 0 to 1"
    elif vmin is not None and vmax is not None:
        words = f"{limits}: vmin to vmax"
    elif vmin is not None:
        words = f"{limits}:\nvmin to the largest value{shared}"
    else:
        words = f"{limits}:\nthe smallest value{shared} to vmax"
    return bottom, top, words


def _extend(grids: list[np.ndarray], bottom: float, top: float) -> str:
    """Return the colour bar's arrows: the ends with values beyond the scale (in its end colour)."""
    below = any((grid < bottom).any() for grid in grids)
    above = any((grid > top).any() for grid in grids)
    return {(False, False): "neither", (True, False): "min", (False, True): "max"}.get(
        (below, above), "both"
    )


def plot_shift_accuracy(
    results: Mapping[str, object],
    *,
    what: str = "accuracy",
    vmin: float | None = None,
    vmax: float | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw accuracy (or the true class's probability) over a grid of shifts, one panel per model.

    Each panel is the grid of a :func:`cnnviz.shift_accuracy` result: rows
    are the shift down (``dy``; the top row is ``dy = -m``, up by `m`
    pixels), columns the shift right (``dx``), each tick labelled with its
    offset in pixels; the cell of no shift is outlined. The panel's title
    gives the value without a shift and the lowest of the grid.

    All panels share one colour scale (``magma``) and one colour bar. By
    default it runs from the smallest to the largest value of all panels,
    not from 0 to 1, so that differences between shifts and between models
    show; the colour bar's label says so and gives the limits. `vmin` and
    `vmax` set either end (``vmin=0, vmax=1`` for the full range); values
    beyond them take the end colour, and the colour bar gets an arrow at
    that end. Where every value is the same, the scale is 0 to 1.

    Parameters
    ----------
    results : dict
        One result of :func:`cnnviz.shift_accuracy`: ``"shifts"``, the
        offsets ``-m..m``, and ``"accuracy"`` and ``"probability"``, each
        (2m + 1, 2m + 1) fractions in [0, 1] indexed ``[dy + m, dx + m]``
        (only the one drawn is needed); ``"count"``, the number of images,
        is shown if given. Or a mapping of titles to such results, e.g.
        ``{"valid": r1, "same": r2}``, drawn in its order.
    what : {"accuracy", "probability"}, default "accuracy"
        Draw the accuracy, or the mean probability of the true class.
    vmin, vmax : float, optional
        The ends of the colour scale; by default the smallest and largest
        value of all panels.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `results` or a result is not what :func:`cnnviz.shift_accuracy`
        returns (a key missing, ``"shifts"`` not ``-m..m``, a grid of
        another shape, a value outside [0, 1] or not finite), `results` is
        empty, `what` is not one of its choices, or `vmin` is not below
        `vmax` (or below the largest value, or `vmax` above the smallest).
    TypeError
        If `results` is neither a result nor a mapping, or `fig` is not a
        figure.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_shift_accuracy
    >>> accuracy = np.array([[0.5, 0.6, 0.5], [0.7, 0.9, 0.6], [0.4, 0.6, 0.5]])
    >>> result = {"shifts": np.arange(-1, 2), "accuracy": accuracy,
    ...           "probability": accuracy - 0.1}
    >>> fig = plot_shift_accuracy({"valid": result, "same": result})
    >>> len(fig.axes)  # two panels and one colour bar
    3
    >>> fig.axes[0].get_images()[0].norm.vmin, fig.axes[0].get_images()[0].norm.vmax
    (0.4, 0.9)
    >>> [label.get_text() for label in fig.axes[0].get_xticklabels()]
    ['-1', '0', '1']
    """
    what = _checks.one_of(what, tuple(_QUANTITIES), "what")
    vmin = None if vmin is None else _checks.finite_number(vmin, "vmin")
    vmax = None if vmax is None else _checks.finite_number(vmax, "vmax")
    titled = _titled(
        results,
        "results",
        _has("shifts"),
        "a result of cnnviz.shift_accuracy (a dict with 'shifts', 'accuracy', 'probability')",
        ("shifts", "accuracy", "probability", "count"),
    )
    panels = [(title, *_shift_grid(r, name, what)) for title, name, r in titled]
    grids = [grid for _, _, grid, _ in panels]
    bottom, top, scale = _colour_limits(grids, vmin, vmax)

    # At most 3 panels a row, narrower from 3 on: a page is about 12 inches wide.
    rows, columns = _grid(len(panels), _MOST_PANELS)
    panel = 4.2 if columns <= 2 else 3.6
    figure = _figure(fig, panel * columns + 1.3, (panel + 0.1) * rows + 0.5)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    norm = Normalize(bottom, top)
    for ax, (title, shifts, grid, count) in zip(axes, panels, strict=False):
        m = shifts.size // 2
        # The axes' coordinates are the offsets themselves: the cell of (dy, dx) is centred on
        # (x=dx, y=dy), rows growing downwards as imshow draws them.
        image = ax.imshow(
            grid,
            cmap=_SEQUENTIAL,
            norm=norm,
            extent=(-m - 0.5, m + 0.5, m + 0.5, -m - 0.5),
            interpolation="nearest",
        )
        ticks = _shift_ticks(shifts)
        ax.set_xticks(ticks, labels=[str(t) for t in ticks])
        ax.set_yticks(ticks, labels=[str(t) for t in ticks])
        ax.set_xlabel("shift right (pixels)")
        ax.set_ylabel("shift down (pixels)")
        # Two outlines, black inside white, show on dark and light cells alike.
        ax.add_patch(_box_rectangle((0, 0, 1, 1), edgecolor="white", linewidth=3))
        ax.add_patch(_box_rectangle((0, 0, 1, 1), edgecolor="black", linewidth=1.2))
        images = f"{count:,} image{'s' if count > 1 else ''}" if count is not None else ""
        heading = f"{title} ({images})" if title is not None and images else (title or images)
        stats = f"no shift {grid[m, m]:.3f}, lowest {grid.min():.3f}"
        ax.set_title(f"{heading}\n{stats}" if heading else stats, fontsize="medium")
    bar = figure.colorbar(
        image, ax=list(axes[: len(panels)]), extend=_extend(grids, bottom, top), shrink=0.9
    )
    bar.set_label(f"{_QUANTITIES[what]}\n{scale}", fontsize="small")
    heading = {
        "accuracy": "Accuracy of shifted images",
        "probability": "Mean probability of the true class, shifted images",
    }[what]
    _suptitle(figure, f"{heading} (outlined: no shift)", fontsize="medium")
    return figure


# --- plot_equivariance -----------------------------------------------------------------------


def _cosines(values: np.ndarray, name: str) -> np.ndarray:
    _checks.finite(values, name)
    outside = np.abs(values) > 1 + _COSINE_TOLERANCE
    if outside.any():
        raise ValueError(
            f"{name} must hold cosine similarities in [-1, 1]; got {float(values[outside][0]):g}"
        )
    return values


def _equivariance(
    result: object, name: str
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Return a result's layers, jumps (L, 2), mean similarities (L,) and per-image ones (N, L)."""
    layers = _field(result, "layers", name)
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple, np.ndarray)):
        raise TypeError(f"{name}['layers'] must be a list of layer names; got {layers!r:.80}")
    if len(layers) == 0 or not all(isinstance(layer, str) for layer in layers):
        raise ValueError(
            f"{name}['layers'] must be a non-empty list of layer names (str); got {layers!r:.80}"
        )
    layers = list(layers)
    if len(set(layers)) < len(layers):
        twice = sorted({layer for layer in layers if layers.count(layer) > 1})
        raise ValueError(f"{name}['layers'] must name each layer once; got {twice} twice or more")
    count = len(layers)
    jump = _integers(_field(result, "jump", name), f"{name}['jump']", (count, 2))
    if (jump < 1).any():
        raise ValueError(
            f"{name}['jump'] must hold each layer's jump, pixels per unit, at least 1; got "
            f"{jump.tolist()}"
        )
    similarity = _numbers(_field(result, "similarity", name), f"{name}['similarity']")
    if similarity.shape != (count,):
        raise ValueError(
            f"{name}['similarity'] must hold one value per layer, shape ({count},); got shape "
            f"{similarity.shape}"
        )
    _cosines(similarity, f"{name}['similarity']")
    per_image = _numbers(_field(result, "per_image", name), f"{name}['per_image']")
    if per_image.ndim != 2 or per_image.shape[1] != count or len(per_image) == 0:
        raise ValueError(
            f"{name}['per_image'] must be (N, layers) = (N, {count}), one row per image; got "
            f"shape {per_image.shape}"
        )
    _cosines(per_image, f"{name}['per_image']")
    return layers, jump, similarity, per_image


def _layer_order(lists: list[list[str]]) -> list[str]:
    """Return the layers of all `lists` in one order that keeps each list's where it can.

    The first list's order, and each layer that only a later list has placed right after
    the layer before it there (before the next one, for a list's first layer): a
    ``same`` model's padding layer lands before the convolution it pads, not after the
    last layer of a ``valid`` model without padding layers.
    """
    order: list[str] = []
    for layers in lists:
        for i, layer in enumerate(layers):
            if layer in order:
                continue
            if i > 0:
                at = order.index(layers[i - 1]) + 1
            else:
                later = [order.index(other) for other in layers[1:] if other in order]
                at = min(later, default=len(order))
            order.insert(at, layer)
    return order


def _jump_text(jumps: list[tuple[int, int]]) -> str:
    """Return a layer's jump as its tick says it: "jump 2", "jump 2x1" (rows x columns), or more."""
    texts = [f"{r}" if r == c else f"{r}x{c}" for r, c in dict.fromkeys(jumps)]
    return f"jump {' or '.join(texts)}"


def plot_equivariance(
    results: Mapping[str, object], *, ax: Axes | None = None
) -> Figure | SubFigure:
    r"""Draw how far each layer is from shift equivariance, for one model or several.

    For each layer of a :func:`cnnviz.equivariance` result, a marker at the
    mean over images of the cosine similarity between the layer's output for
    the shifted images and its output for the originals moved by one unit
    (1.0: exactly equivariant), joined by a line across the layers, and a
    bar from the 10th to the 90th percentile of the images (their
    ``"per_image"`` values). The x axis holds the layers of all results in
    order: the first result's, and a layer that only a later one has (a
    padding layer) after the layer before it there; each tick gives the
    layer's jump, the shift in pixels that moves its output by one unit
    (``"jump 2"``; ``"2x1"`` where rows and columns differ). Several
    results are drawn side by side at each layer, each in its colour.

    Parameters
    ----------
    results : dict
        One result of :func:`cnnviz.equivariance`: ``"layers"`` (L layer
        names), ``"jump"`` (L, 2) integers, ``"similarity"`` (L,) and
        ``"per_image"`` (N, L), cosine similarities in [-1, 1]. Or a
        mapping of titles to such results, e.g. ``{"valid": r1, "same":
        r2}``, drawn in its order.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into (`ax`'s, if given).

    Raises
    ------
    ValueError
        If `results` or a result is not what :func:`cnnviz.equivariance`
        returns (a key missing, a layer named twice, shapes that do not
        agree, a jump below 1, a similarity outside [-1, 1] or not
        finite), or `results` is empty.
    TypeError
        If `results` is neither a result nor a mapping, ``"layers"`` is not
        a list, or `ax` is not a Matplotlib Axes.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_equivariance
    >>> per_image = np.array([[1.0, 0.9, 0.7], [1.0, 0.8, 0.5]])
    >>> result = {"layers": ["conv1", "pool1", "conv2"],
    ...           "jump": np.array([[1, 1], [2, 2], [2, 2]]),
    ...           "similarity": per_image.mean(axis=0), "per_image": per_image}
    >>> fig = plot_equivariance({"same": result})
    >>> [label.get_text() for label in fig.axes[0].get_xticklabels()]
    ['conv1\n(jump 1)', 'pool1\n(jump 2)', 'conv2\n(jump 2)']
    >>> [round(float(y), 6) for y in fig.axes[0].get_lines()[0].get_ydata()]
    [1.0, 0.85, 0.6]
    """
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a Matplotlib Axes or None; got {type(ax).__name__}")
    titled = _titled(
        results,
        "results",
        _has("per_image"),
        "a result of cnnviz.equivariance (a dict with 'layers', 'jump', 'similarity', 'per_image')",
        ("per_image", "layers", "jump", "similarity"),
    )
    checked = [(title, *_equivariance(r, name)) for title, name, r in titled]
    jumps: dict[str, list[tuple[int, int]]] = {}
    for _, layers, jump, _, _ in checked:
        for layer, (rows, columns) in zip(layers, jump, strict=True):
            jumps.setdefault(layer, []).append((int(rows), int(columns)))
    order = _layer_order([layers for _, layers, _, _, _ in checked])
    position = {layer: i for i, layer in enumerate(order)}

    labels = [f"{layer}\n({_jump_text(jumps[layer])})" for layer in order]
    # A character of the tick labels' 10 points is about 0.075 inches wide.
    longest = 0.075 * max(len(line) for label in labels for line in label.split("\n"))
    if ax is None:
        # An inch a layer; the legend's 2.2 inches at the right. A taller figure for labels
        # turned upright (below), so that the axes keep their height.
        width = min(max(1.0 * len(order), 4.0), 10.0)
        turned = longest > width / len(order)
        figure = _figure(None, width + 2.0 + 2.2, 4.4 + (longest - 0.35 if turned else 0.0))
        ax = figure.subplots()
    else:
        figure = ax.figure
    # Side by side at each layer, so that bars of several results do not hide one another.
    width = min(0.5 / len(checked), 0.15)
    low = 1.0
    for k, (title, layers, _, similarity, per_image) in enumerate(checked):
        x = np.array([position[layer] for layer in layers]) + (k - (len(checked) - 1) / 2) * width
        images = f"mean of {len(per_image):,} image{'s' if len(per_image) > 1 else ''}"
        label = f"{title}: {images}" if title is not None else images
        (line,) = ax.plot(x, similarity, marker="o", label=label)
        bottom, top = np.percentile(per_image, _SPREAD, axis=0)
        ax.vlines(x, bottom, top, color=line.get_color(), linewidth=1.5)
        ax.plot(x, bottom, "_", x, top, "_", color=line.get_color(), markersize=8)
        low = min(low, float(bottom.min()), float(similarity.min()))
    ax.axhline(1.0, color="0.5", linestyle=":", linewidth=1)
    # A label longer than its tick's room (the axes' width over the layers) is turned
    # upright, where its two lines need about 0.35 inches of the room.
    room = ax.get_position().width * figure.bbox.width / figure.dpi / len(order)
    ax.set_xticks(range(len(order)), labels=labels, **({"rotation": 90} if longest > room else {}))
    ax.set_xlim(-0.5, len(order) - 0.5)
    span = max(1.0 - low, 0.02)
    ax.set_ylim(low - 0.08 * span, 1.0 + 0.08 * span)
    ax.set_xlabel("layer (jump: pixels per unit of its output)")
    ax.set_ylabel("cosine similarity to the shifted output\n(1.0: exactly equivariant)")
    # Outside the axes, at the right: inside, it hid markers and bars wherever it went.
    ax.legend(
        fontsize="small",
        title=f"bars: {_SPREAD[0]}th to {_SPREAD[1]}th\npercentile of the images",
        title_fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
    )
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(
        "Shift equivariance per layer: images shifted by the layer's jump", fontsize="medium"
    )
    return figure


# --- plot_pixel_paths ------------------------------------------------------------------------


def _counts(values: object, name: str) -> np.ndarray:
    """Return path counts as int64, or float64 where one passes 2**53 (as pixel_paths gives them)."""
    array = np.asarray(values)
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(
            f"{name} must hold path counts, integers (as cnnviz.pixel_paths gives); got dtype "
            f"{array.dtype}"
        )
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"{name} must be one count per input pixel, a non-empty (H, W) array (several "
            f"maps: a mapping of titles to them); got shape {array.shape}"
        )
    if np.issubdtype(array.dtype, np.floating):
        # pixel_paths gives float64 where a count passes 2**53 (a deep network): whole numbers.
        _checks.finite(array, name)
        broken = array != np.rint(array)
        if broken.any():
            raise ValueError(
                f"{name} must hold path counts, whole numbers (as cnnviz.pixel_paths gives); "
                f"got {float(array[broken][0]):g}"
            )
    if (array < 0).any():
        raise ValueError(f"{name} must hold path counts of at least 0; got {array[array < 0][0]:g}")
    # Past 2**53 a count is kept as float64 (rounded), not wrapped past int64's end.
    if array.max() >= 2**53:
        return array.astype(np.float64)
    return array.astype(np.int64)


def _write_counts(ax, counts: np.ndarray, norm: Normalize, inches: float) -> None:
    """Write each pixel's count in it: white on the dark low end of magma, black on the rest.

    The font fits the longest count into a pixel `inches` wide (a digit is about 0.6 of
    the font's size wide), between 5 and 11 points.
    """
    digits = len(f"{int(counts.max()):,}")
    size = float(np.clip(0.8 * inches * 72 / (0.6 * digits), 5, 11))
    for (i, j), value in np.ndenumerate(counts):
        # A 0 on a log scale is off it, on grey: black text.
        dark = not (value == 0 and isinstance(norm, LogNorm)) and norm(value) < 0.5
        ax.text(
            j,
            i,
            f"{int(value):,}",
            ha="center",
            va="center",
            fontsize=size,
            color="white" if dark else "black",
        )


def _log_ticks(bar, top: float) -> None:
    """Label a log colour bar with plain counts (1, 2, 5, 10, ...; or 1, 10, 100, ...).

    Matplotlib labels only the powers of ten, as 10^k: a scale from 1 to 25 would show
    only 10^0 and 10^1. Past a million, its labels stay.
    """
    decades = math.log10(top)
    if decades > 6:
        return
    steps = (1, 2, 5) if decades <= 3 else (1,)
    ticks = [s * 10**d for d in range(int(decades) + 1) for s in steps if s * 10**d <= top]
    bar.set_ticks(ticks, labels=[f"{t:,}" for t in ticks])
    bar.ax.minorticks_off()


def plot_pixel_paths(
    paths: np.ndarray | Mapping[str, np.ndarray],
    *,
    log: bool = False,
    vmax: float | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    r"""Draw, for each input pixel, the number of paths into a layer's units, one panel per map.

    The maps are what :func:`cnnviz.pixel_paths` returns: one count per
    input pixel, the paths along the network's spatial connections (kernel
    taps, pooling-window cells) from that pixel into all units of a layer.
    Counts of different layers differ by orders of magnitude, so by default
    each panel has its own colour bar, from 0 to its largest count
    (``magma``: brighter is more paths); with `vmax`, all panels share one
    scale from 0 to `vmax` and one colour bar, and counts above it take the
    top colour (the bar gets an arrow). Each panel's title gives its
    smallest and largest count; maps of at most 12 pixels a side have their
    counts written in the pixels.

    With ``log=True`` the scale is logarithmic, from 1 (to the largest count,
    or `vmax`). A pixel with no path (0, outside every unit's field) has no
    place on it: it is drawn in light grey, off the scale, and the colour
    bar's label says so.

    Parameters
    ----------
    paths : array_like or dict
        One map (H, W) of non-negative integer counts (as
        :func:`cnnviz.pixel_paths` gives them: integers, or float64 whole
        numbers where a count passes 2**53), or a mapping of titles to
        maps, e.g. ``{"conv1": p1, "pool1": p2}``, drawn in its order.
    log : bool, default False
        Draw the counts on a logarithmic scale (zeros in grey, off it).
    vmax : float, optional
        The top of one scale shared by all panels (at least 1 with
        ``log=True``); by default each panel has its own.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If a map is not 2-D or holds negative counts, or counts that are
        not whole numbers or not finite, `paths` is an empty mapping, or `vmax` is not a finite number above 0 (above 1 with
        ``log=True``).
    TypeError
        If a map does not hold numbers (booleans neither), `log` is not
        True or False, or
        `fig` is not a figure.

    Examples
    --------
    Paths from a 5x5 image into the 3x3 output of a 3x3 convolution
    (``valid``): 1 at a corner, 9 in the centre.

    >>> import numpy as np
    >>> from cnnviz import plot_pixel_paths
    >>> paths = np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1])
    >>> fig = plot_pixel_paths({"conv": paths})
    >>> fig.axes[0].get_title()
    'conv\n1 to 9 paths per pixel'
    >>> fig.axes[0].get_images()[0].norm.vmax
    9.0
    """
    log = _checks.flag(log, "log")
    if vmax is not None:
        given, vmax = vmax, _checks.positive_number(vmax, "vmax")
        if log and vmax <= 1:
            raise ValueError(
                "vmax must be above 1 with log=True (a log scale of counts starts at 1); got "
                f"{given!r}"
            )
    titled = _titled(
        paths, "paths", lambda value: not isinstance(value, Mapping), "an (H, W) array of counts"
    )
    maps = [(title, _counts(values, name)) for title, name, values in titled]

    own = vmax is None
    # At most 3 panels a row (4 without a bar each), narrower from 3 on: a page's width.
    rows, columns = _grid(len(maps), _MOST_PANELS if own else _MOST_PANELS + 1)
    tile = 3.2 if columns <= 2 else 2.8
    width = columns * (tile + (1.0 if own else 0.0)) + (1.2 if not own else 0.2)
    figure = _figure(fig, width, rows * (tile + 0.6) + 0.5)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(maps) :]:
        ax.set_visible(False)
    cmap = colormaps[_SEQUENTIAL].with_extremes(bad=_NO_PATH)
    scale = LogNorm if log else Normalize
    # One scale object for all panels when they share it, so that the one colour bar is theirs.
    shared = None if own else scale(1.0 if log else 0.0, vmax)
    zeros = False
    for ax, (title, counts) in zip(axes, maps, strict=False):
        largest = int(counts.max())
        # A map of 0s and 1s only: a scale of zero width draws nothing; one decade on a log.
        top = float(largest) if largest > 1 else (10.0 if log else 1.0)
        norm = shared if shared is not None else scale(1.0 if log else 0.0, top)
        shown = np.ma.masked_equal(counts, 0) if log else counts
        zeros |= bool((counts == 0).any())
        image = ax.imshow(shown, cmap=cmap, norm=norm, interpolation="nearest")
        _bare(ax)
        if max(counts.shape) <= _WRITTEN:
            _write_counts(ax, counts, norm, tile / max(counts.shape))
        stats = f"{int(counts.min()):,} to {largest:,} paths per pixel"
        ax.set_title(f"{title}\n{stats}" if title is not None else stats, fontsize="medium")
        if own:
            bar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
            if log:
                _log_ticks(bar, top)
            words = f"{'log scale, 1' if log else '0'} to {top:,g}" + (
                ", this map's largest" if top == largest else ""
            )
            grey = "\n0 (no path): grey, off the scale" if log and (counts == 0).any() else ""
            bar.set_label(f"paths into the layer's units\n({words}){grey}", fontsize="small")
    if not own:
        above = any((counts > vmax).any() for _, counts in maps)
        bar = figure.colorbar(
            image, ax=list(axes[: len(maps)]), extend="max" if above else "neither", shrink=0.9
        )
        if log:
            _log_ticks(bar, vmax)
        words = f"log scale, 1 to vmax = {vmax:g}" if log else f"0 to vmax = {vmax:g}"
        grey = "; 0 (no path): grey, off the scale" if log and zeros else ""
        bar.set_label(
            f"paths into the layer's units\n({words}, all panels){grey}", fontsize="small"
        )
    if len(maps) > 1:
        heading = "Paths from each input pixel into the layer's units" + (
            "\neach panel on its own colour scale" if own else ""
        )
        _suptitle(figure, heading, fontsize="medium")
    return figure
