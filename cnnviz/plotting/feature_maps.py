"""Feature maps: one tile per channel of a layer's output, or a strip of units.

:func:`channel_grid`, the grid those tiles are laid out in, is the public face
of the one layout rule of ``cnnviz.plotting`` (``_figures._grid``): the
grids of images, kernels, mistakes and attribution maps take their rows and
columns from it too.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Colormap, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure, SubFigure

from .._checks import finite_number, one_of, positive_int
from ._figures import (
    _DIVERGING,
    _cmap_name,
    _grid,
    _grid_colourbar,
    _new_figure,
    _strip,
    _suptitle,
    _tiles,
    _title,
)

#: How the tiles of one layer may be scaled (see :func:`plot_feature_maps`).
SCALES = ("map", "layer")
# NaN cells ("not computed", "not compared"): a colour neither grey nor RdBu_r has.
_MISSING = "#f2b705"


def channel_grid(n: int, ncols: int = 4) -> tuple[int, int]:
    """Return the (rows, columns) of a grid holding `n` tiles, at most `ncols` per row.

    The columns are chosen from the count, by the one layout rule of
    ``cnnviz.plotting`` (every grid of tiles follows it): of the grids
    of at most `ncols` columns with no empty row, those whose longer side is
    at most 3 times the shorter are kept (if any); of these, the one with
    the fewest empty tiles, then the squarest, then the one with more
    columns. So a count that fills a reasonably square grid leaves no empty
    tile (6 tiles: 2x3, not 2x4 with two empty), and any other leaves as
    few as a squarish grid allows.

    Parameters
    ----------
    n : int
        Number of tiles (channels, images), at least 1.
    ncols : int, default 4
        The most tiles per row, at least 1. Fewer columns are used where
        they fill the grid better (or `n` is smaller).

    Returns
    -------
    tuple of int
        ``(rows, columns)``.

    Examples
    --------
    >>> channel_grid(6)
    (2, 3)
    >>> channel_grid(16)
    (4, 4)
    >>> channel_grid(7)
    (2, 4)
    >>> channel_grid(1)
    (1, 1)
    >>> channel_grid(10, ncols=10)
    (2, 5)
    """
    n = positive_int(n, "n")
    return _grid(n, positive_int(ncols, "ncols"))


def _colour_limits(
    values: np.ndarray, vmin: float | None = None, vmax: float | None = None
) -> tuple[float, float, bool]:
    """Return ``(vmin, vmax, signed)``: the one scale for all of `values`.

    Signed values (any below zero) get limits symmetric about zero, so that
    zero sits in the middle of a diverging colormap; non-negative values
    (a ReLU's or a pooling's output) get 0 to their maximum. A limit that is
    given replaces the computed one. NaN values are ignored.
    """
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 0.0
    signed = low < 0 or (vmin is not None and vmin < 0)
    if signed:
        bound = max(abs(low), abs(high))
        low, high = -bound, bound
    else:
        low = 0.0
    if high <= low:  # all zeros (a dead ReLU): zero at the bottom of the scale
        high = low + 1.0
    low = low if vmin is None else vmin
    high = high if vmax is None else vmax
    if not low < high:
        given = " and ".join(
            f"{name}={value!r}"
            for name, value in (("vmin", vmin), ("vmax", vmax))
            if value is not None
        )
        raise ValueError(
            f"vmin must be below vmax; got vmin={low!r}, vmax={high!r} "
            f"({given} given, the other taken from the values)"
            if vmin is None or vmax is None
            else f"vmin must be below vmax; got vmin={vmin!r}, vmax={vmax!r}"
        )
    return low, high, low < 0


def _scaling(
    array: np.ndarray, scale: str, cmap, vmin: float | None, vmax: float | None
) -> tuple[Colormap, Normalize | None]:
    """Return the colormap and, on one shared scale, the norm (``None``: each tile alone)."""
    if scale == "map" and vmin is None and vmax is None:
        chosen = colormaps[cmap if cmap is not None else "gray"]
        return chosen.with_extremes(bad=_MISSING), None
    low, high, signed = _colour_limits(array, vmin, vmax)
    if cmap is None:
        cmap = _DIVERGING if signed else "gray"
    if signed and high > 0 and low != -high:
        # Asymmetric limits around zero: still white at zero, each side its own slope.
        norm = TwoSlopeNorm(0.0, low, high)
    else:
        norm = Normalize(low, high)
    return colormaps[cmap].with_extremes(bad=_MISSING), norm


def plot_feature_maps(
    output: np.ndarray,
    *,
    ncols: int = 4,
    cmap: str | None = None,
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
    scale: str = "map",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure | SubFigure:
    """Draw each channel of one layer output as a tile, on one scale or each on its own.

    This is the notebook's ``visualize_layer_output``: one tile per channel,
    titled ``Channel: N`` (N is the index into the last axis), at most
    `ncols` per row (the columns chosen from the count, as
    :func:`channel_grid` says), unused tiles hidden. A dense layer's output, shape (units,) or
    (1, units), is drawn as one labelled strip of units with a colour bar.

    How the colours are scaled:

    - ``scale="map"`` (the default, as the notebook drew them): each tile
      is scaled to its own range, in grey, with no colour bar. Bright means
      large *within that tile*; the same grey means different values in
      different tiles, so tiles cannot be compared.
    - ``scale="layer"``: every tile of the layer on one scale with one
      colour bar, so channels can be compared. Signed values (a
      convolution's output) are drawn on a diverging colormap, ``RdBu_r``,
      with limits symmetric about zero (white is zero, red above, blue
      below); non-negative values (a ReLU's or a pooling's output) in grey
      from 0 (black) to the layer's maximum (white).
    - `vmin` and/or `vmax` fix the limits (a missing one is taken as for
      ``"layer"``) and so imply one shared scale with a colour bar. Limits
      on both sides of zero get the diverging colormap with white at zero.

    A `cmap` given by the caller replaces the grey or diverging default.
    NaN values (for example cells left out of a comparison) and infinite
    ones (an overflow) are drawn in yellow, outlined in black, and do not
    count towards any scale: an infinity is not the largest value.

    Parameters
    ----------
    output : array_like
        One image's output: (H, W, C) or (1, H, W, C) for a convolution or
        pooling; (units,) or (1, units) for a dense layer.
    ncols : int, default 4
        The most tiles per row; the columns are chosen from the channel
        count by :func:`channel_grid`'s rule (6 channels: 2 rows of 3, 16:
        4 of 4), so a count that fills a squarish grid leaves no empty tile.
    cmap : str, optional
        Matplotlib colormap; by default grey, or ``RdBu_r`` for signed
        values on one scale.
    title : str, optional
        Title of the whole figure (for example the layer name).
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.
    scale : {"map", "layer"}, default "map"
        Each tile on its own scale, or all tiles on one scale with one
        colour bar.
    vmin, vmax : float, optional
        Fixed colour limits, shared by all tiles.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into (`fig` if given).

    Raises
    ------
    ValueError
        If `output` holds more than one image (pick one, e.g. ``output[:1]``),
        is not of rank 1 to 4, `ncols` is less than 1, `scale` is neither
        ``"map"`` nor ``"layer"``, a limit is not a finite number, or `vmin`
        is not below `vmax`.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_feature_maps
    >>> fig = plot_feature_maps(np.random.rand(1, 24, 24, 6), title="conv1")
    >>> [ax.get_title() for ax in fig.axes if ax.get_visible()][:2]
    ['Channel: 0', 'Channel: 1']

    On one scale, signed values get symmetric limits and one colour bar:

    >>> maps = np.linspace(-2, 1, 24 * 24 * 6).reshape(24, 24, 6)
    >>> fig = plot_feature_maps(maps, ncols=3, scale="layer")
    >>> image = fig.axes[0].get_images()[0]
    >>> image.norm.vmin, image.norm.vmax, image.get_cmap().name
    (-2.0, 2.0, 'RdBu_r')
    """
    array = np.asarray(output)
    if array.ndim not in (1, 2, 3, 4):
        raise ValueError(
            "output must be one image's layer output: (H, W, C) or (1, H, W, C), or "
            f"(units,) or (1, units) for a dense layer; got shape {array.shape}"
        )
    if array.ndim in (2, 4):
        if array.shape[0] != 1:
            raise ValueError(
                f"output holds a batch of {array.shape[0]} images (shape {array.shape}); "
                "pick one, e.g. output[:1] or output[i]"
            )
        array = array[0]
    if array.size == 0:
        raise ValueError(
            f"output is empty (shape {np.shape(output)}): a layer output needs at least one "
            "channel or unit, and maps of at least 1x1"
        )
    if np.issubdtype(array.dtype, np.floating):
        # +inf and -inf are no more a value of the scale than NaN: drawn apart and outlined
        # with it, never as the top or bottom colour.
        array = np.where(np.isfinite(array), array, np.nan)
    ncols = positive_int(ncols, "ncols")
    scale = one_of(scale, SCALES, "scale")
    cmap = _cmap_name(cmap)
    title = _title(title)
    vmin = None if vmin is None else finite_number(vmin, "vmin")
    vmax = None if vmax is None else finite_number(vmax, "vmax")
    colours, norm = _scaling(array, scale, cmap, vmin, vmax)

    if array.ndim == 1:
        figure = fig if fig is not None else plt.figure(figsize=(8, 1.8), layout="constrained")
        figure = _new_figure(figure, 1, 1)
        _strip(figure, array, colours, norm)
        if title:
            _suptitle(figure, title)
        return figure

    channels = array.shape[-1]
    shared = norm is not None
    rows, columns = channel_grid(channels, ncols)
    figure = _new_figure(fig, rows, columns, colourbar=shared)
    tiles = _tiles(figure, channels, rows, columns, colourbar=shared)
    # "Channel: 10" is about 0.8 inches wide at the medium size: narrower tiles get smaller titles.
    narrow = tiles[0].get_position().width * figure.bbox.width / figure.dpi < 0.85
    for channel, ax in enumerate(tiles):
        tile = array[..., channel]
        image = ax.imshow(tile, cmap=colours, norm=norm, interpolation="nearest")
        missing = np.isnan(tile)
        if missing.any() and not missing.all():
            # Outline what is left out, so that it reads as a region, not as a value.
            ax.contour(missing, levels=[0.5], colors="black", linewidths=1.2, corner_mask=False)
        ax.set_title(f"Channel: {channel}", fontsize="small" if narrow else "medium")
        ax.set_xticks([])
        ax.set_yticks([])
    if shared:
        _grid_colourbar(figure, image)
    if title:
        _suptitle(figure, title)
    return figure
