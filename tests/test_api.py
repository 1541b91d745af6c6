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
cnnviz.plot_shift_accuracy({"shifts": np.arange(-1, 2), "accuracy": np.full((3, 3), 0.5)})
cnnviz.plot_equivariance({"layers": ["conv1"], "jump": np.ones((1, 2), dtype=np.int64),
                          "similarity": np.ones(1), "per_image": np.ones((2, 1))})
cnnviz.plot_pixel_paths(np.ones((4, 4), dtype=np.int64), log=True)
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


# -- No private code ---------------------------------------------------------------------
#
# Two rules, held on every module of the package and on the code around it (the docs'
# configuration and extensions, the noxfile, the benchmarks, the gallery's examples):
# - No other package's private code: keras.src, TensorFlow's implementation packages
#   (tensorflow.python, .core, ...), any module or name with a leading underscore. They
#   change without notice and break on the next release (keract's fate).
# - Inside cnnviz, a private name belongs to its module and a private module to its
#   package: cnnviz._checks serves every cnnviz module and cnnviz.plotting._figures the
#   plotting modules, but no module takes a private name from another public module.
#   Code outside the package uses cnnviz's public names only.
# Imports are checked, and attribute chains on imported names (``cnnviz.data._MEMO``).

# Where a package's importable implementation is not its API: Keras 3 keeps its code in
# keras.src; TensorFlow exports tf.* from tensorflow/_api, beside its own packages.
_IMPLEMENTATION = {"keras": {"src"}, "tensorflow": {"python", "core", "compiler", "tsl"}}


def scanned_files() -> dict[str, list[Path]]:
    """The Python files the rules hold for, by group."""
    return {
        "cnnviz": sorted((ROOT / "cnnviz").rglob("*.py")),
        "docs": sorted([*(ROOT / "docs").glob("*.py"), *(ROOT / "docs" / "_ext").glob("*.py")]),
        "noxfile": [ROOT / "noxfile.py"],
        "benchmarks": sorted((ROOT / "benchmarks").glob("*.py")),
        "examples": sorted((ROOT / "examples").rglob("*.py")),
    }


def module_name(path: Path) -> str | None:
    """The dotted name of a module of cnnviz's source tree; None for a file outside it."""
    parts = path.resolve().relative_to(ROOT).with_suffix("").parts
    if parts[0] != "cnnviz":
        return None
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> frozenset[str]:
    """Every module and package of cnnviz's source tree, by dotted name."""
    return frozenset(module_name(path) for path in (ROOT / "cnnviz").rglob("*.py"))


def _is_private(part: str) -> bool:
    # _name is private; __name__ (as in __future__ or cnnviz.__version__) is not.
    return part.startswith("_") and not re.fullmatch(r"__\w+__", part)


def reaches_private(path: str, importer: str | None, modules: frozenset[str]) -> bool:
    """Whether `importer` (a cnnviz module; None outside the package) may not use `path`.

    `path` is what an import or an attribute chain names, as a dotted path from its
    package: ``keras.src.trainers``, ``cnnviz.plotting._figures._tiles``. Inside cnnviz
    the first private part of the path decides: a private module (one of `modules`) may be
    used by every module of the package that holds it, a private name only by its module.
    """
    parts = path.split(".")
    if parts[0] != "cnnviz":
        if len(parts) > 1 and parts[1] in _IMPLEMENTATION.get(parts[0], ()):
            return True
        return any(_is_private(part) for part in parts)
    for i in range(1, len(parts)):
        if _is_private(parts[i]):
            owner = ".".join(parts[:i])
            if ".".join(parts[: i + 1]) in modules:  # a private module: its package's
                return importer is None or not (
                    importer == owner or importer.startswith(owner + ".")
                )
            return importer != owner  # a private name: its module's
    return False


