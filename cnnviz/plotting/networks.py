"""Whole networks: what every layer makes of one image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..data import CLASS_NAMES
from .feature_maps import plot_feature_maps
from .probabilities import _probability_row, plot_probabilities

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
        Tiles per row of the feature-map grids.
    class_names : sequence of str, default CLASS_NAMES
        Names of the classes, one per unit of a class-probability output.

    Returns
    -------
    list of matplotlib.figure.Figure
        One figure per layer, in layer order.

    Raises
    ------
    ValueError
        If `image` holds more than one image, if an output is class
        probabilities for a number of classes other than ``len(class_names)``,
        plus everything :func:`~cnnviz.layer_outputs` raises.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, plot_layer_outputs
    >>> figures = plot_layer_outputs(lenet5(), np.zeros((28, 28), dtype=np.uint8))
    >>> [fig.get_suptitle() for fig in figures][:2]
    ['conv1 (24, 24, 6)', 'relu1 (24, 24, 6)']
    """
    from ..activations import layer_outputs

    shape = np.shape(image)
    if len(shape) == 4 and shape[0] != 1:
        raise ValueError(
            f"image must be one image; got a batch of {shape[0]} (shape {shape}); "
            "pick one, e.g. images[i]"
        )
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
            figure = plot_feature_maps(output, ncols=ncols, title=title)
        figures.append(figure)
    return figures
