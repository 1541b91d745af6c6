"""
Receptive fields of a CNN, layer by layer
=========================================

One unit of a convolution or pooling layer sees only part of the image:
its receptive field. This page computes the receptive field of every
spatial layer of LeNet-5 from its layer stack, draws the fields of one
unit per layer on a Fashion-MNIST image, measures where in its field a
unit looks (its effective receptive field), and shows what ``same``
padding does at the border: the fields of border units hang over the
edge of the image, so those units see fewer real pixels.
"""

# %%
# Size and jump, from the layer stack
# -----------------------------------
# :func:`cnnviz.receptive_field` walks the layers from the input to the
# named one. A layer with kernel (or pool) size ``k`` and stride ``s``
# grows the field by ``(k - 1)`` times the current jump, and multiplies
# the jump (the distance in input pixels between neighbouring units) by
# ``s``. A ReLU changes neither. Padding changes neither: it only moves
# where the fields sit.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}
LAYERS = ("conv1", "relu1", "max_pool1", "conv2", "relu2", "max_pool2")
print(f"{'layer':10} {'field':>7} {'jump':>5}   output (valid, same)")
for layer in LAYERS:
    (fh, fw), (jh, jw) = cnnviz.receptive_field(models["valid"], layer)
    assert cnnviz.receptive_field(models["same"], layer) == (
        (fh, fw),
        (jh, jw),
    )
    shapes = [
        models[p].get_layer(layer).output.shape[1:3] for p in models
    ]
    print(
        f"{layer:10} {fh:>3}x{fw:<3} {jh:>5}   {shapes[0]}, {shapes[1]}"
    )

# %%
# A ``conv2`` unit sees 14x14 pixels: its 5x5 window on ``max_pool1``
# spans 5 units 2 pixels apart, whose 6x6 fields start 4 x 2 = 8 pixels
# apart from the first to the last: 8 + 6 = 14 pixels. A
# ``max_pool2`` unit sees 16x16 of the 28x28 image, more than half of
# each side; the dense layers after it see everything.
#
# One unit per layer, on an image
# -------------------------------
# :func:`cnnviz.receptive_box` gives the pixels one unit sees, as
# ``(top, left, bottom, right)`` with bottom and right exclusive. Take
# the unit nearest the centre of each layer's output of the ``valid``
# model and draw its box on training image 41 with
# :func:`cnnviz.plot_receptive_field` (boxes lie on the pixels' edges).
(x_train, y_train), _ = cnnviz.load_fashion_mnist()
image = x_train[41]


def centre_boxes(
    model, layers=("conv1", "max_pool1", "conv2", "max_pool2")
):
    boxes = {}
    for layer in layers:
        height, width = model.get_layer(layer).output.shape[1:3]
        row, col = (height - 1) // 2, (width - 1) // 2
        box = cnnviz.receptive_box(model, layer, row, col)
        boxes[f"{layer} ({row}, {col})"] = box
    return boxes


boxes = centre_boxes(models["valid"])
for label, box in boxes.items():
    print(
        f"{label:18} sees rows {box[0]}-{box[2] - 1}, columns {box[1]}-{box[3] - 1}"
    )
cnnviz.plot_receptive_field(image, boxes)
plt.show()

# %%
# Where in its field a unit looks: the effective receptive field
# --------------------------------------------------------------
# The box says which pixels *can* change a unit's value, not how much
# each one does. Luo et al. (2016, "Understanding the Effective Receptive
# Field in Deep Convolutional Neural Networks") measure that with the
# gradient of the unit with respect to the input pixels, and find it
# concentrated at the centre of the field, falling off towards its edges
# (close to a Gaussian): the *effective* receptive field, a fraction of
# the theoretical one. Part of the reason is counting: a pixel near the
# centre reaches the unit through many overlapping windows of the layers
# below, a pixel in a corner of the field through a single chain of them.
#
# Here, for the centre unit of ``max_pool2`` of each model: the absolute
# gradient of each of its 16 channels with respect to every pixel,
# summed over the channels and averaged over the first 1,000 training
# images. Each map has its own colour scale, from 0 (black) to its
# largest value (white); the box is the unit's field. The page prints
# the share of the gradient that falls in the middle of the field (the
# central half of each side, a quarter of its area) and checks that it
# is well above the quarter an even spread would give. So a
# ``max_pool2`` unit's whole field shows more than the unit mostly
# answers to: it depends most on its middle, and the same is likely for
# the ``conv2`` crops of the next pages (the top patches).
import keras
import tensorflow as tf

