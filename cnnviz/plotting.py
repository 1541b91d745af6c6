"""Figures of images, feature maps and whole networks' layer outputs.

Every function returns a :class:`matplotlib.figure.Figure` (made with
:func:`matplotlib.pyplot.figure`, so notebooks and ``plt.show()`` display it)
and leaves showing, saving or closing it to the caller.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure, SubFigure

from .data import CLASS_NAMES

__all__ = [
    "channel_grid",
    "plot_feature_maps",
    "plot_history",
    "plot_images",
    "plot_layer_outputs",
    "plot_probabilities",
]

# Width of one grid tile in inches; figures grow with the number of rows.
_TILE = 2.0
# Room above a grid for the figure's title, in inches.
_TOP = 0.5


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
    for name, value in (("n", n), ("ncols", ncols)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    columns = min(int(ncols), int(n))
    return math.ceil(n / columns), columns


def _new_figure(fig: Figure | SubFigure | None, nrows: int, ncols: int) -> Figure | SubFigure:
    if fig is None:
        # No layout engine: constrained layout costs more than the drawing itself for 16
        # or 64 tiles, and a grid of equal tiles needs only fixed margins (see _tiles).
        return plt.figure(figsize=(_TILE * ncols, _TILE * nrows + _TOP))
    if not isinstance(fig, (Figure, SubFigure)):
        raise TypeError(f"fig must be a matplotlib Figure or SubFigure; got {type(fig).__name__}")
    return fig


def _tiles(fig: Figure | SubFigure, n: int, ncols: int) -> list:
    rows, columns = channel_grid(n, ncols)
    height = fig.bbox.height / fig.dpi  # inches; works for a SubFigure too
    margins = {
        "left": 0.02,
        "right": 0.98,
        "bottom": 0.1 / height,
        "top": 1 - min(_TOP / height, 0.3),
        "hspace": 0.25,
        "wspace": 0.1,
    }
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False, gridspec_kw=margins)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def _suptitle(fig: Figure | SubFigure, title: str) -> None:
    """Title a figure: in the room a layout engine makes, else 0.08 inches below its top."""
    if fig.get_layout_engine() is not None:
        fig.suptitle(title)
    else:
        fig.suptitle(title, y=1 - 0.08 / (fig.bbox.height / fig.dpi), va="top")


def _strip(fig: Figure | SubFigure, values: np.ndarray, cmap: str) -> None:
    # Fixed margins in inches (used where the figure has no layout engine, e.g. a
    # SubFigure of a bigger figure): room for the title above, the axis label below.
    height = fig.bbox.height / fig.dpi
    top, bottom = 1 - _TOP / height, 0.5 / height
    margins = {"top": top, "bottom": bottom} if top - bottom > 0.2 else {}
    ax = fig.subplots(gridspec_kw=margins)
    image = ax.imshow(values[np.newaxis, :], cmap=cmap, aspect="auto", interpolation="nearest")
    ax.set_yticks([])
    ax.set_xlabel(f"Unit (0 to {values.size - 1})")
    fig.colorbar(image, ax=ax, orientation="vertical", fraction=0.05)


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
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer; got {ncols!r}")

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
        Images per row.
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
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= len(class_names):
        raise ValueError(
            f"labels must be integers in range(0, {len(class_names)}) to index class_names; "
            f"got {y.tolist()}"
        )
    rows, columns = channel_grid(len(x), ncols)
    figure = _new_figure(fig, rows, columns)
    for image, label, ax in zip(x, y, _tiles(figure, len(x), columns), strict=True):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(class_names[int(label)])
        ax.set_xticks([])
        ax.set_yticks([])
    return figure


def plot_probabilities(
    probabilities: np.ndarray,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw one image's class probabilities as horizontal bars.

    Parameters
    ----------
    probabilities : array_like
        (num_classes,) or (1, num_classes), e.g. a softmax output.
    class_names : sequence of str, default CLASS_NAMES
        One name per class.
    title : str, optional
        Title of the plot.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If there is more than one image or the number of classes does not
        match `class_names`.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_probabilities
    >>> fig = plot_probabilities(np.full(10, 0.1))
    >>> len(fig.axes[0].patches)
    10
    """
    p = np.asarray(probabilities, dtype=float)
    if p.ndim == 2 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 1 or p.size != len(class_names):
        raise ValueError(
            f"probabilities must be one image's ({len(class_names)},) or "
            f"(1, {len(class_names)}) scores, one per class name; got shape "
            f"{np.shape(probabilities)}"
        )
    figure = fig if fig is not None else plt.figure(figsize=(6, 3.2), layout="constrained")
    figure = _new_figure(figure, 1, 1)
    ax = figure.subplots()
    positions = np.arange(p.size)
    best = int(np.argmax(p))
    colors = ["tab:orange" if i == best else "tab:blue" for i in positions]
    ax.barh(positions, p, color=colors)
    ax.set_yticks(positions, labels=list(class_names))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("Probability")
    for i, value in enumerate(p):
        ax.text(min(value + 0.01, 0.85), i, f"{value:.3f}", va="center", fontsize="small")
    if title:
        ax.set_title(title)
    return figure


