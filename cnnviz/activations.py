"""Every layer's output of a Keras model for a batch of images, in one forward pass."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from . import _batches, _graph

__all__ = ["layer_outputs"]


def layer_outputs(
    model: keras.Model,
    images: object,
    layers: Sequence[str | int] | None = None,
    *,
    scale: bool | None = None,
    steps: int | None = None,
) -> dict[str, np.ndarray]:
    """Return the output of every requested layer for `images`, in one forward pass.

    A multi-output model that ends at every requested layer is built once per
    model and set of layers, kept for reuse, and run once per chunk of
    images, so a whole network's outputs cost one pass through it rather
    than one pass per layer. Each chunk's outputs are copied into one array
    per layer: the outputs of a stream are concatenated per layer.

    Parameters
    ----------
    model : keras.Model
        Any built Keras model (functional or Sequential) with one image
        input of shape (batch, height, width, channels).
    images : array_like or iterable
        One image, (H, W) or (H, W, C), or a batch (N, H, W, C). ``uint8``
        images are scaled to [0, 1] with :func:`~cnnviz.scale_images` (see
        `scale`); float images are used as they are. Or a stream of
        batches: a ``tf.data.Dataset`` or any iterable of batches of images
        or of ``(images, labels)`` pairs (labels ignored), read once, one
        batch at a time.
    layers : sequence of str or int, optional
        Layer names (the layers inside nested models included, as for
        :func:`~cnnviz.grad_cam`), or indices into ``model.layers`` (as in
        ``model.get_layer(index=i)``; for :func:`~cnnviz.lenet5`, 1 is
        ``conv1`` and -1 the softmax ``op``). By default every layer of
        ``model.layers`` after the input (a nested model is one of them: its
        output). The input layer may be asked for (index 0 of a functional
        model): its output is the images as the model takes them (the
        functions that explain a layer refuse it).
    scale : bool, optional
        Whether ``uint8`` images are divided by 255; ``True`` or ``False``
        always wins. By default (None) they are, unless the model takes
        pixels in [0, 255], so that pixels are never scaled twice. To know,
        cnnviz follows the model from its input through the layers that
        keep the pixels' scale (reshaping, cropping, padding, resizing,
        pooling, and the augmentation and dropout layers, which are the
        identity at inference; nested models too) to the first layer that
        changes pixel values: a ``Rescaling`` that divides by 16 or more
        (``Rescaling(1 / 255)``) takes [0, 255]; a ``Normalization`` takes
        what its mean and variance show, statistics of [0, 1] or of
        [0, 255] data (with a warning: they say what the layer was adapted
        on, not what it is given); a layer with weights (a convolution)
        takes [0, 1].
        Where this cannot be told (an un-adapted ``Normalization``, a
        ``Lambda`` before a ``Rescaling``, branches that disagree),
        ``uint8`` images are refused, never scaled by a guess. Float images
        are always used as they are.
    steps : int, optional
        The number of batches to read from a stream (Keras' convention); by
        default all of them. Needed for a stream that never ends (a dataset
        after ``dataset.repeat()`` is refused without it); refused with an
        array (slice it instead).

    Returns
    -------
    dict of str to numpy.ndarray
        Layer name to output, in the order of `layers` (by default the
        model's layer order). Every output keeps its batch axis, also for a
        single image (N = 1); for a stream, N is the number of images read.

    Raises
    ------
    TypeError
        If `model` is not a Keras model, `images` is neither ``uint8`` nor
        float, or neither an array nor an iterable of batches, or `layers`
        holds something other than names and indices.
    ValueError
        If the model is not built or has not one 4-D input, a layer name is
        unknown or an index out of range, a layer is called more than once
        (a shared layer has one output per call), `images` has the wrong
        shape (a stream's batch: which one), the batch or the stream is
        empty, a stream never ends and `steps` is not given, `steps` is
        not a positive integer, the images are ``uint8``, `scale` is None
        and cnnviz cannot tell whether the model takes [0, 1] or [0, 255],
        or a stream of images of different sizes (for a model of any input
        size) gives a layer outputs of different sizes, which one array
        cannot hold.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import layer_outputs, lenet5
    >>> model = lenet5("valid")
    >>> outputs = layer_outputs(model, np.zeros((28, 28, 1), dtype=np.uint8))
    >>> {name: out.shape for name, out in list(outputs.items())[:3]}
    {'conv1': (1, 24, 24, 6), 'relu1': (1, 24, 24, 6), 'max_pool1': (1, 12, 12, 6)}
    """
    model = _graph.image_model(model)
    names = _graph.layer_names(model, layers)
    batches = _batches.source(
        model, images, steps=steps, one_image=True, scale=scale, takes_scale=True
    )

    unique = list(dict.fromkeys(names))  # a layer asked for twice is computed once
    extract = _graph.outputs(model, unique)

    # Each chunk's outputs are copied into one array per layer (allocated once where the
    # number of images is known): concatenating chunks would hold every output twice.
    gathered: list[_batches.Rows] = []
    for x, _ in batches:
        # A direct (eager) call, not predict(): no tf.function to trace per
        # extractor, so the first call is as quick as the next ones and many
        # models in one process do not trigger TensorFlow's retracing warnings.
        result = extract(x, training=False)
        result = result if isinstance(result, (list, tuple)) else [result]
        if not gathered:
            gathered = [
                _batches.Rows(batches.count, "images", f"outputs of layer {name!r}")
                for name in unique
            ]
        for rows, output in zip(gathered, result, strict=True):
            rows.add(keras.ops.convert_to_numpy(output))
    filled = [rows.result() for rows in gathered]
    by_name = dict(zip(unique, filled, strict=True))
    return {name: by_name[name] for name in names}
