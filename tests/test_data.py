"""Tests of cnnviz.data: IDX parsing, verification, the search for the files, scaling, one-hot.

Nothing here imports TensorFlow: loading data must not pay for it.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cnnviz.data
from cnnviz import (
    CLASS_NAMES,
    find_fashion_mnist,
    load_fashion_mnist,
    one_hot,
    parse_idx,
    read_idx,
    scale_images,
)

GZ_NAMES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]

# The IDX type codes from the format's description (third byte of the magic number).
IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    """Write `array` as an IDX file: magic 00 00 type ndim, big-endian uint32 dims, big-endian data."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(IDX_TYPES[type_code]).tobytes()


# A gzip member whose header is fine but whose first deflate block has the reserved type 3:
# a damaged stream, not a truncated one.
DAMAGED_GZIP = gzip.compress(b"", mtime=0)[:10] + b"\x07" + bytes(32)


# --- parse_idx -------------------------------------------------------------------------------


def test_parse_idx_reads_uint8_images_and_labels():
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    parsed_images = parse_idx(idx_bytes(images, 0x08))
    parsed_labels = parse_idx(idx_bytes(labels, 0x08))
    np.testing.assert_array_equal(parsed_images, images)
    np.testing.assert_array_equal(parsed_labels, labels)
    assert parsed_images.dtype == np.uint8
    assert parsed_images.shape == (3, 4, 5)
    assert parsed_labels.shape == (3,)


@pytest.mark.parametrize(
    ("type_code", "values"),
    [
        (0x09, [-128, -1, 0, 127]),
        (0x0B, [-32768, -2, 1, 32767]),
        (0x0C, [-(2**31), -70000, 1, 2**31 - 1]),
        (0x0D, [-1.5, 0.0, 3.25, 1e30]),
        (0x0E, [-1e300, 0.1, 2.0, np.pi]),
    ],
)
def test_parse_idx_reads_big_endian_types_into_native_arrays(type_code, values):
    expected = np.array(values, dtype=IDX_TYPES[type_code]).reshape(2, 2)
    parsed = parse_idx(idx_bytes(expected, type_code))
    assert parsed.dtype == IDX_TYPES[type_code].newbyteorder("=")
    assert parsed.dtype.isnative
    np.testing.assert_array_equal(parsed, expected)


def test_parse_idx_returns_a_writable_array():
    parsed = parse_idx(idx_bytes(np.zeros((2, 2), dtype=np.uint8), 0x08))
    parsed[0, 0] = 1  # a read-only view of the bytes would raise here
    assert parsed[0, 0] == 1


@pytest.mark.parametrize(
    ("magic", "why"),
    [
        (bytes([1, 0, 8, 1]), "first byte not zero"),
        (bytes([0, 1, 8, 1]), "second byte not zero"),
        (bytes([0, 0, 0x0A, 1]), "unknown type code"),
        (bytes([0, 0, 0x1F, 1]), "unknown type code"),
        (bytes([0, 0, 8, 0]), "no dimensions"),
    ],
)
def test_parse_idx_rejects_a_bad_magic_number(magic, why):
    raw = magic + struct.pack(">I", 2) + bytes(2)
    with pytest.raises(ValueError, match=r"my-file\.idx.*magic") as info:
        parse_idx(raw, "my-file.idx")
    assert magic.hex() in str(info.value), why


@pytest.mark.parametrize("raw", [b"", b"\x00", b"\x00\x00\x08"])
def test_parse_idx_rejects_fewer_bytes_than_a_magic_number(raw):
    with pytest.raises(ValueError, match=r"tiny\.idx.*too short"):
        parse_idx(raw, "tiny.idx")


def test_parse_idx_rejects_a_header_shorter_than_its_dimensions():
    # Three dimensions declared, but only one dimension size follows.
    raw = bytes([0, 0, 8, 3]) + struct.pack(">I", 5)
    with pytest.raises(ValueError, match=r"short\.idx.*3 dimensions.*ends early"):
        parse_idx(raw, "short.idx")


