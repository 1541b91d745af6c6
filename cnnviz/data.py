"""Find, verify and parse Fashion-MNIST; scale images and one-hot encode labels.

This module imports only NumPy and the standard library, so loading the data
does not pay for importing TensorFlow.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ._checks import class_count, float_images, labels, one_hot_targets

__all__ = [
    "CLASS_NAMES",
    "find_fashion_mnist",
    "load_fashion_mnist",
    "one_hot",
    "parse_idx",
    "read_idx",
    "scale_images",
]

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""The ten Fashion-MNIST labels, in label order (label 7 is ``"Sneaker"``)."""

#: SHA-256 and size of each *decompressed* IDX file.  The ``.gz`` bytes differ
#: between sources (Debian recompresses them), the decompressed bytes do not.
FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        47_040_016,
    ),
    "train-labels-idx1-ubyte": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        60_008,
    ),
    "t10k-images-idx3-ubyte": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        7_840_016,
    ),
    "t10k-labels-idx1-ubyte": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        10_008,
    ),
}

#: Directory of the Debian package ``dataset-fashion-mnist``.
SYSTEM_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")
#: Environment variable naming a directory that holds the four ``.gz`` files.
DATA_DIR_ENV = "CNNVIZ_DATA_DIR"
#: Where ``keras.datasets.fashion_mnist.load_data`` keeps (and we download) the files.
DOWNLOAD_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# The IDX element types (third magic byte) and the NumPy dtypes they hold.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# Parsed, verified arrays by (expected file, path, size, mtime): a second load
# in the same process skips decompression and hashing.  The expected file is
# part of the key because a verified file is verified only as what it is (a
# link from train-labels to t10k-labels must still fail).  Callers get copies.
_MEMO: dict[tuple[str, str, int, int], np.ndarray] = {}

# What a damaged gzip file raises: BadGzipFile (an OSError) for a bad header,
# EOFError for a truncated stream, zlib.error for a corrupt deflate block.
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def _gz_names() -> list[str]:
    return [name + ".gz" for name in FILES]


def _keras_cache_dir() -> Path:
    """Return the directory where Keras caches Fashion-MNIST.

    This is ``$KERAS_HOME/datasets/fashion-mnist``, with ``KERAS_HOME``
    defaulting to ``~/.keras``, as in ``keras.datasets.fashion_mnist``.

    Returns
    -------
    pathlib.Path
        The directory; it need not exist.
    """
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets" / "fashion-mnist"


def _has_files(directory: Path) -> bool:
    return all((directory / name).is_file() for name in _gz_names())


