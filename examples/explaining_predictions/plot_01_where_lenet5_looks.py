"""
Where does a CNN look? Saliency maps for LeNet-5
================================================

A saliency map gives each pixel of an image a number: how much the
network's answer rests on it. This page computes five such maps for the
trained LeNet-5 with ``valid`` and with ``same`` padding, says for each
method what it computes and when it misleads, and measures where each
puts its weight: on the garment, or on the black background around it.
It shows integrated gradients from three baselines, and checks its
completeness. The next page checks whether the maps can be trusted.
"""

# %%
# The images, the two models and the class score
# -----------------------------------------------
# The maps are drawn for four training images, picked by a rule fixed
# in advance: the first training image of each of four classes chosen
# for their shapes (a T-shirt/top, a trouser with the gap between its
# legs, a sandal with gaps between its straps, a bag): what the gallery
# shows is picked on training images, so that the test set stays for
# measuring. Where the page measures, it uses the first 500 test images,
# only measured, nothing chosen on them. Both models come from the cache
# that the earlier pages filled.
#
# Every map explains the predicted class's **class score**: its logit,
# the input of the final softmax (``op``), computed here as the ``fc2``
# activations times the weights of ``op`` plus its bias. The softmax
# turns the ten scores into probabilities, which saturate near 1 on a
# confident answer, so their gradients vanish; the score does not
# saturate.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import cnnviz

(x_train, y_train), (x_test, _) = cnnviz.load_fashion_mnist()
names = cnnviz.CLASS_NAMES
shown = [0, 1, 5, 8]  # T-shirt/top, trouser, sandal, bag
first = [int(np.flatnonzero(y_train == c)[0]) for c in shown]
images = x_train[first]
measured = x_test[:500]
black = measured[..., 0] == 0  # the pixels that are exactly black
models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}


def class_scores(model, x):
    """The logits: the input of the final softmax, one per class."""
    weights, bias = model.get_layer("op").get_weights()
    return (
        cnnviz.layer_outputs(model, x, ["fc2"])["fc2"] @ weights + bias
    )


predicted = {
    p: class_scores(model, images).argmax(axis=1)
    for p, model in models.items()
}
print("training images:", first)
for p in models:
    print(f"{p:5} predicts:", ", ".join(names[c] for c in predicted[p]))
print(f"exactly black: {black.mean():.0%} of the measured pixels")

# %%
# How the maps are drawn and measured
# -----------------------------------
# Each figure holds both models: the ``valid`` model's maps in the top
# row, the ``same`` model's below, one image per column.
# :func:`cnnviz.plot_attribution` gives every tile its own colour scale
# and colour bar: a map without negative values runs on ``magma`` from 0
# to its own maximum; a signed map runs on ``RdBu_r`` symmetric about
# zero (red raises the class score, blue lowers it, white is zero). The
# map is drawn over the grey image, more opaque where it is larger. So
# the tiles show *where* each map is large, not how large one map is
# next to another: compare shapes, not colours, across tiles. Each tile
# is titled with the model, its predicted class and the map's range
# (min .. max);
# a map that is zero up to float32 rounding is drawn flat.
#
# With each figure the page prints the method's share on the black
# background: of the map's absolute values summed over the 500 measured
# images, the part that falls on pixels that are exactly 0.
METHODS = {
    "gradients": (cnnviz.gradients, {}),
    "smoothgrad": (cnnviz.smoothgrad, {"samples": 25}),
    "integrated_gradients": (
        cnnviz.integrated_gradients,
        {"steps": 32},
    ),
    "grad_cam": (cnnviz.grad_cam, {}),
    "occlusion": (cnnviz.occlusion, {}),
}
on_black = {}


def show(name):
    """Draw one method's maps for both models in one figure; measure."""
    method, options = METHODS[name]
    maps, titles = [], []
    for p, model in models.items():
        maps.append(method(model, images, **options))
        titles += [f"{p}: {names[c]}" for c in predicted[p]]
        mass = np.abs(method(model, measured, **options)).astype(float)
        on_black[name, p] = (mass * black).sum() / mass.sum()
        print(f"{name}, {p}: {on_black[name, p]:.1%} on black pixels")
    fig = cnnviz.plot_attribution(
        np.concatenate([images, images]),
        np.concatenate(maps),
        titles=titles,
    )
    return fig