@pytest.mark.parametrize(("extra", "word"), [(-1, "truncated"), (1, "trailing data")])
def test_parse_idx_rejects_data_of_the_wrong_length(extra, word):
    raw = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)
    raw = raw[:extra] if extra < 0 else raw + bytes(extra)
    with pytest.raises(ValueError, match=r"images\.idx") as info:
        parse_idx(raw, "images.idx")
    message = str(info.value)
    # Says what the header promised and what the file holds.
    assert "(2, 3)" in message, word
    assert "6 bytes" in message
    assert f"{6 + extra} bytes" in message


@pytest.mark.parametrize(
    "dims",
    [(2**32 - 1, 2**32 - 1), (2**16, 2**16, 2**16, 2**16), (2**32 - 1,) * 3],
    ids=["product-overflows-int64", "product-is-2**64", "huge"],
)
def test_parse_idx_rejects_absurd_dimensions_by_name(dims):
    # A corrupt header can declare more elements than any file holds; the byte count
    # must not wrap around (2**64 bytes is not 0 bytes, (2**32-1)**2 is not negative).
    raw = bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    with pytest.raises(ValueError, match=r"huge\.idx") as info:
        parse_idx(raw, "huge.idx")
    assert not re.search(r"\(-[\d,]+ bytes", str(info.value))


def test_parse_idx_counts_bytes_not_elements_for_wide_types():
    raw = idx_bytes(np.array([1, 2], dtype=">i4"), 0x0C)[:-1]
    with pytest.raises(ValueError, match=r"wide\.idx.*8 bytes.*7 bytes"):
        parse_idx(raw, "wide.idx")


# --- read_idx --------------------------------------------------------------------------------


def test_read_idx_reads_gzip_and_plain_files(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(4, 7, 7), dtype=np.uint8)
    raw = idx_bytes(images, 0x08)
    plain = tmp_path / "images-idx3-ubyte"
    plain.write_bytes(raw)
    compressed = tmp_path / "images-idx3-ubyte.gz"
    compressed.write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(read_idx(plain), images)
    np.testing.assert_array_equal(read_idx(str(compressed)), images)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"this is not gzip at all, just some text" * 4, id="garbage"),
        pytest.param(gzip.compress(bytes(range(256)) * 64, mtime=0)[:-200], id="truncated"),
        pytest.param(gzip.compress(bytes(range(256)) * 64, mtime=0)[:15], id="only-header"),
        pytest.param(DAMAGED_GZIP, id="damaged-deflate-stream"),
    ],
)
def test_read_idx_reports_a_corrupt_gzip_file_by_name(tmp_path, content):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        read_idx(path)


def test_read_idx_reports_bad_idx_content_by_file_name(tmp_path):
    path = tmp_path / "odd-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + bytes(9)))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        read_idx(path)


# --- load_fashion_mnist with damaged or wrong files ----------------------------------------


def link_real_files(directory: Path, real: Path, names=GZ_NAMES) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).symlink_to(real / name)
    return directory


def others(name: str) -> list[str]:
    return [n for n in GZ_NAMES if n != name]


@pytest.mark.integration
@pytest.mark.parametrize("name", GZ_NAMES)
def test_load_reports_a_truncated_file_by_name(tmp_path, fashion_mnist_dir, name):
    data_dir = link_real_files(tmp_path / "data", fashion_mnist_dir, others(name))
    full = (fashion_mnist_dir / name).read_bytes()
    (data_dir / name).write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match=re.escape(str(data_dir / name))) as info:
        load_fashion_mnist(data_dir=data_dir)
    assert re.search(r"truncat|ended|end of", str(info.value), re.IGNORECASE)


@pytest.mark.integration
def test_load_reports_a_wrong_file_of_the_right_length_by_checksum(tmp_path, fashion_mnist_dir):
    name = "t10k-labels-idx1-ubyte.gz"
    data_dir = link_real_files(tmp_path / "data", fashion_mnist_dir, others(name))
    # A valid IDX file of exactly the test labels' size: the first 10000 *training* labels.
    train_labels = read_idx(fashion_mnist_dir / "train-labels-idx1-ubyte.gz")
    wrong = idx_bytes(train_labels[:10000], 0x08)
    assert len(wrong) == 10_008
    (data_dir / name).write_bytes(gzip.compress(wrong))
    with pytest.raises(ValueError, match=re.escape(str(data_dir / name))) as info:
        load_fashion_mnist(data_dir=data_dir)
    assert "SHA-256" in str(info.value)


