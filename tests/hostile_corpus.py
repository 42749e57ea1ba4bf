"""Build the hostile-input corpus at test time (nothing large is committed).

Every builder writes one file (or FIFO, symlink, directory) and streams what is large: the
1 GB-expanding sheet is one deflate block, made once and repeated (``Z_FULL_FLUSH`` resets the
compressor, so each repetition compresses to the same bytes), so building it costs a CRC
over 1 GB, not a compression of it.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from xlcost.engine import seed_scenario

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
GIB = 2**30


def seed_rows() -> list[dict[str, object]]:
    """Two valid scenario rows (the worked example and a variant)."""
    row = {k: v for k, v in seed_scenario().model_dump().items() if v is not None}
    return [row, {**row, "name": "variant", "train_gpus": 64}]


def good_csv(path: Path) -> None:
    rows = seed_rows()
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(r[k]) for k in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def good_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    rows = seed_rows()
    wb = Workbook()
    ws = wb.active
    ws.append(list(rows[0]))
    for r in rows:
        ws.append(list(r.values()))
    wb.save(path)


# --------------------------------------------------------------------------- raw zip writer


@dataclass
class Member:
    """A zip member given as deflated chunks, with its CRC-32 and uncompressed size."""

    name: str
    chunks: Callable[[], Iterable[bytes]]
    crc: int
    size: int


def _deflated(data: bytes) -> Member:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    return Member("", lambda: [body], zlib.crc32(data), len(data))


def repeated_member(name: str, head: bytes, unit: bytes, count: int, tail: bytes) -> Member:
    """``head + unit * count + tail`` deflated by repeating one compressed block."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    last = c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)

    def chunks() -> Iterable[bytes]:
        yield first
        for _ in range(count):
            yield block
        yield last

    return Member(name, chunks, crc, len(head) + len(unit) * count + len(tail))


def write_zip(path: Path, members: list[Member], *, declared: dict[str, int] | None = None) -> None:
    """A deflated zip of ``members`` (sizes under 4 GiB); ``declared`` lies about some sizes."""
    central = []
    with path.open("wb") as out:
        for m in members:
            size = (declared or {}).get(m.name, m.size)
            offset = out.tell()
            name = m.name.encode()
            out.write(
                struct.pack(
                    "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, m.crc, 0, size, len(name), 0
                )
            )
            out.write(name)
            start = out.tell()
            for chunk in m.chunks():
                out.write(chunk)
            csize = out.tell() - start
            end = out.tell()
            out.seek(offset + 18)
            out.write(struct.pack("<L", csize))
            out.seek(end)
            central.append(
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\x01\x02",
                    20,
                    20,
                    0,
                    8,
                    0,
                    0,
                    m.crc,
                    csize,
                    size,
                    len(name),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + name
            )
        cd_start = out.tell()
        for entry in central:
            out.write(entry)
        cd_size = out.tell() - cd_start
        out.write(
            struct.pack(
                "<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), cd_size, cd_start, 0
            )
        )


def _members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def xlsx_variant(good: Path, dst: Path, replace: dict[str, Member | bytes], **kw: object) -> None:
    """``good`` with some members replaced (or added)."""
    members = []
    originals = _members_of(good)
    if STRINGS in replace and STRINGS not in originals:  # declare the new part
        for part, end, xml in (
            (
                "[Content_Types].xml",
                "</Types>",
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>',
            ),
            (
                "xl/_rels/workbook.xml.rels",
                "</Relationships>",
                '<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>',
            ),
        ):
            originals[part] = originals[part].decode().replace(end, xml + end).encode()
        originals[STRINGS] = b""
    for name, data in originals.items():
        new = replace.get(name, data)
        m = new if isinstance(new, Member) else _deflated(new)
        m.name = name
        members.append(m)
    write_zip(dst, members, **kw)  # type: ignore[arg-type]


def _sheet(rows_xml: bytes, dimension: bool = True) -> tuple[bytes, bytes]:
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'.encode()
    if dimension:
        head += b'<dimension ref="A1:B2"/>'
    return head + b"<sheetData>" + rows_xml, b"</sheetData></worksheet>"


