"""What each channel of a layer learned: its kernel, what it sees, what excites it, what it serves.

A feature map shows what one channel does to one image; these functions say
what a channel is for. :func:`kernels` returns a convolution's filters;
:func:`receptive_field` and :func:`receptive_box` say which input pixels a unit
of a layer sees, computed from the layer stack; :func:`top_patches`,
:func:`class_mean_activations` and :func:`channel_ablation` go over a data set
(arrays, or a stream of batches such as a ``tf.data.Dataset``, in constant
memory); :func:`maximize_activation` makes the image that excites a channel
most.

``layer`` is a layer name (the layers of nested models included, as for
:func:`~cnnviz.grad_cam`) or an index into ``model.layers`` (as for
:func:`~cnnviz.layer_outputs`). Models are any built Keras image model with one
input: functional, Sequential or nested, any number of channels. They are
traced once into one flat graph (cnnviz's one walk of a model, ``cnnviz._graph``),
so the part of a model up to a layer, and the part after it, are models of their own.

One idea a module: :mod:`~cnnviz.channels.fields` (kernels and receptive fields,
with the geometry in ``cnnviz._geometry``, which Grad-CAM shares),
:mod:`~cnnviz.channels.dataset_views` (over a data set) and
:mod:`~cnnviz.channels.maximization`.
"""

from .dataset_views import channel_ablation, class_mean_activations, top_patches
from .fields import kernels, receptive_box, receptive_field
from .maximization import maximize_activation

__all__ = [
    "channel_ablation",
    "class_mean_activations",
    "kernels",
    "maximize_activation",
    "receptive_box",
    "receptive_field",
    "top_patches",
]