@pytest.mark.integration
def test_load_reports_a_file_of_the_wrong_size_by_name(tmp_path, fashion_mnist_dir):
    name = "train-labels-idx1-ubyte.gz"
    data_dir = link_real_files(tmp_path / "data", fashion_mnist_dir, others(name))
    (data_dir / name).write_bytes((fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(ValueError, match=re.escape(str(data_dir / name))) as info:
        load_fashion_mnist(data_dir=data_dir)
    assert re.search(r"holds 10,008 bytes, not the 60,008 bytes expected", str(info.value))


@pytest.mark.integration
def test_load_verifies_a_symlink_to_another_verified_file(
    tmp_path, fashion_mnist_dir, fashion_mnist
):
    # The test labels, already loaded and verified as the test labels, linked under the
    # training labels' name: they must still be checked against the training labels' checksum.
    name = "train-labels-idx1-ubyte.gz"
    data_dir = link_real_files(tmp_path / "data", fashion_mnist_dir, others(name))
    (data_dir / name).symlink_to(fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(ValueError, match=re.escape(str(data_dir / name))):
        load_fashion_mnist(data_dir=data_dir)


@pytest.mark.integration
def test_load_reports_a_damaged_gzip_stream_by_name(tmp_path, fashion_mnist_dir):
    name = "t10k-labels-idx1-ubyte.gz"
    data_dir = link_real_files(tmp_path / "data", fashion_mnist_dir, others(name))
    (data_dir / name).write_bytes(DAMAGED_GZIP)
    with pytest.raises(ValueError, match=re.escape(str(data_dir / name))):
        load_fashion_mnist(data_dir=data_dir)


@pytest.mark.integration
def test_a_data_dir_lacking_files_is_an_error_even_when_other_places_have_them(
    tmp_path, monkeypatch, fashion_mnist_dir
):
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(fashion_mnist_dir))
    monkeypatch.setattr(cnnviz.data, "SYSTEM_DATA_DIR", fashion_mnist_dir)
    data_dir = link_real_files(tmp_path / "partial", fashion_mnist_dir, GZ_NAMES[:1])
    with pytest.raises(FileNotFoundError, match=re.escape(str(data_dir))) as info:
        load_fashion_mnist(data_dir=data_dir)
    for name in GZ_NAMES[1:]:
        assert f"{name} (missing)" in str(info.value)
    assert GZ_NAMES[0] not in str(info.value)


# --- where the files are looked for ----------------------------------------------------------


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Three empty places (env dir, Keras home, system dir) wired into the search, nothing found.

    CNNVIZ_DATA_DIR is binding where set, so it is unset here; tests that use it set it.
    """
    env_dir = tmp_path / "env"
    keras_home = tmp_path / "keras-home"
    system_dir = tmp_path / "system"
    for directory in (env_dir, keras_home, system_dir):
        directory.mkdir()
    monkeypatch.delenv("CNNVIZ_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setattr(cnnviz.data, "SYSTEM_DATA_DIR", system_dir)
    # The downloads in these tests go to 127.0.0.1, never through a proxy set for the machine.
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(variable, "127.0.0.1,localhost")
    return {
        "env": env_dir,
        "keras": keras_home / "datasets" / "fashion-mnist",
        "system": system_dir,
    }


@pytest.mark.integration
def test_search_order_env_then_keras_cache_then_system(places, fashion_mnist_dir, monkeypatch):
    for directory in places.values():
        link_real_files(directory, fashion_mnist_dir)
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(places["env"]))
    assert find_fashion_mnist() == places["env"]

    monkeypatch.delenv("CNNVIZ_DATA_DIR")
    assert find_fashion_mnist() == places["keras"]

    for name in GZ_NAMES:
        (places["keras"] / name).unlink()
    assert find_fashion_mnist() == places["system"]


@pytest.mark.integration
def test_search_skips_places_with_only_some_files(places, fashion_mnist_dir):
    link_real_files(places["keras"], fashion_mnist_dir, GZ_NAMES[1:])
    link_real_files(places["system"], fashion_mnist_dir)
    assert find_fashion_mnist() == places["system"]


@pytest.mark.integration
def test_a_cnnviz_data_dir_with_three_of_four_files_is_an_error_not_a_fall_back(
    places, fashion_mnist_dir, monkeypatch
):
    link_real_files(places["env"], fashion_mnist_dir, GZ_NAMES[:3])
    link_real_files(places["system"], fashion_mnist_dir)
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(places["env"]))
    with pytest.raises(FileNotFoundError, match=rf"\$CNNVIZ_DATA_DIR .*{GZ_NAMES[3]} \(missing\)"):
        find_fashion_mnist()


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: None, "which does not exist"),
        (lambda d: d.write_text("not a directory"), "which is not a directory"),
    ],
)
def test_a_cnnviz_data_dir_that_is_no_directory_is_an_error(tmp_path, monkeypatch, make, problem):
    target = tmp_path / "data"
    make(target)
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(target))
    with pytest.raises(FileNotFoundError, match=rf"\$CNNVIZ_DATA_DIR names .*data', {problem}"):
        find_fashion_mnist()


@pytest.mark.parametrize("value", ["   ", " /usr/share/datasets/fashion-mnist"])
def test_a_cnnviz_data_dir_of_white_space_is_refused(monkeypatch, value):
    monkeypatch.setenv("CNNVIZ_DATA_DIR", value)
    with pytest.raises(ValueError, match=r"CNNVIZ_DATA_DIR=.* white space"):
        find_fashion_mnist()


def dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.gz")


def link_loop(path: Path) -> None:
    path.symlink_to(path)


def fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (dangling_link, "a symbolic link to nothing"),
        (link_loop, "unreadable"),
        (Path.mkdir, "a directory, not a file"),
        (fifo, "a FIFO, not a regular file"),
    ],
)
def test_what_stands_in_place_of_a_data_file_is_named(tmp_path, make, problem):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in GZ_NAMES[1:]:
        (data_dir / name).write_bytes(b"")
    make(data_dir / GZ_NAMES[0])
    with pytest.raises(FileNotFoundError, match=rf"{GZ_NAMES[0]} \({problem}"):
        find_fashion_mnist(data_dir)


@pytest.mark.integration
def test_data_dir_comes_before_every_other_place(places, fashion_mnist_dir, tmp_path):
    for directory in places.values():
        link_real_files(directory, fashion_mnist_dir)
    mine = link_real_files(tmp_path / "mine", fashion_mnist_dir)
    assert find_fashion_mnist(mine) == mine
    assert find_fashion_mnist(str(mine)) == mine


@pytest.mark.integration
def test_load_uses_the_directory_the_search_finds(places, fashion_mnist_dir, fashion_mnist):
    link_real_files(places["system"], fashion_mnist_dir)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    for got, expected in zip(
        (x_train, y_train, x_test, y_test), flatten(fashion_mnist), strict=True
    ):
        assert_same(got, expected)


def assert_same(a: np.ndarray, b: np.ndarray) -> None:
    """Equal shape, dtype and values (np.testing's version is slow on 47 million pixels)."""
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    assert np.array_equal(a, b)


def flatten(data):
    (x_train, y_train), (x_test, y_test) = data
    return x_train, y_train, x_test, y_test


def test_offline_with_no_copy_anywhere_gives_one_error_listing_every_place(places, monkeypatch):
    monkeypatch.setattr(cnnviz.data, "DOWNLOAD_URL", "http://127.0.0.1:9/")
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist()
    message = str(info.value)
    for directory in (places["keras"], places["system"]):
        assert str(directory) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "CNNVIZ_DATA_DIR" in message
    assert "download" in message.lower()
    assert leftovers(places["keras"]) == []


def test_download_false_does_not_try_the_network(places, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("find_fashion_mnist(download=False) opened a URL")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        find_fashion_mnist(download=False)


# --- downloading, from a local HTTP server ---------------------------------------------------


def leftovers(directory: Path) -> list[str]:
    """Names of everything in `directory` (hidden files too); none if it does not exist."""
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the test output is not the place for access logs
        pass


@pytest.fixture
def http_dir(tmp_path, monkeypatch):
    """A directory served over HTTP on 127.0.0.1, with DOWNLOAD_URL pointing at it."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setattr(cnnviz.data, "DOWNLOAD_URL", f"http://127.0.0.1:{server.server_port}/")
    yield served
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_download_missing_on_the_server_is_reported_as_not_found(places, http_dir):
    with pytest.raises(FileNotFoundError, match="404") as info:
        find_fashion_mnist()
    assert "apt-get install dataset-fashion-mnist" in str(info.value)
    assert leftovers(places["keras"]) == []


@pytest.mark.integration
def test_download_puts_the_files_in_the_keras_cache(
    places, http_dir, monkeypatch, fashion_mnist_dir, fashion_mnist
):
    link_real_files(http_dir, fashion_mnist_dir)
    data = load_fashion_mnist()
    assert sorted(p.name for p in places["keras"].iterdir()) == sorted(GZ_NAMES)
    for name in GZ_NAMES:
        assert (places["keras"] / name).read_bytes() == (fashion_mnist_dir / name).read_bytes()
    for got, expected in zip(flatten(data), flatten(fashion_mnist), strict=True):
        assert_same(got, expected)
    assert find_fashion_mnist(download=False) == places["keras"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("bad", "damage"),
    [
        # The second file: the first one, already downloaded and verified, may stay.
        ("train-labels-idx1-ubyte.gz", "wrong-file"),
        ("train-images-idx3-ubyte.gz", "truncated"),
        ("train-images-idx3-ubyte.gz", "damaged-stream"),
    ],
)
def test_a_bad_download_is_an_error_and_leaves_no_partial_file(
    places, http_dir, fashion_mnist_dir, bad, damage
):
    link_real_files(http_dir, fashion_mnist_dir, others(bad))
    real = (fashion_mnist_dir / bad).read_bytes()
    content = {
        "wrong-file": (fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes(),
        "truncated": real[: len(real) // 2],
        "damaged-stream": DAMAGED_GZIP,
    }[damage]
    (http_dir / bad).write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(bad)):
        load_fashion_mnist()
    left = leftovers(places["keras"])
    assert bad not in left
    # Only complete, verified files may be left: no temporary or partial ones.
    for name in left:
        assert name in GZ_NAMES, f"left behind: {name}"
        assert (places["keras"] / name).read_bytes() == (fashion_mnist_dir / name).read_bytes()


# --- scale_images ----------------------------------------------------------------------------


def test_scale_images_is_x_over_255_in_float32_bit_for_bit():
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    expected = np.array([np.float32(v / 255.0) for v in range(256)], dtype=np.float32)
    scaled = scale_images(x)
    assert scaled.dtype == np.float32
    assert scaled.shape == (16, 16)
    np.testing.assert_array_equal(scaled.ravel().view(np.uint32), expected.view(np.uint32))
    assert scaled.min() == 0.0
    assert scaled.max() == 1.0


@pytest.mark.parametrize("shape", [(0,), (3,), (2, 28, 28, 1), (1, 5, 4, 3)])
def test_scale_images_keeps_the_shape(shape):
    x = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    scaled = scale_images(x)
    assert scaled.shape == shape
    assert scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled, (x / 255.0).astype(np.float32))


def test_scale_images_returns_a_new_array():
    x = np.full((2, 2), 255, dtype=np.uint8)
    scaled = scale_images(x)
    scaled[0, 0] = 0.5
    assert scale_images(x)[0, 0] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_scale_images_rejects_anything_but_uint8(dtype):
    with pytest.raises(TypeError, match=rf"uint8.*{np.dtype(dtype).name}"):
        scale_images(np.zeros((2, 2), dtype=dtype))


# --- one_hot ---------------------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [1, 3, 10])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64])
def test_one_hot_equals_rows_of_the_identity(num_classes, dtype):
    y = np.random.default_rng(num_classes).integers(0, num_classes, size=50).astype(dtype)
    encoded = one_hot(y, num_classes=num_classes)
    assert encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded, np.eye(num_classes)[y].astype(np.float32))


def test_one_hot_defaults_to_ten_classes_and_takes_lists():
    np.testing.assert_array_equal(one_hot([7, 0, 9]), np.eye(10, dtype=np.float32)[[7, 0, 9]])


def test_one_hot_of_no_labels_is_empty():
    assert one_hot(np.array([], dtype=np.int64)).shape == (0, 10)


@pytest.mark.parametrize("labels", [[0, 10], [3, -1], [255]])
def test_one_hot_rejects_labels_outside_the_range(labels):
    with pytest.raises(ValueError, match=r"range\(0, 10\)"):
        one_hot(np.array(labels, dtype=np.int64))


def test_one_hot_rejects_two_dimensional_labels():
    with pytest.raises(ValueError, match=r"1-D.*\(2, 2\)"):
        one_hot(np.zeros((2, 2), dtype=np.int64))


def test_one_hot_rejects_float_labels():
    with pytest.raises(TypeError, match="float64"):
        one_hot(np.array([0.0, 1.0]))


@pytest.mark.parametrize("num_classes", [0, -3, True, 2.5, "10"])
def test_one_hot_rejects_a_bad_number_of_classes(num_classes):
    # The type of the error is not the contract (the docstring and the code disagree); the
    # message naming the argument is.
    with pytest.raises((TypeError, ValueError), match="num_classes must be a positive integer"):
        one_hot([0], num_classes=num_classes)


# --- no TensorFlow at import time ------------------------------------------------------------


def test_loading_data_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "import cnnviz.data\n"
        "from cnnviz import CLASS_NAMES, load_fashion_mnist, one_hot, scale_images\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "print(heavy)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the real data ---------------------------------------------------------------------------


def test_class_names_are_the_ten_labels_in_label_order():
    assert list(CLASS_NAMES) == [
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
    ]


@pytest.mark.integration
def test_real_data_shapes_and_dtypes(fashion_mnist):
    (x_train, y_train), (x_test, y_test) = fashion_mnist
    assert x_train.shape == (60000, 28, 28, 1)
    assert x_test.shape == (10000, 28, 28, 1)
    assert y_train.shape == (60000,)
    assert y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8


@pytest.mark.integration
def test_real_data_has_6000_train_and_1000_test_images_per_class(fashion_mnist):
    (_, y_train), (_, y_test) = fashion_mnist
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), np.full(10, 1000))


@pytest.mark.integration
def test_real_data_image_41_is_a_sneaker(fashion_mnist):
    (x_train, y_train), _ = fashion_mnist
    assert y_train[41] == 7
    assert CLASS_NAMES[y_train[41]] == "Sneaker"
    assert x_train[41].max() > 0


@pytest.mark.integration
def test_real_data_matches_the_idx_files(fashion_mnist, fashion_mnist_dir):
    (_, _), (x_test, y_test) = fashion_mnist
    assert_same(x_test[..., 0], read_idx(fashion_mnist_dir / "t10k-images-idx3-ubyte.gz"))
    assert_same(y_test, read_idx(fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz"))


@pytest.mark.integration
def test_each_load_returns_independent_copies(fashion_mnist):
    first = flatten(load_fashion_mnist())
    second = flatten(load_fashion_mnist())
    for a, b in zip(first, second, strict=True):
        assert_same(a, b)
        assert not np.shares_memory(a, b)
    for array in first:
        array[...] = 1
    third = flatten(load_fashion_mnist())
    for a, b in zip(second, third, strict=True):
        assert_same(a, b)
    for a, b in zip(flatten(fashion_mnist), third, strict=True):
        assert_same(a, b)


def test_a_gzip_bomb_is_refused_after_one_byte_past_the_expected_size(tmp_path, monkeypatch):
    # 64 MiB of zeros in a 64 KB file, under a name whose content must be 10,008 bytes.
    name = "t10k-labels-idx1-ubyte"
    bomb = tmp_path / f"{name}.gz"
    with gzip.open(bomb, "wb") as stream:
        for _ in range(64):
            stream.write(bytes(1 << 20))
    assert bomb.stat().st_size < 1 << 17
    read = []
    real_read = gzip.GzipFile.read

    def counting_read(self, size=-1):
        data = real_read(self, size)
        read.append(len(data))
        return data

    monkeypatch.setattr(gzip.GzipFile, "read", counting_read)
    with pytest.raises(ValueError, match=r"holds more than the 10,008 bytes expected"):
        cnnviz.data._verified_bytes(bomb, cnnviz.data.FILES[name])
    assert sum(read) == 10_009


@pytest.mark.parametrize("raw", ["\x00\x00\x08\x01", [0, 0, 8, 1], None])
def test_parse_idx_wants_bytes(raw):
    with pytest.raises(TypeError, match="raw must be the bytes of an IDX file; got"):
        parse_idx(raw)


# --- properties of the IDX reader, for any file (hypothesis) ---------------------------------

# Derandomized and without an example database: CI runs the same examples every time.
PROPERTIES = settings(derandomize=True, database=None, deadline=None, max_examples=150)


@st.composite
def idx_files(draw):
    """(array, its IDX bytes): every IDX type (the third byte), 1-4 small dimensions.

    Float arrays include NaN, infinities, subnormals and -0.0.
    """
    type_code = draw(st.sampled_from(sorted(IDX_TYPES)))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))
    array = draw(hnp.arrays(IDX_TYPES[type_code].newbyteorder("="), shape))
    return array, idx_bytes(array, type_code)


def same_bits(parsed: np.ndarray, array: np.ndarray) -> bool:
    """Same shape, dtype and bytes: NaN equals NaN (with its payload), -0.0 is not 0.0."""
    return (
        parsed.shape == array.shape
        and parsed.dtype == array.dtype
        and parsed.tobytes() == array.tobytes()
    )


def declared(raw: bytes) -> np.ndarray | None:
    """What an IDX file holds, read from the format's description; None if it is not one."""
    if len(raw) < 4 or raw[0] or raw[1] or raw[2] not in IDX_TYPES or raw[3] == 0:
        return None
    ndim, dtype = raw[3], IDX_TYPES[raw[2]]
    if len(raw) < 4 + 4 * ndim:
        return None
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = raw[4 + 4 * ndim :]
    if len(data) != np.prod(shape, dtype=object) * dtype.itemsize:
        return None
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


@PROPERTIES
@given(idx_files())
def test_any_idx_file_round_trips_bit_for_bit(file):
    array, raw = file
    parsed = parse_idx(raw)
    assert parsed.dtype.isnative
    assert same_bits(parsed, array)
    # The header in these tests is written by hand; the reference reading agrees with it.
    assert same_bits(declared(raw), array)


@PROPERTIES
@given(idx_files(), st.booleans())
def test_any_idx_file_round_trips_through_read_idx(file, compressed):
    array, raw = file
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / ("data-idx.gz" if compressed else "data-idx")
        path.write_bytes(gzip.compress(raw) if compressed else raw)
        assert same_bits(read_idx(path), array)


@PROPERTIES
@given(idx_files(), st.data())
def test_any_truncation_of_an_idx_file_is_refused(file, data):
    _, raw = file
    dropped = data.draw(st.integers(1, len(raw)), label="bytes dropped from the end")
    with pytest.raises(ValueError, match="<bytes>"):
        parse_idx(raw[:-dropped])
    # Appended bytes are refused too: the header says where the data ends.
    with pytest.raises(ValueError, match="holds"):
        parse_idx(raw + bytes(dropped))


@PROPERTIES
@given(idx_files(), st.data())
def test_any_truncation_of_a_gzipped_idx_file_is_refused(file, data):
    _, raw = file
    compressed = gzip.compress(raw, mtime=0)
    dropped = data.draw(st.integers(1, len(compressed)), label="bytes dropped from the end")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "data-idx.gz"
        path.write_bytes(compressed[:-dropped])
        with pytest.raises(ValueError, match=re.escape(str(path))):
            read_idx(path)


@PROPERTIES
@given(idx_files(), st.data())
def test_any_change_of_a_header_byte_is_refused_unless_the_file_still_says_what_it_holds(
    file, data
):
    # A header byte changed: the magic number, the type code, the dimension count or a
    # dimension. The format has no checksum, so a change can leave a consistent file (a type
    # of the same width, a dimension changed beside a zero one); then parse_idx must return
    # exactly what the changed file says, and refuse every other change.
    array, raw = file
    header = 4 + 4 * array.ndim
    where = data.draw(st.integers(0, header - 1), label="header byte")
    flip = data.draw(st.integers(1, 255), label="xor")
    changed = bytearray(raw)
    changed[where] ^= flip
    changed = bytes(changed)
    expected = declared(changed)
    if expected is None:
        with pytest.raises(ValueError, match="<bytes>"):
            parse_idx(changed)
    else:
        parsed = parse_idx(changed)
        assert same_bits(parsed, expected)
        assert idx_bytes(parsed, changed[2]) == changed
        assert not same_bits(parsed, array)  # never the original array under another header
    # The bytes that cannot be consistent once changed: the two zero bytes of the magic
    # number, and a type code that the format does not know.
    if where < 2 or changed[2] not in IDX_TYPES:
        assert expected is None
