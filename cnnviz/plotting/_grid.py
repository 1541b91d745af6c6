"""Grid code shared by the figures: tile layout, new figures, titles and strips.

Private: the public modules of :mod:`cnnviz.plotting` draw with it. The pure
layout computation, :func:`channel_grid`, is public.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure, SubFigure

from .._checks import positive_int

# Width of one grid tile in inches; figures grow with the number of rows.
_TILE = 2.0
# Room above a grid for the figure's title, in inches.
_TOP = 0.5
# Room at the right of a grid for its one colour bar and the bar's tick labels, in inches.
_COLOURBAR = 0.8


def channel_grid(n: int, ncols: int = 4) -> tuple[int, int]:
    """Return the (rows, columns) of a grid holding `n` tiles, `ncols` per row.

    Parameters
    ----------
    n : int
        Number of tiles (channels, images), at least 1.
    ncols : int, default 4
        Tiles per row, at least 1. Fewer columns are used when `n` is smaller.

    Returns
    -------
    tuple of int
        ``(rows, columns)``.

    Examples
    --------
    >>> channel_grid(6)
    (2, 4)
    >>> channel_grid(16)
    (4, 4)
    >>> channel_grid(1)
    (1, 1)
    """
    n = positive_int(n, "n")
    columns = min(positive_int(ncols, "ncols"), n)
    return math.ceil(n / columns), columns


def _new_figure(
    fig: Figure | SubFigure | None,
    nrows: int,
    ncols: int,
    *,
    colourbar: bool = False,
    tile: float = _TILE,
    left: float = 0.0,
    right: float = 0.0,
    top: float = 0.0,
) -> Figure | SubFigure:
    """Return `fig`, checked, or a new figure for a grid of `tile`-inch tiles.

    `left` and `right` are extra room in inches beside the grid, for row labels and a colour
    bar's label, `top` above it for a title of more lines (pass the same to `_tiles`).
    """
    if fig is None:
        # No layout engine: constrained layout costs more than the drawing itself for 16
        # or 64 tiles, and a grid of equal tiles needs only fixed margins (see _tiles).
        width = tile * ncols + left + right + (_COLOURBAR if colourbar else 0)
        return plt.figure(figsize=(width, tile * nrows + _TOP + top))
    if not isinstance(fig, (Figure, SubFigure)):
        raise TypeError(f"fig must be a matplotlib Figure or SubFigure; got {type(fig).__name__}")
    return fig


def _tiles(
    fig: Figure | SubFigure,
    n: int,
    ncols: int,
    *,
    colourbar: bool = False,
    left: float = 0.0,
    right: float = 0.0,
    top: float = 0.0,
) -> list:
    rows, columns = channel_grid(n, ncols)
    height = fig.bbox.height / fig.dpi  # inches; works for a SubFigure too
    width = fig.bbox.width / fig.dpi
    margins = {
        "left": 0.02 + left / width,
        "right": 1 - ((_COLOURBAR if colourbar else 0.02 * width) + right) / width,
        "bottom": 0.1 / height,
        "top": 1 - min(_TOP / height, 0.3) - top / height,
        "hspace": 0.25,
        "wspace": 0.1,
    }
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False, gridspec_kw=margins)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def _grid_colourbar(fig: Figure | SubFigure, image) -> Colorbar:
    """One colour bar for a whole grid of tiles, in the room `_tiles` left at the right."""
    # Before drawing, positions in a SubFigure are relative to it, as add_axes takes them.
    tiles = [ax.get_position() for ax in fig.axes if ax.get_visible()]
    top = max(tile.y1 for tile in tiles)
    bottom = min(tile.y0 for tile in tiles)
    width = fig.bbox.width / fig.dpi
    left = max(tile.x1 for tile in tiles) + 0.1 / width  # 0.1 inch right of the grid
    cax = fig.add_axes((left, bottom, 0.15 / width, top - bottom))
    return fig.colorbar(image, cax=cax)


def _suptitle(fig: Figure | SubFigure, title: str) -> None:
    """Title a figure: in the room a layout engine makes, else 0.08 inches below its top."""
    if fig.get_layout_engine() is not None:
        fig.suptitle(title)
    else:
        fig.suptitle(title, y=1 - 0.08 / (fig.bbox.height / fig.dpi), va="top")


def _strip(fig: Figure | SubFigure, values: np.ndarray, cmap, norm=None) -> None:
    # Fixed margins in inches (used where the figure has no layout engine, e.g. a
    # SubFigure of a bigger figure): room for the title above, the axis label below.
    height = fig.bbox.height / fig.dpi
    top, bottom = 1 - _TOP / height, 0.5 / height
    margins = {"top": top, "bottom": bottom} if top - bottom > 0.2 else {}
    ax = fig.subplots(gridspec_kw=margins)
    image = ax.imshow(
        values[np.newaxis, :], cmap=cmap, norm=norm, aspect="auto", interpolation="nearest"
    )
    ax.set_yticks([])
    ax.set_xlabel(f"Unit (0 to {values.size - 1})")
    fig.colorbar(image, ax=ax, orientation="vertical", fraction=0.05)
