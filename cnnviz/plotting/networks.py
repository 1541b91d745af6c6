"""Whole networks: what every layer makes of one image, in one model or several."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._checks import float_images, one_of
from ..data import CLASS_NAMES
from ._figures import _COLOURBAR, _TOP, _grid, _probability_row, _suptitle
from .evaluation import plot_probabilities
from .feature_maps import SCALES, plot_feature_maps


def plot_layer_outputs(
    model,
    image: np.ndarray,
    *,
    layers: Sequence[str | int] | None = None,
    ncols: int = 4,
    class_names: Sequence[str] = CLASS_NAMES,
    scale: str = "map",
) -> list[Figure]:
    """Draw what every requested layer of `model` makes of one image.

    The outputs come from :func:`~cnnviz.layer_outputs` (one forward pass).
    Feature maps are drawn with :func:`plot_feature_maps`, dense layers as a
    strip of units, and class probabilities as bars
    (:func:`plot_probabilities`). Each figure is titled with the layer name
    and its output shape.

    Which outputs are class probabilities is read from the values, not from
    the kind of layer, so the rule holds for any model: an output of shape
    (1, C), C at least 2, whose values all lie in [0, 1] and sum to 1 within
    1e-3 (a softmax, whether inside a Dense layer or a layer of its own).

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
        The most tiles per row of the feature-map grids (the columns are
        chosen from the channel count, as :func:`~cnnviz.channel_grid` says).
    class_names : sequence of str, default CLASS_NAMES
        Names of the classes, one per unit of a class-probability output.
    scale : {"map", "layer"}, default "map"
        How each figure's tiles are scaled, as for :func:`plot_feature_maps`:
        each tile on its own range, or the whole layer on one scale with one
        colour bar (diverging about zero for signed values).

    Returns
    -------
    list of matplotlib.figure.Figure
        One figure per layer, in layer order.

    Raises
    ------
    ValueError
        If `image` holds more than one image, if an output is class
        probabilities for a number of classes other than ``len(class_names)``,
        if `scale` is neither ``"map"`` nor ``"layer"``, plus everything
        :func:`~cnnviz.layer_outputs` raises.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, plot_layer_outputs
    >>> figures = plot_layer_outputs(lenet5(), np.zeros((28, 28), dtype=np.uint8))
    >>> [fig.get_suptitle() for fig in figures][:2]
    ['conv1 (24, 24, 6)', 'relu1 (24, 24, 6)']
    """
    from .. import _batches, _graph
    from ..activations import layer_outputs

    scale = one_of(scale, SCALES, "scale")
    if (
        not (hasattr(image, "shape") and hasattr(image, "dtype"))
        and np.asarray(image).dtype == object
    ):
        # A stream would be read by layer_outputs, whose messages name its own arguments.
        raise TypeError(
            f"image must be one image as an array, (H, W) or (H, W, C); got "
            f"{type(image).__name__}: for a tf.data.Dataset or a generator, take one image "
            "from it first"
        )
    # Checked here, so that the messages name this function's argument (layer_outputs
    # would call it images, and read a nested list as a stream of batches).
    image = np.asarray(image)
    float_images(image, "image")  # the dtype and finite values; scaling is layer_outputs'
    shape = image.shape
    if len(shape) == 4 and shape[0] != 1:
        raise ValueError(
            f"image must be one image; got a batch of {shape[0]} (shape {shape}); "
            "pick one, e.g. images[i]"
        )
    try:
        expected = tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError, ValueError):
        expected = None  # not a built image model: layer_outputs refuses it by name
    if expected is not None and len(expected) == 3:
        one = shape[1:] if len(shape) == 4 else shape
        allowed = [expected] + ([expected[:2]] if expected[-1] == 1 else [])
        if not any(
            len(one) == len(form) and all(e in (None, g) for e, g in zip(form, one, strict=True))
            for form in allowed
        ):
            raise ValueError(
                f"image must be one image of the model's input shape (H, W, C) = {expected}"
                + (", or (H, W) for one channel" if expected[-1] == 1 else "")
                + f"; got shape {shape}"
            )
    if np.asarray(image).dtype == np.uint8:
        # Scaled here by the one rule, so that a model whose input scale cannot be told is
        # named with this argument, and not pointed to a pixel `scale` this function lacks.
        image = _batches.image_batch(image, _graph.image_model(model), "image")
    outputs = layer_outputs(model, image, layers)
    # Every output is classified before the first figure exists, so an error leaves none.
    rows = {name: _probability_row(output, class_names) for name, output in outputs.items()}
    figures = []
    for name, output in outputs.items():
        title = f"{name} {tuple(output.shape[1:])}"
        if rows[name] is not None:
            figure = plot_probabilities(rows[name], class_names=class_names)
            figure.suptitle(title)
        else:
            figure = plot_feature_maps(output, ncols=ncols, title=title, scale=scale)
        figures.append(figure)
    return figures


# One model's column is this wide, in inches: at the 100 dpi the gallery saves
# figures at, two models make an 820 px image, shrunk into the page's column
# (620 px in a 1280 px window, measured in Chromium).
_COLUMN = 4.0
# The largest tile, in inches, so that a layer of one or two channels stays small.
_MAX_TILE = 1.6
# Heights in inches: the row of column titles, a strip of units, one bar per class.
_HEADER = 0.45
_STRIP_HEIGHT = 1.6
_BAR_HEIGHT = 0.2
# Room between two models' columns, as a fraction of a column's width.
_GAP = 0.05


def _side_by_side_columns(channels: int) -> int:
    """Tiles per row for `channels` maps: the one layout rule (6 -> 3, 10 -> 5, 16 -> 4)."""
    return _grid(channels)[1]


def _grid_height(channels: int, columns: int, *, colourbar: bool = False) -> float:
    """Height in inches that plot_feature_maps needs for square tiles in one column."""
    rows, columns = _grid(channels, columns)
    # plot_feature_maps leaves 0.02 of the width at the left, 0.02 or a colour bar's room
    # at the right, and 0.1 of a tile between tiles.
    room = _COLOURBAR if colourbar else 0.02 * _COLUMN
    tile = min((_COLUMN * 0.98 - room) / (columns + 0.1 * (columns - 1)), _MAX_TILE)
    cell = tile + max(0.06, 0.3 - 0.25 * tile)  # room for each tile's title
    return cell * (rows + 0.25 * (rows - 1)) + _TOP + 0.1


def plot_side_by_side(
    outputs: Mapping[str, Mapping[str, np.ndarray]],
    *,
    layers: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    class_names: Sequence[str] = CLASS_NAMES,
    scale: str = "map",
) -> Figure:
    """Draw one image's layer outputs in several models, lined up by layer name.

    One row per layer and one column per model: feature maps are drawn with
    :func:`plot_feature_maps`, dense layers as a strip of units and class
    probabilities as bars (:func:`plot_probabilities`), each titled with the
    layer name and its output shape. The outputs usually come from
    :func:`~cnnviz.layer_outputs` of one image in each model::

        outputs = {p: layer_outputs(models[p], image) for p in ("valid", "same")}
        fig = plot_side_by_side(outputs, layers=["conv1", "relu1"])

    An output is drawn as class probabilities when it is (1, C), C at least
    2, with every value in [0, 1] and a sum of 1 within 1e-3 (the rule of
    :func:`plot_layer_outputs`). A layer of C channels gets the grid of
    :func:`~cnnviz.channel_grid`'s rule with no limit on the columns (2 rows of 3
    for 6 channels, 4 of 4 for 16, 2 of 5 for 10). Each model
    gets a column 4 inches wide and each row the height its tiles need (at
    most 1.6 inches per tile): two models shrunk into a page column of 620
    pixels (the gallery's, in a window 1280 pixels wide) keep 16-channel
    tiles about 68 pixels wide and 6-channel tiles about 90. Draw a few
    layers per figure rather than all of them.

    Parameters
    ----------
    outputs : dict of str to dict of str to array_like
        Model label (e.g. ``"valid"``) -> {layer name: output} for one image;
        every output keeps its batch axis of 1: (1, H, W, C) or (1, units).
    layers : sequence of str, optional
        The layers to draw, in this order; each must be in every model. All
        layers of the first model, in its order, by default.
    titles : sequence of str, optional
        Column titles, one per model; the labels of `outputs` by default.
    class_names : sequence of str, default CLASS_NAMES
        Names of the classes, one per unit of a class-probability output.
    scale : {"map", "layer"}, default "map"
        How the tiles of each cell are scaled, as for
        :func:`plot_feature_maps`: each tile on its own range, or each
        model's layer on one scale with its own colour bar. Two models'
        layers are never put on one scale: channel k of one model and
        channel k of another are different filters.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure; its ``subfigs`` are the column titles, then the cells
        row by row.

    Raises
    ------
    ValueError
        If `outputs` is empty or not a mapping of mappings, a layer is
        missing from a model, an output is not one image's (1, H, W, C) or
        (1, units), `layers` or `titles` does not fit, or an output is class
        probabilities for a number of classes other than
        ``len(class_names)``, or `scale` is neither ``"map"`` nor
        ``"layer"``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_side_by_side
    >>> outputs = {
    ...     "valid": {"conv1": np.random.rand(1, 24, 24, 6), "op": np.full((1, 10), 0.1)},
    ...     "same": {"conv1": np.random.rand(1, 28, 28, 6), "op": np.full((1, 10), 0.1)},
    ... }
    >>> fig = plot_side_by_side(outputs, titles=["valid padding", "same padding"])
    >>> [sub.get_suptitle() for sub in fig.subfigs]  # doctest: +NORMALIZE_WHITESPACE
    ['valid padding', 'same padding', 'conv1 (24, 24, 6)', 'conv1 (28, 28, 6)',
     'op (10,)', 'op (10,)']
    """
    # Everything is checked before the figure exists, so an error leaves none behind.
    scale = one_of(scale, SCALES, "scale")
    shared = scale == "layer"
    if not isinstance(outputs, Mapping) or not outputs:
        raise ValueError(
            "outputs must map a model label to the layer outputs of one image, e.g. "
            "{'valid': layer_outputs(model, image)}; got "
            + ("an empty mapping" if isinstance(outputs, Mapping) else type(outputs).__name__)
        )
    labels = list(outputs)
    for label in labels:
        if not isinstance(outputs[label], Mapping) or not outputs[label]:
            raise ValueError(
                f"outputs[{label!r}] must be a non-empty dict {{layer name: array}}, as "
                f"layer_outputs returns; got {outputs[label]!r:.80}"
            )
    if layers is None:
        names = list(outputs[labels[0]])
    elif isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
        raise ValueError(f"layers must be a non-empty list of layer names; got {layers!r}")
    else:
        names = list(layers)
    for name in names:
        for label in labels:
            if name not in outputs[label]:
                raise ValueError(
                    f"layer {name!r} is missing from outputs[{label!r}], whose layers are "
                    f"{list(outputs[label])}"
                    + (
                        "; pick the layers all models have with layers=[...]"
                        if layers is None
                        else ""
                    )
                )
    if titles is None:
        column_titles = [str(label) for label in labels]
    elif isinstance(titles, str) or not isinstance(titles, Sequence) or len(titles) != len(labels):
        raise ValueError(
            f"titles must give one column title per model, {len(labels)} for {labels}; "
            f"got {titles!r}"
        )
    else:
        column_titles = [str(title) for title in titles]

    rows = []  # per layer: (output, probabilities or None, tiles per row, height) per model
    for name in names:
        row = []
        for label in labels:
            array = np.asarray(outputs[label][name])
            where = f"outputs[{label!r}][{name!r}]"
            if array.ndim not in (2, 4):
                raise ValueError(
                    f"{where} must be one image's layer output with its batch axis, "
                    f"(1, H, W, C) or (1, units); got shape {array.shape}"
                )
            if array.shape[0] != 1:
                raise ValueError(
                    f"{where} holds a batch of {array.shape[0]} images (shape {array.shape}); "
                    "pass the layer outputs of one image, e.g. layer_outputs(model, images[i])"
                )
            probabilities = _probability_row(array, class_names)
            if probabilities is not None:
                row.append((array, probabilities, 1, _BAR_HEIGHT * probabilities.size + 0.9))
            elif array.ndim == 2:
                row.append((array, None, 1, _STRIP_HEIGHT))
            else:
                columns = _side_by_side_columns(array.shape[-1])
                row.append(
                    (
                        array,
                        None,
                        columns,
                        _grid_height(array.shape[-1], columns, colourbar=shared),
                    )
                )
        rows.append(row)

    heights = [max(cell[3] for cell in row) for row in rows]
    width = _COLUMN * (len(labels) + _GAP * (len(labels) - 1))
    # No layout engine: every cell lays itself out with fixed margins (see _figures).
    fig = plt.figure(figsize=(width, _HEADER + sum(heights)))
    cells = fig.subfigures(
        len(rows) + 1,
        len(labels),
        squeeze=False,
        wspace=_GAP,
        hspace=0,  # else rcParams' 0.2 of a row, taken from the heights above
        height_ratios=[_HEADER, *heights],
    )
    for column, title in enumerate(column_titles):
        cells[0, column].suptitle(title, y=0.5, va="center", fontsize="x-large")
    for r, (name, row) in enumerate(zip(names, rows, strict=True), start=1):
        for column, (array, probabilities, columns, _) in enumerate(row):
            title = f"{name} {tuple(array.shape[1:])}"
            if probabilities is not None:
                plot_probabilities(probabilities, class_names=class_names, fig=cells[r, column])
                _suptitle(cells[r, column], title)
            else:
                plot_feature_maps(
                    array, ncols=columns, title=title, fig=cells[r, column], scale=scale
                )
    # A thin line between two models' columns, below the titles.
    top = 1 - _HEADER / (_HEADER + sum(heights))
    for column in range(1, len(labels)):
        x = (column * (1 + _GAP) - _GAP / 2) * _COLUMN / width  # the middle of the gap
        fig.add_artist(Line2D([x, x], [0.005, top], transform=fig.transFigure, color="0.8", lw=1))
    return fig
