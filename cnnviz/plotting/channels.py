"""Figures of what each channel responds to over a data set: top patches, class means, ablation.

They draw what :mod:`cnnviz.channels` computes from a model and images
(NumPy arrays and dicts of arrays, never a model): each channel's strongest
patches (:func:`~cnnviz.top_patches`), its mean activation per class
(:func:`~cnnviz.class_mean_activations`) and the accuracy lost without it
(:func:`~cnnviz.channel_ablation`). The figures of a layer's kernels and of
receptive fields, which need no data, are in ``cnnviz.plotting.filters``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from .. import _checks
from ..data import CLASS_NAMES
from ._figures import (
    _bare,
    _box_rectangle,
    _boxes_within,
    _class_names,
    _draw_image,
    _field,
    _figure,
    _grey_images,
    _integers,
    _map_scale,
    _numbers,
    _sees_nothing,
    _wrap_title,
)

# Where a patch's field hangs over the image's edge: no pixel, a light grey unlike black 0.
_OUTSIDE = "#d9d9d9"
# A class without images: a light grey that neither magma nor RdBu_r has.
_NO_IMAGES = "#e6e6e6"


# --- checks of the results -------------------------------------------------------------------


def _channels(result: object) -> np.ndarray:
    channels = np.asarray(_field(result, "channels", "result"))
    if channels.ndim != 1 or channels.size == 0:
        raise ValueError(
            f"result['channels'] must be a non-empty 1-D array of channel numbers; "
            f"got shape {channels.shape}"
        )
    channels = _integers(channels, "result['channels']", channels.shape)
    # Channel numbers index a layer's channels: a negative one or one twice (two bars or
    # rows both labelled 3) is not a result of cnnviz.channels.
    if channels.min() < 0 or len(np.unique(channels)) < len(channels):
        raise ValueError(
            "result['channels'] must hold distinct channel numbers of at least 0; got "
            f"{channels.tolist() if len(channels) <= 20 else channels}"
        )
    return channels


def _layer(result: object) -> str:
    layer = _field(result, "layer", "result")
    if not isinstance(layer, str):
        raise TypeError(f"result['layer'] must be a layer name (str); got {layer!r}")
    return layer


# --- plot_top_patches ------------------------------------------------------------------------


def plot_top_patches(
    images: np.ndarray,
    result: Mapping[str, object],
    channel: int,
    *,
    context: bool = True,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    r"""Draw the images that excite one channel most: the patches its units see, and where.

    The first row holds the ``k`` patches, each cut to the receptive box of
    the strongest unit (strongest first); the second row (unless `context`
    is False) the whole images with that box outlined. Each tile is titled with its image's index and
    the activation. Images are drawn in grey, black 0 to white 1 (or each
    stretched, outside that range), patches exactly as in their image.

    Parameters
    ----------
    images : array_like
        (N, H, W), (N, H, W, 1) or (N, H, W, 3): the data the result's
        ``index`` points into.
    result : dict
        The result of :func:`cnnviz.top_patches`: ``"layer"``
        (str), ``"channels"`` (C,), and per channel and rank ``"index"``,
        ``"row"``, ``"col"`` (C, k) integers, ``"value"`` (C, k) and
        ``"box"`` (C, k, 4) as (top, left, bottom, right), bottom and right
        exclusive.
    channel : int
        Which channel to draw: one of ``result["channels"]``.
    context : bool, default True
        Whether to draw the whole images with the box below the patches;
        False gives one row, for an overview of many channels.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If a key is missing, shapes do not match, an index is not an
        image of `images`, a box is empty (other than ``(0, 0, 0, 0)``, a
        unit that sees no pixel, drawn as an empty tile that says so) or
        outside the image, or
        `channel` is not in ``result["channels"]``.
    TypeError
        If `result` is not a mapping, a field has the wrong type, or
        `fig` is not a figure.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_top_patches
    >>> images = np.zeros((3, 8, 8))
    >>> result = {
    ...     "layer": "conv1", "channels": np.array([0, 1]),
    ...     "index": np.array([[2, 0], [1, 2]]), "row": np.array([[1, 0], [3, 3]]),
    ...     "col": np.array([[1, 0], [2, 2]]), "value": np.array([[0.9, 0.5], [0.8, 0.2]]),
    ...     "box": np.array([[[1, 1, 4, 4], [0, 0, 3, 3]], [[3, 2, 6, 5], [3, 2, 6, 5]]]),
    ... }
    >>> fig = plot_top_patches(images, result, 1)
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['image 1\n0.8', 'image 2\n0.2']
    >>> fig.axes[0].get_images()[0].get_array().shape
    (3, 3)
    """
    x = _grey_images(images)
    if not isinstance(result, Mapping):
        raise TypeError(
            f"result must be the dict cnnviz.channels.top_patches returns; got "
            f"{type(result).__name__}"
        )
    layer = _layer(result)
    channels = _channels(result)
    index = np.asarray(_field(result, "index", "result"))
    if index.ndim != 2 or len(index) != len(channels) or index.shape[1] == 0:
        raise ValueError(
            f"result['index'] must be (C, k) = ({len(channels)}, k), k at least 1, one row per "
            f"channel of result['channels']; got shape {index.shape}"
        )
    shape = index.shape
    index = _integers(index, "result['index']", shape)
    rows = _integers(_field(result, "row", "result"), "result['row']", shape)
    cols = _integers(_field(result, "col", "result"), "result['col']", shape)
    boxes = _integers(_field(result, "box", "result"), "result['box']", (*shape, 4))
    values = _numbers(_field(result, "value", "result"), "result['value']")
    if values.shape != shape:
        raise ValueError(f"result['value'] must have shape {shape}; got shape {values.shape}")
    _checks.finite(values, "result['value']")
    channel = _checks.non_negative_int(channel, "channel")
    found = np.flatnonzero(channels == channel)
    if not found.size:
        raise ValueError(
            f"channel {channel} is not in result['channels'] (layer {layer!r}); "
            f"the result has channels {channels.tolist()}"
        )
    c = int(found[0])
    outside = (index[c] < 0) | (index[c] >= len(x))
    if outside.any():
        raise ValueError(
            f"result['index'] must point into images ({len(x)} images); channel {channel} has "
            f"index {int(index[c][outside][0])}: pass the images top_patches was given"
        )
    _boxes_within(boxes[c], f"result['box'] of channel {channel}", *x.shape[1:3])

    context = _checks.flag(context, "context")
    k = shape[1]
    sizes = boxes[c, :, 2:] - boxes[c, :, :2]
    # The largest box: the unclipped field (at least a pixel, where every unit sees none).
    field = tuple(max(int(v), 1) for v in sizes.max(axis=0))
    figure = _figure(fig, max(1.35 * k, 4.0), 3.6 if context else 2.0)
    axes = figure.subplots(2 if context else 1, k, squeeze=False)
    for rank in range(k):
        picture = x[index[c, rank]]
        top, left, bottom, right = (int(v) for v in boxes[c, rank])
        patch = axes[0, rank]
        blind = _sees_nothing(boxes[c, rank])  # a unit that reads only padding
        if blind:
            _draw_no_patch(patch, field)
        else:
            _draw_patch(
                patch, _same_scale(picture[top:bottom, left:right], picture), boxes[c, rank], field
            )
        patch.set_title(f"image {index[c, rank]}\n{values[c, rank]:.3g}", fontsize="small")
        if context:
            whole = axes[1, rank]
            _draw_image(whole, picture)
            unit = f"unit ({rows[c, rank]}, {cols[c, rank]})"
            if blind:
                whole.set_title(f"{unit}:\nno pixel", fontsize="small")
            else:
                whole.add_patch(_box_rectangle(boxes[c, rank], edgecolor="tab:red", linewidth=1.5))
                whole.set_title(unit, fontsize="small")
    axes[0, 0].set_ylabel("patch", fontsize="small")
    if context:
        axes[1, 0].set_ylabel("image", fontsize="small")
        figure.suptitle(
            f"{layer}, channel {channel}: the {k} strongest activations, at most one per image\n"
            "top: the patch its unit sees (image index, activation; light grey: outside the "
            "image); bottom: where, unit (row, col)",
            fontsize="medium",
        )
    else:
        figure.suptitle(
            f"{layer}, channel {channel}: the {k} strongest patches (image index, activation)",
            fontsize="medium",
        )
    return figure


def _draw_patch(ax, patch: np.ndarray, box: np.ndarray, field: tuple[int, int]) -> None:
    """Draw `patch` at the pixel scale of the whole `field`, where a clipped box sits in it.

    A box clipped at the image's top or left edge lost rows or columns above or left of
    it: the patch is drawn at the bottom or right of the field, the rest left blank, so
    that every patch of a row is drawn at one scale, as large as the unit's field.
    """
    (rows, columns), (top, left) = patch.shape[:2], box[:2]
    dy = field[0] - rows if top == 0 else 0
    dx = field[1] - columns if left == 0 else 0
    extent = (dx - 0.5, dx + columns - 0.5, dy + rows - 0.5, dy - 0.5)
    if patch.ndim == 2:
        ax.imshow(patch, cmap="gray", vmin=0.0, vmax=1.0, extent=extent, interpolation="nearest")
    else:
        ax.imshow(np.clip(patch, 0, 1), extent=extent, interpolation="nearest")
    ax.set_xlim(-0.5, field[1] - 0.5)
    ax.set_ylim(field[0] - 0.5, -0.5)
    ax.set_facecolor(_OUTSIDE)
    _bare(ax)


def _draw_no_patch(ax, field: tuple[int, int]) -> None:
    """Draw the tile of a unit that sees no pixel (only padding): the field, empty, said so."""
    ax.set_xlim(-0.5, field[1] - 0.5)
    ax.set_ylim(field[0] - 0.5, -0.5)
    ax.set_facecolor(_OUTSIDE)
    ax.text(
        0.5,
        0.5,
        "sees no\npixel\n(padding)",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize="x-small",
    )
    _bare(ax)


def _same_scale(patch: np.ndarray, picture: np.ndarray) -> np.ndarray:
    """Return `patch` in [0, 1], in the grey its whole picture is drawn in by `_draw_image`."""
    if patch.ndim == 3 or (picture.min() >= 0 and picture.max() <= 1):
        return patch
    # _draw_image stretches an image outside [0, 1] to its own range: stretch as the picture is.
    low, high = float(picture.min()), float(picture.max())
    return (patch - low) / (high - low) if high > low else np.zeros_like(patch)


# --- plot_class_activations ------------------------------------------------------------------


def plot_class_activations(
    matrix: np.ndarray,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw each channel's mean activation per class: which classes a channel serves.

    A heat map with one row per class and one column per channel, on one
    colour scale for all cells: ``magma`` from 0 to the largest mean (the
    usual case, after a ReLU), or ``RdBu_r`` symmetric about zero if any
    mean is negative. The colour bar's label says which. A row of NaN, which
    :func:`cnnviz.class_mean_activations` gives a class without images, is
    drawn light grey, hatched and labelled "no images", and left out of the
    scale.

    Parameters
    ----------
    matrix : array_like
        (num_classes, channels) mean activations, as
        :func:`cnnviz.class_mean_activations` returns: finite, or a whole
        row of NaN for a class without images.
    class_names : sequence of str, default CLASS_NAMES
        One name per row.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `matrix` is not 2-D and non-empty, holds infinite values or NaN
        other than whole rows, is NaN in every row, or `class_names` does
        not name every row.
    TypeError
        If `matrix` does not hold numbers or `fig` is not a figure.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_class_activations
    >>> fig = plot_class_activations(np.array([[0.0, 2.0, 1.0], [0.5, 0.0, 4.0]]),
    ...                              class_names=["coat", "bag"])
    >>> [label.get_text() for label in fig.axes[0].get_yticklabels()]
    ['coat', 'bag']
    >>> fig.axes[0].get_images()[0].norm.vmax
    4.0
    """
    values = _numbers(matrix, "matrix")
    if values.ndim != 2 or values.size == 0:
        raise ValueError(
            "matrix must be a non-empty (num_classes, channels) array of mean activations; "
            f"got shape {values.shape}"
        )
    # A row of NaN is a class without images (class_mean_activations' answer for it);
    # any other NaN or infinite value is not a mean.
    empty = np.isnan(values).all(axis=1)
    bad = ~np.isfinite(values) & ~empty[:, np.newaxis]
    if bad.any():
        raise ValueError(
            f"matrix must hold finite means, or a whole row of NaN for a class without "
            f"images; got, outside such rows, {_checks.where_bad(values, bad)}"
        )
    if empty.all():
        raise ValueError(
            f"matrix has no class with images: all {len(values)} rows are NaN; give the "
            "means of at least one class"
        )
    names = _class_names(class_names, len(values), f"matrix of shape {values.shape}")

    classes, channels = values.shape
    # 0.4 inch a channel up to a page's width; beyond, every fourth channel is numbered.
    figure = _figure(fig, min(max(3.5 + 0.4 * channels, 6.0), 12.0), 1.4 + 0.35 * classes)
    ax = figure.subplots()
    cmap, norm, scale = _map_scale(values[~empty])
    image = ax.imshow(
        np.ma.masked_invalid(values),
        cmap=colormaps[cmap].with_extremes(bad=_NO_IMAGES),
        norm=norm,
        aspect="auto",
        interpolation="nearest",
    )
    for row in np.flatnonzero(empty):
        # Hatched and labelled, so that no colour of the scale can be read into the row.
        ax.add_patch(
            Rectangle(
                (-0.5, row - 0.5),
                channels,
                1,
                fill=False,
                hatch="///",
                edgecolor="#9a9a9a",
                linewidth=0,
            )
        )
        ax.text(
            (channels - 1) / 2,
            row,
            "no images",
            ha="center",
            va="center",
            fontsize="small",
            bbox={"facecolor": _NO_IMAGES, "edgecolor": "none", "pad": 1.5},
        )
    ax.set_xticks(np.arange(channels))
    ax.set_yticks(np.arange(classes), labels=names)
    if channels > 32:  # every channel's number would overlap: label every fourth
        ax.set_xticks(np.arange(0, channels, 4))
    ax.set_xlabel("channel")
    title = "Mean activation of each channel over each class's images"
    if empty.any():
        title += "\nhatched rows: classes without images (no mean)"
    ax.set_title(title)
    bar = figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label(f"mean activation, {scale}", fontsize="small")
    return figure