def _file_problem(path: Path) -> str | None:
    """Say what is wrong with `path` as a data file, or None if it is a regular file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a symbolic link to nothing" if path.is_symlink() else "missing"
    except OSError as error:  # a symbolic-link loop, a permission problem
        return f"unreadable ({error.strerror or error})"
    if stat.S_ISDIR(mode):
        return "a directory, not a file"
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a special file"
        return f"{kind}, not a regular file"
    return None


def _required_directory(directory: Path, shown_as: str) -> Path:
    """Return `directory` if it holds the four files; else say which are wrong and how."""
    if not directory.is_dir():
        problem = "does not exist" if not directory.exists() else "is not a directory"
        raise FileNotFoundError(
            f"{shown_as} names {str(directory)!r}, which {problem}; it must be a directory "
            f"holding {', '.join(_gz_names())}"
        )
    problems = {name: _file_problem(directory / name) for name in _gz_names()}
    wrong = [f"{name} ({problem})" for name, problem in problems.items() if problem]
    if wrong:
        raise FileNotFoundError(
            f"{shown_as} names {str(directory)!r}, which does not hold the Fashion-MNIST "
            f"files: {', '.join(wrong)}"
        )
    return directory


def _download(directory: Path) -> None:
    """Download the four files into `directory`, each written atomically."""
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        for name in _gz_names():
            _download_file(directory, name)
    except BaseException:
        if created and not any(directory.iterdir()):
            directory.rmdir()
        raise


def _download_file(directory: Path, name: str) -> None:
    """Download one file to a temporary name, verify it, then rename it into place."""
    target = directory / name
    if target.is_file():
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(DOWNLOAD_URL + name, timeout=30) as response,
        ):
            shutil.copyfileobj(response, out)
        _verified_bytes(Path(tmp), FILES[name[: -len(".gz")]], shown_as=DOWNLOAD_URL + name)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find_fashion_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """Return the directory that holds the four Fashion-MNIST ``.gz`` files.

    The places are tried in this order, and the first that holds all four
    files wins:

    1. `data_dir`, if given (then it *must* hold them: nothing else is tried);
    2. the directory named by the environment variable ``CNNVIZ_DATA_DIR``,
       if set (as binding as `data_dir`);
    3. the Keras cache, ``~/.keras/datasets/fashion-mnist``;
    4. ``/usr/share/datasets/fashion-mnist``, from the Debian package
       ``dataset-fashion-mnist``.

    If none has them and `download` is true, the files are downloaded into
    the Keras cache.

    Parameters
    ----------
    data_dir : path-like, optional
        A directory that holds ``train-images-idx3-ubyte.gz``,
        ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
        ``t10k-labels-idx1-ubyte.gz``.
    download : bool, default True
        Whether to download the files when no directory has them.

    Returns
    -------
    pathlib.Path
        The directory. The files are not verified here; see
        :func:`load_fashion_mnist`.

    Raises
    ------
    FileNotFoundError
        If `data_dir` (or ``$CNNVIZ_DATA_DIR``) is not a directory or lacks
        a file (the message says what stands there instead: nothing, a
        dangling link, a directory, a FIFO), or if no place has the files and
        they could not be downloaded. Then the message lists every place
        looked at and the ways to get the data.
    ValueError
        If ``$CNNVIZ_DATA_DIR`` is blank or starts or ends with white space.

    Examples
    --------
    >>> from cnnviz import find_fashion_mnist
    >>> directory = find_fashion_mnist()
    >>> sorted(p.name for p in directory.glob("*-ubyte.gz"))[:2]
    ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
    """
    if data_dir is not None:
        return _required_directory(Path(data_dir).expanduser(), "data_dir")
    setting = os.environ.get(DATA_DIR_ENV)
    if setting:
        # As binding as data_dir: a setting that names the wrong place is an error,
        # never a silent fall-back to another copy.
        if not setting.strip() or setting != setting.strip():
            raise ValueError(
                f"{DATA_DIR_ENV}={setting!r} is blank or starts or ends with white space; "
                "unset it or give the directory's path"
            )
        return _required_directory(Path(setting).expanduser(), f"${DATA_DIR_ENV}")

    places: list[tuple[str, Path]] = []
    places.append(("the Keras cache", _keras_cache_dir()))
    places.append(("the Debian package dataset-fashion-mnist", SYSTEM_DATA_DIR))
    for _, directory in places:
        if _has_files(directory):
            return directory

    problem = "download disabled"
    if download:
        try:
            _download(_keras_cache_dir())
            return _keras_cache_dir()
        except (OSError, urllib.error.URLError) as error:
            problem = f"download from {DOWNLOAD_URL} failed: {error}"
    looked = "\n".join(f"  - {directory} ({label})" for label, directory in places)
    raise FileNotFoundError(
        "Fashion-MNIST was not found. Looked for "
        f"{', '.join(_gz_names())} in:\n{looked}\nand {problem}.\n"
        "Get the data in one of these ways:\n"
        "  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
        f"  - put the four files in a directory and set {DATA_DIR_ENV} to it "
        "(or pass data_dir=...)\n"
        f"  - on a machine with internet access, call load_fashion_mnist() once: "
        f"it downloads them to {_keras_cache_dir()}"
    )


def _verified_bytes(path: Path, expected: tuple[str, int], shown_as: str | None = None) -> bytes:
    """Decompress `path` and check the size and SHA-256 of its content."""
    shown = shown_as or str(path)
    sha256, size = expected
    try:
        with gzip.open(path, "rb") as stream:
            # One byte past the expected size is enough to refuse a longer file: a
            # small .gz that expands to gigabytes is never decompressed whole.
            raw = stream.read(size + 1)
    except _GZIP_ERRORS as error:
        raise ValueError(f"{shown}: not a readable gzip file ({error})") from error
    if len(raw) != size:
        found = "more than" if len(raw) > size else f"{len(raw):,} bytes, not"
        raise ValueError(
            f"{shown}: decompressed, it holds {found} the {size:,} bytes expected "
            "(truncated or wrong file)"
        )
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise ValueError(
            f"{shown}: SHA-256 of the decompressed content is {digest}, expected {sha256} "
            "(corrupt or wrong file)"
        )
    return raw


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array.

    Parameters
    ----------
    raw : bytes
        The whole file: magic number, dimensions, data.
    name : str, optional
        What to call the data in error messages (usually the file name).

    Returns
    -------
    numpy.ndarray
        An array with the file's shape and element type, in native byte order.

    Raises
    ------
    ValueError
        If the magic number, the dimensions or the length are wrong; the
        message names `name` and what is wrong.

    Examples
    --------
    >>> import numpy as np
    >>> raw = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
    >>> parse_idx(raw)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"raw must be the bytes of an IDX file; got {type(raw).__name__} "
            "(to read a file by its path, use read_idx)"
        )
    if len(raw) < 4:
        raise ValueError(f"{name}: {len(raw)} bytes is too short for an IDX header")
    zero1, zero2, type_code, ndim = raw[:4]
    if zero1 or zero2 or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{name}: bad IDX magic number {raw[:4].hex()} (expected 0000 followed by a "
            "type code 08/09/0b/0c/0d/0e and a dimension count of at least 1)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: header declares {ndim} dimensions but the file ends early")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if len(raw) - header != expected:
        raise ValueError(
            f"{name}: header declares shape {shape} ({expected:,} bytes of data) but the file "
            f"holds {len(raw) - header:,} bytes of data"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="), copy=True)
    )


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed (``.gz``) or not.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    numpy.ndarray
        The array the file holds. No checksum is checked here;
        :func:`load_fashion_mnist` does that for the Fashion-MNIST files.

    Raises
    ------
    ValueError
        If the file is not valid IDX (or not valid gzip).
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                raw = stream.read()
        else:
            raw = path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(f"{path}: not a readable gzip file ({error})") from error
    return parse_idx(raw, str(path))


def _load_verified(path: Path, name: str) -> np.ndarray:
    info = path.stat()
    key = (name, str(path.resolve()), info.st_size, info.st_mtime_ns)
    if key not in _MEMO:
        _MEMO[key] = parse_idx(_verified_bytes(path, FILES[name]), str(path))
    return _MEMO[key].copy()


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as ``keras.datasets.fashion_mnist.load_data()`` does.

    The files are found as described in :func:`find_fashion_mnist`, each
    decompressed file is checked against its known size and SHA-256, and the
    IDX format is parsed here. Images get a trailing channel axis.

    Parameters
    ----------
    data_dir : path-like, optional
        A directory holding the four ``.gz`` files. If given, it must hold
        them; otherwise the usual places are searched.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of numpy.ndarray
        ``uint8`` images of shape (60000, 28, 28, 1) and (10000, 28, 28, 1),
        ``uint8`` labels (0 to 9) of shape (60000,) and (10000,).

    Raises
    ------
    FileNotFoundError
        If the files cannot be found or downloaded (the message says where
        it looked and how to get them).
    ValueError
        If a file is truncated, corrupt or not the expected one (the message
        names the file and what is wrong).

    Examples
    --------
    >>> from cnnviz import CLASS_NAMES, load_fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    >>> x_train.shape, x_train.dtype
    ((60000, 28, 28, 1), dtype('uint8'))
    >>> CLASS_NAMES[y_train[41]]
    'Sneaker'
    """
    directory = find_fashion_mnist(data_dir)
    arrays = {name: _load_verified(directory / f"{name}.gz", name) for name in FILES}
    return (
        (arrays["train-images-idx3-ubyte"][..., np.newaxis], arrays["train-labels-idx1-ubyte"]),
        (arrays["t10k-images-idx3-ubyte"][..., np.newaxis], arrays["t10k-labels-idx1-ubyte"]),
    )


