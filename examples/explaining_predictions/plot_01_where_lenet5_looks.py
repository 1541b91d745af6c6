"""
Where does a CNN look? Saliency maps for LeNet-5
================================================

A saliency map gives each pixel of an image a number: how much the
network's answer rests on it. This page computes five such maps for the
trained LeNet-5 with ``valid`` and with ``same`` padding, on the first
test image of each of the ten classes (the first by index, not chosen by
the result), and says for each method what it computes and when it
misleads. The next page checks whether the maps can be trusted.
"""

# %%
# The images and the two models
# -----------------------------
# Both models come from the cache that the earlier pages filled. Every map
# explains the class the model predicts for the image.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

_, (x_test, y_test) = cnnviz.load_fashion_mnist()
first = [int(np.flatnonzero(y_test == c)[0]) for c in range(10)]
images = x_test[first]
models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}
predicted = {
    p: cnnviz.predict(m, images).argmax(axis=1)
    for p, m in models.items()
}
print("test images:", first)
for p in models:
    wrong = [
        i
        for i, c in zip(first, predicted[p], strict=True)
        if c != y_test[i]
    ]
    print(f"{p:5}: {10 - len(wrong)} of 10 right; wrong: {wrong}")


def show(method, **options):
    """Draw one method's maps: one figure per padding."""
    for p, model in models.items():
        maps = method(model, images, **options)
        titles = [
            f"{cnnviz.CLASS_NAMES[c]} ({p})" for c in predicted[p]
        ]
        cnnviz.plot_attribution(images, maps, titles=titles)
        plt.show()


# %%
# How the colours are scaled
# --------------------------
# :func:`cnnviz.plot_attribution` gives every tile its own colour scale
# and colour bar: a map without negative values runs on ``magma`` from 0
# to its own maximum; a signed map runs on ``RdBu_r`` symmetric about
# zero (red raises the class score, blue lowers it, white is zero). The
# map is drawn over the grey image, more opaque where it is larger. So
# the tiles show *where* each map is large, not how large one map is
# next to another: compare shapes, not colours, across tiles. Each tile
# is titled with the predicted class and the map's range (min .. max);
# a map that is zero up to float32 rounding is drawn flat.

# %%
# Gradients
# ---------
# :func:`cnnviz.gradients` is the absolute gradient of the class score
# with respect to each pixel: which pixels would change the score most if
# nudged a little. It misleads by being local and noisy: a large
# gradient says the score is sensitive there, not that the pixel is what
# the decision rests on, and it says nothing about the direction.
show(cnnviz.gradients)

# %%
# SmoothGrad
# ----------
# :func:`cnnviz.smoothgrad` averages the signed gradients of noisy copies
# of the image (here 25 copies, noise 15% of the image's range): a
# gradient whose sign flips from copy to copy cancels, so the map is
# signed (red raises the score) and keeps what nearby images agree on.
# It misleads by looking cleaner than it is: the smoothing comes from
# the noise, so a tidy map can still be the outline of the image more
# than the model's reasoning.
show(cnnviz.smoothgrad, samples=25)

# %%
# Integrated gradients
# --------------------
# :func:`cnnviz.integrated_gradients` averages the gradient along the
# straight path from a black image to the image and multiplies it by the
# pixel; the map is signed and sums to the score's change from black to
# the image. It misleads through its baseline: a black pixel equals the
# baseline and always gets zero, so dark parts of a garment can never
# count, however much the model uses them.
show(cnnviz.integrated_gradients, steps=32)

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
# smoothness the layer does not have.
show(cnnviz.grad_cam)

# %%
# Occlusion
# ---------
# :func:`cnnviz.occlusion` hides a 4x4 square (set to black) at every
# position, two pixels apart, and records how far the class score (the
# softmax's input, as for the other methods) drops; positive where hiding
# hurts. It misleads where hiding is not
# removing: blacking out a dark region changes nothing, a black square on
# a bright garment is a new edge the model never saw, and a feature that
# is present twice shows up in neither place.
show(cnnviz.occlusion)

# %%
# What the maps agree on
# ----------------------
# The gradient-based maps (the first three) follow the garment's pixels,
# and bright ones most; Grad-CAM and occlusion mark regions. Where the
# methods disagree, none of them is "the" explanation: each answers its
# own question. Whether they answer anything about *this model* rather
# than about the image is what the next page checks.
