"""Feature maps: one tile per channel of a layer's output, or a strip of units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure, SubFigure

from .._checks import positive_int
from ._grid import _new_figure, _strip, _suptitle, _tiles, channel_grid


def plot_feature_maps(
    output: np.ndarray,
    *,
    ncols: int = 4,
    cmap: str = "gray",
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw each channel of one layer output as a grayscale tile.

    This is the notebook's ``visualize_layer_output``: one tile per channel,
    titled ``Channel: N`` (N is the index into the last axis), `ncols` per
    row, unused tiles hidden. Each tile is scaled to its own range. A dense
    layer's output, shape (units,) or (1, units), is drawn as one labelled
    strip of units.

    Parameters
    ----------
    output : array_like
        One image's output: (H, W, C) or (1, H, W, C) for a convolution or
        pooling; (units,) or (1, units) for a dense layer.
    ncols : int, default 4
        Tiles per row.
    cmap : str, default "gray"
        Matplotlib colormap.
    title : str, optional
        Title of the whole figure (for example the layer name).
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into (`fig` if given).

    Raises
    ------
    ValueError
        If `output` holds more than one image (pick one, e.g. ``output[:1]``),
        is not of rank 1 to 4, or `ncols` is less than 1.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_feature_maps
    >>> fig = plot_feature_maps(np.random.rand(1, 24, 24, 6), title="conv1")
    >>> [ax.get_title() for ax in fig.axes if ax.get_visible()][:2]
    ['Channel: 0', 'Channel: 1']
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
    ncols = positive_int(ncols, "ncols")

    if array.ndim == 1:
        figure = fig if fig is not None else plt.figure(figsize=(8, 1.8), layout="constrained")
        figure = _new_figure(figure, 1, 1)
        _strip(figure, array, cmap)
        if title:
            _suptitle(figure, title)
        return figure

    channels = array.shape[-1]
    rows, columns = channel_grid(channels, ncols)
    figure = _new_figure(fig, rows, columns)
    for channel, ax in enumerate(_tiles(figure, channels, columns)):
        ax.imshow(array[..., channel], cmap=cmap)
        ax.set_title(f"Channel: {channel}", fontsize="medium")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        _suptitle(figure, title)
    return figure
