"""What the figures of :mod:`cnnviz.plotting` share: layout, colour scales, checks of arrays.

Private: the public modules of :mod:`cnnviz.plotting` draw with it, and take
what they share from here only, never from one another. It holds

- the layout of figures without a layout engine: the rows and columns of
  every grid of tiles (:func:`_grid`, one rule), tiles of a fixed size in
  inches, one colour bar for a grid, titles and strips of units;
- the colour scales of maps: signed values on ``RdBu_r`` symmetric about
  zero, non-negative ones on ``magma`` from zero, overlays whose opacity grows
  with the magnitude; boxes around pixels, drawn on the pixels' edges;
- the checks of the arrays and results the figures are given, so that a
  wrong argument gets the same message from every figure, and the one rule
  that tells class probabilities from other outputs.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.colorbar import Colorbar
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from .. import _checks

# Width of one grid tile in inches; figures grow with the number of rows.
_TILE = 2.0
# Room above a grid for the figure's title, in inches.
_TOP = 0.5
# Room at the right of a grid for its one colour bar and the bar's tick labels, in inches.
_COLOURBAR = 0.8
# Signed values on one scale: blue below zero, white at zero, red above.
_DIVERGING = "RdBu_r"
# Non-negative maps: lightness grows with the value, unlike the grey of the image beneath.
_SEQUENTIAL = "magma"
# Overlaid maps are at most this opaque, so the image stays visible under the strongest values.
_MAX_ALPHA = 0.85
# How far from 1 a row of class probabilities may sum (float32 softmax outputs
# are off by about 1e-7 per class; 1e-3 leaves room for rounded values).
_SUM_TOLERANCE = 1e-3


# --- layout ----------------------------------------------------------------------------------

#: The most a grid's longer side may be of its shorter one while a full grid is preferred.
_MAX_ASPECT = 3


def _grid(n: int, most: int | None = None) -> tuple[int, int]:
    """Return (rows, columns) for `n` tiles, at most `most` columns: the one layout rule.

    Every column count from 1 to ``min(n, most)`` is a candidate, with the
    rows it needs, ``ceil(n / columns)`` (so no row is empty). Candidates whose
    longer side is at most :data:`_MAX_ASPECT` (3) times the shorter are
    kept, if there are any. Of those, the one with the fewest empty tiles
    wins, then the squarest (the smallest longer-to-shorter ratio), then the
    one with more columns (a figure is read across). So a count with a
    divisor layout that is reasonably square fills every tile (6 -> 2x3,
    8 -> 2x4, 10 -> 2x5, 12 -> 3x4), and a prime one leaves as few empty
    tiles as a squarish grid allows (7 -> 2x4, 13 -> 3x5). Without `most`
    the grid is never taller than wide.
    """
    candidates = [(math.ceil(n / c), c) for c in range(1, min(n, most or n) + 1)]

    def aspect(grid: tuple[int, int]) -> float:
        return max(grid) / min(grid)

    kept = [grid for grid in candidates if aspect(grid) <= _MAX_ASPECT] or candidates
    return min(kept, key=lambda grid: (grid[0] * grid[1] - n, aspect(grid), -grid[1]))


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
    rows: int,
    columns: int,
    *,
    colourbar: bool = False,
    left: float = 0.0,
    right: float = 0.0,
    top: float = 0.0,
) -> list:
    """Return the first `n` axes of a `rows` x `columns` grid of tiles, the rest hidden.

    The margins are fixed, in inches: the room `_new_figure` made for a colour bar, row
    labels (`left`), a bar's label (`right`) and a longer title (`top`).
    """
    height = fig.bbox.height / fig.dpi  # inches; works for a SubFigure too
    width = fig.bbox.width / fig.dpi
    bottom = 0.1 / height
    margins = {
        "left": 0.02 + left / width,
        "right": 1 - ((_COLOURBAR if colourbar else 0.02 * width) + right) / width,
        "bottom": bottom,
        # A title of many lines in a short figure given: the tiles keep a tenth of it.
        "top": max(1 - min(_TOP / height, 0.3) - top / height, bottom + 0.1),
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


def _wrap_title(title: str, inches: float, fontsize: str = "large") -> str:
    """Wrap each line of `title` to `inches` (the rule `_suptitle` draws with; count its lines)."""
    width = max(20, int(inches / (0.075 if fontsize == "medium" else 0.09)))
    return "\n".join(textwrap.fill(line, width) for line in title.split("\n"))


def _suptitle(fig: Figure | SubFigure, title: str, fontsize: str = "large") -> None:
    """Title a figure: in the room a layout engine makes, else 0.08 inches below its top.

    Each line of `title` is wrapped to the figure's width: Matplotlib does not wrap a
    figure title, and cuts a line wider than the figure at both edges. A character of
    the "large" size (12 points) is taken as 0.09 inches wide, of "medium" 0.075.
    """
    title = _wrap_title(title, fig.bbox.width / fig.dpi, fontsize)
    if fig.get_layout_engine() is not None:
        fig.suptitle(title, fontsize=fontsize)
    else:
        fig.suptitle(title, y=1 - 0.08 / (fig.bbox.height / fig.dpi), va="top", fontsize=fontsize)


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


def _figure(fig, width: float, height: float) -> Figure | SubFigure:
    """Return `fig`, checked, or a new `width` x `height` inch figure with constrained layout."""
    if fig is None:
        return plt.figure(figsize=(width, height), layout="constrained")
    return _new_figure(fig, 1, 1)


# --- checks of what the figures are given ---------------------------------------------------


def _numbers(values: object, name: str) -> np.ndarray:
    """Return `values` as a float64 array if they are real numbers (not bool, not str)."""
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_:
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}")
    return array.astype(np.float64)


def _grey_images(images: object, name: str = "images") -> np.ndarray:
    """Return images (N, H, W) or (N, H, W, 3) as float32; uint8 scaled to [0, 1]."""
    x = _checks.float_images(images, name)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] != 3) or len(x) == 0:
        raise ValueError(
            f"{name} must be a non-empty batch (N, H, W), (N, H, W, 1) or (N, H, W, 3); "
            f"got shape {np.shape(images)}"
        )
    return x


def _integers(values: object, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return `values` as int64 if they are integers of the given shape."""
    array = np.asarray(values)
    if array.size and (not np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise TypeError(f"{name} must hold integers; got dtype {array.dtype}")
    if array.shape != shape:
        expected = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name} must have shape {expected}; got shape {array.shape}")
    return array.astype(np.int64)


