"""cnnviz: see what a convolutional network does to an image.

Load Fashion-MNIST, build and train the notebook's LeNet-5 (with a cache of
trained models), compute every layer's output of an image in one forward pass,
and draw them.

The public names are imported lazily (as in SPEC 1 of Scientific Python), so
``from cnnviz import load_fashion_mnist`` does not pay for importing
TensorFlow; the modules that need Keras import it on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module (one per concern) that defines it.
_PUBLIC = {
    "CLASS_NAMES": "data",
    "find_fashion_mnist": "data",
    "load_fashion_mnist": "data",
    "one_hot": "data",
    "parse_idx": "data",
    "read_idx": "data",
    "scale_images": "data",
    "PADDINGS": "models",
    "lenet5": "models",
    "output_size": "models",
    "cache_path": "training",
    "evaluate": "training",
    "train": "training",
    "trained_lenet5": "training",
    "layer_outputs": "activations",
    "channel_grid": "plotting",
    "plot_feature_maps": "plotting",
    "plot_images": "plotting",
    "plot_history": "plotting",
    "plot_layer_outputs": "plotting",
    "plot_probabilities": "plotting",
    "plot_side_by_side": "plotting",
}

__all__ = [
    "CLASS_NAMES",
    "PADDINGS",
    "__version__",
    "cache_path",
    "channel_grid",
    "evaluate",
    "find_fashion_mnist",
    "layer_outputs",
    "lenet5",
    "load_fashion_mnist",
    "one_hot",
    "output_size",
    "parse_idx",
    "plot_feature_maps",
    "plot_history",
    "plot_images",
    "plot_layer_outputs",
    "plot_probabilities",
    "plot_side_by_side",
    "read_idx",
    "scale_images",
    "train",
    "trained_lenet5",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


if TYPE_CHECKING:  # for type checkers and IDEs; never executed
    from .activations import layer_outputs
    from .data import (
        CLASS_NAMES,
        find_fashion_mnist,
        load_fashion_mnist,
        one_hot,
        parse_idx,
        read_idx,
        scale_images,
    )
    from .models import PADDINGS, lenet5, output_size
    from .plotting import (
        channel_grid,
        plot_feature_maps,
        plot_history,
        plot_images,
        plot_layer_outputs,
        plot_probabilities,
        plot_side_by_side,
    )
    from .training import cache_path, evaluate, train, trained_lenet5