def bomb_sheet(good: Path, dst: Path, *, dimension: bool, lie: bool = False) -> None:
    """A scenario list whose sheet part expands to 1 GB (rows of one cell each)."""
    head, tail = _sheet(
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>', dimension
    )
    unit = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 4096
    count = GIB // len(unit)
    m = repeated_member(SHEET, head, unit, count, tail)
    xlsx_variant(good, dst, {SHEET: m}, declared={SHEET: 2**20} if lie else None)


def bomb_strings(good: Path, dst: Path) -> None:
    """A scenario list with a 1 GB shared-strings part."""
    unit = b"<si><t>aaaaaaaaaaaaaaaa</t></si>" * 4096
    head = f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}">'.encode()
    m = repeated_member(STRINGS, head, unit, GIB // len(unit), b"</sst>")
    xlsx_variant(good, dst, {STRINGS: m})


def long_number_cell(good: Path, dst: Path, digits: int) -> None:
    head, tail = _sheet(
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>train_gpus</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="B2"><v>'
        + b"1" * digits
        + b"</v></c></row>"
    )
    xlsx_variant(good, dst, {SHEET: head + tail})


def xxe_sheet(good: Path, dst: Path) -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'.encode()
        + b'<c r="A1" t="inlineStr"><is>'
        + b"<t>&x;</t></is></c></row></sheetData></worksheet>"
    )
    xlsx_variant(good, dst, {SHEET: data})


def zip_slip(good: Path, dst: Path) -> None:
    members = [_deflated(d) for d in _members_of(good).values()]
    for m, name in zip(members, _members_of(good), strict=True):
        m.name = name
    evil = _deflated(b"pwned")
    evil.name = "../../evil.txt"
    write_zip(dst, [*members, evil])


def damaged_xlsx(good: Path, dst: Path) -> None:
    data = good.read_bytes()
    dst.write_bytes(data[: len(data) * 2 // 3])


def ole(dst: Path) -> None:
    """An OLE compound file: what an encrypted .xlsx or a legacy .xls is."""
    dst.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))


def ods(dst: Path) -> None:
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")


def laughs_yaml(dst: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    lines.append("scenarios: *i")
    dst.write_text("\n".join(lines) + "\n")


def deep(dst: Path, levels: int = 100_000) -> None:
    dst.write_text("[" * levels + "]" * levels)


def long_number_tree(dst: Path, digits: int) -> None:
    row = {**seed_rows()[0]}
    text = json.dumps([row]).replace('"train_gpus": 32', '"train_gpus": ' + "1" * digits)
    dst.write_text(text)  # JSON is YAML too: the same text serves both suffixes


def long_number_csv(dst: Path, digits: int) -> None:
    good_csv(dst)
    text = dst.read_text().replace(",32.0,", "," + "1" * digits + ",", 1)
    assert "1" * digits in text
    dst.write_text(text)


def percent_run(dst: Path, digits: int = 20_000) -> None:
    good_csv(dst)
    lines = dst.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("ctr")] = "1" * digits + "x%"
    dst.write_text("\n".join([lines[0], ",".join(cells), lines[2]]) + "\n")


def fifo(dst: Path) -> None:
    os.mkfifo(dst)


def dev_zero(dst: Path) -> None:
    dst.symlink_to("/dev/zero")


def directory(dst: Path) -> None:
    dst.mkdir()


def symlink_loop(dst: Path) -> None:
    dst.symlink_to(dst.name)


def duplicate_keys(dst: Path) -> None:
    dst.write_text('[{"name": "a", "name": "b"}]')


def million_rows(dst: Path, rows: int = 1_000_000) -> None:
    """A scenario CSV of ``rows`` valid rows, written in streaming chunks."""
    base = seed_rows()[0]
    header = list(base)
    line = ",".join("{i}" if k == "name" else str(base[k]) for k in header) + "\n"
    with dst.open("w", encoding="utf-8") as out:
        out.write(",".join(header) + "\n")
        for start in range(0, rows, 10_000):
            out.write(
                "".join(line.format(i=f"s{i}") for i in range(start, min(rows, start + 10_000)))
            )
