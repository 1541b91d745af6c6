"""Sphinx configuration for the cnnviz site: gallery, API reference, guides."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import cnnviz

project = "cnnviz"
author = "The cnnviz developers"
copyright = "2026, The cnnviz developers"
release = cnnviz.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "sg_execution_times.rst"]
nitpicky = True

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc renders the types from the docstrings
numpydoc_show_class_members = False
numpydoc_xref_param_type = True

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("cnnviz",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"cnnviz": None},
    "download_all_examples": True,
    "remove_config_comments": True,
    "parallel": False,
}

html_theme = "pydata_sphinx_theme"
html_title = "cnnviz"
html_static_path = ["_static"]
