"""
A microscope for every channel of a CNN layer
=============================================

What does a channel of ``conv2`` detect? This page looks at all sixteen
channels of ``conv2`` in both trained LeNet-5 models the way OpenAI
Microscope does for large networks, from the data: each channel's nine
strongest image patches, cut to the unit's receptive field; its mean
activation per class; the channels that never fire; and the test
accuracy lost when the channel is switched off.
"""

# %%
# The data and the models
# -----------------------
# The patches and the class means are taken from the 60,000 training
# images, the data the channels learned from, so that nothing shown on
# this page is picked on the test set; the accuracy lost without a
# channel is measured on the 10,000 test images, which the models never
# trained on.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

(x_train, y_train), (x_test, y_test) = cnnviz.load_fashion_mnist()
models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}
LAYER = "conv2"

# %%
# Top patches
# -----------
# :func:`cnnviz.top_patches` runs the images through the model once, in
# batches, and keeps for every channel the nine images where the
# channel's strongest unit is strongest (at most one unit per image),
# with that unit's position and receptive box (14x14 pixels for
# ``conv2``, clipped at the image's edge).
patches = {
    p: cnnviz.top_patches(model, x_train, LAYER, k=9)
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
# with its training image's index and the unit's activation. Here are
# the first four channels of the ``valid`` model in full. Read a crop
# together with the image below it: the crop shows what the unit sees,
# the image where.
fig = plt.figure(figsize=(12.2, 3.9 * 4), layout="constrained")
for sub, channel in zip(fig.subfigures(4, 1), range(4), strict=True):
    cnnviz.plot_top_patches(x_train, patches["valid"], channel, fig=sub)
fig.suptitle("LeNet-5 with valid padding", fontsize="x-large")
plt.show()

# %%
# Every channel at a glance
# -------------------------
# The crops alone (``context=False``), one row per channel, for all
# sixteen channels of each model, one model per figure. The tiles'
# titles (image index and activation) would be too small to read here:
# each row says instead its channel and the activations of its first
# and ninth patch. Both models' ``conv2`` start from the same random
# kernels (the first page of this section checks it), so channel ``f``
# of one may still resemble channel ``f`` of the other; but two trainings
# moved them apart, through different paddings and a different ``fc1``:
# do not assume that channels of one number detect the same thing.


def overview(p):
    fig = plt.figure(figsize=(12.2, 1.7 * 16), layout="constrained")
    for sub, channel in zip(
        fig.subfigures(16, 1), range(16), strict=True
    ):
        cnnviz.plot_top_patches(
            x_train, patches[p], channel, context=False, fig=sub
        )
        for ax in sub.axes:
            ax.set_title("")
        first, *_, ninth = patches[p]["value"][channel]
        sub.suptitle(
            f"channel {channel}: activation {first:.1f} to {ninth:.1f}",
            fontsize="large",
        )
    fig.suptitle(
        f"LeNet-5 with {p} padding: conv2, every channel",
        fontsize="x-large",
    )
    plt.show()


overview("valid")

# %%
overview("same")

# %%
# Channels of one class
# ---------------------
# A row above may be one kind of garment, even one part of it (look at
# where the boxes sit in the images of the first figure), or mix
# classes: an edge of one orientation can be strongest on a sandal, a
# shirt and a bag alike. Rather than naming them by eye, the code
# applies a rule: a channel is *of one class* when at least seven of its
# nine top patches come from images of that class.
one_class = {}
for p, result in patches.items():
    counts = np.stack(
        [
            np.bincount(y_train[row], minlength=10)
            for row in result["index"]
        ]
    )
    one_class[p] = {
        int(c): int(counts[i].argmax())
        for i, c in enumerate(result["channels"])
        if counts[i].max() >= 7
    }
    named = ", ".join(
        f"{c}: {cnnviz.CLASS_NAMES[k]}" for c, k in one_class[p].items()
    )
    print(
        f"{p:5}: {len(one_class[p])} of 16 channels of one class ({named})"
    )

# %%
# The page checks its claim: each model has channels of one class and
# channels whose top patches mix classes.
for p in models:
    assert 0 < len(one_class[p]) < 16, f"{p}: not both kinds of channel"

# %%
# Mean activation per class
# -------------------------
# :func:`cnnviz.class_mean_activations` averages each channel over the
# positions and over each class's images. We take ``relu2`` (``conv2``
# after its ReLU, what the next layers see): its values are never
# negative, so the mean says how much the channel fires. The colour
# scale of each model's map runs from 0 to that model's largest mean.
means = {
    p: cnnviz.class_mean_activations(model, x_train, y_train, "relu2")
    for p, model in models.items()
}
fig = plt.figure(figsize=(12.2, 10.0), layout="constrained")
for sub, p in zip(fig.subfigures(2, 1), models, strict=True):
    cnnviz.plot_class_activations(means[p], fig=sub)
    sub.suptitle(f"{p} padding: relu2", fontsize="large")
plt.show()

# %%
# The top patches are the tail of a channel's distribution, the nine
# largest of millions of values (one per unit and image); the class
# means are its bulk, what the channel does on average over each class's
# images. The two can disagree: a channel whose few strongest answers
# are all on sandals may still fire more, on average, for another class
# that gives it many moderate answers. The strongest dataset examples
# show a channel at its extreme, not what it usually does (Olah,
# Mordvintsev and Schubert, 2017, "Feature Visualization", Distill, on
# dataset examples). For each channel of one class, does the class it
# fires most for on average agree? Here, for some channels, it does
# not (the page checks that at least one disagrees).
disagree = 0
for p in models:
    favourite = means[p].argmax(axis=0)
    for c, k in one_class[p].items():
        verdict = "agrees" if favourite[c] == k else "disagrees"
        disagree += favourite[c] != k
        print(
            f"{p:5} channel {c:2}: top patches {cnnviz.CLASS_NAMES[k]}, "
            f"mean {verdict} ({cnnviz.CLASS_NAMES[favourite[c]]})"
        )
assert disagree > 0, (
    "tail and bulk agree for every channel of one class"
)

# %%
# Dead channels
# -------------
# A channel whose ReLU output is zero for every image at every
# position passes nothing on: it is dead, and its filter is wasted. The
# top patches tell at once: its strongest value over the images is 0.
for p, model in models.items():
    relu = cnnviz.top_patches(model, x_train, "relu2", k=1)
    dead = relu["channels"][relu["value"][:, 0] <= 0]
    print(f"{p:5}: dead channels of relu2: {list(dead) or 'none'}")

# %%
# What the network loses without a channel
# ----------------------------------------
# :func:`cnnviz.channel_ablation` replaces one channel of ``relu2`` by
# one value at every position and for every image, for each channel in
# turn, and measures the test accuracy; the model itself is never
# changed. The bars are the accuracy lost, in percentage points. Two
# fills, and neither removes only what the channel says:
#
# - *Zero ablation* (``fill="zero"``) sets the channel to zero, as if
#   ``conv2`` had no such filter. Besides the channel's information, it
#   takes away its average level: the next layers now see zero where
#   they usually see the channel's answers.
# - *Mean ablation* sets the channel to one constant, its mean over the
#   60,000 *training* images and all positions, given to the function as
#   numbers (``fill=means``; ``fill="mean"`` would take the mean over the
#   test images the accuracy is measured on). It keeps the channel's
#   average level, but it puts that level everywhere, also where the
#   channel is normally silent (the positions where its ReLU gives
#   zero): the next layers see activity where they usually see none.
#
# Both fills move the next layers' input off its usual values, each in
# its own way, so neither measures the information alone. Read the two
# together: a channel that costs much under both fills is one the
# network relies on; one that costs much under one fill only is
# sensitive to that kind of change. In each figure the two models share
# one y-axis; the two figures each have their own.


def training_means(model):
    """Each relu2 channel's mean over the training images and positions."""
    total = 0.0
    for i in range(0, len(x_train), 10000):  # 10,000 images at a time
        out = cnnviz.layer_outputs(
            model, x_train[i : i + 10000], ["relu2"]
        )
        total = total + out["relu2"].sum(
            axis=(0, 1, 2), dtype=np.float64
        )
    return total / (len(x_train) * out["relu2"][0, ..., 0].size)


ablation = {}
for p, model in models.items():
    ablation[p, "zero"] = cnnviz.channel_ablation(
        model, x_test, y_test, "relu2"
    )
    means = training_means(model)
    ablation[p, "mean"] = cnnviz.channel_ablation(
        model, x_test, y_test, "relu2", fill=means
    )


def show_ablation(fill):
    fig = plt.figure(figsize=(12.2, 7.4), layout="constrained")
    for sub, p in zip(fig.subfigures(2, 1), models, strict=True):
        cnnviz.plot_ablation(ablation[p, fill], fig=sub)
        if fill == "mean":
            # The values given were the training images' means: say so.
            ax = sub.axes[0]
            ax.set_xlabel(
                "channel switched off (set to its mean over the training images)"
            )
            ax.set_title(
                ax.get_title().replace(
                    "a given value", "its training mean"
                )
            )
        sub.suptitle(
            f"{p} padding", x=0.02, ha="left", fontsize="medium"
        )
    # One y-axis for both models, so their bars compare at a glance.
    limits = np.array([ax.get_ylim() for ax in fig.axes])
    for ax in fig.axes:
        ax.set_ylim(limits[:, 0].min(), limits[:, 1].max())
    plt.show()
    for p in models:
        result = ablation[p, fill]
        lost = result["intact_accuracy"] - result["accuracy"]
        print(
            f"{p:5}, {fill} ablation: intact {result['intact_accuracy']:.4f}; "
            f"largest loss {100 * lost.max():.2f} points (channel "
            f"{result['channels'][lost.argmax()]}), smallest "
            f"{100 * lost.min():.2f} (channel {result['channels'][lost.argmin()]})"
        )


show_ablation("zero")

# %%
show_ablation("mean")

# %%
# No single channel is indispensable: whichever way it is switched off,
# the largest loss is a few points, far from the fall to chance (10%)
# that a channel everything depended on would cause, because the sixteen
# channels overlap and the dense layers read them all. The page checks
# it (under ten points). One test image is 0.01 points, so a loss of 0.1
# points (ten images) or less, or a small gain (a bar below zero), is
# too small to read anything into. Ablation measures what *this*
# trained network does without a channel, not what a network trained
# without it could do.
for (p, fill), result in ablation.items():
    lost = result["intact_accuracy"] - result["accuracy"]
    assert lost.max() < 0.10, f"{p}, {fill}: a channel costs 10 points"
