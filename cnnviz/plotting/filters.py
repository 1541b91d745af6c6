"""Figures of a layer's filters and of the pixels its units see: kernels and receptive fields.

They draw what :mod:`cnnviz.channels` computes from the model alone, no data
set: a convolution's weights (:func:`~cnnviz.kernels`) and the input pixels
one unit sees (:func:`~cnnviz.receptive_box`). Kernel weights are signed, so
they are drawn on ``RdBu_r`` with limits symmetric about zero: white is zero.
Boxes are drawn on the pixels' edges, so that a box encloses exactly its
pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from .. import _checks
from ._figures import (
    _COLOURBAR,
    _DIVERGING,
    _bare,
    _box_rectangle,
    _boxes_within,
    _draw_image,
    _figure,
    _grey_images,
    _grid,
    _grid_colourbar,
    _integers,
    _new_figure,
    _numbers,
    _sees_nothing,
    _suptitle,
    _tiles,
    _wrap_title,
)

# Kernel tiles in inches: a 5x5 kernel needs little room, and conv2's 96 tiles must fit a page.
_KERNEL_TILE = 1.1
_SMALL_KERNEL_TILE = 0.8
# Room at the left of a kernel grid for the row labels "in 0", "in 1", ... or "Filter 15".
_ROW_LABELS = 0.45
_FILTER_LABELS = 0.75
# Room at the right of the colour bar's ticks for its two-line label, in inches.
_BAR_LABEL = 0.4
# Box outlines: distinct colours and dash patterns, so that nested boxes sharing an edge stay apart.
_BOX_COLOURS = ("tab:red", "tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:cyan")
_BOX_STYLES = ("-", "--", "-.", ":")


# --- plot_kernels ----------------------------------------------------------------------------


def plot_kernels(
    kernels: np.ndarray,
    *,
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
    filters_in_rows: bool = False,
) -> Figure | SubFigure:
    """Draw a convolution's kernels: one tile per filter and input channel, on one scale.

    With one input channel (a first convolution on grayscale images) each
    filter is one tile, titled ``Filter N``, several per row. With more,
    each filter is a column (titled ``Filter N``) and each input channel a
    row (labelled ``in c``): conv2 of LeNet-5 gives 6 rows of 16 tiles, or,
    with `filters_in_rows`, 16 rows (``Filter N``) of 6 (``in c``), which
    fit a narrow page. All
    tiles share one diverging scale, ``RdBu_r`` from ``-m`` to ``m`` where
    ``m`` is the largest absolute weight: white is zero, red a positive
    weight (the filter responds to brightness there), blue a negative one.
    The colour bar's label says so. A tile whose weights are all exactly 0
    is hatched: for a grouped convolution (``Conv2D(groups=g)``),
    :func:`cnnviz.kernels` gives 0 where a filter does not read a channel,
    and the title says so.

    Parameters
    ----------
    kernels : array_like
        (kh, kw, in_channels, filters), as :func:`cnnviz.kernels`
        returns (Keras' ``Conv2D`` kernel layout; a grouped convolution's
        laid out in all its input channels).
    title : str, optional
        A first line for the figure's title (say which layer and model);
        the second says the kernels' shape and that they share one scale.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.
    filters_in_rows : bool, default False
        With more than one input channel: one row per filter and one
        column per input channel, instead of the other way round.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `kernels` is not 4-D, is empty or holds NaN or infinite values.
    TypeError
        If `kernels` are not numbers, `title` is not a str, `fig` is not
        a figure or `filters_in_rows` is not True or False.

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
    filters_in_rows = _checks.flag(filters_in_rows, "filters_in_rows")
    title = _checks.optional_text(title, "title")
    kh, kw, inputs, filters = array.shape
    transpose = filters_in_rows and inputs > 1
    bound = float(np.abs(array).max()) or 1.0  # all zeros: any symmetric scale shows white
    norm = Normalize(-bound, bound)

    if inputs == 1:
        # The one layout rule (2x3 for 6 filters): tall enough for the colour bar's label.
        rows, columns = _grid(filters)
        count, left = filters, 0.0
    elif transpose:
        # One row per filter, one column per input channel.
        rows, columns, count, left = filters, inputs, inputs * filters, _FILTER_LABELS
    else:
        # One row per input channel, one column per filter.
        rows, columns, count, left = inputs, filters, inputs * filters, _ROW_LABELS
    tile = _KERNEL_TILE if max(rows, columns) <= 8 else _SMALL_KERNEL_TILE
    # Tiles of all-zero weights (a grouped convolution's unread channels) get a note.
    unread = inputs > 1 and bool((~array.any(axis=(0, 1))).any())
    layout = ", filters in columns, input channels in rows" if inputs > 1 else ""
    if transpose:
        layout = " in rows, input channels in columns"
    shape = f"{filters} filter{'s' if filters > 1 else ''} of {kh}x{kw}x{inputs}{layout}; one scale for all"
    if unread:
        shape += "\nhatched: all weights 0 (where a grouped convolution's filter does not read)"
    heading = shape if title is None else f"{title}\n{shape}"

    # 0.2 inches more at the top for each line of the heading past the first, as _suptitle
    # wraps them: to a new figure's width, or to the width of the figure given (a SubFigure
    # half a page wide wraps to more lines than a figure of its own would).
    def room(inches: float) -> dict:
        lines = _wrap_title(heading, inches).count("\n") + 1
        return {"left": left, "right": _BAR_LABEL, "top": 0.2 * (lines - 1)}

    width = tile * columns + left + _BAR_LABEL + _COLOURBAR
    figure = _new_figure(fig, rows, columns, colourbar=True, tile=tile, **room(width))
    given = room(figure.bbox.width / figure.dpi)
    tiles = _tiles(figure, count, rows, columns, colourbar=True, **given)
    for position, ax in enumerate(tiles):
        if transpose:
            kernel, channel = divmod(position, inputs)
        else:
            channel, kernel = divmod(position, filters) if inputs > 1 else (0, position)
        weights = array[:, :, channel, kernel]
        image = ax.imshow(weights, cmap=_DIVERGING, norm=norm, interpolation="nearest")
        if unread and not weights.any():
            # A filter of a grouped convolution does not read this channel (cnnviz.kernels
            # gives 0 there): hatched, so that it does not read as weights near zero.
            ax.add_patch(
                Rectangle(
                    (-0.5, -0.5),
                    kw,
                    kh,
                    fill=False,
                    hatch="///",
                    edgecolor="#b0b0b0",
                    linewidth=0,
                )
            )
        _bare(ax)
        top, side = (channel, kernel) if not transpose else (kernel, channel)
        if top == 0:  # the first row: titled with its column's filter (input channel)
            ax.set_title(f"in {channel}" if transpose else f"Filter {kernel}", fontsize="small")
        if inputs > 1 and side == 0:  # the first column: labelled with its row's
            label = f"Filter {kernel}" if transpose else f"in {channel}"
            ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize="small")
    bar = _grid_colourbar(figure, image)
    bar.set_label(f"weight (white = 0)\nscale symmetric about 0: ±{bound:.3g}", fontsize="small")
    _suptitle(figure, heading)
    return figure