def plot_history(
    history: Mapping[str, Sequence[float]] | object,
    *,
    validation_label: str = "validation",
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw the loss and the accuracy per epoch of a training run, side by side.

    Each panel shows the training values and, where the history has them,
    the validation values (``val_loss``, ``val_accuracy``).

    Parameters
    ----------
    history : dict or keras.callbacks.History
        Per-epoch lists under ``loss`` and optionally ``accuracy``,
        ``val_loss`` and ``val_accuracy``: the `history` that
        :func:`~cnnviz.trained_lenet5` returns, or what :func:`~cnnviz.train`
        returns.
    validation_label : str, default "validation"
        Legend entry of the validation values (``"test"`` where the test set
        was the validation data, as for :func:`~cnnviz.trained_lenet5`).
    title : str, optional
        Title above both panels.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `history` has no ``loss``, a list is empty, or the lists differ in
        length.

    Examples
    --------
    >>> from cnnviz import plot_history
    >>> fig = plot_history({"loss": [0.9, 0.5, 0.4], "val_loss": [0.8, 0.6, 0.55]})
    >>> [ax.get_title() for ax in fig.axes]
    ['Loss (categorical cross-entropy)']
    """
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping) or "loss" not in values:
        raise ValueError(
            "history must be a dict (or a Keras History) with per-epoch lists under 'loss'; "
            f"got {type(history).__name__}"
            + (f" with keys {sorted(values)}" if isinstance(values, Mapping) else "")
        )
    panels = [
        (key, label)
        for key, label in (("loss", "Loss (categorical cross-entropy)"), ("accuracy", "Accuracy"))
        if key in values
    ]
    lengths = {
        name: len(values[name])
        for key, _ in panels
        for name in (key, f"val_{key}")
        if name in values
    }
    if min(lengths.values()) == 0 or len(set(lengths.values())) != 1:
        raise ValueError(f"history must have one value per epoch in every list; got {lengths}")
    epochs = np.arange(1, lengths["loss"] + 1)
    figure = (
        fig if fig is not None else plt.figure(figsize=(5 * len(panels), 4), layout="constrained")
    )
    figure = _new_figure(figure, 1, len(panels))
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for ax, (key, label) in zip(axes, panels, strict=True):
        ax.plot(epochs, values[key], marker=".", label="training")
        if f"val_{key}" in values:
            ax.plot(epochs, values[f"val_{key}"], marker=".", label=validation_label)
        ax.set(title=label, xlabel="epoch", ylabel=key)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    return figure


def plot_layer_outputs(
    model,
    image: np.ndarray,
    *,
    layers: Sequence[str | int] | None = None,
    ncols: int = 4,
    class_names: Sequence[str] = CLASS_NAMES,
) -> list[Figure]:
    """Draw what every requested layer of `model` makes of one image.

    The outputs come from :func:`~cnnviz.layer_outputs` (one forward pass).
    Feature maps are drawn with :func:`plot_feature_maps`, dense layers as a
    strip of units, and a final softmax layer with as many units as
    `class_names` as class probabilities (:func:`plot_probabilities`). Each
    figure is titled with the layer name and its output shape.

    Parameters
    ----------
    model : keras.Model
        A built Keras model with one image input.
    image : array_like
        One image, (H, W) or (H, W, C), or a batch of one (1, H, W, C).
    layers : sequence of str or int, optional
        As for :func:`~cnnviz.layer_outputs`; every layer after the input by
        default.
    ncols : int, default 4
        Tiles per row of the feature-map grids.
    class_names : sequence of str, default CLASS_NAMES
        Names used for the softmax layer.

    Returns
    -------
    list of matplotlib.figure.Figure
        One figure per layer, in layer order.

    Raises
    ------
    ValueError
        If `image` holds more than one image, plus everything
        :func:`~cnnviz.layer_outputs` raises.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, plot_layer_outputs
    >>> figures = plot_layer_outputs(lenet5(), np.zeros((28, 28), dtype=np.uint8))
    >>> [fig.get_suptitle() for fig in figures][:2]
    ['conv1 (24, 24, 6)', 'relu1 (24, 24, 6)']
    """
    from .activations import layer_outputs

    shape = np.shape(image)
    if len(shape) == 4 and shape[0] != 1:
        raise ValueError(
            f"image must be one image; got a batch of {shape[0]} (shape {shape}); "
            "pick one, e.g. images[i]"
        )
    outputs = layer_outputs(model, image, layers)
    figures = []
    for name, output in outputs.items():
        title = f"{name} {tuple(output.shape[1:])}"
        layer = model.get_layer(name)
        activation = getattr(getattr(layer, "activation", None), "__name__", "")
        if output.ndim == 2 and activation == "softmax" and output.shape[1] == len(class_names):
            figure = plot_probabilities(output, class_names=class_names)
            figure.suptitle(title)
        else:
            figure = plot_feature_maps(output, ncols=ncols, title=title)
        figures.append(figure)
    return figures
