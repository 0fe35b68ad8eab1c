"""Arrays that grow with the recording, kept in `.npy` files and mapped read-only.

The mouth inventory holds a lower-face crop of every source frame: 400 MB at two minutes of
844² video, of which a row reads a few dozen crops. Such an array is written to a file item by
item as it is built (`RowWriter`) and read back as a read-only memory mapping (`open_mapped`),
so only the pages a row touches are ever resident. The cache stores a mapped array as its own
`.npy` file in the entry, copied file to file (`copy_mapped`), and maps it again on a hit.

Safety: files are opened without following a link, the header is parsed without pickle, and
object dtypes are refused, so a tampered file gives wrong numbers at worst, never code.
"""

from __future__ import annotations

import io
import mmap
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

CHUNK = 1 << 20  # bytes per read when copying or hashing a mapped file


class MappedError(Exception):
    pass


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


def open_no_follow(path: Path) -> BinaryIO:
    """`path` for reading, refused if it is a link; the file object is named by the path (a
    mapping of it then knows its file)."""
    return open(path, "rb", opener=_no_follow)


def is_mapped(a: Any) -> bool:
    """Whether `a` is a whole read-only mapping of a `.npy` file (as `open_mapped` returns):
    its bytes are then the file's from `a.offset` on. A slice or view of one is not: it is
    stored like any other array."""
    return (
        isinstance(a, np.memmap)
        and isinstance(a.base, mmap.mmap)
        and isinstance(a.filename, str)
        and a.flags.c_contiguous
        and not a.dtype.hasobject
    )


def open_mapped(path: Path) -> np.memmap:
    """The array in `path` (a `.npy` file, not a link) as a read-only mapping."""
    with open_no_follow(path) as f:
        return map_file(f)


def map_file(f: BinaryIO) -> np.memmap:
    """The `.npy` array in open file `f` as a read-only mapping (it stays valid after `f` is
    closed). The header is parsed without pickle; the file's size must match it."""
    f.seek(0)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise MappedError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise MappedError("object arrays cannot be mapped")
    offset = f.tell()
    size = os.fstat(f.fileno()).st_size
    if size != offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise MappedError(f"the file is {size} bytes, its header describes another size")
    if size == offset:  # nothing to map (mmap refuses zero bytes)
        return _empty(shape, dtype)
    return np.memmap(f, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


def _empty(shape: tuple[int, ...], dtype: np.dtype) -> np.memmap:
    out = np.zeros(shape, dtype).view(np.memmap)
    out.flags.writeable = False
    return out


def _header(a_shape: tuple[int, ...], dtype: np.dtype) -> dict[str, Any]:
    return {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": a_shape}


def copy_mapped(a: np.memmap, out: BinaryIO, update: Callable[[bytes], None]) -> int:
    """Write mapped array `a` to `out` as a `.npy` file, reading its bytes from its file (not
    through the mapping, so they never become this process's memory); `update` sees every byte
    written (a hash). Returns the size written."""
    if not is_mapped(a):
        raise MappedError("not a whole mapped array")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, _header(a.shape, a.dtype))
    out.write(header.getvalue())
    update(header.getvalue())
    written = len(header.getvalue())
    with open_no_follow(Path(a.filename)) as src:
        left, position = a.nbytes, int(a.offset)
        while left:
            data = os.pread(src.fileno(), min(CHUNK, left), position)
            if not data:
                raise MappedError(f"{a.filename} is shorter than its array")
            out.write(data)
            update(data)
            left -= len(data)
            position += len(data)
            written += len(data)
    return written


class RowWriter:
    """An array of `shape` filled one item (first-axis row) at a time: in memory when `folder`
    is None, else in a new `.npy` file in `folder` that `finish` maps read-only. Items never
    given are zeros (the file is extended sparse)."""

    def __init__(self, folder: Path | None, shape: tuple[int, ...], dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.shape = shape
        self._item = int(np.prod(shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self._array: np.ndarray | None = None
        self._file: BinaryIO | None = None
        if folder is None:
            self._array = np.zeros(shape, self.dtype)
            return
        fd, name = tempfile.mkstemp(suffix=".npy", dir=folder)  # a new file (O_EXCL), never a link's target
        self.path = Path(name)
        self._file = os.fdopen(fd, "w+b")
        np.lib.format.write_array_header_1_0(self._file, _header(shape, self.dtype))
        self._offset = self._file.tell()
        self._file.truncate(self._offset + self._item * shape[0])

    def put(self, k: int, item: np.ndarray) -> None:
        """Row `k` = `item`, zero-padded where `item` is smaller than a row (a crop at the
        frame's edge)."""
        if self._array is not None:
            self._array[k][tuple(slice(0, n) for n in item.shape)] = item
            return
        assert self._file is not None
        row = np.zeros(self.shape[1:], self.dtype)
        row[tuple(slice(0, n) for n in item.shape)] = item
        os.pwrite(self._file.fileno(), row.tobytes(), self._offset + k * self._item)

    def finish(self) -> np.ndarray:
        """The filled array: the in-memory one, or the file mapped read-only."""
        if self._array is not None:
            return self._array
        assert self._file is not None
        self._file.close()
        return open_mapped(self.path)


def mapped_copy(a: np.ndarray, folder: Path | None) -> np.ndarray:
    """`a` written to a new `.npy` file in `folder` and mapped read-only (equal values, the
    same dtype and shape), so that it is resident only where it is read; `a` itself when
    `folder` is None or `a` has no bytes to map."""
    if folder is None or a.nbytes == 0 or a.dtype.hasobject:
        return a
    fd, name = tempfile.mkstemp(suffix=".npy", dir=folder)  # a new file (O_EXCL), never a link's target
    with os.fdopen(fd, "wb") as f:
        np.lib.format.write_array_header_1_0(f, _header(a.shape, a.dtype))
        np.ascontiguousarray(a).tofile(f)
    return open_mapped(Path(name))


def reduce_mapped(a: np.ndarray) -> tuple[Any, tuple[Any, ...]]:
    """How another process receives `a` (a pickler's reducer: `vpipe run --jobs N` registers it
    for its workers). A whole mapping goes as its file's path, shape, dtype, size and
    modification time, and is mapped again there: the crops are read from the one file by every
    worker, never copied into each. Anything else (a slice of a mapping, a mapping whose file is
    gone: an inventory computed in this run's scratch folder) goes as its values."""
    if is_mapped(a):
        try:
            st = os.stat(a.filename)
        except OSError:  # mapped from a file since removed (computed in a run's scratch folder)
            st = None
        if st is not None and st.st_size == a.offset + a.nbytes:
            return remap, (a.filename, tuple(a.shape), a.dtype.str, st.st_size, st.st_mtime_ns)
    return np.ndarray.__reduce__(a)  # type: ignore[return-value]


def remap(path: str, shape: tuple[int, ...], dtype: str, size: int, mtime_ns: int) -> np.memmap:
    """`reduce_mapped`'s other half: the same file mapped again; MappedError when it is no
    longer the file that was mapped."""
    st = os.stat(path)
    if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
        raise MappedError(f"{path} changed since it was mapped")
    a = open_mapped(Path(path))
    if tuple(a.shape) != tuple(shape) or a.dtype.str != dtype:
        raise MappedError(f"{path} holds another array than the one mapped")
    return a
