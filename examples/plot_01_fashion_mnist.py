"""
The Fashion-MNIST data
======================

Fashion-MNIST holds 70,000 grayscale images of 28x28 pixels, each one of ten
kinds of clothing. This example loads it with cnnviz and draws a few
training images with their class names.
"""

# %%
# Load the data
# -------------
# :func:`cnnviz.load_fashion_mnist` finds the four original files, checks
# their checksums and returns ``uint8`` arrays with a channel axis.
import matplotlib.pyplot as plt

from cnnviz import CLASS_NAMES, load_fashion_mnist, plot_images

(x_train, y_train), (x_test, y_test) = load_fashion_mnist()
print(x_train.shape, x_test.shape)

# %%
# Training images 40 to 47
# ------------------------
fig = plot_images(x_train[40:48], y_train[40:48])
plt.show()
print(CLASS_NAMES[y_train[41]])