def _absolute(node: ast.ImportFrom, importer: str | None, package: bool) -> str | None:
    """The module a ``from ... import`` names; None for a relative import outside cnnviz."""
    if not node.level:
        return node.module
    if importer is None:
        return None  # a script beside its own modules, not cnnviz
    base = importer.split(".") if package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private_uses(
    source: str,
    name: str,
    importer: str | None,
    modules: frozenset[str],
    *,
    package: bool = False,
) -> list[str]:
    """Every use of private code in `source` that `importer` may not make, as ``name:line: path``.

    `package` says whether the source is a package's ``__init__.py`` (for relative imports).
    """
    tree = ast.parse(source, name)
    found: list[str] = []

    def check(node: ast.AST, path: str) -> None:
        hit = f"{name}:{node.lineno}: {path}"
        if reaches_private(path, importer, modules) and hit not in found:
            found.append(hit)

    bound: dict[str, str] = {}  # a name the source imports -> the dotted path it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(node, alias.name)
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, importer, package)
            if module is None:
                continue
            for alias in node.names:
                if alias.name == "*":
                    check(node, module)
                    continue
                check(node, f"{module}.{alias.name}")
                bound[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            check(node, node.args[0].value)  # importlib.import_module("...")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            attributes = []
            root = node
            while isinstance(root, ast.Attribute):
                attributes.insert(0, root.attr)
                root = root.value
            # A name whose import is refused was reported there, with the line to change.
            if not isinstance(root, ast.Name) or root.id not in bound:
                continue
            if reaches_private(bound[root.id], importer, modules):
                continue
            # Up to the first private part: `cnnviz_data._MEMO.clear` is cnnviz.data._MEMO.
            parts = [*bound[root.id].split("."), *attributes]
            for end in range(1, len(parts) + 1):
                if reaches_private(".".join(parts[:end]), importer, modules):
                    check(node, ".".join(parts[:end]))
                    break
    return sorted(found, key=lambda hit: int(hit.split(":")[1]))


def file_private_uses(path: Path, modules: frozenset[str]) -> list[str]:
    return private_uses(
        path.read_text(encoding="utf-8"),
        str(path.relative_to(ROOT)),
        module_name(path),
        modules,
        package=path.name == "__init__.py",
    )


@pytest.mark.parametrize(
    "path",
    [
        "keras.src.trainers",
        "keras.src",
        "tensorflow.python.keras",
        "tensorflow.core.protobuf.config_pb2",
        "numpy._core",
        "matplotlib._api",
    ],
)
def test_other_packages_private_code_is_recognised(path):
    assert reaches_private(path, "cnnviz.activations", package_modules())
    assert reaches_private(path, None, package_modules())


@pytest.mark.parametrize(
    "path", ["__future__", "keras", "keras.callbacks", "tensorflow", "tensorflow.config.threading"]
)
def test_other_packages_public_code_is_not_flagged(path):
    assert not reaches_private(path, None, package_modules())


# A package as the rules see it: two private modules at the top, a private module of the
# plotting package, a package split into modules with a private one among them, and a
# public package whose code is all in its __init__ and two private modules.
_MODULES = frozenset(
    {
        "cnnviz",
        "cnnviz._checks",
        "cnnviz.data",
        "cnnviz.plotting",
        "cnnviz.plotting._figures",
        "cnnviz.plotting.channels",
        "cnnviz.plotting.explanations",
        "cnnviz.attribution",
        "cnnviz.attribution._machinery",
        "cnnviz.attribution.methods",
        "cnnviz.channels",
        "cnnviz.channels.views",
        "cnnviz.explorer",
        "cnnviz.explorer._weights",
        "cnnviz.explorer._folder",
    }
)


@pytest.mark.parametrize(
    ("importer", "path", "allowed"),
    [
        # A private name of another public module: never.
        ("cnnviz.plotting.channels", "cnnviz.plotting.explanations._bare", False),
        ("cnnviz.attribution._machinery", "cnnviz.attribution.methods._helper", False),
        ("cnnviz.plotting", "cnnviz.plotting.channels._integers", False),
        # A private module, and its names, inside the package that holds it.
        ("cnnviz.plotting.channels", "cnnviz.plotting._figures._tiles", True),
        ("cnnviz.plotting", "cnnviz.plotting._figures", True),
        ("cnnviz.plotting.channels", "cnnviz._checks.finite", True),
        ("cnnviz.plotting.channels", "cnnviz._checks", True),
        ("cnnviz.attribution.methods", "cnnviz.attribution._machinery._Tape", True),
        # ... but not from another package's modules: attribution's machinery is its own.
        ("cnnviz.channels.views", "cnnviz.attribution._machinery.class_score", False),
        ("cnnviz.attribution.methods", "cnnviz.plotting._figures", False),
        # A package's __init__ uses its private modules, and they use each other.
        ("cnnviz.explorer", "cnnviz.explorer._folder._write_files", True),
        ("cnnviz.explorer._folder", "cnnviz.explorer._weights.MAGIC", True),
        ("cnnviz.channels.views", "cnnviz.explorer._weights._graph_layers", False),
        # Public names are for everyone.
        ("cnnviz.plotting.channels", "cnnviz.plotting.explanations.plot_attribution", True),
        # Outside the package: public names only.
        (None, "cnnviz.plot_images", True),
        (None, "cnnviz.explorer.export", True),
        (None, "cnnviz.__version__", True),
        (None, "cnnviz._checks", False),
        (None, "cnnviz._checks.finite", False),
        (None, "cnnviz.data._MEMO", False),
        (None, "cnnviz.plotting._figures._tiles", False),
        (None, "cnnviz.explorer._weights.MAGIC", False),
    ],
)
def test_which_private_code_a_module_may_use(importer, path, allowed):
    assert reaches_private(path, importer, _MODULES) is not allowed


_SOURCE = """
import importlib
import cnnviz
import cnnviz.data as cnnviz_data
import keras
import tensorflow as tf
from keras import src
from cnnviz import data, plot_images
from .. import _checks
from .._checks import finite
from ._figures import _new_figure, _tiles
from .explanations import _bare, plot_attribution
from .feature_maps import _DIVERGING as DIVERGING

cnnviz.plot_images, cnnviz.__version__, _checks.finite, finite.__doc__, _new_figure.__doc__
cnnviz.data._MEMO.clear()
cnnviz_data._MEMO
data._parse
tf.python.eager
keras.ops.relu
importlib.import_module("keras.src.trainers")
"""


def test_every_kind_of_private_use_is_found():
    # As if the source were cnnviz/plotting/channels.py.
    found = private_uses(_SOURCE, "x.py", "cnnviz.plotting.channels", _MODULES)
    assert found == [
        "x.py:7: keras.src",
        "x.py:12: cnnviz.plotting.explanations._bare",
        "x.py:13: cnnviz.plotting.feature_maps._DIVERGING",
        "x.py:16: cnnviz.data._MEMO",
        "x.py:17: cnnviz.data._MEMO",
        "x.py:18: cnnviz.data._parse",
        "x.py:19: tensorflow.python",
        "x.py:21: keras.src.trainers",
    ]
    # Outside the package the private modules are refused too, and relative imports are
    # a script's own.
    outside = private_uses(_SOURCE, "x.py", None, _MODULES)
    assert [hit for hit in outside if "_checks" in hit or "_figures" in hit] == []
    assert "x.py:16: cnnviz.data._MEMO" in outside
    assert private_uses(
        "import cnnviz._checks\nfrom cnnviz import _checks", "x.py", None, _MODULES
    ) == [
        "x.py:1: cnnviz._checks",
        "x.py:2: cnnviz._checks",
    ]


def test_every_group_of_files_is_scanned():
    groups = scanned_files()
    assert all(groups.values()), {group: files for group, files in groups.items() if not files}
    assert ROOT / "docs" / "_ext" / "gallery_hooks.py" in groups["docs"]
    modules = package_modules()
    assert {
        "cnnviz._checks",
        "cnnviz.plotting",
        "cnnviz.explorer",
        "cnnviz.explorer._weights",
        "cnnviz.explorer._folder",
    } <= modules


def test_no_code_uses_private_code_it_may_not():
    # The source tree, not the installed copy: this checks what we write.
    modules = package_modules()
    found = [
        hit
        for files in scanned_files().values()
        for path in files
        for hit in file_private_uses(path, modules)
    ]
    assert found == [], (
        "private code of another module or package: it changes without notice "
        "(keract's fate); share helpers through a private module of the package"
    )


# -- No import cycles --------------------------------------------------------------------


def import_graph() -> dict[str, set[str]]:
    """cnnviz's modules and the cnnviz modules each imports, at the top or inside a function.

    ``from X import a`` is an edge to module ``X.a`` where that is a module, else to ``X``.
    The lazy ``cnnviz`` package (its names come from the stub) and a package's way down
    to its own modules are not edges: importing ``cnnviz`` runs none of its modules.
    """
    modules = package_modules()
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "cnnviz").rglob("*.py"):
        importer = module_name(path)
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(node, importer, path.name == "__init__.py")
                if module is None:
                    continue
                targets = [
                    f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
                    for alias in node.names
                ]
            else:
                continue
            edges |= {
                target
                for target in targets
                if target in modules
                and target != "cnnviz"
                and not (target.startswith(importer + ".") and path.name == "__init__.py")
            }
        graph[importer] = edges - {importer}
    return graph


def test_no_module_of_cnnviz_imports_itself_back():
    graph = import_graph()
    assert graph["cnnviz.data"] >= {"cnnviz._checks"}  # the scan sees imports at all
    cycles = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:  # depth first; a way back is a cycle
        for target in sorted(graph.get(module, ())):
            if target in path:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles)))
