"""Figures of what each channel learned: kernels, receptive fields, top patches, classes, ablation.

They draw what :mod:`cnnviz.channels` computes (NumPy arrays and dicts of
arrays, never a model). Signed values (kernel weights) are drawn on
``RdBu_r`` with limits symmetric about zero, so that white is zero.
Pixel ``i`` of an image spans ``i - 0.5`` to ``i + 0.5`` in the axes'
coordinates (as :meth:`~matplotlib.axes.Axes.imshow` draws it), so a box
``(top, left, bottom, right)``, bottom and right exclusive, is drawn from
``(left - 0.5, top - 0.5)`` to ``(right - 0.5, bottom - 0.5)``: on the
pixels' edges.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from .. import _checks
from ..data import CLASS_NAMES
from ._figures import (
    _DIVERGING,
    _bare,
    _class_names,
    _draw_image,
    _field,
    _figure,
    _grey_images,
    _grid_colourbar,
    _map_scale,
    _new_figure,
    _numbers,
    _suptitle,
    _tiles,
)
from .feature_maps import channel_grid

# Kernel tiles in inches: a 5x5 kernel needs little room, and conv2's 96 tiles must fit a page.
_KERNEL_TILE = 1.1
_SMALL_KERNEL_TILE = 0.8
# Room at the left of a kernel grid for the row labels "in 0", "in 1", ...
_ROW_LABELS = 0.45
# Room at the right of the colour bar's ticks for its two-line label, in inches.
_BAR_LABEL = 0.4
# Where a patch's field hangs over the image's edge: no pixel, a light grey unlike black 0.
_OUTSIDE = "#d9d9d9"
# Box outlines: distinct colours and dash patterns, so that nested boxes sharing an edge stay apart.
_BOX_COLOURS = ("tab:red", "tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:cyan")
_BOX_STYLES = ("-", "--", "-.", ":")


# --- checks ----------------------------------------------------------------------------------


def _integers(values: object, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return `values` as int64 if they are integers of the given shape."""
    array = np.asarray(values)
    if array.size and (not np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise TypeError(f"{name} must hold integers; got dtype {array.dtype}")
    if array.shape != shape:
        expected = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name} must have shape {expected}; got shape {array.shape}")
    return array.astype(np.int64)


def _channels(result: object) -> np.ndarray:
    channels = np.asarray(_field(result, "channels", "result"))
    if channels.ndim != 1 or channels.size == 0:
        raise ValueError(
            f"result['channels'] must be a non-empty 1-D array of channel numbers; "
            f"got shape {channels.shape}"
        )
    return _integers(channels, "result['channels']", channels.shape)


def _layer(result: object) -> str:
    layer = _field(result, "layer", "result")
    if not isinstance(layer, str):
        raise TypeError(f"result['layer'] must be a layer name (str); got {layer!r}")
    return layer


def _boxes_within(boxes: np.ndarray, name: str, height: int, width: int) -> None:
    """Refuse boxes that are empty or reach outside an image of `height` x `width`."""
    top, left, bottom, right = np.moveaxis(boxes, -1, 0)
    bad = (top < 0) | (left < 0) | (bottom > height) | (right > width)
    bad |= (bottom <= top) | (right <= left)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must hold boxes (top, left, bottom, right), bottom and right exclusive, "
            f"non-empty and within the {height}x{width} image; got "
            f"{boxes[where].tolist()} at {where}"
        )


def _box_rectangle(box: Sequence[int], **style) -> Rectangle:
    """Return the rectangle on the pixel edges around the pixels of `box` (bottom, right exclusive)."""
    top, left, bottom, right = (int(v) for v in box)
    return Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, **style)


# --- plot_kernels ----------------------------------------------------------------------------


