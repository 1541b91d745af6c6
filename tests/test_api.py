"""The public API: one list of names (cnnviz/__init__.pyi), the API page, and what importing costs."""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cnnviz

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "api.rst"
# The installed package (nox installs a wheel, not this tree), so the checks below also
# check that the stub and the py.typed marker are shipped.
PACKAGE = Path(cnnviz.__file__).resolve().parent
STUB = PACKAGE / "__init__.pyi"


def stub_names() -> set[str]:
    """Every name the stub declares: its re-exported imports and its annotated names."""
    names = set()
    for node in ast.parse(STUB.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def public_api_names() -> set[str]:
    """The names the API page must list: public names, and a public submodule's functions.

    A submodule such as ``cnnviz.explorer`` is public for its functions, which are
    called through it (``cnnviz.explorer.export``) and listed as ``explorer.export``.
    """
    names = set()
    for name in set(cnnviz.__all__) - {"__version__"}:
        value = getattr(cnnviz, name)
        if isinstance(value, type(cnnviz)):
            names |= {f"{name}.{function}" for function in value.__all__}
        else:
            names.add(name)
    return names


def api_page_names() -> list[str]:
    """The entries of every ``autosummary`` directive on docs/api.rst."""
    names = []
    in_autosummary = False
    for line in API_PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith(".. autosummary::"):
            in_autosummary = True
        elif in_autosummary and line and not line[0].isspace():
            in_autosummary = False  # the directive's body ends at the first unindented line
        elif in_autosummary and line.strip() and not line.strip().startswith(":"):
            names.append(line.strip())
    return names


# -- One list of public names ------------------------------------------------------------


def test_the_stub_and_py_typed_are_installed():
    assert STUB.is_file()
    assert (PACKAGE / "py.typed").is_file()


def test_all_is_the_stub():
    assert len(cnnviz.__all__) == len(set(cnnviz.__all__)), "a name is listed twice"
    assert set(cnnviz.__all__) == stub_names()
    assert "__version__" in cnnviz.__all__


def test_dir_lists_every_public_name():
    assert set(cnnviz.__all__) <= set(dir(cnnviz))


@pytest.mark.parametrize("name", sorted(stub_names()))
def test_every_public_name_resolves(name):
    assert getattr(cnnviz, name) is not None


def test_public_names_come_from_the_module_the_stub_names():
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module is None:  # a public submodule
            for alias in node.names:
                assert getattr(cnnviz, alias.asname or alias.name) is importlib.import_module(
                    f"cnnviz.{alias.name}"
                )
        elif isinstance(node, ast.ImportFrom):
            module = importlib.import_module(f"cnnviz.{node.module}")
            for alias in node.names:
                assert getattr(cnnviz, alias.asname or alias.name) is getattr(module, alias.name)
                # Each name is also in its own module's __all__: one name, one home.
                assert alias.name in module.__all__, f"{alias.name} not in {module.__name__}"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        cnnviz.no_such_name  # noqa: B018


def test_version_is_the_distribution_version():
    from importlib.metadata import version

    assert cnnviz.__version__ == version("cnnviz")


# -- The API page ------------------------------------------------------------------------


def test_every_public_name_is_on_the_api_page_and_nothing_else():
    on_page = api_page_names()
    assert on_page, f"no autosummary entries found in {API_PAGE}"
    assert len(on_page) == len(set(on_page)), "a name is on the API page twice"
    public = public_api_names()
    assert public - set(on_page) == set(), "public but not on docs/api.rst"
    assert set(on_page) - public == set(), "on docs/api.rst but not public"


# -- Plotting and data without TensorFlow --------------------------------------------------

_NO_TENSORFLOW = """
import json, sys
import numpy as np
import cnnviz

cnnviz.plot_images(np.zeros((2, 28, 28), dtype=np.uint8), [0, 7])
cnnviz.plot_feature_maps(np.zeros((1, 4, 4, 3), dtype=np.float32))
cnnviz.plot_feature_maps(np.zeros((1, 10), dtype=np.float32))
cnnviz.plot_probabilities(np.full(10, 0.1))
cnnviz.plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.7],
                     "val_loss": [1.1, 0.6], "val_accuracy": [0.4, 0.6]})
cnnviz.channel_grid(6)
cnnviz.plot_attribution(np.zeros((1, 8, 8), dtype=np.uint8), np.ones((1, 8, 8)))
cnnviz.plot_confusion_matrix(np.eye(10, dtype=np.int64))
cnnviz.plot_mistakes(np.zeros((1, 8, 8)), [0], np.full((1, 10), 0.1), [0], maps=np.ones((1, 8, 8)))
cnnviz.plot_randomization({"layers": ["conv1"], "correlation": np.array([0.1]),
                           "maps": np.ones((2, 1, 8, 8))})
cnnviz.plot_deletion({"fractions": np.linspace(0, 1, 3), "probabilities": np.full((1, 3), 0.5),
                      "auc": np.array([0.5])})
cnnviz.scale_images(np.zeros((2, 28, 28), dtype=np.uint8))
cnnviz.one_hot(np.array([0, 9]))
cnnviz.parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]))
assert len(cnnviz.CLASS_NAMES) == 10
print(json.dumps(sorted(
    name for name in sys.modules
    if name.split(".")[0] in ("tensorflow", "keras")
)))
"""


def test_plotting_and_data_do_not_import_tensorflow():
    # A fresh process: this one has long since imported Keras for other tests.
    result = subprocess.run(
        [sys.executable, "-c", _NO_TENSORFLOW],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


# -- No private imports ------------------------------------------------------------------


def _private(module: str) -> bool:
    """Whether an absolute module path reaches into something private."""
    parts = module.split(".")
    if parts[0] == "cnnviz":
        return False  # our own modules are ours to arrange
    if parts[0] == "keras" and any(part.startswith("src") for part in parts[1:]):
        return True
    if parts[:2] == ["tensorflow", "python"]:
        return True
    # _name is private; __name__ (as in __future__) is not.
    return any(part.startswith("_") and not re.fullmatch(r"__\w+__", part) for part in parts)


def private_imports(path: Path) -> list[str]:
    """Every import in `path` of a private module or of a private name of another package."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside cnnviz
                continue
            # `from keras import src` reaches keras.src as surely as `import keras.src`.
            modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            modules = [node.args[0].value]  # importlib.import_module("...")
        else:
            continue
        private = [m for m in modules if _private(m)]
        if private:  # the statement once, by its first private path
            found.append(f"{path.name}:{node.lineno}: {private[0]}")
    return found


@pytest.mark.parametrize(
    "module",
    ["keras.src.trainers", "tensorflow.python.keras", "numpy._core", "matplotlib._api"],
)
def test_private_modules_are_recognised(module):
    assert _private(module)


@pytest.mark.parametrize(
    "module", ["__future__", "keras", "keras.callbacks", "tensorflow", "cnnviz._checks"]
)
def test_public_modules_are_not_flagged(module):
    assert not _private(module)


def test_no_module_imports_private_code():
    # The source tree, not the installed copy: this checks what we write.
    sources = sorted((ROOT / "cnnviz").rglob("*.py"))
    assert sources
    found = [hit for path in sources for hit in private_imports(path)]
    assert found == [], "private imports break on the next release (keract's fate)"
