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
# kernels and zero biases. The history is always the whole run's: per
# epoch, the training loss and accuracy and, measured for monitoring
# only (nothing is chosen by it), the test loss and accuracy
# (``val_loss``, ``val_accuracy``). The epochs shown were fixed before
# any curve was looked at.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

import cnnviz

(x_train, y_train), _ = cnnviz.load_fashion_mnist()
image = x_train[41]
SHOWN = (0, 1, 2, 5, 10, 30)
kernels, maps, histories = {}, {}, {}
for p in ("valid", "same"):
    kernels[p], maps[p] = {}, {}
    for epoch in SHOWN:
        model, history = cnnviz.trained_lenet5(
            p, epoch=epoch, verbose=0
        )
        kernels[p][epoch] = cnnviz.kernels(model, "conv1")[:, :, 0, :]
        maps[p][epoch] = cnnviz.layer_outputs(model, image)["conv1"]
    histories[p] = history
    print(
        f"{p:5}: test accuracy after epochs {SHOWN[1:]}: "
        + ", ".join(
            f"{history['val_accuracy'][e - 1]:.3f}" for e in SHOWN[1:]
        )
    )


def correlations(a, b):
    """Each channel's correlation between a and b, (..., channels)."""
    b = np.broadcast_to(b, a.shape)
    return np.array(
        [
            np.corrcoef(a[..., f].ravel(), b[..., f].ravel())[0, 1]
            for f in range(a.shape[-1])
        ]
    )


# %%
# The kernels, epoch by epoch
# ---------------------------
# Each panel is one epoch (read them left to right, then down), each
# tile one of the six kernels (the tile "Channel: N" is the kernel of
# output channel N). All panels share **one** colour scale, centred on
# zero (red positive, blue negative, white zero), set by the largest
# weight over all the epochs shown, so that they can be compared.


