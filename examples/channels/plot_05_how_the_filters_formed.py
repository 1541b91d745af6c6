"""
How CNN filters form during training: conv1, epoch by epoch
===========================================================

The filters on the first page of this section are where 30 epochs of
training ended. This page goes back in time: the cache entry of each
trained model also keeps its weights before training (epoch 0) and
after every epoch, so :func:`cnnviz.trained_lenet5` can return the model
as it was after any epoch without training again. We watch ``conv1``'s
six kernels and what they make of training image 41 (the notebook's
sneaker) take shape, for ``valid`` and ``same`` padding.
"""

# %%
# The models after epochs 0, 1, 2, 5, 10 and 30
# ---------------------------------------------
# ``epoch=0`` is the model before training: Glorot-uniform random
# kernels and zero biases. The history is always the whole run's; its
# ``val_accuracy`` is the accuracy on the test set after each epoch (the
# test set is only measured here, nothing is chosen by it).
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

import cnnviz

(x_train, y_train), _ = cnnviz.load_fashion_mnist()
image = x_train[41]
SHOWN = (0, 1, 2, 5, 10, 30)
kernels, maps, accuracy = {}, {}, {}
for p in ("valid", "same"):
    kernels[p], maps[p] = {}, {}
    for epoch in SHOWN:
        model, history = cnnviz.trained_lenet5(
            p, epoch=epoch, verbose=0
        )
        kernels[p][epoch] = cnnviz.kernels(model, "conv1")
        maps[p][epoch] = cnnviz.layer_outputs(model, image)["conv1"]
    accuracy[p] = [np.nan, *history["val_accuracy"]]
    print(
        f"{p:5}: test accuracy after epochs {SHOWN[1:]}: "
        + ", ".join(f"{accuracy[p][e]:.3f}" for e in SHOWN[1:])
    )

# %%
# The kernels, epoch by epoch
# ---------------------------
# Each row is one epoch, each column one of the six kernels (the tile
# "Channel: N" is the kernel of output channel N). All rows share **one**
# colour scale, centred on zero (red positive, blue negative, white
# zero), set by the largest weight over all the epochs shown, so that
# the rows can be compared.


def epoch_rows(arrays, what, p):
    """One row per epoch shown, all on one scale symmetric about zero."""
    m = max(float(np.abs(a).max()) for a in arrays.values())
    fig = plt.figure(figsize=(9, 1.9 * len(SHOWN)))
    for sub, epoch in zip(
        fig.subfigures(len(SHOWN), 1), SHOWN, strict=True
    ):
        when = f"after epoch {epoch}" if epoch else "before training"
        cnnviz.plot_feature_maps(
            arrays[epoch],
            ncols=6,
            scale="layer",
            vmin=-m,
            vmax=m,
            fig=sub,
            title=f"{what} ({p} padding), {when}",
        )
    return fig


epoch_rows(
    {e: k[:, :, 0, :] for e, k in kernels["valid"].items()},
    "conv1 kernels",
    "valid",
)
plt.show()

# %%
# The kernels start as faint random speckle (Glorot-uniform weights,
# at most 0.19 in size: sqrt(6 / (25 + 150))). The first epoch, 938 steps of 64 images,
# already moves each one toward its final pattern: the dark right
# column of kernel 3 and the bright-over-dark rows of kernel 0 are there
# after epoch 1, faint. The later epochs mostly strengthen what is there
# (the weights keep growing) while the test accuracy creeps up by a few
# points.
#
# The ``same`` model starts from the very same kernels: it is built
# after the same seed, and its layers are created in the same order
# with the same shapes up to ``conv2``. It ends elsewhere, because the
# zeros around the padded border change the gradients from the first
# step on.
print(
    "epoch-0 kernels equal in both models:",
    np.array_equal(kernels["valid"][0], kernels["same"][0]),
)
epoch_rows(
    {e: k[:, :, 0, :] for e, k in kernels["same"].items()},
    "conv1 kernels",
    "same",
)
plt.show()

# %%
# What the kernels make of the sneaker
# ------------------------------------
# The same epochs, now as ``conv1``'s six maps of image 41 (the layer's
# output, before the ReLU). Again one scale over all rows, centred on
# zero. Before training each map is a faint, blurred copy of the shoe,
# of one sign or the other. After one epoch, maps 2 and 5 answer to the
# whole bright shoe: brightness detectors. Over the next epochs they
# fade while map 0 sharpens into a detector of the shoe's upper outline
# (a blue line along the top, a red one where the sole begins) and maps
# 3 and 4 into thinner edge detectors.
epoch_rows(maps["valid"], "conv1 maps of image 41", "valid")
plt.show()

# %%
epoch_rows(maps["same"], "conv1 maps of image 41", "same")
plt.show()

# %%
# Every epoch as an animation
# ---------------------------
# All 31 states of the ``valid`` model, one frame each: the kernels on
# top, the maps of image 41 below, each row on its own scale (centred on
# zero) fixed over the whole animation, so that only the weights move.
frames = {}
for epoch in range(31):
    model, _ = cnnviz.trained_lenet5("valid", epoch=epoch, verbose=0)
    frames[epoch] = (
        cnnviz.kernels(model, "conv1")[:, :, 0, :],
        cnnviz.layer_outputs(model, image)["conv1"],
    )
k_max = max(float(np.abs(k).max()) for k, _ in frames.values())
m_max = max(float(np.abs(a).max()) for _, a in frames.values())


# %%
# The figure is drawn once by :func:`cnnviz.plot_feature_maps`; each
# frame then only puts the next epoch's numbers into its tiles.
fig = plt.figure(figsize=(9, 4.6))
header, top, bottom = fig.subfigures(
    3, 1, height_ratios=[0.4, 2.1, 2.1]
)
rows = {}
for sub, index, limit, what in (
    (top, 0, k_max, "conv1 kernels"),
    (bottom, 1, m_max, "conv1 maps of image 41"),
):
    cnnviz.plot_feature_maps(
        frames[0][index],
        ncols=6,
        scale="layer",
        vmin=-limit,
        vmax=limit,
        fig=sub,
        title=what,
    )
    rows[index] = [
        ax.get_images()[0] for ax in sub.axes if ax.get_images()
    ]


def draw(epoch):
    for index, tiles in rows.items():
        values = frames[epoch][index].reshape(
            -1, *frames[epoch][index].shape[-3:]
        )[0]
        for channel, tile in enumerate(tiles):
            tile.set_data(values[..., channel])
    acc = (
        f", test accuracy {accuracy['valid'][epoch]:.3f}"
        if epoch
        else ""
    )
    header.suptitle(
        f"valid padding, after epoch {epoch}{acc}", y=0.5, va="center"
    )


draw(0)
animation = FuncAnimation(fig, draw, frames=range(31), interval=400)
plt.show()
