"""Writing output files safely: the one atomic-write helper of the project.

Every file xlcost writes (templates, generated and filled workbooks, the add-in's files) goes
through :func:`atomic_write`: the parent folder is created, the bytes go to a temporary file in
that folder, which is fsynced, given the permissions a normal file gets (``0o666`` less the
umask) and renamed into place. An existing file is replaced only when asked; on any failure no
half-written output and no temporary file are left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from xlcost.engine.errors import XlcostError

__all__ = ["OutputError", "atomic_write", "file_mode", "sync_files"]


class OutputError(XlcostError):
    """An output file cannot be written; ``str()`` is one line starting with its name."""


def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a newly created normal file: ``0o666`` less the umask.

    >>> 0 <= file_mode() <= 0o666
    True
    """
    return 0o666 & ~_umask()


def atomic_write(
    path: Path,
    data: bytes | Callable[[IO[bytes]], object],
    *,
    overwrite: bool = False,
    sync: bool = True,
) -> None:
    """Write ``path`` atomically.

    Parameters
    ----------
    path : Path
        The output file; its folder is created if missing.
    data : bytes or callable
        The content, or a function writing it to a binary file object.
    overwrite : bool
        Replace an existing ``path``; without it an existing file is refused (also when it
        appears while writing).
    sync : bool
        fsync the file and its folder before returning.  A batch writing many files passes
        ``False`` and calls :func:`sync_files` once for all of them before it reports success
        (the rename is atomic either way).

    Raises
    ------
    OutputError
        ``path`` exists (without ``overwrite``) or cannot be written; one line naming it,
        e.g. ``t.xlsx: exists; use --force``.  Nothing is left behind.
    """
    path = Path(path)
    directory = path.parent
    if path.exists() and not overwrite:
        raise OutputError(f"{path.name}: exists; use --force")
    tmp_name: str | None = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as out:
            if hasattr(os, "fchmod"):
                os.fchmod(out.fileno(), file_mode())
            if isinstance(data, bytes):
                out.write(data)
            else:
                data(out)
            out.flush()
            if sync:
                os.fsync(out.fileno())
        if overwrite:
            os.replace(tmp_name, path)
        else:
            _link(tmp_name, path)
        tmp_name = None
        if sync:
            _fsync_dir(directory)
    except OSError as exc:
        raise OutputError(f"{path.name}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _link(tmp_name: str, path: Path) -> None:
    """Move ``tmp_name`` to ``path`` unless ``path`` exists (a hard link refuses to replace)."""
    try:
        os.link(tmp_name, path)
    except FileExistsError:
        raise OutputError(f"{path.name}: exists; use --force") from None
    except OSError:  # no hard links here (some network or FAT file systems)
        if path.exists():
            raise OutputError(f"{path.name}: exists; use --force") from None
        os.replace(tmp_name, path)
    else:
        os.unlink(tmp_name)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sync_files(paths: Iterable[Path]) -> None:
    """fsync each file, then each of their folders once: the durability of a whole batch.

    Raises
    ------
    OutputError
        A file cannot be synced (one line naming it).
    """
    folders: dict[Path, None] = {}
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise OutputError(f"{path.name}: cannot write ({exc.strerror or exc})") from None
        folders[path.parent] = None
    for folder in folders:
        _fsync_dir(folder)