def plot_kernels(
    kernels: np.ndarray, *, title: str | None = None, fig: Figure | SubFigure | None = None
) -> Figure | SubFigure:
    """Draw a convolution's kernels: one tile per filter and input channel, on one scale.

    With one input channel (a first convolution on grayscale images) each
    filter is one tile, titled ``Filter N``, several per row. With more,
    each filter is a column (titled ``Filter N``) and each input channel a
    row (labelled ``in c``): conv2 of LeNet-5 gives 6 rows of 16 tiles. All
    tiles share one diverging scale, ``RdBu_r`` from ``-m`` to ``m`` where
    ``m`` is the largest absolute weight: white is zero, red a positive
    weight (the filter responds to brightness there), blue a negative one.
    The colour bar's label says so.

    Parameters
    ----------
    kernels : array_like
        (kh, kw, in_channels, filters), as :func:`cnnviz.kernels`
        returns (Keras' ``Conv2D`` kernel layout).
    title : str, optional
        A first line for the figure's title (say which layer and model);
        the second says the kernels' shape and that they share one scale.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `kernels` is not 4-D, is empty or holds NaN or infinite values.
    TypeError
        If `kernels` are not numbers or `fig` is not a figure.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_kernels
    >>> kernels = np.linspace(-1, 3, 3 * 3 * 2 * 4).reshape(3, 3, 2, 4)
    >>> fig = plot_kernels(kernels)
    >>> tiles = [ax for ax in fig.axes if ax.get_images()]
    >>> len(tiles), tiles[0].get_title(), tiles[0].get_ylabel()
    (8, 'Filter 0', 'in 0')
    >>> image = tiles[0].get_images()[0]
    >>> image.norm.vmin, image.norm.vmax
    (-3.0, 3.0)
    """
    array = _numbers(kernels, "kernels")
    if array.ndim != 4 or array.size == 0:
        raise ValueError(
            "kernels must be a non-empty (kh, kw, in_channels, filters) array, as a Conv2D "
            f"layer's kernel; got shape {array.shape}"
        )
    _checks.finite(array, "kernels")
    kh, kw, inputs, filters = array.shape
    bound = float(np.abs(array).max()) or 1.0  # all zeros: any symmetric scale shows white
    norm = Normalize(-bound, bound)

    if inputs == 1:
        # A near-square grid (2x3 for 6 filters): tall enough for the colour bar's label.
        columns = channel_grid(filters, max(3, math.ceil(math.sqrt(filters))))[1]
        count, left = filters, 0.0
    else:
        columns, count, left = filters, inputs * filters, _ROW_LABELS
    rows = channel_grid(count, columns)[0]
    tile = _KERNEL_TILE if columns <= 8 else _SMALL_KERNEL_TILE
    # A title line of the caller's above the shape line: 0.2 inches more at the top.
    room = {"left": left, "right": _BAR_LABEL, "top": 0.0 if title is None else 0.2}
    figure = _new_figure(fig, rows, columns, colourbar=True, tile=tile, **room)
    tiles = _tiles(figure, count, rows, columns, colourbar=True, **room)
    for position, ax in enumerate(tiles):
        channel, kernel = divmod(position, filters) if inputs > 1 else (0, position)
        image = ax.imshow(
            array[:, :, channel, kernel], cmap=_DIVERGING, norm=norm, interpolation="nearest"
        )
        _bare(ax)
        if channel == 0:
            ax.set_title(f"Filter {kernel}", fontsize="small")
        if inputs > 1 and kernel == 0:
            ax.set_ylabel(f"in {channel}", rotation=0, ha="right", va="center", fontsize="small")
    bar = _grid_colourbar(figure, image)
    bar.set_label(f"weight (white = 0)\nscale symmetric about 0: ±{bound:.3g}", fontsize="small")
    layout = "" if inputs == 1 else ", filters in columns, input channels in rows"
    shape = f"{filters} filters of {kh}x{kw}x{inputs}{layout}; one scale for all"
    _suptitle(figure, shape if title is None else f"{title}\n{shape}")
    return figure


# --- plot_receptive_field --------------------------------------------------------------------


