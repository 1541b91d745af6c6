"""
Receptive fields of a CNN, layer by layer
=========================================

One unit of a convolution or pooling layer sees only part of the image:
its receptive field. This page computes the receptive field of every
spatial layer of LeNet-5 from its layer stack, draws the fields of one
unit per layer on a Fashion-MNIST image, and shows what ``same`` padding
does at the border: the fields of border units hang over the edge of the
image, so those units see fewer real pixels.
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
# spans 5 units 2 pixels apart (9 pixels), each of which sees 6x6. A
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
# Border units of ``same`` padding
# --------------------------------
# With ``valid`` padding every unit's field lies inside the image. With
# ``same`` padding each convolution adds two rows and columns of zeros
# around its input, so that its output keeps the input's size; the
# fields of the units at the border then reach into that padding. The
# box is clipped to the image, so it is smaller than the field: the unit
# at (0, 0) of ``max_pool2`` has a 16x16 field but only 10x10 of it is
# image, the rest is zeros that the network learned to live with.
corner = {
    f"{p} max_pool2 (0, 0)": cnnviz.receptive_box(
        models[p], "max_pool2", 0, 0
    )
    for p in models
}
for label, box in corner.items():
    size = (box[2] - box[0], box[3] - box[1])
    print(
        f"{label:24} box {box}, {size[0]}x{size[1]} pixels of the image"
    )
cnnviz.plot_receptive_field(image, corner)
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
