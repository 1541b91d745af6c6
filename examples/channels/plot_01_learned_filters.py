"""
Learned CNN filters: the kernels of LeNet-5's convolutions
==========================================================

A convolution layer is a bank of small filters (kernels) that training
has shaped. This page draws the learned kernels of ``conv1`` and
``conv2`` of both trained LeNet-5 models (``valid`` and ``same``
padding) and says how to read them: ``conv1``'s act on pixels and can be
read as small image patterns; ``conv2``'s act on ``conv1``'s maps and
cannot.
"""

# %%
# The kernels of a layer
# ----------------------
# :func:`cnnviz.kernels` returns a ``Conv2D`` layer's kernel as a float32
# array ``(height, width, input channels, filters)``. Output channel
# ``f`` at a position is the sum, over the input channels ``c`` and the
# 5x5 window, of ``kernel[:, :, c, f]`` times the window of input channel
# ``c``, plus the filter's bias.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}
for p, model in models.items():
    for layer in ("conv1", "conv2"):
        k = cnnviz.kernels(model, layer)
        print(
            f"{p:5} {layer}: kernel {k.shape}, weights from "
            f"{k.min():+.2f} to {k.max():+.2f}"
        )

# %%
# How the colours are scaled
# --------------------------
# :func:`cnnviz.plot_kernels` draws every kernel slice of a layer as a
# tile on **one** colour scale, symmetric about zero: red is a positive
# weight, blue a negative one, white zero; the colour bar gives the
# limits (the layer's largest absolute weight). Tiles can so be compared
# with each other, but not with another figure's.
#
# conv1: six filters on the pixels
# --------------------------------
# A ``conv1`` unit computes the dot product of its kernel with a 5x5
# patch of the image (pixels from 0 to 1, bright garment on a black
# background). A red weight rewards a bright pixel there, a blue one
# penalises it. A kernel with red on one side and blue on the other
# responds to an edge of that orientation: bright on the red side, dark
# on the blue side; a kernel of one colour responds to brightness over
# the whole patch.
cnnviz.plot_kernels(
    cnnviz.kernels(models["valid"], "conv1"),
    title="conv1 kernels, valid padding",
)
plt.show()

# %%
# The ``same`` model's filters, on their own scale:
cnnviz.plot_kernels(
    cnnviz.kernels(models["same"], "conv1"),
    title="conv1 kernels, same padding",
)
plt.show()

# %%
# Same start, two runs
# --------------------
# Both models are built after the same seed, so their layers of the same
# shape start from the same random weights (the cache keeps each model's
# weights before training: ``epoch=0``). All but one have the same shape.
# ``fc1`` reads ``max_pool2``'s maps flattened, 4x4x16 values with
# ``valid`` padding and 7x7x16 with ``same``: its weights differ in shape
# and in scale (Glorot-uniform draws within
# ``sqrt(6 / (fan_in + fan_out))``). Every gradient that reaches ``conv1``
# passes through ``fc1``, so the two runs differ from the first step on
# through ``fc1``'s start as well as through the padding, and the kernels
# alone cannot tell which of the two moved them apart. The page checks
# which layers start equal.
start = {
    p: cnnviz.trained_lenet5(p, epoch=0, verbose=0)[0] for p in models
}
for layer in ("conv1", "conv2", "fc1", "fc2", "op"):
    w = [start[p].get_layer(layer).get_weights()[0] for p in models]
    equal = w[0].shape == w[1].shape and np.array_equal(w[0], w[1])
    print(
        f"{layer:5} kernel before training: valid {w[0].shape}, "
        f"same {w[1].shape}, {'equal' if equal else 'different'}"
    )
    assert equal == (layer != "fc1"), f"{layer}: unexpected start"

# %%
# How far apart the two runs end: the correlation of each ``conv1``
# kernel with its twin (the kernel of the same index) in the other model,
# over their 25 weights: 1 before training. After training the most
# alike pair is still plainly alike (the page checks: above 0.8); how far
# the others have drifted differs from pair to pair and from run to run,
# in some runs to fairly alike at worst, in others to unrelated. The
# last page of this section follows the drift epoch by epoch.


def correlation(a, b):
    return np.corrcoef(a.ravel(), b.ravel())[0, 1]


k1 = {p: cnnviz.kernels(models[p], "conv1")[:, :, 0, :] for p in models}
twins = [
    correlation(k1["valid"][..., f], k1["same"][..., f])
    for f in range(6)
]
print("kernel f of valid vs kernel f of same, after training:")
print("  " + ", ".join(f"{f}: {c:+.2f}" for f, c in enumerate(twins)))
assert max(twins) > 0.8, "no pair of twin kernels stayed alike"

# %%
# conv2: sixteen filters on six maps
# ----------------------------------
# A ``conv2`` filter has one 5x5 slice per channel of its input, which
# is not the image but ``max_pool1``'s six maps. Each row below is one
# filter, each column the slice it applies to one input channel ("in c")
# (``filters_in_rows=True``; by default the filters are columns, too
# many for this page's width). Read a row as a recipe: "red where this input channel is high, blue
# where that one is, ...". A slice that is nearly white means the
# filter gives that input channel little weight (how much the channel
# then adds to the filter's output depends on its values too: see
# below). What the recipe amounts to in
# pixels cannot be seen in the weights; the next pages find it from the
# data (the images that excite a channel most) and by optimisation.
cnnviz.plot_kernels(
    cnnviz.kernels(models["valid"], "conv2"),
    title="conv2 kernels, valid padding",
    filters_in_rows=True,
)
plt.show()

# %%
# The ``same`` model's, on their own scale:
cnnviz.plot_kernels(
    cnnviz.kernels(models["same"], "conv2"),
    title="conv2 kernels, same padding",
    filters_in_rows=True,
)
plt.show()

# %%
# Which input channel each filter weighs most
# -------------------------------------------
# One number per slice sums the picture up: the root mean square of its
# 25 weights. A large weight is not yet a large contribution: what a
# slice adds to the filter's output is its weights times that input
# channel's values, and ``max_pool1``'s six channels differ in size.
# Their root mean square over 2,000 training images is printed first;
# the product of the two root mean squares is a rough measure of each
# slice's contribution. Each line then prints, for one filter of the
# ``valid`` model, the input channel with the largest and the smallest
# weights, and the one with the largest and smallest product: they need
# not be the same.
k2 = cnnviz.kernels(models["valid"], "conv2")
rms = np.sqrt((k2**2).mean(axis=(0, 1)))  # (input channels, filters)
(x_train, _), _ = cnnviz.load_fashion_mnist()
pooled = cnnviz.layer_outputs(
    models["valid"], x_train[:2000], ["max_pool1"]
)
size = np.sqrt((pooled["max_pool1"] ** 2).mean(axis=(0, 1, 2)))
print(
    "max_pool1 channels' rms: "
    + ", ".join(f"{c}: {v:.2f}" for c, v in enumerate(size))
)
contribution = rms * size[:, np.newaxis]
for f in range(k2.shape[-1]):
    order = np.argsort(rms[:, f])
    share = np.argsort(contribution[:, f])
    print(
        f"filter {f:2}: weights largest on {order[-1]}, smallest on {order[0]}; "
        f"weights x values largest on {share[-1]}, smallest on {share[0]}"
    )
