"""Hooks that sphinx-gallery calls between examples (see ``reset_modules`` in conf.py)."""

from __future__ import annotations

import gc
import sys


def clear_keras_session(gallery_conf, fname, when=None) -> None:
    """Start every example with a fresh Keras session, as a new Python process would.

    Models, layer-name counters and graphs of the previous example are dropped,
    so an example's output does not depend on which examples ran before it.
    Keras is not imported just for this: an example that never used it has
    nothing to clear.
    """
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.backend.clear_session()
    gc.collect()
