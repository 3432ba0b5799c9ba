"""crackle.train.data: IDX files (written here, valid and broken), Fashion-MNIST, digits."""

import gzip
import struct

import numpy as np
import pytest

from crackle.train import (
    FASHION_MNIST_ROOT,
    IDXFormatError,
    load_digits,
    load_fashion_mnist,
    load_idx_dataset,
    load_mnist,
    read_idx,
)

_CODES = {
    np.uint8: 0x08,
    np.int8: 0x09,
    np.int16: 0x0B,
    np.int32: 0x0C,
    np.float32: 0x0D,
    np.float64: 0x0E,
}


def idx_bytes(arr):
    """The IDX encoding of ``arr``, written independently of the reader."""
    arr = np.asarray(arr)
    code = _CODES[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, data, gz=False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def mnist_folder(root, n_train=5, n_test=3, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    root.mkdir(exist_ok=True)
    out = {}
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, size=n).astype(np.uint8)
        ext = ".gz" if gz else ""
        write(root / f"{prefix}-images-idx3-ubyte{ext}", idx_bytes(x), gz)
        write(root / f"{prefix}-labels-idx1-ubyte{ext}", idx_bytes(y), gz)
        out[split] = (x, y)
    return out


@pytest.mark.parametrize("dtype", list(_CODES))
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips_every_type(tmp_path, dtype, gz):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = read_idx(write(tmp_path / "a.idx", idx_bytes(arr), gz))
    assert out.dtype == np.dtype(dtype)
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_folders_of_tiny_files_load_raw_and_gzipped(tmp_path):
    for gz in (False, True):
        truth = mnist_folder(tmp_path / f"m{gz}", gz=gz)
        for split in ("train", "test"):
            x, y = load_mnist(tmp_path / f"m{gz}", split)
            assert x.dtype == np.uint8
            assert y.dtype == np.int64
            np.testing.assert_array_equal(x, truth[split][0])
            np.testing.assert_array_equal(y, truth[split][1])
            x2, _ = load_fashion_mnist(split, root=tmp_path / f"m{gz}")
            np.testing.assert_array_equal(x2, x)


def test_broken_files_say_what_is_wrong(tmp_path):
    good = idx_bytes(np.arange(100, dtype=np.uint8).reshape(4, 5, 5))
    cases = {
        "truncated": (good[:-7], False, r"truncated.*shape \(4, 5, 5\).*has 109 bytes"),
        "trailing": (good + b"\x00\x01", False, "longer than its header says"),
        "magic": (b"\x12\x34" + good[2:], False, "not an IDX file.*two zero bytes"),
        "dtype": (good[:2] + b"\x07" + good[3:], False, "unknown IDX type code 0x07"),
        "header": (good[:9], False, r"truncated header \(9 bytes; 3 dimensions need 16\)"),
        "tiny": (b"\x00\x00", False, "shorter than the 4-byte"),
        "zero_dims": (b"\x00\x00\x08\x00", False, "0 dimensions"),
        "gz_truncated": (gzip.compress(good)[:-20], None, "gzip stream ends early"),
        "gz_body_truncated": (good[:-1], True, "truncated.*decompressed file has 115"),
    }
    for name, (data, gz, pattern) in cases.items():
        suffix = ".gz" if gz else ""
        path = write(tmp_path / f"{name}{suffix}", data, bool(gz))
        with pytest.raises(IDXFormatError, match=pattern) as info:
            read_idx(path)
        assert str(path) in str(info.value), name
    corrupt = bytearray(gzip.compress(good))
    corrupt[12:20] = b"\xff" * 8
    with pytest.raises(IDXFormatError, match="gzip"):
        read_idx(write(tmp_path / "corrupt.gz", bytes(corrupt)))
    with pytest.raises(FileNotFoundError, match="no IDX file"):
        read_idx(tmp_path / "missing")


def test_inconsistent_pairs_and_missing_files(tmp_path):
    mnist_folder(tmp_path / "m")
    write(tmp_path / "m" / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(IDXFormatError, match=r"holds 4 labels but .* holds 5 images"):
        load_mnist(tmp_path / "m")
    write(tmp_path / "m" / "train-labels-idx1-ubyte", idx_bytes(np.zeros((5, 1), np.uint8)))
    with pytest.raises(IDXFormatError, match=r"labels must be .* shape \(n,\)"):
        load_mnist(tmp_path / "m")
    write(tmp_path / "m" / "t10k-images-idx3-ubyte", idx_bytes(np.zeros((3, 4), np.float32)))
    with pytest.raises(IDXFormatError, match="images must be unsigned bytes"):
        load_mnist(tmp_path / "m", "test")
    with pytest.raises(FileNotFoundError, match="no train-images-idx3-ubyte"):
        load_idx_dataset(tmp_path)
    with pytest.raises(FileNotFoundError, match="no folder"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="'split' parameter of load_idx_dataset"):
        load_mnist(tmp_path / "m", "validation")


@pytest.mark.skipif(
    not FASHION_MNIST_ROOT.is_dir(),
    reason="Debian package dataset-fashion-mnist not installed "
    "(apt-get install dataset-fashion-mnist)",
)
def test_real_fashion_mnist():
    x, y = load_fashion_mnist("train")
    assert x.shape == (60_000, 28, 28)
    assert x.dtype == np.uint8
    assert y.shape == (60_000,)
    assert y.dtype == np.int64
    # Xiao et al. 2017: 7000 images per class, 6000 of them in the training set.
    np.testing.assert_array_equal(np.bincount(y), np.full(10, 6000))
    xt, yt = load_fashion_mnist("test")
    assert xt.shape == (10_000, 28, 28)
    np.testing.assert_array_equal(np.bincount(yt), np.full(10, 1000))
    assert x.max() == 255
    assert x.min() == 0


def test_digits():
    x, y = load_digits()
    assert x.shape == (1797, 8, 8)
    assert x.dtype == np.uint8
    assert y.dtype == np.int64
    assert set(np.unique(y).tolist()) == set(range(10))
    # 0..16 scaled by 255/16: every pixel is one of 17 levels.
    levels = np.rint(np.arange(17) * 255 / 16)
    assert np.isin(x, levels).all()