# %%
# Gradients
# ---------
# :func:`cnnviz.gradients` is the absolute gradient of the class score
# with respect to each pixel: which pixels would change the score most if
# nudged a little. It misleads by being local and noisy: a large
# gradient says the score is sensitive there, not that the pixel is what
# the decision rests on, and it says nothing about the direction. A black
# background pixel has a gradient too (a speck of light there would
# change the score), so much of the map lies off the garment.
show("gradients")
plt.show()

# %%
# SmoothGrad
# ----------
# :func:`cnnviz.smoothgrad` averages the signed gradients of noisy copies
# of the image (here 25 copies, noise 15% of the image's range): a
# gradient whose sign flips from copy to copy cancels, so the map is
# signed (red raises the score) and keeps what nearby images agree on.
# It misleads by looking cleaner than it is: the smoothing comes from
# the noise, so a tidy map can still be the outline of the image more
# than the model's reasoning. Like the gradients it averages, it keeps
# much of its weight on the black background.
show("smoothgrad")
plt.show()

# %%
# Integrated gradients
# --------------------
# :func:`cnnviz.integrated_gradients` averages the gradient along the
# straight path from a baseline ``x'`` (by default a black image) to the
# image ``x`` and multiplies it by ``x - x'``, pixel by pixel (Sundararajan
# et al., 2017); the map is signed. It misleads through its baseline: a
# pixel that equals the baseline gets exactly zero, whatever the
# gradient, so with a black baseline every exactly black pixel (the
# background, the gaps between a sandal's straps) gets exactly 0, and a
# dark grey pixel only a little, however much the model uses it. The
# page checks that its share on black pixels is exactly 0.
show("integrated_gradients")
plt.show()

# %%
# Other baselines
# ---------------
# The baseline stands for "no information", and black is only one
# choice (Sturmfels, Lundberg and Lee, "Visualizing the Impact of
# Feature Attribution Baselines", Distill, 2020). Below, for the
# ``valid`` model, one row per baseline: black; the image blurred by a
# Gaussian of 4 pixels (it keeps the coarse brightness and removes the
# edges, so the map says which fine detail moved the score); and the
# mean training image (an average garment, so the map says what in this
# image differs from it). With a baseline that is not black where the
# image is, black pixels are no longer given 0. Each baseline asks its
# own question; none is the answer.


def blurred(x, sigma=4.0):
    """Each image blurred by a Gaussian of `sigma` pixels, in [0, 1]."""
    kernel = np.exp(-0.5 * (np.arange(-12, 13) / sigma) ** 2)
    x = x.astype(np.float32) / 255
    for axis in (1, 2):  # rows, then columns; zeros beyond the edge
        x = np.apply_along_axis(
            np.convolve, axis, x, kernel / kernel.sum(), "same"
        )
    return x


mean_image = x_train.mean(axis=0, dtype=np.float32) / 255
baselines = {
    "black": lambda x: np.zeros(x.shape, np.float32),
    "blurred": blurred,
    "mean": lambda x: np.broadcast_to(mean_image, x.shape),
}
rows, titles = [], []
for b, baseline in baselines.items():
    rows.append(
        cnnviz.integrated_gradients(
            models["valid"], images, baseline=baseline(images), steps=32
        )
    )
    titles += [f"{b}: {names[c]}" for c in predicted["valid"]]
cnnviz.plot_attribution(
    np.concatenate([images] * 3), np.concatenate(rows), titles=titles
)
plt.show()

# %%
# Completeness
# ------------
# Integrated gradients is *complete*: the map sums to the change of the
# class score from the baseline to the image, ``score(x) - score(x')``,
# up to the error of approximating the path's integral by a sum over
# ``steps`` points. The page prints that gap, relative to the score's
# change, over the first 100 measured images (median and largest), for
# each baseline and both models, at 32 points (the maps above) and 128;
# the gap shrinks with more points, as the page checks. (Relative to a
# small change of the score, a small error is a large gap: hence the
# largest ones.) It also prints each baseline's share on black pixels,
# as above: exactly 0 for the black baseline only.
x_gap = measured[:100]
for p, model in models.items():
    scores = class_scores(model, x_gap)
    target = scores.argmax(axis=1)
    for b, baseline in baselines.items():
        base = baseline(x_gap)
        change = (scores - class_scores(model, base))[
            np.arange(100), target
        ]
        gaps = []
        for steps in (32, 128):
            ig = cnnviz.integrated_gradients(
                model, x_gap, target, baseline=base, steps=steps
            )
            gap = np.abs(ig.sum(axis=(1, 2)) - change) / np.abs(change)
            gaps.append(np.median(gap))
            mass = np.abs(ig).astype(float)
            share = (mass * black[:100]).sum() / mass.sum()
            print(
                f"{p:5} {b:10} {steps:3} steps: gap median {np.median(gap):.2%},"
                f" largest {gap.max():.2%}; {share:.1%} on black pixels"
            )
        assert gaps[1] < gaps[0], (
            "the completeness gap shrinks with steps"
        )

