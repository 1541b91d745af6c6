"""Figures of images, feature maps, whole networks' layer outputs, explanations, channels, shifts.

Every function returns a :class:`matplotlib.figure.Figure` (made with
:func:`matplotlib.pyplot.figure`, so notebooks and ``plt.show()`` display it)
and leaves showing, saving or closing it to the caller. Nothing here imports
Keras or TensorFlow, except :func:`plot_layer_outputs` when it is called (it
runs a model).

One module per kind of figure: ``feature_maps`` (and :func:`channel_grid`,
the one rule that gives every grid of tiles its rows and columns from the
count), ``images``, ``history``,
``evaluation`` (one image's class probabilities, confusion matrices,
mistakes), ``networks`` (every layer of one image, or of several models side
by side), ``explanations`` (attribution maps, randomization and deletion
checks), ``filters`` (a layer's kernels and its units' receptive fields),
``channels`` (each channel's top patches, class means and ablation over a
data set), ``shifts`` (accuracy over a grid of shifts, equivariance per
layer, paths from each input pixel into a layer) and ``similarity`` (a CKA
matrix of layers, matched channels). What they share (layout,
colour scales, checks of the arrays they are given) is in one private
module, ``_figures``; no module takes another's private names.
"""

from __future__ import annotations

from .channels import plot_ablation, plot_class_activations, plot_top_patches
from .evaluation import plot_confusion_matrix, plot_mistakes, plot_probabilities
from .explanations import plot_attribution, plot_deletion, plot_randomization
from .feature_maps import channel_grid, plot_feature_maps
from .filters import plot_kernels, plot_receptive_field
from .history import plot_history
from .images import plot_images
from .networks import plot_layer_outputs, plot_side_by_side
from .shifts import plot_equivariance, plot_pixel_paths, plot_shift_accuracy
from .similarity import plot_matched_channels, plot_similarity

__all__ = [
    "channel_grid",
    "plot_ablation",
    "plot_attribution",
    "plot_class_activations",
    "plot_confusion_matrix",
    "plot_deletion",
    "plot_equivariance",
    "plot_feature_maps",
    "plot_history",
    "plot_images",
    "plot_kernels",
    "plot_layer_outputs",
    "plot_matched_channels",
    "plot_mistakes",
    "plot_pixel_paths",
    "plot_probabilities",
    "plot_randomization",
    "plot_receptive_field",
    "plot_shift_accuracy",
    "plot_side_by_side",
    "plot_similarity",
    "plot_top_patches",
]