def plot_receptive_field(
    image: np.ndarray,
    boxes: Mapping[str, Sequence[int]] | np.ndarray,
    *,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw an image with boxes around the pixels that units see (their receptive fields).

    Each box is outlined on the pixels' edges, so that it encloses exactly
    the pixels ``top`` to ``bottom - 1`` and ``left`` to ``right - 1``, in
    its own colour, and named in the legend with its rows, columns and
    size. Larger boxes get wider lines, drawn beneath smaller ones, so
    that nested boxes sharing an edge (the fields of a corner unit) all
    show along it.

    Parameters
    ----------
    image : array_like
        (H, W), (H, W, 1) or (H, W, 3); ``uint8`` (0 to 255) or float.
    boxes : dict or array_like
        ``{label: (top, left, bottom, right)}``, bottom and right
        exclusive, as :func:`cnnviz.receptive_box` returns them;
        or an (N, 4) array of such boxes, labelled ``box 0``, ``box 1``, ...
        Boxes must be non-empty and within the image.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `image` has the wrong shape, or a box is not four integers,
        is empty or reaches outside the image.
    TypeError
        If `boxes` is neither a mapping nor an array, or `fig` is not a
        figure.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_receptive_field
    >>> fig = plot_receptive_field(np.zeros((28, 28)), {"conv1 (5x5)": (0, 0, 5, 5)})
    >>> box = fig.axes[0].patches[0]
    >>> box.get_xy(), box.get_width(), box.get_height()
    ((-0.5, -0.5), 5, 5)
    """
    shape = np.shape(image)
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[-1] not in (1, 3)):
        raise ValueError(
            f"image must be one image (H, W), (H, W, 1) or (H, W, 3); got shape {shape}"
        )
    x = _grey_images(np.asarray(image)[np.newaxis], "image")[0]
    if isinstance(boxes, Mapping):
        labels = [str(label) for label in boxes]
        values = list(boxes.values())
    elif isinstance(boxes, (np.ndarray, Sequence)) and not isinstance(boxes, str):
        values = list(boxes)
        labels = [f"box {i}" for i in range(len(values))]
    else:
        raise TypeError(
            "boxes must be a dict {label: (top, left, bottom, right)} or an (N, 4) array; "
            f"got {type(boxes).__name__}"
        )
    if not values:
        raise ValueError("boxes is empty: give at least one box (top, left, bottom, right)")
    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged: a box of another length
        raise ValueError(
            f"boxes must each be four integers (top, left, bottom, right); got {values!r}"
        ) from error
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(
            f"boxes must each be four integers (top, left, bottom, right); got shape {array.shape}"
        )
    array = _integers(array, "boxes", array.shape)
    _boxes_within(array, "boxes", *x.shape[:2])

    height, width = x.shape[:2]
    # The legend goes below the image: its entries are wider than a 4-inch image is.
    figure = _figure(fig, 4.6, 4.4 + 0.22 * len(array))
    ax = figure.subplots()
    _draw_image(ax, x)
    # Nested fields often share an edge (all of a corner unit's fields start at 0, 0): larger
    # boxes get wider lines, drawn beneath, so that every box's colour shows along the edge.
    areas = (array[:, 2] - array[:, 0]) * (array[:, 3] - array[:, 1])
    order = np.argsort(np.argsort(areas, kind="stable"), kind="stable")  # 0 for the smallest
    for i, (label, box) in enumerate(zip(labels, array, strict=True)):
        top, left, bottom, right = (int(v) for v in box)
        ax.add_patch(
            _box_rectangle(
                box,
                edgecolor=_BOX_COLOURS[i % len(_BOX_COLOURS)],
                linestyle=_BOX_STYLES[i // len(_BOX_COLOURS) % len(_BOX_STYLES)],
                linewidth=1.5 + 1.2 * int(order[i]),
                zorder=3 + len(array) - int(order[i]),
                clip_on=False,  # a box on the image's edge: draw all of its line, not half
                label=f"{label}: rows {top}-{bottom - 1}, columns {left}-{right - 1} "
                f"({bottom - top}x{right - left})",
            )
        )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize="small", frameon=False)
    ax.set_title(f"{height}x{width} image:\neach box encloses the pixels one unit sees")
    return figure


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
        image of `images`, a box is empty or outside the image, or
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

    if not isinstance(context, bool):
        raise TypeError(f"context must be True or False; got {context!r}")
    k = shape[1]
    sizes = boxes[c, :, 2:] - boxes[c, :, :2]
    field = tuple(int(v) for v in sizes.max(axis=0))  # the largest box: the unclipped field
    figure = _figure(fig, max(1.35 * k, 4.0), 3.6 if context else 2.0)
    axes = figure.subplots(2 if context else 1, k, squeeze=False)
    for rank in range(k):
        picture = x[index[c, rank]]
        top, left, bottom, right = (int(v) for v in boxes[c, rank])
        patch = axes[0, rank]
        _draw_patch(
            patch, _same_scale(picture[top:bottom, left:right], picture), boxes[c, rank], field
        )
        patch.set_title(f"image {index[c, rank]}\n{values[c, rank]:.3g}", fontsize="small")
        if context:
            whole = axes[1, rank]
            _draw_image(whole, picture)
            whole.add_patch(_box_rectangle(boxes[c, rank], edgecolor="tab:red", linewidth=1.5))
            whole.set_title(f"unit ({rows[c, rank]}, {cols[c, rank]})", fontsize="small")
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
    mean is negative. The colour bar's label says which.

    Parameters
    ----------
    matrix : array_like
        (num_classes, channels) mean activations, as
        :func:`cnnviz.class_mean_activations` returns.
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
        If `matrix` is not 2-D and non-empty, holds NaN or infinite
        values, or `class_names` does not name every row.
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
    _checks.finite(values, "matrix")
    names = _class_names(class_names, len(values), f"matrix of shape {values.shape}")

    classes, channels = values.shape
    # 0.4 inch a channel up to a page's width; beyond, every fourth channel is numbered.
    figure = _figure(fig, min(max(3.5 + 0.4 * channels, 6.0), 12.0), 1.4 + 0.35 * classes)
    ax = figure.subplots()
    cmap, norm, scale = _map_scale(values)
    image = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    ax.set_xticks(np.arange(channels))
    ax.set_yticks(np.arange(classes), labels=names)
    if channels > 32:  # every channel's number would overlap: label every fourth
        ax.set_xticks(np.arange(0, channels, 4))
    ax.set_xlabel("channel")
    ax.set_title("Mean activation of each channel over each class's images")
    bar = figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label(f"mean activation, {scale}", fontsize="small")
    return figure


# --- plot_ablation ---------------------------------------------------------------------------


def plot_ablation(
    result: Mapping[str, object], *, fig: Figure | SubFigure | None = None
) -> Figure | SubFigure:
    """Draw the accuracy lost when each channel is switched off (its output set to zero).

    One bar per channel: the intact model's accuracy minus the accuracy
    without that channel, in percentage points, so a tall bar is a channel
    the model needs, a bar at zero one it can do without, and a bar below
    zero one whose absence helps. Each bar is labelled with its value; the
    title gives the intact accuracy.

    Parameters
    ----------
    result : dict
        The result of :func:`cnnviz.channel_ablation`:
        ``"layer"`` (str), ``"channels"`` (C,) integers, ``"accuracy"``
        (C,) the accuracy with each channel switched off, and
        ``"intact_accuracy"``, all accuracies fractions in [0, 1].
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If a key is missing, ``accuracy`` is not one value per channel, or
        an accuracy is not in [0, 1].
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

    lost = 100 * (float(intact) - accuracy)
    figure = _figure(fig, max(1.5 + 0.45 * len(channels), 5.0), 3.6)
    ax = figure.subplots()
    positions = np.arange(len(channels))
    colours = np.where(lost >= 0, "tab:red", "tab:blue")
    bars = ax.bar(positions, lost, color=colours)
    ax.bar_label(bars, labels=[f"{v:.1f}" for v in lost], fontsize="x-small", padding=2)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(positions, labels=[str(c) for c in channels])
    ax.set_xlim(-0.6, len(channels) - 0.4)
    top = max(float(lost.max()), 0.0)
    bottom = min(float(lost.min()), 0.0)
    room = 0.12 * (top - bottom) or 1.0  # room for the bar labels
    ax.set_ylim(bottom - (room if bottom < 0 else 0), top + room)
    ax.set_xlabel("channel switched off (its output set to zero)")
    ax.set_ylabel("accuracy lost\n(percentage points)")
    ax.set_title(
        f"{layer}: accuracy lost per channel switched off\n"
        f"intact accuracy {float(intact):.2%} ({len(channels)} channels)",
        fontsize="medium",
    )
    ax.grid(axis="y", alpha=0.3)
    return figure
