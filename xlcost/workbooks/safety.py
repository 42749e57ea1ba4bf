"""Refusing hostile or damaged workbook packages before anything is unpacked or parsed.

The checks every reader of an ``.xlsx``/``.xlsm`` file goes through (workbooks, templates and
XLSX scenario lists alike):

* :func:`check_package` — a regular, non-empty zip that is a workbook, within the size, member
  and compression-ratio limits, with no encrypted members, unsupported compression, absolute or
  ``..`` member paths (zip slip) or duplicate members;
* :func:`parse_xml` / :func:`iterparse` / :func:`parse_check` — XML parsed with DTDs and
  entities refused (billion laughs, XXE);
* :func:`read_member` — one member's bytes, its damage reported in one line.

Every problem is a :class:`~xlcost.workbooks.cells.WorkbookError` whose message is one line
starting with the file name.  The limits are the named constants below; each can be raised per
call where a user legitimately needs more.
"""

from __future__ import annotations

import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, cast
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree as SafeET

from xlcost.workbooks.cells import WorkbookError

__all__ = [
    "CONTENT_TYPES",
    "MAX_MEMBERS",
    "MAX_RATIO",
    "MAX_TOTAL_UNCOMPRESSED",
    "WORKBOOK",
    "check_head",
    "check_members",
    "check_package",
    "iterparse",
    "open_zip",
    "parse_check",
    "parse_xml",
    "read_member",
]

MAX_TOTAL_UNCOMPRESSED = 200 * 2**20
"""Limit on the file size and on the sum of the members' declared uncompressed sizes (bytes)."""
MAX_RATIO = 200.0
"""Limit on the compression ratio of any member larger than 1 MiB."""
MAX_MEMBERS = 10_000
"""Limit on the number of zip members."""

WORKBOOK = "xl/workbook.xml"
CONTENT_TYPES = "[Content_Types].xml"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n} bytes"


def check_package(
    path: Path,
    *,
    max_total_uncompressed: int = MAX_TOTAL_UNCOMPRESSED,
    max_ratio: float = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Refuse a file that is not a safe workbook package, before unpacking it.

    Parameters
    ----------
    path : Path
        The ``.xlsx``/``.xlsm`` file.
    max_total_uncompressed : int
        Limit on the sum of the declared uncompressed member sizes (bytes).
    max_ratio : float
        Limit on the compression ratio of any member larger than 1 MiB.
    max_members : int
        Limit on the number of zip members.

    Raises
    ------
    WorkbookError
        Not a regular file, not a zip, truncated, not a workbook (no ``xl/workbook.xml`` or
        ``[Content_Types].xml``), zip bomb, too many members, encrypted or unsupported
        members, absolute or ``..`` member paths.  The message is one line starting with
        the file name.
    """
    with path_handle(path) as fh:
        check_head(path, fh, max_total_uncompressed)
        with open_zip(path, fh) as zf:
            check_members(path, zf.infolist(), max_total_uncompressed, max_ratio, max_members)


def path_handle(path: Path) -> IO[bytes]:
    """Open ``path`` for reading; only a regular file (a FIFO or device is refused at once).

    Opened through the one reading boundary, :func:`xlcost.reading.open_regular` (no hang on
    a FIFO: opened without blocking and checked with ``fstat``); the size is checked by
    :func:`check_head`.
    """
    from xlcost.reading import ReadError, open_regular

    try:
        return open_regular(path, sys.maxsize)
    except ReadError as exc:
        raise WorkbookError(str(exc)) from None


def check_head(
    path: Path, fh: IO[bytes], max_total_uncompressed: int = MAX_TOTAL_UNCOMPRESSED
) -> None:
    """Refuse an empty, legacy/encrypted (OLE), non-zip or too large file from its first bytes."""
    name = path.name
    try:
        size = fh.seek(0, 2)
        fh.seek(0)
        head = fh.read(8)
        fh.seek(0)
    except OSError as exc:
        raise WorkbookError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise WorkbookError(f"{name}: empty file")
    if head == _OLE_MAGIC:
        raise WorkbookError(
            f"{name}: password-protected or legacy .xls file (save it as .xlsx/.xlsm)"
        )
    if not head.startswith(b"PK"):
        raise WorkbookError(f"{name}: not a zip file")
    if size > max_total_uncompressed:
        raise WorkbookError(
            f"{name}: file too large ({_size(size)} > {_size(max_total_uncompressed)})"
        )


def _unsafe_member_path(member: str) -> bool:
    parts = re.split(r"[/\\]", member)
    return (
        member.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:", member) is not None
        or ".." in parts
        or "\x00" in member
    )


def check_members(
    path: Path,
    infos: Sequence[zipfile.ZipInfo],
    max_total_uncompressed: int = MAX_TOTAL_UNCOMPRESSED,
    max_ratio: float = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Refuse unsafe members (see :func:`check_package`) from the zip's central directory."""
    name = path.name
    if len(infos) > max_members:
        raise WorkbookError(f"{name}: too many zip members ({len(infos)} > {max_members})")
    seen: set[str] = set()
    total = 0
    for zi in infos:
        member = zi.orig_filename
        if _unsafe_member_path(member):
            raise WorkbookError(f"{name}: unsafe member path {member!r}")
        if member in seen:
            raise WorkbookError(f"{name}: duplicate member {member!r}")
        seen.add(member)
        if zi.flag_bits & 0x1:
            raise WorkbookError(f"{name}: encrypted member {member!r}")
        if zi.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise WorkbookError(
                f"{name}: unsupported compression method {zi.compress_type} in {member!r}"
            )
        total += zi.file_size
        if total > max_total_uncompressed:
            raise WorkbookError(
                f"{name}: zip bomb refused (uncompressed size over {_size(max_total_uncompressed)})"
            )
        if zi.file_size > 2**20:
            ratio = zi.file_size / max(zi.compress_size, 1)
            if ratio > max_ratio:
                raise WorkbookError(
                    f"{name}: zip bomb refused ({member!r} compression ratio "
                    f"{ratio:.0f}:1 over {max_ratio:.0f}:1)"
                )
    for required in (CONTENT_TYPES, WORKBOOK):
        if required not in seen:
            raise WorkbookError(f"{name}: not an Excel workbook (no {required})")


def open_zip(path: Path, fh: IO[bytes] | None = None) -> zipfile.ZipFile:
    """The zip of ``path`` (from ``fh`` if given), its damage as one line."""
    try:
        return zipfile.ZipFile(fh if fh is not None else path)
    except FileNotFoundError:
        raise WorkbookError(f"{path.name}: file not found") from None
    except OSError as exc:
        raise WorkbookError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error, NotImplementedError):
        raise WorkbookError(f"{path.name}: truncated or damaged zip file") from None


