"""
Can we trust saliency maps? Sanity checks
=========================================

A saliency map can look convincing and still say nothing about the
model: some methods draw much the same map for a network with random
weights, because they mostly trace the image's edges. This page runs two
kinds of checks on the five methods of the previous page, for LeNet-5
with ``valid`` and with ``same`` padding: the cascading randomization of
Adebayo et al. (2018), and the deletion and insertion curves of Petsiuk
et al. (2018) against a random order of the pixels. It ends with a table
of which methods pass on these models, and with what the checks cannot
tell.
"""

# %%
# What "pass" means here
# ----------------------
# The two criteria are fixed before anything is computed:
#
# * **Randomization**: once every layer with weights is re-initialised,
#   the mean rank correlation between the maps and the original maps is
#   below 0.5 (the map depends on what the model learned).
# * **Deletion**: removing pixels in the map's order, most attributed
#   first, makes the class probability fall faster than removing them in
#   a random order: the mean area under the deletion curve is below the
#   random order's.
#
# The insertion curves are shown and tabled too, but are not part of
# the verdict. The test images are only measured here: the first 100 for
# the randomization check, the first 1,000 for the curves.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

_, (x_test, y_test) = cnnviz.load_fashion_mnist()
models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}
METHODS = {
    "gradients": cnnviz.gradients,
    "smoothgrad": cnnviz.smoothgrad,
    "integrated_gradients": cnnviz.integrated_gradients,
    "grad_cam": cnnviz.grad_cam,
    "occlusion": cnnviz.occlusion,
}
# SmoothGrad and integrated gradients compute many gradients per image
# and occlusion many forward passes; the randomization check repeats
# them after each of its five steps. To keep the page affordable the
# checks use 8 noisy copies and 8 path steps, the curves 8 copies and
# 16 steps (the previous page: 25 and 32), and occlusion moves its 4x4
# square by 4 pixels instead of 2 in both.
CHECK_OPTIONS = {
    "smoothgrad": {"samples": 8},
    "integrated_gradients": {"steps": 8},
    "occlusion": {"stride": 4},
}
MAP_OPTIONS = {
    "smoothgrad": {"samples": 8},
    "integrated_gradients": {"steps": 16},
    "occlusion": {"stride": 4},
}

# %%
# Cascading randomization
# -----------------------
# :func:`cnnviz.randomization_check` copies the model and re-initialises
# its layers with weights from the output down (``op``, ``fc2``,
# ``fc1``, ``conv2``, ``conv1``), one more at each step, and compares
# the maps after each step with the original maps by their Spearman rank
# correlation over the pixels, averaged over the 100 images. The trained
# models are never changed.
#
# In each figure the solid curve is that mean correlation after each
# step, on an axis from -1 to 1 (the dashed one ranks the maps' absolute
# values instead, which a sign flip does not scramble); the row below
# shows the first image's map before and after each step, each map
# divided by its own largest absolute value (rank correlation ignores
# scale), all on one colour bar.
x_check = x_test[:100]
checks = {p: {} for p in models}
for name in METHODS:
    fig = plt.figure(figsize=(14, 4.2), layout="constrained")
    fig.suptitle(f"{name}: cascading randomization, 100 test images")
    for sub, (p, model) in zip(
        fig.subfigures(1, 2), models.items(), strict=True
    ):
        result = cnnviz.randomization_check(
            model, x_check, name, seed=0, **CHECK_OPTIONS.get(name, {})
        )
        checks[p][name] = result
        cnnviz.plot_randomization(result, fig=sub)
        sub.suptitle(f"{p} padding")
    plt.show()

# %%
# Deletion and insertion
# ----------------------
# :func:`cnnviz.deletion_curve` sets the most attributed pixels to black,
# 5% of the pixels more at each step, and records the probability of the
# predicted class; :func:`cnnviz.insertion_curve` starts from a black
# image and puts the most attributed pixels back. A good map makes the
# deletion curve fall fast (low area) and the insertion curve rise fast
# (high area). The baseline is a random map (seed 0): a random order of
# the pixels. Each line is the mean over the 1,000 images, the band the
# 25th to 75th percentile; probabilities run from 0 to 1 on the y axis.
x_curve = x_test[:1000]
random_map = np.random.default_rng(0).random((len(x_curve), 28, 28))
curves = {p: {} for p in models}
for p, model in models.items():
    for name, method in METHODS.items():
        maps = method(model, x_curve, **MAP_OPTIONS.get(name, {}))
        curves[p][name] = (
            cnnviz.deletion_curve(model, x_curve, maps),
            cnnviz.insertion_curve(model, x_curve, maps),
        )
    curves[p]["random"] = (
        cnnviz.deletion_curve(model, x_curve, random_map),
        cnnviz.insertion_curve(model, x_curve, random_map),
    )
    fig = plt.figure(figsize=(14, 4.8), layout="constrained")
    fig.suptitle(f"{p} padding: 1,000 test images")
    left, right = fig.subfigures(1, 2)
    cnnviz.plot_deletion(
        {n: c[0] for n, c in curves[p].items()}, fig=left
    )
    left.suptitle("deletion (lower area is better)")
    cnnviz.plot_deletion(
        {n: c[1] for n, c in curves[p].items()}, fig=right
    )
    right.suptitle("insertion (higher area is better)")
    plt.show()

# %%
# Which methods pass
# ------------------
# The table gives the last randomization step's correlation and the mean
# areas under the curves; "pass" needs both criteria above.
for p in models:
    random_del = curves[p]["random"][0]["auc"].mean()
    random_ins = curves[p]["random"][1]["auc"].mean()
    print(
        f"{p} padding (random order: deletion {random_del:.3f},"
        f" insertion {random_ins:.3f})"
    )
    print(
        f"  {'method':21} {'rand. r':>7} {'deletion':>8}"
        f" {'insertion':>9}  verdict"
    )
    for name in METHODS:
        r = checks[p][name]["correlation"][-1]
        deletion = curves[p][name][0]["auc"].mean()
        insertion = curves[p][name][1]["auc"].mean()
        verdict = (
            "pass" if r < 0.5 and deletion < random_del else "fail"
        )
        print(
            f"  {name:21} {r:7.2f} {deletion:8.3f}"
            f" {insertion:9.3f}  {verdict}"
        )

# %%
# What these checks cannot tell
# -----------------------------
# A method that fails the randomization check draws the image more than
# the model, and its maps should not be read as the model's reasons. The
# converse does not hold: passing says only that the maps change when
# the weights do. Binder et al. (CVPR 2023, "Shortcomings of top-down
# randomization-based sanity checks") show that maps can pass it and
# still be uninformative, and that random weights also change the
# model's prediction, so a low correlation mixes the two. Deletion has
# its own bias: black pixels are not "missing" to a network trained on
# images with black backgrounds, and a black square is an input it never
# saw. Neither check says whether a map is *right* for one image.