def _maps(maps: object, name: str, images: np.ndarray | None = None) -> np.ndarray:
    """Return attribution maps (N, H, W) as float64, finite, matching `images` if given."""
    array = _numbers(maps, name)
    if array.ndim != 3 or array.size == 0:
        raise ValueError(
            f"{name} must be a non-empty batch of maps (N, H, W), as cnnviz.attribution "
            f"returns; got shape {array.shape}"
        )
    _checks.finite(array, name)
    if images is not None and array.shape != images.shape[:3]:
        raise ValueError(
            f"{name} must hold one map per image, of the images' size: (N, H, W) = "
            f"{images.shape[:3]}; got shape {array.shape}"
        )
    return array


def _title(title: object, name: str = "title") -> str | None:
    """Return `title` if it is None or a str (an array's truth would be asked of it otherwise)."""
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{name} must be a str or None; got {type(title).__name__}")
    return title


def _cmap_name(cmap: object, name: str = "cmap") -> str | None:
    """Return `cmap` if it is None or the name of a Matplotlib colormap."""
    if cmap is None:
        return None
    if not isinstance(cmap, str) or cmap not in colormaps:
        shown = repr(cmap) if isinstance(cmap, (str, int, float)) else type(cmap).__name__
        raise ValueError(
            f"{name} must be the name of a Matplotlib colormap (e.g. 'gray', 'viridis', "
            f"'RdBu_r'); got {shown}"
        )
    return cmap