x = tf.constant(x_train[:1000] / 255, tf.float32)
fig, axes = plt.subplots(1, 2, figsize=(7, 3.6), layout="constrained")
for ax, (p, model) in zip(axes, models.items(), strict=True):
    height, width = model.get_layer("max_pool2").output.shape[1:3]
    row, col = (height - 1) // 2, (width - 1) // 2
    top, left, bottom, right = cnnviz.receptive_box(
        model, "max_pool2", row, col
    )
    pool2 = keras.Model(
        model.inputs, model.get_layer("max_pool2").output
    )
    erf = np.zeros((28, 28))
    for channel in range(16):
        with tf.GradientTape() as tape:
            tape.watch(x)
            unit = tf.reduce_sum(pool2(x)[:, row, col, channel])
        erf += np.abs(tape.gradient(unit, x).numpy()[..., 0]).mean(
            axis=0
        )
    field = erf[top:bottom, left:right]
    q = (bottom - top) // 4
    middle = field[q:-q, q:-q].sum() / field.sum()
    print(
        f"{p:5} max_pool2 ({row}, {col}): the middle quarter of its field "
        f"gets {middle:.0%} of the gradient"
    )
    assert middle > 1.5 * 0.25, (
        "the effective field is not concentrated"
    )
    ax.imshow(erf, cmap="gray", vmin=0)
    ax.add_patch(
        plt.Rectangle(
            (left - 0.5, top - 0.5),
            right - left,
            bottom - top,
            fill=False,
            edgecolor="tab:red",
        )
    )
    ax.set_title(f"{p} padding, max_pool2 ({row}, {col})")
    ax.set_axis_off()
fig.suptitle(
    "mean |gradient| of one max_pool2 unit over 1,000 training images\n"
    "(red: its receptive field; each map on its own scale, 0 = black)"
)
plt.show()

# %%
# Border units of ``same`` padding
# --------------------------------
# With ``valid`` padding every unit's field lies inside the image. With
# ``same`` padding each convolution adds two rows and columns of zeros
# around its input, so that its output keeps the input's size; the
# fields of the units at the border then reach into that padding.
# :func:`cnnviz.receptive_box` gives the part of the field that is image,
# so at the border it is smaller than the field. Below, the ``same``
# model's corner unit of ``max_pool2`` is drawn with its whole field
# (computed from its size: the corner's field ends where its box does),
# on the image with a hatched margin for the part outside it; its box is
# the part of it inside the image. The ``valid`` model's corner
# unit of ``max_pool2`` is drawn with it.
#
# The overhang is not black pixels. Its inner two rows and columns are
# ``conv1``'s padding: zeros in place of pixels, which look like the
# black background. The outer four are ``conv2``'s: two positions of
# ``max_pool1``'s maps, two pixels apart, filled with zeros, which need
# not be what a black patch would give there (``conv1``'s bias after
# the ReLU). The network learned to live with both.
(fh, fw), _ = cnnviz.receptive_field(models["same"], "max_pool2")
corner = cnnviz.receptive_box(models["same"], "max_pool2", 0, 0)
whole = (corner[2] - fh, corner[3] - fw, corner[2], corner[3])
print(f"same  max_pool2 (0, 0): field {whole}, receptive_box {corner}")
shown = {
    "same (0, 0)": whole,
    "valid (0, 0)": cnnviz.receptive_box(
        models["valid"], "max_pool2", 0, 0
    ),
}
cnnviz.plot_receptive_field(image, shown, margin=-min(whole))
plt.show()

# %%
# How many units of ``max_pool2`` see each pixel measures how much of
# the network's last spatial layer a pixel can reach. With ``valid``
# padding the 4x4 units' fields overlap most in the middle, and each
# corner pixel is seen by one unit only; with ``same`` padding the 7x7
# units see the whole middle of the image equally often, and even the
# outermost pixels are seen by four. Both maps are on one grey scale,
# from 0 (black) to the largest count (white).
coverage = {}
for p, model in models.items():
    height, width = model.get_layer("max_pool2").output.shape[1:3]
    seen = np.zeros((28, 28), int)
    for row in range(height):
        for col in range(width):
            top, left, bottom, right = cnnviz.receptive_box(
                model, "max_pool2", row, col
            )
            seen[top:bottom, left:right] += 1
    coverage[p] = seen
    print(
        f"{p:5}: each pixel is seen by {seen.min()} to {seen.max()} "
        "max_pool2 units"
    )
most = max(int(c.max()) for c in coverage.values())
fig, axes = plt.subplots(1, 2, figsize=(7, 3.4), layout="constrained")
for ax, (p, seen) in zip(axes, coverage.items(), strict=True):
    shown = ax.imshow(seen, cmap="gray", vmin=0, vmax=most)
    ax.set_title(f"{p} padding")
    ax.set_axis_off()
fig.colorbar(shown, ax=axes, label="max_pool2 units that see the pixel")
plt.show()