def scale_images(x: np.ndarray) -> np.ndarray:
    """Scale ``uint8`` pixel values to float32 in [0, 1], as ``x / 255``.

    Parameters
    ----------
    x : array_like of uint8
        Images of any shape.

    Returns
    -------
    numpy.ndarray
        float32 array of the same shape. Each value equals
        ``np.float32(x / 255.0)`` exactly.

    Raises
    ------
    TypeError
        If `x` is not of dtype ``uint8``.

    Examples
    --------
    >>> import numpy as np
    >>> scale_images(np.array([0, 51, 255], dtype=np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(
            f"scale_images expects x of dtype uint8 (pixel values 0 to 255); got {x.dtype}. "
            "Images that are already float are used as they are elsewhere in cnnviz."
        )
    return float_images(x, "x")


def one_hot(y: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """One-hot encode integer labels as float32, like ``np.eye(num_classes)[y]``.

    Parameters
    ----------
    y : array_like of int, shape (N,)
        Labels in ``range(num_classes)``.
    num_classes : int, default 10
        Number of classes, at most 10,000.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (N, num_classes).

    Raises
    ------
    ValueError
        If `num_classes` is not an integer in [1, 10000], `y` is not 1-D, or a
        label lies outside ``range(num_classes)``.
    TypeError
        If `y` does not hold integers.

    Examples
    --------
    >>> one_hot([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    num_classes = class_count(num_classes)
    return one_hot_targets(labels(y, "y", num_classes), num_classes, "y")