def _sequence(values: object, name: str) -> Sequence:
    """Return `values` if it is a sequence (a list, a tuple; not a str), as names and titles are."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of names; got {values!r}")
    return values


def _class_names(class_names: object, count: int, what: str) -> list[str]:
    _sequence(class_names, "class_names")
    if len(class_names) != count:
        raise ValueError(
            f"class_names must name every class: {what} has {count} classes, but class_names "
            f"has {len(class_names)} names"
        )
    return [str(name) for name in class_names]


def _field(result: object, key: str, name: str, *, required: bool = True) -> object:
    """Return ``result[key]`` of a mapping, or ``result.key`` of any other object."""
    if isinstance(result, Mapping):
        if key in result:
            return result[key]
        if required:
            raise ValueError(
                f"{name} must have the key {key!r}; got a mapping with keys {sorted(map(str, result))}"
            )
        return None
    if hasattr(result, key):
        return getattr(result, key)
    if required:
        raise TypeError(
            f"{name} must be a mapping with the key {key!r} or an object with the attribute "
            f"{key!r}; got {type(result).__name__}"
        )
    return None


def _probability_row(output: np.ndarray, class_names: Sequence[str]) -> np.ndarray | None:
    """Return one image's class probabilities from a layer output, or None if it holds none.

    The rule, the same for every model: a layer output is class probabilities
    when it is 2-D, (1, C) with C of at least 2, every value is in [0, 1] and
    the row sums to 1 within 1e-3. It needs no layer object, so it holds for
    a softmax inside a Dense layer, a Softmax layer, an Activation layer or
    arrays computed elsewhere.

    Raises ValueError when the row is probabilities but C is not the number
    of `class_names`: drawing it as a strip would hide the mismatch.
    """
    array = np.asarray(output)
    if array.ndim != 2 or array.shape[0] != 1 or array.shape[1] < 2:
        return None
    row = array[0].astype(float)
    if not np.all(np.isfinite(row)) or row.min() < 0 or row.max() > 1:
        return None
    if abs(row.sum() - 1) > _SUM_TOLERANCE:
        return None
    if row.size != len(class_names):
        raise ValueError(
            f"class_names must name every class of a probability row: the output of shape "
            f"{array.shape} holds probabilities of {row.size} classes, but class_names has "
            f"{len(class_names)} names"
        )
    return row


# --- colour scales and drawing ----------------------------------------------------------------


def _map_scale(values: np.ndarray) -> tuple[str, Normalize, str]:
    """Return ``(cmap, norm, label)`` for one map: diverging about 0 if signed, else from 0."""
    low, high = float(values.min()), float(values.max())
    if low < 0:
        bound = max(-low, high)
        return _DIVERGING, Normalize(-bound, bound), f"symmetric about 0 (±{bound:.3g})"
    high = high if high > 0 else 1.0  # an all-zero map: black, at the bottom of the scale
    return _SEQUENTIAL, Normalize(0.0, high), f"0 to its maximum ({high:.3g})"


def _draw_map(ax, image: np.ndarray | None, values: np.ndarray, cmap: str, norm: Normalize):
    """Draw `values` alone, or over `image` with an opacity that grows with its magnitude."""
    if image is None:
        return ax.imshow(values, cmap=cmap, norm=norm, interpolation="nearest")
    _draw_image(ax, image)
    bound = max(abs(norm.vmin), abs(norm.vmax))
    alpha = _MAX_ALPHA * np.clip(np.abs(values) / bound, 0.0, 1.0)
    return ax.imshow(values, cmap=cmap, norm=norm, alpha=alpha, interpolation="nearest")


def _draw_image(ax, image: np.ndarray) -> None:
    if image.ndim == 2:
        # Pixels in [0, 1] keep their brightness; other ranges are stretched to black and white.
        low, high = (0.0, 1.0) if image.min() >= 0 and image.max() <= 1 else (None, None)
        ax.imshow(image, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
    else:
        ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


# --- boxes around pixels ---------------------------------------------------------------------
#
# Pixel ``i`` of an image spans ``i - 0.5`` to ``i + 0.5`` in the axes' coordinates (as
# imshow draws it), so a box ``(top, left, bottom, right)``, bottom and right exclusive, is
# drawn from ``(left - 0.5, top - 0.5)`` to ``(right - 0.5, bottom - 0.5)``: on the pixels'
# edges.


#: The box of a unit that sees no pixel (it reads only padding), as cnnviz.receptive_box
#: and cnnviz.top_patches give it.
NO_PIXEL = (0, 0, 0, 0)


def _sees_nothing(box: Sequence[int]) -> bool:
    """Whether `box` is the box of a unit that sees no pixel, (0, 0, 0, 0)."""
    return tuple(int(v) for v in box) == NO_PIXEL


def _boxes_within(boxes: np.ndarray, name: str, height: int, width: int, margin: int = 0) -> None:
    """Refuse boxes that are empty or reach outside an image of `height` x `width`.

    ``(0, 0, 0, 0)``, the box of a unit that sees no pixel (only padding), is taken: the
    library gives it, so the plots draw it (as no box, said in words). With a `margin`,
    boxes may reach that many pixels beyond each edge.
    """
    top, left, bottom, right = np.moveaxis(boxes, -1, 0)
    bad = (top < -margin) | (left < -margin)
    bad |= (bottom > height + margin) | (right > width + margin)
    bad |= (bottom <= top) | (right <= left)
    bad &= ~((top == 0) & (left == 0) & (bottom == 0) & (right == 0))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must hold boxes (top, left, bottom, right), bottom and right exclusive, "
            f"non-empty (or (0, 0, 0, 0) for a unit that sees no pixel) and within the "
            f"{height}x{width} image{f' and its margin of {margin}' if margin else ''}; "
            f"got {boxes[where].tolist()} at {where}"
        )


def _box_rectangle(box: Sequence[int], **style) -> Rectangle:
    """Return the rectangle on the pixel edges around the pixels of `box` (bottom, right exclusive)."""
    top, left, bottom, right = (int(v) for v in box)
    return Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, **style)