# --- plot_receptive_field --------------------------------------------------------------------


def plot_receptive_field(
    image: np.ndarray,
    boxes: Mapping[str, Sequence[int]] | np.ndarray,
    *,
    margin: int = 0,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw an image with boxes around the pixels that units see (their receptive fields).

    Each box is outlined on the pixels' edges, so that it encloses exactly
    the pixels ``top`` to ``bottom - 1`` and ``left`` to ``right - 1``, in
    its own colour, and named in the legend with its rows, columns and
    size. Larger boxes get wider lines, drawn beneath smaller ones, so
    that nested boxes sharing an edge (the fields of a corner unit) all
    show along it.

    With a `margin`, a band of that many pixels around the image is drawn
    too, hatched grey, and the image's edge outlined: there a field can
    be drawn whole where it hangs over the edge. With ``same`` padding a
    border unit's field does: :func:`cnnviz.receptive_box` gives only its
    part in the image, and beyond the edge the network reads the padding's
    zeros, not pixels (``image[top:bottom, left:right]`` is then not what
    the unit sees). The margin is not drawn black, as zero pixels would
    be: past the first layer the padding's zeros are zeros of a feature
    map, which need not be what any pixels would give.

    Parameters
    ----------
    image : array_like
        (H, W), (H, W, 1) or (H, W, 3); ``uint8`` (0 to 255) or float.
    boxes : dict or array_like
        ``{label: (top, left, bottom, right)}``, bottom and right
        exclusive, as :func:`cnnviz.receptive_box` returns them;
        or an (N, 4) array of such boxes, labelled ``box 0``, ``box 1``, ...
        Boxes must be non-empty and within the image (and its `margin`),
        but for ``(0, 0, 0, 0)``, the box of a unit that sees no pixel
        (only padding), which is named in the legend and not drawn. A box
        that reaches into the margin has negative ``top`` or ``left``, or
        ``bottom`` or ``right`` beyond the image's size; its legend entry
        says how much of it is in the image.
    margin : int, default 0
        How many pixels beyond each edge of the image to draw, hatched
        (see above).
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
        is empty (other than ``(0, 0, 0, 0)``) or reaches outside the image
        and its margin, or `margin` is not a non-negative integer.
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

    A corner unit's whole field, hanging 6 pixels over the edge:

    >>> fig = plot_receptive_field(np.zeros((28, 28)), {"max_pool2 (0, 0)": (-6, -6, 10, 10)}, margin=6)
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'max_pool2 (0, 0): rows -6 to 9, columns -6 to 9 (16x16; 10x10 in the image)'
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
    margin = _checks.non_negative_int(margin, "margin")
    _boxes_within(array, "boxes", *x.shape[:2], margin)

    height, width = x.shape[:2]
    # The legend goes below the image: its entries are wider than a 4-inch image is.
    # A margin adds room for the band and for the longer legend entries of boxes reaching into it.
    grow = 0.8 if margin else 0.0
    figure = _figure(fig, 4.6 + grow, 4.4 + grow + 0.22 * len(array))
    ax = figure.subplots()
    _draw_image(ax, x)
    if margin:
        _draw_margin(ax, height, width, margin)
    # Nested fields often share an edge (all of a corner unit's fields start at 0, 0): larger
    # boxes get wider lines, drawn beneath, so that every box's colour shows along the edge.
    areas = (array[:, 2] - array[:, 0]) * (array[:, 3] - array[:, 1])
    order = np.argsort(np.argsort(areas, kind="stable"), kind="stable")  # 0 for the smallest
    for i, (label, box) in enumerate(zip(labels, array, strict=True)):
        top, left, bottom, right = (int(v) for v in box)
        rows, columns = f"rows {top}-{bottom - 1}", f"columns {left}-{right - 1}"
        size = f"{bottom - top}x{right - left}"
        if top < 0 or left < 0 or bottom > height or right > width:
            # Part of it hangs over the edge: "-6-9" would read as a range of negatives.
            rows, columns = f"rows {top} to {bottom - 1}", f"columns {left} to {right - 1}"
            inside = (min(bottom, height) - max(top, 0), min(right, width) - max(left, 0))
            # A box wholly in the margin has no pixel in the image: not "-1x-1" nor "0x5".
            size += (
                f"; {inside[0]}x{inside[1]} in the image"
                if min(inside) > 0
                else "; none of it in the image"
            )
        if _sees_nothing(box):
            # A unit that reads only padding: no box to draw, an entry that says so.
            ax.plot([], [], " ", label=f"{label}: sees no pixel (only padding)")
            continue
        ax.add_patch(
            _box_rectangle(
                box,
                edgecolor=_BOX_COLOURS[i % len(_BOX_COLOURS)],
                linestyle=_BOX_STYLES[i // len(_BOX_COLOURS) % len(_BOX_STYLES)],
                linewidth=1.5 + 1.2 * int(order[i]),
                zorder=3 + len(array) - int(order[i]),
                clip_on=False,  # a box on the image's edge: draw all of its line, not half
                label=f"{label}: {rows}, {columns} ({size})",
            )
        )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize="small", frameon=False)
    title = f"{height}x{width} image:\neach box encloses the pixels one unit sees"
    if margin:
        title = (
            f"{height}x{width} image and, hatched, {margin} pixel{'s' if margin > 1 else ''}\n"
            "beyond its edge: each box spans one unit's field"
        )
    ax.set_title(title)
    return figure


def _draw_margin(ax, height: int, width: int, margin: int) -> None:
    """Draw a hatched band `margin` pixels wide around the image and outline the image's edge."""
    ax.set_xlim(-0.5 - margin, width - 0.5 + margin)
    ax.set_ylim(height - 0.5 + margin, -0.5 - margin)
    ax.set_facecolor("#e8e8e8")
    # One hatched rectangle over everything, beneath the image: the band is what shows of it.
    ax.add_patch(
        Rectangle(
            (-0.5 - margin, -0.5 - margin),
            width + 2 * margin,
            height + 2 * margin,
            facecolor="#e8e8e8",
            hatch="//",
            edgecolor="#a0a0a0",
            linewidth=0,
            zorder=0,
            label="_margin",
        )
    )
    ax.images[0].set_zorder(1)
    ax.add_patch(
        Rectangle(
            (-0.5, -0.5),
            width,
            height,
            fill=False,
            edgecolor="#808080",
            linewidth=1,
            zorder=2,
            linestyle="--",
            label="_edge",
        )
    )