def read_member(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """The uncompressed bytes of one member (its declared size was checked before)."""
    try:
        return zf.read(name)
    except KeyError:
        raise WorkbookError(f"{path.name}: missing part {name}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise WorkbookError(f"{path.name}: damaged zip member {name} ({exc})") from None


def parse_xml(data: bytes, part: str, path: Path) -> Element:
    """Parse a part with DTDs and entities refused."""
    try:
        return cast(Element, SafeET.fromstring(data, forbid_dtd=True))
    except defusedxml.DefusedXmlException:
        raise WorkbookError(f"{path.name}: XML bomb or DTD refused in {part}") from None
    except ParseError as exc:
        raise WorkbookError(f"{path.name}: damaged XML in {part} ({exc})") from None


def iterparse(
    fh: IO[bytes], part: str, path: Path, events: tuple[str, ...]
) -> Iterator[tuple[str, Element]]:
    """Stream a part's elements with DTDs and entities refused."""
    try:
        for event, elem in SafeET.iterparse(fh, events=events, forbid_dtd=True):
            yield cast(str, event), cast(Element, elem)
    except defusedxml.DefusedXmlException:
        raise WorkbookError(f"{path.name}: XML bomb or DTD refused in {part}") from None
    except ParseError as exc:
        raise WorkbookError(f"{path.name}: damaged XML in {part} ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise WorkbookError(f"{path.name}: damaged zip member {part} ({exc})") from None


def _refuse_dtd(*_args: object) -> None:
    raise defusedxml.DTDForbidden(None, None, None)


def parse_check(data: bytes, part: str, path: Path) -> None:
    """Check that XML is well-formed (fast: expat without a tree), refusing DTDs/entities."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    try:
        parser.Parse(data, True)
    except defusedxml.DefusedXmlException:
        raise WorkbookError(f"{path.name}: XML bomb or DTD refused in {part}") from None
    except expat.ExpatError as exc:
        raise WorkbookError(f"{path.name}: damaged XML in {part} ({exc})") from None
