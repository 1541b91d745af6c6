"""
Visualize CNN feature maps layer by layer: LeNet-5 with valid padding
=====================================================================

This page sends one image through the LeNet-5 (``valid`` padding) trained
on the previous page and draws what each of its layers makes of it: the
six feature maps of ``conv1``, the ReLU and max-pooling after it, the
sixteen maps of ``conv2``, the dense layers and finally the class
probabilities.
"""

# %%
# The trained model
# -----------------
# :func:`cnnviz.trained_lenet5` loads the model that the previous page
# trained (it trains it first if the cache does not have it yet).
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

model, _ = cnnviz.trained_lenet5("valid", verbose=0)
(x_train, y_train), _ = cnnviz.load_fashion_mnist()

# %%
# The image: training image 41, a sneaker
# ---------------------------------------
# From here on, one image goes through the trained network: training image
# 41, as in the notebook.
index = 41
image = x_train[index]
fig = cnnviz.plot_images(
    x_train[index : index + 1], y_train[index : index + 1], ncols=1
)
fig.suptitle(f"Training image {index}")
plt.show()

# %%
# :func:`cnnviz.layer_outputs` computes the output of every layer for this
# image in one forward pass and returns them by layer name. Every output keeps
# its batch axis of 1. Below, :func:`cnnviz.plot_feature_maps` draws them one
# layer at a time, each figure titled with the layer's name and the shape of
# its output for one image.
#
# Every figure puts all the tiles of a layer on **one colour scale** with
# one colour bar (``scale="layer"``), so that channels can be compared:
# signed values (a convolution's output) on a red-white-blue scale with
# white at zero, non-negative values (after a ReLU) in grey from black at
# zero to white at the layer's largest value.
outputs = cnnviz.layer_outputs(model, image)
for name, output in outputs.items():
    print(f"{name:10} {output.shape}")


def title(name):
    return f"{name} {outputs[name].shape[1:]}"


# %%
# conv1's six kernels
# -------------------
# ``conv1`` has six 5x5 kernels, one per output channel, each with a bias.
# Here they are as the training left them, on one scale centred on zero
# (red: positive weights, blue: negative), laid out as the maps below:
kernels, biases = model.get_layer("conv1").get_weights()
print("kernels", kernels.shape, "biases", biases.round(3))
cnnviz.plot_feature_maps(
    kernels[:, :, 0, :],
    ncols=3,
    scale="layer",
    title="conv1 kernels (5, 5) for channels 0-5, one scale",
)
plt.show()

# %%
# One output pixel by hand
# ------------------------
# Each output pixel of ``conv1`` is a dot product: the 5x5 patch of the
# image under the kernel, multiplied pixel by pixel with the kernel, summed,
# plus the bias. Keras computes a cross-correlation (the kernel is not
# flipped, unlike a convolution in the mathematical sense), and with
# ``valid`` padding output pixel (r, c) sees the image rows r to r + 4 and
# columns c to c + 4. Take channel 0 where it responds most:
x = image[..., 0].astype("float32") / 255  # the model's own scaling
conv1 = outputs["conv1"][0]
channel = 0
r, c = np.unravel_index(np.argmax(conv1[..., channel]), (24, 24))
patch = x[r : r + 5, c : c + 5]
kernel = kernels[:, :, 0, channel]
by_hand = np.sum(patch * kernel) + biases[channel]
print("patch:\n", patch.round(2))
print("kernel:\n", kernel.round(2))
dot = np.sum(patch * kernel)
print(f"sum(patch * kernel) + bias = {dot:.4f} + {biases[channel]:.4f}")
print(f"                           = {by_hand:.4f}")
print(f"Keras: conv1[{r}, {c}, {channel}] = {conv1[r, c, channel]:.4f}")
assert np.isclose(by_hand, conv1[r, c, channel], atol=1e-5)

# %%
# So a filter does not measure "how much the patch looks like" it in any
# normalised sense: the dot product also grows with the brightness of the
# patch. A patch twice as bright scores twice as high (before the bias), so
# a bright patch of roughly the right shape can outscore a dim patch of
# exactly the kernel's pattern.
#
# conv1: six feature maps
# -----------------------
# Sliding each kernel over every position gives six 24x24 maps: the kernel
# fits 24 times along each axis of 28 pixels. Where the image is black (all
# zeros) the dot product is zero and the map holds just the bias: the flat
# background level of each tile, slightly above or below white.
cnnviz.plot_feature_maps(
    outputs["conv1"],
    ncols=3,
    scale="layer",
    title=title("conv1") + ", one scale, white = 0",
)
plt.show()

# %%
# relu1: negative values set to zero
# ----------------------------------
# The ReLU keeps positive values and replaces negative ones by zero; the
# shape does not change. Non-linear steps like it are what make stacking
# layers worthwhile: a convolution of a convolution is again a
# convolution (two 5x5 kernels in a row act like one 9x9 kernel), so
# without something non-linear between them, more layers could compute
# nothing that one layer cannot. (In LeNet-5 the max-pooling between the
# two convolutions is non-linear too.)
#
# The maps do not keep "only where a filter matched": a channel whose bias
# is positive keeps that bias over the whole black background, a filter
# with a negative bias is zero there. The top-left corner of every map sees
# only black pixels (image rows and columns 0 to 4), so it holds exactly
# ``max(bias, 0)``; the page prints which channels have a positive bias.
# Grey from 0 (black) to the layer's largest value (white), one scale for
# all six:
corner = outputs["relu1"][0, 0, 0]
assert not x[:5, :5].any(), "the corner's window is black"
assert np.allclose(corner, np.maximum(biases, 0)), "max(bias, 0)"
print("channels with a positive bias:", np.flatnonzero(biases > 0))
cnnviz.plot_feature_maps(
    outputs["relu1"],
    ncols=3,
    scale="layer",
    title=title("relu1") + ", one scale from 0",
)
plt.show()

