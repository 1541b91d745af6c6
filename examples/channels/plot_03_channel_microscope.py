"""
A microscope for every channel of a CNN layer
=============================================

What does channel 7 of ``conv2`` detect? This page answers it for all
sixteen channels of ``conv2`` in both trained LeNet-5 models the way
OpenAI Microscope does for large networks, but from the data: each
channel's nine strongest test patches, cut to the unit's receptive
field; its mean activation per class; the channels that never fire;
and the test accuracy lost when the channel is switched off.
"""

# %%
# The data and the models
# -----------------------
# Everything on this page is measured on the 10,000 test images, which
# the models never trained on; nothing is chosen by the results.
import matplotlib.pyplot as plt

import cnnviz

_, (x_test, y_test) = cnnviz.load_fashion_mnist()
models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}
LAYER = "conv2"

# %%
# Top patches
# -----------
# :func:`cnnviz.top_patches` runs the test set through the model once,
# in batches, and keeps for every channel the nine images where the
# channel's strongest unit is strongest (at most one unit per image),
# with that unit's position and receptive box (14x14 pixels for
# ``conv2``, clipped at the image's edge).
patches = {
    p: cnnviz.top_patches(model, x_test, LAYER, k=9)
    for p, model in models.items()
}
for p, result in patches.items():
    strongest = result["value"][:, 0]
    print(
        f"{p:5}: strongest unit per channel:",
        " ".join(f"{v:.1f}" for v in strongest),
    )

# %%
# :func:`cnnviz.plot_top_patches` draws one channel: the crops on top
# (each in grey from black to white, as in the images: pixel values,
# not activations), the whole images with the box below, each titled
# with its test index and the unit's activation. Here are four channels
# of the ``valid`` model in full.
fig = plt.figure(figsize=(12.2, 3.9 * 4), layout="constrained")
for sub, channel in zip(fig.subfigures(4, 1), range(4), strict=True):
    cnnviz.plot_top_patches(x_test, patches["valid"], channel, fig=sub)
fig.suptitle("LeNet-5 with valid padding", fontsize="x-large")
plt.show()

# %%
# Most channels answer to one part of one kind of garment: the heel of
# a boot, the gap between two trouser legs, the straps of a sandal, the
# handle of a bag. Some answer to an edge of one orientation wherever it
# is, and their top patches mix classes. Read a crop together with the
# image below it: the crop shows what the unit sees, the image where.
#
# Every channel at a glance
# -------------------------
# The crops alone (``context=False``), one row per channel, for all
# sixteen channels of each model. The ``same`` model's channel numbers
# have nothing to do with the ``valid`` model's: two trainings, two sets
# of filters.


def overview(p):
    fig = plt.figure(figsize=(12.2, 2.0 * 16), layout="constrained")
    for sub, channel in zip(
        fig.subfigures(16, 1), range(16), strict=True
    ):
        cnnviz.plot_top_patches(
            x_test, patches[p], channel, context=False, fig=sub
        )
    fig.suptitle(
        f"LeNet-5 with {p} padding: conv2, every channel",
        fontsize="x-large",
    )
    return fig


for p in models:
    overview(p)
    plt.show()

# %%
# Mean activation per class
# -------------------------
# :func:`cnnviz.class_mean_activations` averages each channel over the
# positions and over each class's images. We take ``relu2`` (``conv2``
# after its ReLU, what the next layers see): its values are never
# negative, so the mean says how much the channel fires. The colour
# scale runs from 0 to the largest mean, one scale for the figure.
for p, model in models.items():
    means = cnnviz.class_mean_activations(
        model, x_test, y_test, "relu2"
    )
    cnnviz.plot_class_activations(means)
    plt.gcf().suptitle(f"{p} padding: relu2 mean activation per class")
    plt.show()
    favourite = means.argmax(axis=0)
    print(
        f"{p:5}: class each channel fires most for:",
        ", ".join(
            f"{c}: {cnnviz.CLASS_NAMES[k]}"
            for c, k in enumerate(favourite)
        ),
    )

# %%
# Dead channels
# -------------
# A channel whose ReLU output is zero for every test image at every
# position passes nothing on: it is dead, and its filter is wasted. The
# top patches tell at once: its strongest value over the test set is 0.
for p, model in models.items():
    relu = cnnviz.top_patches(model, x_test, "relu2", k=1)
    dead = relu["channels"][relu["value"][:, 0] <= 0]
    print(f"{p:5}: dead channels of relu2: {list(dead) or 'none'}")

# %%
# What the network loses without a channel
# ----------------------------------------
# :func:`cnnviz.channel_ablation` sets one channel of ``conv2`` to zero
# at every position (so its ReLU and pooling pass zeros on), for each
# channel in turn, and measures the test accuracy; the model itself is
# never changed. The bars are the accuracy lost, in percentage points.
for p, model in models.items():
    ablation = cnnviz.channel_ablation(model, x_test, y_test, LAYER)
    cnnviz.plot_ablation(ablation)
    plt.gcf().suptitle(
        f"{p} padding", x=0.02, ha="left", fontsize="medium"
    )
    plt.show()
    lost = ablation["intact_accuracy"] - ablation["accuracy"]
    print(
        f"{p:5}: intact {ablation['intact_accuracy']:.4f}; "
        f"largest loss {100 * lost.max():.2f} points (channel "
        f"{ablation['channels'][lost.argmax()]}), smallest "
        f"{100 * lost.min():.2f} (channel {ablation['channels'][lost.argmin()]})"
    )

# %%
# No single channel is indispensable: the largest loss is a few points,
# because the sixteen channels overlap and the dense layers read them
# all. One test image is 0.01 points, so a loss of 0.1 points or less,
# or a small gain (a bar below zero), is within the noise. Ablation
# measures what *this* trained network does without a channel, not what
# a network trained without it could do.