def epoch_panels(arrays, what, p):
    """One panel per epoch shown, all on one scale symmetric about zero."""
    m = max(float(np.abs(a).max()) for a in arrays.values())
    fig = plt.figure(figsize=(9, 9.9))
    header, body = fig.subfigures(2, 1, height_ratios=[0.3, 9.6])
    header.suptitle(f"{what}, {p} padding", y=0.5, va="center")
    panels = body.subfigures(len(SHOWN) // 2, 2).ravel()
    for sub, epoch in zip(panels, SHOWN, strict=True):
        when = f"after epoch {epoch}" if epoch else "before training"
        cnnviz.plot_feature_maps(
            arrays[epoch],
            ncols=6,
            scale="layer",
            vmin=-m,
            vmax=m,
            fig=sub,
            title=when,
        )
    return fig


epoch_panels(kernels["valid"], "conv1 kernels", "valid")
plt.show()

# %%
# The kernels start as faint random speckle (Glorot-uniform weights,
# at most sqrt(6 / (25 + 150)) = 0.19 in size). Training reshapes that
# start rather than replacing it. The page prints, for each epoch shown,
# each kernel's correlation (over its 25 weights) with its own final
# form, after epoch 30, and checks four things: every final kernel is
# still positively correlated with its random start; on average the
# kernels come closer to their final form at every epoch shown, more
# than half of the way within the first five epochs (of 938 steps of 64
# images each); the kernels keep growing (their root sum of squares,
# printed too) at every epoch shown; and after epoch 10 each kernel's
# correlation with its final form is above 0.9. So from epoch 10 to 30
# the kernels hardly change their pattern, but still grow.
for p in ("valid", "same"):
    to_final = {
        e: correlations(kernels[p][e], kernels[p][30]) for e in SHOWN
    }
    size = [np.sqrt((kernels[p][e] ** 2).sum()) for e in SHOWN]
    print(
        f"{p} padding: correlation of each kernel with its final form"
    )
    for epoch in SHOWN[:-1]:
        print(
            f"  epoch {epoch:2}: "
            + ", ".join(f"{v:+.2f}" for v in to_final[epoch])
        )
    print(
        "  size of the kernels: " + ", ".join(f"{v:.2f}" for v in size)
    )
    closeness = [to_final[e].mean() for e in SHOWN]
    assert (to_final[0] > 0).all(), "a final kernel is unlike its start"
    assert (np.diff(closeness) > 0).all(), (
        "not steadily closer to the end"
    )
    assert closeness[3] > (closeness[0] + 1) / 2, (
        "not halfway by epoch 5"
    )
    assert (np.diff(size) > 0).all(), "the kernels did not keep growing"
    assert to_final[10].min() > 0.9, "a kernel changed after epoch 10"

# %%
# Over those twenty epochs the model overfits, as the training page
# showed: the training loss keeps falling while the test loss rises, and
# the test accuracy moves much less than the training accuracy rises.
# The page prints the four changes and checks each statement, for both
# models.
for p, h in histories.items():
    change = {
        k: h[k][29] - h[k][9]
        for k in ("loss", "val_loss", "accuracy", "val_accuracy")
    }
    print(
        f"{p:5}, epoch 10 to 30: training loss {change['loss']:+.3f}, "
        f"test loss {change['val_loss']:+.3f}, training accuracy "
        f"{change['accuracy']:+.3f}, test accuracy {change['val_accuracy']:+.3f}"
    )
    assert change["loss"] < 0 < change["val_loss"], "no overfitting"
    assert abs(change["val_accuracy"]) < change["accuracy"], (
        "test moved as much"
    )

# %%
# The ``same`` model starts from the very same kernels (the first page
# of this section shows which layers start equal, and why ``fc1`` does
# not). The twins then drift apart: the page prints each kernel's
# correlation with its twin in the ``valid`` model and checks that on
# average the pairs are less alike after each epoch shown than after the
# one before. (One pair may stay as alike as it was for a while; some
# pairs drift far, others hardly, differently from run to run.)
assert np.array_equal(kernels["valid"][0], kernels["same"][0])
twins = {
    e: correlations(kernels["valid"][e], kernels["same"][e])
    for e in SHOWN
}
for epoch, c in twins.items():
    print(
        f"epoch {epoch:2}, valid vs same: "
        + ", ".join(f"{v:+.2f}" for v in c)
    )
alike = [twins[e].mean() for e in SHOWN]
assert (np.diff(alike) < 0).all(), "the twins did not drift apart"
epoch_panels(kernels["same"], "conv1 kernels", "same")
plt.show()

# %%
# What the kernels make of the sneaker
# ------------------------------------
# The same epochs, now as ``conv1``'s six maps of image 41 (the layer's
# output, before the ReLU). Again one scale over all panels, centred on
# zero.
#
# A kernel whose weights all have one sign makes a blurred copy of the
# shoe (a brightness detector), negated if the sign is negative; one
# whose weights cancel ignores brightness itself and answers to changes
# of it within its window: edges and stripes. To tell them apart, the
# page correlates each map with the image blurred over the same 5x5
# windows (what a kernel of equal weights gives): near +1 or -1 is a
# (negated) copy, near 0 a map of something else. Before training the
# kernels are random, and their maps are copies or not as their random
# weights happen to sum. After one epoch, at least one map is a near
# copy (a correlation beyond 0.9 or -0.9), and by epoch 30 each of these
# is less of one: training makes each of them less of a pure brightness
# detector. The page names the near copies and checks both
# statements, for both models. (The other maps follow no rule that holds
# run after run: some become more like copies, some less.)
for p in ("valid", "same"):
    margin = (
        0 if p == "valid" else 2
    )  # same padding: windows over the zeros too
    padded = np.pad(image[..., 0] / 255, margin)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (5, 5))
    blurred = windows.mean(axis=(-2, -1))
    copy = {
        e: correlations(maps[p][e][0], blurred[..., None])
        for e in SHOWN
    }
    print(
        f"{p} padding: correlation of each map with the blurred image"
    )
    for epoch, c in copy.items():
        print(
            f"  epoch {epoch:2}: " + ", ".join(f"{v:+.2f}" for v in c)
        )
    near = np.flatnonzero(np.abs(copy[1]) > 0.9)
    print(f"  near copies after epoch 1: maps {near.tolist()}")
    assert near.size, "no map is a near copy after epoch 1"
    assert np.all(np.abs(copy[30][near]) < np.abs(copy[1][near])), (
        "a near copy did not fade"
    )

# %%
epoch_panels(maps["valid"], "conv1 maps of image 41", "valid")
plt.show()

# %%
epoch_panels(maps["same"], "conv1 maps of image 41", "same")
plt.show()

# %%
# Every epoch as an animation
# ---------------------------
# All 31 states of the ``valid`` model, one frame each: the kernels on
# the left, the maps of image 41 on the right, each on its own scale
# (centred on zero) fixed over the whole animation, so that only the
# weights move. In a Jupyter notebook, ``plt.show()`` draws only the first
# frame: to play it there, end the cell with
# ``IPython.display.HTML(animation.to_jshtml())`` instead (this site does
# the same when it is built).
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
fig = plt.figure(figsize=(9, 3.8))
header, panels = fig.subfigures(2, 1, height_ratios=[0.4, 3.4])
top, bottom = panels.subfigures(1, 2)
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
        f", test accuracy {histories['valid']['val_accuracy'][epoch - 1]:.3f}"
        if epoch
        else ""
    )
    when = f"after epoch {epoch}" if epoch else "before training"
    header.suptitle(f"valid padding, {when}{acc}", y=0.5, va="center")


draw(0)
animation = FuncAnimation(fig, draw, frames=range(31), interval=400)
plt.show()
