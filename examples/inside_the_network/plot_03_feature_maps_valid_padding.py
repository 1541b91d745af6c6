"""
Visualize CNN feature maps layer by layer: LeNet-5 with valid padding
=====================================================================

This page sends one image through the LeNet-5 (``valid`` padding) trained
on the previous page and draws what each of its layers makes of it: the
six feature maps of ``conv1``, the ReLU and max-pooling after it, the
sixteen maps of ``conv2``, the dense layers and finally the class
probabilities.
"""

# %%
# The trained model
# -----------------
# :func:`cnnviz.trained_lenet5` loads the model that the previous page
# trained (it trains it first if the cache does not have it yet).
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

model, _ = cnnviz.trained_lenet5("valid", verbose=0)
(x_train, y_train), _ = cnnviz.load_fashion_mnist()

# %%
# The image: training image 41, a sneaker
# ---------------------------------------
# From here on, one image goes through the trained network: training image
# 41, as in the notebook.
index = 41
image = x_train[index]
fig = cnnviz.plot_images(
    x_train[index : index + 1], y_train[index : index + 1], ncols=1
)
fig.suptitle(f"Training image {index}")
plt.show()

# %%
# :func:`cnnviz.layer_outputs` computes the output of every layer for this
# image in one forward pass and returns them by layer name. Every output keeps
# its batch axis of 1. Below, :func:`cnnviz.plot_feature_maps` draws them one
# layer at a time, each figure titled with the layer's name and the shape of
# its output for one image.
outputs = cnnviz.layer_outputs(model, image)
for name, output in outputs.items():
    print(f"{name:10} {output.shape}")


def title(name):
    return f"{name} {outputs[name].shape[1:]}"


# %%
# conv1: six 5x5 filters
# ----------------------
# Each of the six filters of ``conv1`` slides over the image and answers, at
# every position, how much the 5x5 patch there looks like the filter. The
# outputs are 24x24: the kernel fits 24 times along each axis of 28 pixels.
# Some filters respond to the sneaker's upper edges, some to its sole, some
# to the flat areas. Bright means a large value; each map is scaled to its
# own range, and its values can be negative.
cnnviz.plot_feature_maps(outputs["conv1"], title=title("conv1"))
plt.show()

# %%
# relu1: negative values set to zero
# ----------------------------------
# The ReLU keeps positive values and replaces negative ones by zero, so the
# maps keep only where a filter matched; the shape does not change.
cnnviz.plot_feature_maps(outputs["relu1"], title=title("relu1"))
plt.show()

# %%
# max_pool1: the strongest response of every 2x2 block
# ----------------------------------------------------
# Max-pooling keeps the largest value of each 2x2 block, halving each axis to
# 12x12: coarser maps that still say where each pattern was found.
cnnviz.plot_feature_maps(outputs["max_pool1"], title=title("max_pool1"))
plt.show()

# %%
# conv2: sixteen filters over the six maps
# ----------------------------------------
# Each filter of ``conv2`` looks at a 5x5 patch of all six pooled maps at
# once, so it combines the simple patterns of the first block into larger
# ones. With valid padding its output is 8x8.
cnnviz.plot_feature_maps(outputs["conv2"], title=title("conv2"))
plt.show()

# %%
# relu2
# -----
cnnviz.plot_feature_maps(outputs["relu2"], title=title("relu2"))
plt.show()

# %%
# max_pool2: sixteen 4x4 maps
# ---------------------------
# After the second pooling, each of the sixteen maps is 4x4: 256 numbers that
# describe the whole image for the classifier.
cnnviz.plot_feature_maps(outputs["max_pool2"], title=title("max_pool2"))
plt.show()

# %%
# flatten: the 256 numbers in a row
# ---------------------------------
# ``flatten`` changes no value, it only lines the 4x4x16 maps up into one
# vector, drawn here as a strip of units, so that the dense layers can use it.
cnnviz.plot_feature_maps(outputs["flatten"], title=title("flatten"))
plt.show()

# %%
# fc1 and fc2: the dense layers
# -----------------------------
# Each of the 120 units of ``fc1`` and the 84 of ``fc2`` is a weighted sum of
# all the numbers before it, followed by a ReLU; most units stay at zero for
# any one image.
cnnviz.plot_feature_maps(outputs["fc1"], title=title("fc1"))
plt.show()

# %%
cnnviz.plot_feature_maps(outputs["fc2"], title=title("fc2"))
plt.show()

# %%
# op: the class probabilities
# ---------------------------
# The output layer's softmax turns its ten values into probabilities that
# add up to one, one per class. The most probable class is the prediction.
probabilities = outputs["op"][0]
cnnviz.plot_probabilities(probabilities, title=title("op"))
plt.show()

predicted = int(np.argmax(probabilities))
print(
    f"predicted: {cnnviz.CLASS_NAMES[predicted]}",
    f"({probabilities[predicted]:.3f});",
    f"true class: {cnnviz.CLASS_NAMES[y_train[index]]}",
)

# %%
# All layers in one call
# ----------------------
# :func:`cnnviz.plot_layer_outputs` draws all of the above in one call, one
# figure per layer, each titled with the layer's name and output shape:
#
# .. code-block:: python
#
#    figures = cnnviz.plot_layer_outputs(model, x_train[41])
#    plt.show()
#
# The next example does the same with ``same`` padding, and the last one puts
# both side by side.

# sphinx_gallery_thumbnail_number = 3
