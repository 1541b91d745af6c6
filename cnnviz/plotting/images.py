"""Images in a grid, each titled with its class name."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure, SubFigure

from .. import _checks
from ..data import CLASS_NAMES
from ._figures import _grid, _new_figure, _sequence, _tiles


def plot_images(
    images: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    *,
    ncols: int = 4,
    class_names: Sequence[str] = CLASS_NAMES,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw images in a grid, each titled with its class name.

    Parameters
    ----------
    images : array_like
        (N, H, W) or (N, H, W, 1) grayscale, or (N, H, W, 3) color images.
    labels : array_like of int, shape (N,)
        Class indices into `class_names`.
    ncols : int, default 4
        The most images per row; the columns are chosen from the count, as
        :func:`~cnnviz.channel_grid` says (6 images: 2 rows of 3).
    class_names : sequence of str, default CLASS_NAMES
        Names of the classes, in label order.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `images` and `labels` differ in length, the batch is empty, a
        label has no class name, or the images have the wrong shape.
    TypeError
        If `labels` are not integers or `class_names` is not a sequence.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_images
    >>> fig = plot_images(np.zeros((2, 28, 28), dtype=np.uint8), [7, 9])
    >>> [ax.get_title() for ax in fig.axes]
    ['Sneaker', 'Ankle boot']
    """
    x = np.asarray(images)
    y = np.asarray(labels)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] != 3):
        raise ValueError(
            f"images must be (N, H, W), (N, H, W, 1) or (N, H, W, 3); got shape {np.shape(images)}"
        )
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"images and labels must have the same length; got {len(x)} images and labels of "
            f"shape {y.shape}"
        )
    if len(x) == 0:
        raise ValueError("images is empty")
    _sequence(class_names, "class_names")
    # The one label check: the first label without a class name, and its index.
    y = _checks.labels(y, "labels", len(class_names))
    rows, columns = _grid(len(x), _checks.positive_int(ncols, "ncols"))
    figure = _new_figure(fig, rows, columns)
    for image, label, ax in zip(x, y, _tiles(figure, len(x), rows, columns), strict=True):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(class_names[int(label)])
        ax.set_xticks([])
        ax.set_yticks([])
    return figure
