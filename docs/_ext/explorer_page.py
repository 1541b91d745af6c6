"""Write the site's explorer, ``explorer/index.html``, from the gallery's six trained models.

Runs at ``build-finished`` of the HTML build: the models are in the cache by
then (``gallery_hooks.train_gallery_models`` trained them before the
examples ran), so this loads them and calls :func:`cnnviz.explorer.export`.
The picker holds the first three test images of each class, in the order of
the test set: chosen without looking at what the models make of them.
"""

from __future__ import annotations

from pathlib import Path

from gallery_hooks import EXPLORER_MODELS, GALLERY_MODELS

#: Test images per class in the page's picker.
PER_CLASS = 3
TITLE = (
    "cnnviz explorer: LeNet-5 with valid, same, reflect and circular padding and blur pooling, live"
)


def picker_images():
    """The first `PER_CLASS` test images of each class, with their labels."""
    import numpy as np

    import cnnviz

    _, (x_test, y_test) = cnnviz.load_fashion_mnist()
    index = np.concatenate(
        [np.flatnonzero(y_test == k)[:PER_CLASS] for k in range(len(cnnviz.CLASS_NAMES))]
    )
    return x_test[index], y_test[index]


def explorer_models() -> dict:
    """The explorer's models, keyed as the page shows them, from the cache."""
    import cnnviz

    return {
        name: cnnviz.trained_lenet5(**GALLERY_MODELS[name], verbose=0)[0]
        for name in EXPLORER_MODELS
    }


def export_explorer(folder: Path) -> Path:
    """Export the site's explorer into `folder`; the build and the benchmark call this."""
    import cnnviz.explorer

    images, labels = picker_images()
    # Half precision halves the download of six models (docs/explorer.rst says what it costs).
    return cnnviz.explorer.export(
        explorer_models(), folder, images=images, labels=labels, title=TITLE, precision="float16"
    )


def write_explorer(app, exception) -> None:
    """Export the explorer's gallery models into ``<outdir>/explorer`` after an HTML build."""
    if exception is not None or app.builder.format != "html":
        return
    target = export_explorer(Path(app.outdir) / "explorer")
    size = sum(path.stat().st_size for path in target.iterdir())
    from sphinx.util import logging

    logging.getLogger(__name__).info(f"explorer: wrote {target} ({size / 1000:.0f} kB)")
