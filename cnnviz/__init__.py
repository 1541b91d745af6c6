"""cnnviz: see what a convolutional network does to an image.

Load Fashion-MNIST, build and train the notebook's LeNet-5 (with a cache of
trained models), compute every layer's output of an image in one forward pass,
and draw them.

The public names are listed once, in ``cnnviz/__init__.pyi``, and imported
lazily from it (SPEC 1 of Scientific Python, as scikit-image does), so
``from cnnviz import load_fashion_mnist`` does not pay for importing
TensorFlow; the modules that need Keras import it on first use.
"""

import lazy_loader as _lazy

__version__ = "0.1.0"

# __getattr__ imports a public name's module on first use; the names come from the stub.
__getattr__, _, __all__ = _lazy.attach_stub(__name__, __file__)
__all__ += ["__version__"]  # lazy_loader sees only the stub's imports


def __dir__() -> list[str]:
    # The module's own attributes (__version__, __file__, ...) and every lazy name.
    return sorted({*globals(), *__all__})
