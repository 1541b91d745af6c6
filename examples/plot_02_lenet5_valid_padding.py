"""
Visualize CNN feature maps layer by layer: LeNet-5 with valid padding
=====================================================================

This page builds LeNet-5 with ``valid`` padding, works out the shape of every
layer by hand, trains it on Fashion-MNIST with the notebook's recipe and then
draws what each of its layers makes of one image: the six feature maps of
``conv1``, the ReLU and max-pooling after it, the sixteen maps of ``conv2``,
the dense layers and finally the class probabilities.
"""

# %%
# The architecture
# ----------------
# :func:`cnnviz.lenet5` builds the network as a Keras functional model with
# named layers. Two convolution blocks (a 5x5 convolution, a ReLU and a 2x2
# max-pooling each) turn the image into feature maps; three dense layers turn
# those into ten class probabilities. The ReLUs are layers of their own so
# that their outputs can be drawn too.
#
# The table is read from the model itself: each layer's output shape (for
# one image, without the batch axis) and its number of trainable weights.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

model = cnnviz.lenet5("valid")

print(f"{'layer':10} {'type':13} {'output shape':>14} {'params':>7}")
for layer in model.layers:
    kind = type(layer).__name__
    shape = str(tuple(layer.output.shape[1:]))
    params = layer.count_params()
    print(f"{layer.name:10} {kind:13} {shape:>14} {params:>7,}")
print(f"{'total':10} {'':13} {'':>14} {model.count_params():>7,}")

# %%
# The shape arithmetic: 28 → 24 → 12 → 8 → 4
# -------------------------------------------
# With ``valid`` padding a 5x5 kernel is only placed where it fits entirely
# inside its input, so a convolution loses 4 pixels per axis; a 2x2 pooling
# with stride 2 halves the size. In general a window of ``kernel`` pixels
# moved in steps of ``stride`` over ``size`` pixels fits
# ``(size - kernel) // stride + 1`` times, which is what
# :func:`cnnviz.output_size` computes:
steps = [
    ("conv1", 5, 1),
    ("max_pool1", 2, 2),
    ("conv2", 5, 1),
    ("max_pool2", 2, 2),
]
size = 28
for name, kernel, stride in steps:
    new = cnnviz.output_size(
        size, kernel, stride=stride, padding="valid"
    )
    print(f"{name:9}  ({size:2} - {kernel}) // {stride} + 1 = {new:2}")
    # The model agrees:
    assert model.get_layer(name).output.shape[1] == new
    size = new

# %%
# So the input of 28x28x1 becomes 24x24x6 after ``conv1`` (six filters),
# 12x12x6 after ``max_pool1``, 8x8x16 after ``conv2`` (sixteen filters) and
# 4x4x16 after ``max_pool2``; ``flatten`` lines those up into 4 x 4 x 16 = 256
# numbers. The parameters follow from the shapes: a convolution has one
# weight per kernel pixel, input channel and filter plus one bias per filter,
# a dense layer one weight per input and unit plus one bias per unit:
#
# ========  ==========================  =======
# layer     weights + biases            total
# ========  ==========================  =======
# conv1     5 x 5 x 1 x 6 + 6           156
# conv2     5 x 5 x 6 x 16 + 16         2,416
# fc1       256 x 120 + 120             30,840
# fc2       120 x 84 + 84               10,164
# op        84 x 10 + 10                850
# ========  ==========================  =======
#
# 44,426 in all; most of them sit in ``fc1``, whose size depends on the 4x4
# maps that the convolutions leave.

# %%
# Training with the notebook's recipe
# -----------------------------------
# :func:`cnnviz.trained_lenet5` trains the model on the 60,000 training images
# with the notebook's recipe (Adam with learning rate 0.001, batches of 64,
# 30 epochs, categorical cross-entropy), measuring the test set after every
# epoch. It stores the result in a cache, so only the first call on a machine
# trains (a few minutes on a laptop CPU); later calls load the stored model.
# Pass ``verbose=2`` to see one line per epoch while it trains.
model, history = cnnviz.trained_lenet5("valid", verbose=0)

# %%
# Loss and accuracy per epoch
# ---------------------------
# The history holds one value per epoch for the training set (``loss``,
# ``accuracy``) and the test set (``val_loss``, ``val_accuracy``). The
# training loss keeps falling while the test loss levels off and rises
# again: after a few epochs the model starts to learn the training images by
# heart (overfitting), and the test accuracy stops improving.
cnnviz.plot_history(
    history,
    validation_label="test",
    title="LeNet-5 (valid padding) on Fashion-MNIST",
)
plt.show()

# %%
# Test accuracy
# -------------
# :func:`cnnviz.evaluate` measures the trained model on the 10,000 test
# images it never trained on; it is the last value of ``val_accuracy``. The
# notebook reports 0.8947 for this model. The random seed alone moves this
# number by about a point: five seeds of the same recipe end between 0.877
# and 0.894 (see :doc:`/performance`). As the curves show, 30 epochs are
# more than this network needs: the test accuracy peaked some epochs earlier.
(x_train, y_train), (x_test, y_test) = cnnviz.load_fashion_mnist()
scores = cnnviz.evaluate(model, x_test, y_test)
print(
    f"test accuracy {scores['accuracy']:.4f}, loss {scores['loss']:.4f}"
)

best = int(np.argmax(history["val_accuracy"]))
accuracy = history["val_accuracy"][best]
print(f"best while training: {accuracy:.4f} (epoch {best + 1})")

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

# sphinx_gallery_thumbnail_number = 4
