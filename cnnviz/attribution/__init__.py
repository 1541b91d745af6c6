"""Which pixels a prediction depends on: gradients, SmoothGrad, integrated gradients, Grad-CAM, occlusion.

And whether to trust the maps: the model randomization check
(:func:`randomization_check`), the data randomization test
(:func:`data_randomization_check`) and the deletion and insertion curves
(:func:`deletion_curve`, :func:`insertion_curve`).

Every method has one signature, ``f(model, images, target=None, **options)``,
and returns one float32 map per image, (N, H, W), at the input's resolution.
`images` is an array or, as everywhere in cnnviz, a ``tf.data.Dataset`` or an
iterable of batches: the maps are per image, so a finite stream is read whole.

Every method explains the target class's score, its input to the final
softmax (``_explain`` says how it is found and why): the gradient methods its
gradient, occlusion, which needs no gradient, its drop (or, with
``measure="probability"``, the drop of the model's output, the probability).

The package holds one idea a module: ``_explain`` (private) the gradient
machinery the methods share, :mod:`~cnnviz.attribution.methods` the five
methods and :mod:`~cnnviz.attribution.sanity` the checks that judge them.
Layers inside nested models are reached through cnnviz's one walk of a model
(``cnnviz._graph``): keras.io's Grad-CAM example asks
``model.get_layer(name).output`` of the given model and fails on Sequential
and nested models for that reason.
"""

from .methods import grad_cam, gradients, integrated_gradients, occlusion, smoothgrad
from .sanity import data_randomization_check, deletion_curve, insertion_curve, randomization_check

__all__ = [
    "data_randomization_check",
    "deletion_curve",
    "grad_cam",
    "gradients",
    "insertion_curve",
    "integrated_gradients",
    "occlusion",
    "randomization_check",
    "smoothgrad",
]