# --- plot_ablation ---------------------------------------------------------------------------

#: channel_ablation's fills (cnnviz.channels.dataset_views.FILLS, and "given" for values given
#: as numbers: plotting imports no Keras room).
_FILLS = ("zero", "mean", "given")
#: What the title says of an ablated channel, by fill.
_TITLES = {"mean": "set to its mean", "given": "set to a given value"}


#: The most bars labelled with their values: 0.45 inch each fill a 12-inch figure.
_LABELLED_BARS = 23


def _points(value: float) -> str:
    """Label a bar: one decimal, two under 0.05, one digit under 0.005; never -0.0.

    One digit is for one image of more than 20,000; only a zero loss reads "0.0".
    """
    if value == 0:
        return "0.0"
    if abs(value) >= 0.05:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.005 else f"{value:.1g}"


def plot_ablation(
    result: Mapping[str, object], *, fig: Figure | SubFigure | None = None
) -> Figure | SubFigure:
    """Draw the accuracy lost when each channel is switched off (set to zero or to its mean).

    One bar per channel: the intact model's accuracy minus the accuracy
    without that channel, in percentage points, so a tall bar is a channel
    the model needs, a bar at zero one it can do without, and a bar below
    zero one whose absence helps. Up to 23 channels, each bar is labelled
    with its value (one decimal, two for a value under 0.05 points, such as
    one image of thousands, one digit under 0.005); more are drawn in a
    figure a page wide, read on the y axis, every n-th channel numbered. The
    title gives the intact accuracy, and the axis label what the channel
    was replaced by where the result says (its ``"fill"``: zero, the
    channel's mean activation or a given value).

    Parameters
    ----------
    result : dict
        The result of :func:`cnnviz.channel_ablation`:
        ``"layer"`` (str), ``"channels"`` (C,) integers, ``"accuracy"``
        (C,) the accuracy with each channel switched off, and
        ``"intact_accuracy"``, all accuracies fractions in [0, 1]; and,
        optionally, ``"fill"``, ``"zero"``, ``"mean"`` or ``"given"``.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If a key is missing, ``accuracy`` is not one value per channel, an
        accuracy is not in [0, 1], or ``fill`` is given and is none of
        ``"zero"``, ``"mean"`` and ``"given"``.
    TypeError
        If `result` is not a mapping, a field has the wrong type, or `fig`
        is not a figure.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_ablation
    >>> result = {"layer": "conv1", "channels": np.array([0, 1, 2]),
    ...           "accuracy": np.array([0.85, 0.9, 0.5]), "intact_accuracy": 0.9}
    >>> fig = plot_ablation(result)
    >>> [round(float(bar.get_height()), 6) for bar in fig.axes[0].patches]
    [5.0, 0.0, 40.0]
    """
    if not isinstance(result, Mapping):
        raise TypeError(
            f"result must be the dict cnnviz.channels.channel_ablation returns; got "
            f"{type(result).__name__}"
        )
    layer = _layer(result)
    channels = _channels(result)
    accuracy = _numbers(_field(result, "accuracy", "result"), "result['accuracy']")
    if accuracy.shape != channels.shape:
        raise ValueError(
            f"result['accuracy'] must hold one accuracy per channel, shape ({len(channels)},); "
            f"got shape {accuracy.shape}"
        )
    intact = _numbers(_field(result, "intact_accuracy", "result"), "result['intact_accuracy']")
    if intact.ndim != 0:
        raise ValueError(f"result['intact_accuracy'] must be one number; got shape {intact.shape}")
    for name, values in (("accuracy", accuracy), ("intact_accuracy", intact)):
        outside = ~((values >= 0) & (values <= 1))  # NaN is outside too
        if outside.any():
            raise ValueError(
                f"result[{name!r}] must hold accuracies, fractions in [0, 1] (not percentages); got "
                f"{float(np.atleast_1d(values)[np.atleast_1d(outside)][0])}"
            )

    fill = _field(result, "fill", "result", required=False)
    if fill is not None:
        fill = _checks.one_of(fill, _FILLS, "result['fill']")
    replaced = {
        None: "switched off",
        "zero": "switched off (its output set to zero)",
        "mean": "switched off (set to its mean activation)",
        "given": "switched off (set to a given value)",
    }[fill]

    # Rounded to 1e-9 points (an image of 1e11): accuracies computed two ways (0.7 and
    # 0.7000000000000001) differ by rounding only, which must draw no bar and no scale of 1e-14.
    lost = np.round(100 * (float(intact) - accuracy), 9) + 0.0  # + 0.0: no -0.0
    # 0.45 inch a bar, room for its label, up to a page's width (12 inches, as
    # plot_class_activations): 256 channels made a figure 116 inches wide. Past
    # _LABELLED_BARS the bars are too narrow for labels (the y axis gives the values), and
    # past 32 channels only every n-th is numbered, 32 numbers at most.
    count = len(channels)
    figure = _figure(fig, min(max(1.5 + 0.45 * count, 5.0), 12.0), 3.6)
    ax = figure.subplots()
    positions = np.arange(count)
    colours = np.where(lost >= 0, "tab:red", "tab:blue")
    bars = ax.bar(positions, lost, color=colours)
    if count <= _LABELLED_BARS:
        ax.bar_label(bars, labels=[_points(v) for v in lost], fontsize="x-small", padding=2)
    ax.axhline(0, color="black", linewidth=0.8)
    step = -(-count // 32)
    ax.set_xticks(positions[::step], labels=[str(c) for c in channels[::step]])
    ax.set_xlim(-0.6, len(channels) - 0.4)
    top = max(float(lost.max()), 0.0)
    bottom = min(float(lost.min()), 0.0)
    room = 0.12 * (top - bottom) or 1.0  # room for the bar labels
    ax.set_ylim(bottom - (room if bottom < 0 else 0), top + room)
    ax.set_xlabel(f"channel {replaced}")
    ax.set_ylabel("accuracy lost\n(percentage points)")
    title = (
        f"{layer}: accuracy lost per channel "
        f"{_TITLES.get(fill, 'switched off')}\n"
        f"intact accuracy {float(intact):.2%} ({len(channels)} channels)"
    )
    # Wrapped to the axes (the figure less about an inch of y labels), centred over it:
    # a long layer name ran off both edges (Matplotlib does not wrap a title).
    inches = figure.bbox.width / figure.dpi - 1.0
    ax.set_title(_wrap_title(title, inches, "medium"), fontsize="medium")
    ax.grid(axis="y", alpha=0.3)
    return figure
