"""
LeNet-5 architecture: layer shapes and parameter count
======================================================

This page builds LeNet-5 with ``valid`` padding and works out the shape of
every layer by hand: how a 28x28 image becomes 24, 12, 8 and then 4 pixels
wide, and where the 44,426 parameters of the network sit. The next pages
train it and draw what each of its layers makes of one image.
"""

# %%
# The architecture
# ----------------
# :func:`cnnviz.lenet5` builds the network as a Keras functional model with
# named layers. Two convolution blocks (a 5x5 convolution, a ReLU and a 2x2
# max-pooling each) turn the image into feature maps; three dense layers turn
# those into ten class probabilities. The ReLUs are layers of their own so
# that their outputs can be drawn too.
#
# This is the modern LeNet-5 of the notebook (and of most courses), not
# LeCun et al.'s of 1998 ("Gradient-based learning applied to document
# recognition"), which took 32x32 images, squashed with scaled tanh
# instead of ReLU, subsampled by a trainable average (a weight and a bias
# per map) instead of a max, connected each map of its second convolution
# to only some of the first one's maps (a fixed table), and ended in
# radial basis function units instead of a softmax. Its corresponding
# layers (C1 to F6) mostly have other shapes and counts, though C1 and F6
# match ``conv1`` and ``fc2`` (156 and 10,164 parameters): about 60,000
# parameters in all there, 44,426 here.
#
# The table is read from the model itself by Keras' ``summary``: each
# layer's output shape (``None`` stands for the batch axis, any number of
# images) and its number of trainable weights.
import matplotlib.pyplot as plt

import cnnviz

model = cnnviz.lenet5("valid")
model.summary(line_length=72)

# %%
# The shape arithmetic: 28 → 24 → 12 → 8 → 4
# -------------------------------------------
# With ``valid`` padding a 5x5 kernel is only placed where it fits entirely
# inside its input, so a convolution loses 4 pixels per axis; a 2x2 pooling
# with stride 2 halves the size. In general a window of ``kernel`` pixels
# moved in steps of ``stride`` over ``size`` pixels fits
# ``(size - kernel) // stride + 1`` times, which is what
# :func:`cnnviz.output_size` computes:
steps = [
    ("conv1", 5, 1),
    ("max_pool1", 2, 2),
    ("conv2", 5, 1),
    ("max_pool2", 2, 2),
]
size = 28
for name, kernel, stride in steps:
    new = cnnviz.output_size(
        size, kernel, stride=stride, padding="valid"
    )
    print(f"{name:9}  ({size:2} - {kernel}) // {stride} + 1 = {new:2}")
    # The model agrees:
    assert model.get_layer(name).output.shape[1] == new
    size = new

# %%
# So the input of 28x28x1 becomes 24x24x6 after ``conv1`` (six filters),
# 12x12x6 after ``max_pool1``, 8x8x16 after ``conv2`` (sixteen filters) and
# 4x4x16 after ``max_pool2``; ``flatten`` lines those up into 4 x 4 x 16 = 256
# numbers. The parameters follow from the shapes: a convolution has one
# weight per kernel pixel, input channel and filter plus one bias per filter,
# a dense layer one weight per input and unit plus one bias per unit:
#
# ========  ==========================  =======
# layer     weights + biases            total
# ========  ==========================  =======
# conv1     5 x 5 x 1 x 6 + 6           156
# conv2     5 x 5 x 6 x 16 + 16         2,416
# fc1       256 x 120 + 120             30,840
# fc2       120 x 84 + 84               10,164
# op        84 x 10 + 10                850
# ========  ==========================  =======
#
# 44,426 in all; most of them sit in ``fc1``, whose size depends on the 4x4
# maps that the convolutions leave.

# %%
# Parameter sharing: why a convolution is cheap
# ---------------------------------------------
# ``conv1`` turns 784 pixels into 24 x 24 x 6 = 3,456 numbers with 156
# parameters, because each of its six 5x5 kernels is used at all 576
# positions: the same 25 weights and one bias for every output pixel of a
# map. A dense layer making the same 3,456 outputs from the 784 pixels
# needs one weight per pixel and output plus one bias per output:
conv1_outputs = 24 * 24 * 6
dense = 784 * conv1_outputs + conv1_outputs
conv1 = model.get_layer("conv1").count_params()
print(f"conv1: {conv1:,} parameters")
print(f"dense, 784 -> {conv1_outputs:,}: {dense:,} parameters")
print(f"ratio: {dense / conv1:,.0f}")

# %%
# About 2.7 million against 156. Sharing the kernel is also an assumption
# built into the network: a pattern worth detecting in one place is worth
# detecting anywhere in the image, so what a filter learns from a collar at
# the top of one image applies to a sole at the bottom of another.

# %%
# Where the parameters sit
# ------------------------
# The same counts, read from the model itself, one bar per layer that has
# weights:
weighted = [layer for layer in model.layers if layer.count_params()]
names = [layer.name for layer in weighted]
counts = [layer.count_params() for layer in weighted]

fig, ax = plt.subplots(figsize=(6, 2.8), layout="constrained")
ax.barh(names, counts)
ax.invert_yaxis()
ax.bar_label(ax.containers[0], fmt="{:,.0f}", padding=3)
ax.set_xlim(0, max(counts) * 1.2)
ax.set_xlabel("Trainable parameters")
ax.set_title(f"LeNet-5 (valid padding): {model.count_params():,}")
plt.show()

# %%
# The next page trains this model on Fashion-MNIST; the one after it sends
# one image through every layer listed above.

# sphinx_gallery_thumbnail_number = 1