# %%
# Grad-CAM
# --------
# :func:`cnnviz.grad_cam` weights the channels of the last convolution
# block (``relu2``) by how much the score's gradient rests on each,
# keeps the positive sum, places each cell at the centre of its
# receptive field in the image and interpolates between the centres. It
# misleads by its coarseness: ``relu2`` has 8x8 cells with ``valid``
# padding and 14x14 with ``same``, so the map can point at a region but
# never at a seam or a strap, and the bilinear interpolation invents a
# smoothness the layer does not have. With ``valid`` padding the cells'
# centres do not reach the image's edge: beyond them, in a frame around
# the image, each pixel holds the nearest cell's value (a pixel there is
# read by fewer cells, at the image's very edge by one alone), so the
# colour in that frame is the
# edge cells' value copied outwards, not a value of its own. The dashed
# square on the ``valid`` tiles joins the outermost centres.
fig = show("grad_cam")
cells = models["valid"].get_layer("relu2").output.shape[1]
top, _, bottom, _ = cnnviz.receptive_box(models["valid"], "relu2", 0, 0)
low = (top + bottom - 1) / 2
top, _, bottom, _ = cnnviz.receptive_box(
    models["valid"], "relu2", cells - 1, cells - 1
)
high = (top + bottom - 1) / 2
print(f"valid relu2 cell centres: pixels {low} to {high}")
tiles = [ax for ax in fig.axes if ax.get_title()]
for ax in tiles[: len(images)]:  # the valid model's row
    ax.add_patch(
        Rectangle(
            (low, low),
            high - low,
            high - low,
            fill=False,
            ls="--",
            ec="c",
        )
    )
plt.show()

# %%
# Occlusion
# ---------
# :func:`cnnviz.occlusion` hides a 4x4 square (set to black) at every
# position, two pixels apart, and records how far the class score drops;
# positive where hiding hurts. It misleads where hiding is not removing:
# blacking out an exactly black region changes nothing and a dark one
# little, a black square on a bright
# garment is a new edge the model never saw, and a feature that is
# present twice shows up in neither place.
show("occlusion")
plt.show()

# %%
# Where the maps put their weight
# -------------------------------
# The shares printed with each figure, side by side. Plain gradients
# and SmoothGrad put much of their weight (a quarter or more, on both
# models) on the black background, where there is no garment. About
# half the measured pixels are black (printed at the top): their share
# there is of the same order as an even spread's, so they do not keep to
# the garment. They measure
# sensitivity, and the score is sensitive to light appearing next to
# the garment. Integrated gradients with a black baseline puts
# exactly none there, by construction, not because the model ignores
# those pixels. Grad-CAM, as coarse as its cells, spreads over garment
# and background alike and puts much of its weight there too. Occlusion
# puts less there than the gradients: hiding a black pixel changes
# nothing, so its weight on the background comes only from squares that
# also cover the garment. The page checks these claims. Where the methods
# disagree, none of them is "the" explanation: each answers its own
# question. Whether they answer anything about *this model* rather than
# about the image is what the next page checks.
print(f"{'':22}" + "".join(f"{p:>8}" for p in models))
for name in METHODS:
    print(
        f"{name:22}"
        + "".join(f"{on_black[name, p]:8.1%}" for p in models)
    )
for p in models:
    assert on_black["integrated_gradients", p] == 0, "IG: 0 on black"
    for name in ("gradients", "smoothgrad", "grad_cam"):
        assert on_black[name, p] > 0.25, f"{name}: much on black"
        if name != "grad_cam":
            assert on_black["occlusion", p] < on_black[name, p], name
