"""Figures of images, feature maps, whole networks' layer outputs and explanations.

Every function returns a :class:`matplotlib.figure.Figure` (made with
:func:`matplotlib.pyplot.figure`, so notebooks and ``plt.show()`` display it)
and leaves showing, saving or closing it to the caller. Nothing here imports
Keras or TensorFlow, except :func:`plot_layer_outputs` when it is called (it
runs a model).

One module per kind of figure: ``feature_maps``, ``images``,
``probabilities``, ``history``, ``networks`` (every layer of one image, or
of several models side by side), ``explanations`` (attribution maps,
confusion matrices, mistakes, randomization and deletion checks) and
``channels`` (kernels, receptive fields, top patches, class means and
ablation of a layer's channels); ``_grid``
holds the layout code they share.
"""

from __future__ import annotations

from ._grid import channel_grid
from .channels import (
    plot_ablation,
    plot_class_activations,
    plot_kernels,
    plot_receptive_field,
    plot_top_patches,
)
from .explanations import (
    plot_attribution,
    plot_confusion_matrix,
    plot_deletion,
    plot_mistakes,
    plot_randomization,
)
from .feature_maps import plot_feature_maps
from .history import plot_history
from .images import plot_images
from .networks import plot_layer_outputs, plot_side_by_side
from .probabilities import plot_probabilities

__all__ = [
    "channel_grid",
    "plot_ablation",
    "plot_attribution",
    "plot_class_activations",
    "plot_confusion_matrix",
    "plot_deletion",
    "plot_feature_maps",
    "plot_history",
    "plot_images",
    "plot_kernels",
    "plot_layer_outputs",
    "plot_mistakes",
    "plot_probabilities",
    "plot_randomization",
    "plot_receptive_field",
    "plot_side_by_side",
    "plot_top_patches",
]
