"""Image data sets offline: IDX files (MNIST, Fashion-MNIST, KMNIST) and sklearn digits.

The IDX format (LeCun et al., the MNIST page): two zero bytes, a type code
(0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64), the number of dimensions, one big-endian int32 per dimension, then the
values in C order, big-endian. Files may be gzip-compressed (``.gz``). Every check
that fails names the file and what is wrong with it: a bad magic number, an unknown
type code, a header or data section shorter (truncated download) or longer than the
header says, a damaged gzip stream.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from crackle._validation import CrackleValueError, check_choice

__all__ = [
    "FASHION_MNIST_ROOT",
    "IDXFormatError",
    "load_digits",
    "load_fashion_mnist",
    "load_idx_dataset",
    "load_mnist",
    "read_idx",
]

#: Where the Debian package ``dataset-fashion-mnist`` installs its files.
FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")

#: IDX type code -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_PREFIX = {"train": "train", "test": "t10k"}


class IDXFormatError(CrackleValueError):
    """A file is not a valid IDX file (bad header, wrong length, damaged gzip)."""


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":  # not gzip: the file itself
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as exc:
        raise IDXFormatError(
            f"{path}: the gzip stream ends early (truncated download?); fetch the file again"
        ) from exc
    except (OSError, zlib.error) as exc:
        raise IDXFormatError(f"{path}: damaged gzip data ({exc}); fetch the file again") from exc


def read_idx(path: str | Path) -> NDArray[np.generic]:
    """Read one IDX file (raw or gzip-compressed) into a numpy array.

    Parameters
    ----------
    path : str or Path
        The file; gzip compression is recognised by its magic bytes, whatever the name.

    Returns
    -------
    ndarray
        Shape given by the header, native byte order (uint8 for image and label files).

    Raises
    ------
    FileNotFoundError
        No such file.
    IDXFormatError
        The file is not a valid IDX file; the message says why.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x-idx1-ubyte"
    >>> _ = p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(p).tolist()
    [7, 8, 9]
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no IDX file at {p}")
    data = _read_bytes(p)
    if len(data) < 4:
        raise IDXFormatError(f"{p}: {len(data)} bytes, shorter than the 4-byte IDX magic number")
    if data[0] != 0 or data[1] != 0:
        raise IDXFormatError(
            f"{p}: not an IDX file (the magic number must start with two zero bytes; "
            f"got {data[:4].hex()})"
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise IDXFormatError(f"{p}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IDXFormatError(f"{p}: the header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(
            f"{p}: truncated header ({len(data)} bytes; {ndim} dimensions need {header})"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise IDXFormatError(
            f"{p}: {what}: header says shape {dims} of {dtype.name} ({expected} bytes "
            f"with the header), the {'decompressed ' if p.suffix == '.gz' else ''}file "
            f"has {len(data)} bytes"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def _find(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"no {stem} (or {stem}.gz) in {root}")


def load_idx_dataset(
    root: str | Path, split: str = "train"
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Images and labels of an MNIST-layout folder (MNIST, Fashion-MNIST, KMNIST).

    The folder holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each raw or ``.gz``.

    Parameters
    ----------
    root : str or Path
        The folder.
    split : {"train", "test"}
        Which pair of files.

    Returns
    -------
    images : ndarray of uint8, shape (n, rows, cols)
    labels : ndarray of int64, shape (n,)
    """
    func = "load_idx_dataset"
    split = check_choice(split, "split", func, ("train", "test"))
    folder = Path(root)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}")
    img_path = _find(folder, f"{_PREFIX[split]}-images-idx3-ubyte")
    lab_path = _find(folder, f"{_PREFIX[split]}-labels-idx1-ubyte")
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise IDXFormatError(
            f"{img_path}: images must be unsigned bytes of shape (n, rows, cols); "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise IDXFormatError(
            f"{lab_path}: labels must be unsigned bytes of shape (n,); "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if labels.shape[0] != images.shape[0]:
        raise IDXFormatError(
            f"{lab_path} holds {labels.shape[0]} labels but {img_path} holds "
            f"{images.shape[0]} images"
        )
    return np.ascontiguousarray(images), labels.astype(np.int64)


def load_fashion_mnist(
    split: str = "train", root: str | Path | None = None
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 28 x 28 grey images, 10 classes.

    Parameters
    ----------
    split : {"train", "test"}
        60 000 training or 10 000 test images.
    root : str or Path, optional
        A folder with the four IDX files; default the Debian package
        ``dataset-fashion-mnist`` (:data:`FASHION_MNIST_ROOT`).

    Returns
    -------
    images : ndarray of uint8, shape (n, 28, 28)
    labels : ndarray of int64, shape (n,), values 0..9
    """
    folder = FASHION_MNIST_ROOT if root is None else Path(root)
    if root is None and not folder.is_dir():
        raise FileNotFoundError(
            f"Fashion-MNIST not found at {folder}: install the Debian package "
            "(apt-get install dataset-fashion-mnist) or pass root=FOLDER with the IDX files"
        )
    return load_idx_dataset(folder, split)


def load_mnist(
    root: str | Path, split: str = "train"
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """MNIST (or KMNIST, or any MNIST-layout set) from IDX files in ``root``.

    Nothing is downloaded: ``root`` is a folder the user provides. Same return value
    as :func:`load_fashion_mnist`.
    """
    return load_idx_dataset(root, split)


def load_digits() -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """scikit-learn's bundled 8 x 8 digits (1797 images, 10 classes), for fast tests.

    The original values are integers 0..16; they are scaled to 0..255 (times 255/16,
    rounded) so that every image loader of this module returns the same pixel range.

    Returns
    -------
    images : ndarray of uint8, shape (1797, 8, 8)
    labels : ndarray of int64, shape (1797,)

    Examples
    --------
    >>> x, y = load_digits()
    >>> x.shape, x.dtype.name, int(x.max()), y[:5].tolist()
    ((1797, 8, 8), 'uint8', 255, [0, 1, 2, 3, 4])
    """
    from sklearn.datasets import load_digits as _sk_digits

    bunch = _sk_digits()
    images = np.rint(np.asarray(bunch.images) * (255.0 / 16.0)).astype(np.uint8)
    return images, np.asarray(bunch.target, dtype=np.int64)
