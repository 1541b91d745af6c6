"""Hooks of the gallery build: models trained up front, and a clean Keras session per example.

``train_gallery_models`` runs once before sphinx-gallery (see ``setup`` in
conf.py); ``clear_keras_session`` runs before every example (``reset_modules``).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

# The models the examples load with cnnviz.trained_lenet5(padding), default settings.
GALLERY_MODELS = ("valid", "same")


def train_gallery_models(app) -> None:
    """Train the gallery's models that are not cached yet, in parallel processes.

    The examples run one after another and each would train its model when
    it first calls :func:`cnnviz.trained_lenet5`. The small convolutions of
    LeNet-5 leave the two cores partly idle, so two trainings side by side
    finish sooner than one after the other (about 1.3x here); each process
    has TensorFlow's default threads, so the weights are the same bit for bit.
    The examples then load the models from the cache.
    """
    import cnnviz

    missing = [padding for padding in GALLERY_MODELS if not cnnviz.cache_path(padding).is_dir()]
    if not missing:
        return
    logger.info("training %s in parallel for the gallery (cached afterwards)", ", ".join(missing))
    start = time.monotonic()
    processes = {
        padding: subprocess.Popen(
            [sys.executable, "-c", f"import cnnviz; cnnviz.trained_lenet5({padding!r}, verbose=2)"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # progress as it comes
        )
        for padding in missing
    }
    outputs: dict[str, list[str]] = {padding: [] for padding in missing}

    def relay(padding: str) -> None:
        for line in processes[padding].stdout:
            outputs[padding].append(line)
            if line.startswith("Epoch ") or " loss: " in line:  # per epoch, not TF's chatter
                logger.info("[%s] %s", padding, line.rstrip())

    readers = [threading.Thread(target=relay, args=(padding,)) for padding in missing]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    failed = {padding: process.wait() for padding, process in processes.items()}
    logger.info("trained %s in %.0f s", ", ".join(missing), time.monotonic() - start)
    failed = {padding: code for padding, code in failed.items() if code != 0}
    if failed:
        details = "\n".join(
            f"--- {padding} (exit {code}) ---\n{''.join(outputs[padding][-40:])}"
            for padding, code in failed.items()
        )
        raise ExtensionError(f"training the gallery's models failed:\n{details}")


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