# %%
# max_pool1: the strongest response of every 2x2 block
# ----------------------------------------------------
# Max-pooling keeps the largest value of each 2x2 block, halving each axis to
# 12x12: coarser maps that still say where each pattern was found. Same
# scale as above: pooling takes values, it makes none.
cnnviz.plot_feature_maps(
    outputs["max_pool1"],
    ncols=3,
    scale="layer",
    title=title("max_pool1") + ", one scale from 0",
)
plt.show()

# %%
# conv2: sixteen filters over the six maps
# ----------------------------------------
# Each filter of ``conv2`` looks at a 5x5 patch of all six pooled maps at
# once (5 x 5 x 6 weights and a bias), so it combines the simple patterns
# of the first block into larger ones. With valid padding its output is
# 8x8. Signed again: red-white-blue, white at zero, one scale.
cnnviz.plot_feature_maps(
    outputs["conv2"],
    scale="layer",
    title=title("conv2") + ", one scale, white = 0",
)
plt.show()

# %%
# relu2: conv2's negative values set to zero
# ------------------------------------------
# Grey from 0, one scale for the sixteen maps.
cnnviz.plot_feature_maps(
    outputs["relu2"],
    scale="layer",
    title=title("relu2") + ", one scale from 0",
)
plt.show()

# %%
# max_pool2: sixteen 4x4 maps
# ---------------------------
# After the second pooling, each of the sixteen maps is 4x4: 256 numbers that
# describe the whole image for the classifier. Each of the 4 units per axis
# sees 16 input pixels (unit m sees pixels 4m to 4m + 15), so together they
# cover all 28. Grey from 0, one scale.
cnnviz.plot_feature_maps(
    outputs["max_pool2"],
    scale="layer",
    title=title("max_pool2") + ", one scale from 0",
)
plt.show()

# %%
# flatten: the same 256 numbers in one row
# ----------------------------------------
# ``flatten`` changes no value; it lines the 4x4x16 maps up into one vector
# for the dense layers. Keras keeps the channels last, so the vector runs
# through the channels fastest: position ``(row * 4 + col) * 16 + channel``.
# Neighbours in it belong to different channels, so drawn as a strip it
# reads as noise; this page does not draw it. The max_pool2 figure above
# shows the same numbers, arranged by channel:
flat = outputs["flatten"][0]
pooled = outputs["max_pool2"][0]
print("flatten equals max_pool2 in row, column, channel order:")
print(np.array_equal(flat, pooled.reshape(-1)))
row, col, ch = 1, 2, 5
at = (row * 4 + col) * 16 + ch
print(f"max_pool2[{row}, {col}, {ch}] is flatten[{at}]:", end=" ")
print(pooled[row, col, ch] == flat[at])

# %%
# fc1 and fc2: the dense layers
# -----------------------------
# Each of the 120 units of ``fc1`` and the 84 of ``fc2`` is a weighted sum of
# all the numbers before it plus a bias, followed by a ReLU; for this image
# many units are zero (the page counts them and checks that at least a
# quarter of each layer is). Grey from 0 (black) to the layer's largest
# value, with its colour bar.
for name in ("fc1", "fc2"):
    zeros = np.sum(outputs[name] == 0)
    print(f"{name}: {zeros} of {outputs[name].size} units are zero")
    assert zeros > outputs[name].size / 4, f"many {name} units are zero"
cnnviz.plot_feature_maps(
    outputs["fc1"], scale="layer", title=title("fc1") + ", from 0"
)
plt.show()

# %%
cnnviz.plot_feature_maps(
    outputs["fc2"], scale="layer", title=title("fc2") + ", from 0"
)
plt.show()

# %%
# op: the class probabilities
# ---------------------------
# The output layer's softmax turns its ten values into probabilities that
# add up to one, one per class. The most probable class is the prediction.
probabilities = outputs["op"][0]
cnnviz.plot_probabilities(probabilities, title=title("op"))
plt.show()

predicted = int(np.argmax(probabilities))
print(
    f"predicted: {cnnviz.CLASS_NAMES[predicted]}",
    f"({probabilities[predicted]:.3f});",
    f"true class: {cnnviz.CLASS_NAMES[y_train[index]]}",
)
assert predicted == y_train[index] == 7, "a sneaker, called a sneaker"
assert probabilities[predicted] > 0.9, "with a probability near 1"

# %%
# The model calls this sneaker, an image it trained on, a sneaker with a
# probability near 1 (the page checks: above 0.9). That is not
# near-certainty of being right. The previous page showed the test loss
# rising while the test accuracy stayed flat: the model's probabilities
# kept growing more confident after its answers stopped getting better,
# and most of its mistakes on test images are confident ones. Read the
# probabilities as scores that rank the classes, not as calibrated odds;
# whether they match how often the model is right can only be checked on
# images it did not train on.
#
# All layers in one call
# ----------------------
# :func:`cnnviz.plot_layer_outputs` draws all of the above in one call, one
# figure per layer, each titled with the layer's name and output shape;
# ``scale="layer"`` puts each layer on one scale, as here:
#
# .. code-block:: python
#
#    figures = cnnviz.plot_layer_outputs(
#        model, x_train[41], scale="layer"
#    )
#    plt.show()
#
# The next example does the same with ``same`` padding, and the last one puts
# both side by side.

# sphinx_gallery_thumbnail_number = 3
