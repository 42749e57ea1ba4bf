"""Bad-file corpus: every hostile or damaged file is refused with one exact line."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from _package_corpus import build_template

from xlcost.workbooks.package import (
    CellRef,
    WorkbookError,
    check_package,
    defined_names,
    fill_package,
    read_cells,
)

MINIMAL_CT = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
MINIMAL_WB = (
    b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    b'2006/main"><sheets/></workbook>'
)
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/>
<definedNames><definedName name="x">&lol9;</definedName></definedNames></workbook>"""


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _workbook_members() -> dict[str, bytes]:
    return {"[Content_Types].xml": MINIMAL_CT, "xl/workbook.xml": MINIMAL_WB}


def empty(path: Path) -> None:
    path.write_bytes(b"")


def text_file(path: Path) -> None:
    path.write_text("name,value\ntrain_gpus,8\n")


def ole_file(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)


def truncated(path: Path) -> None:
    full = build_template(path.parent / "full")
    data = full.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def no_workbook(path: Path) -> None:
    _zip(path, {"[Content_Types].xml": MINIMAL_CT, "docProps/app.xml": b"<x/>"})


def no_content_types(path: Path) -> None:
    _zip(path, {"xl/workbook.xml": MINIMAL_WB})


def plain_zip(path: Path) -> None:
    _zip(path, {"readme.txt": b"hello"})


def zip_bomb(path: Path) -> None:
    """A 300 MiB member of zeros, compressed while streaming (~300 KiB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in _workbook_members().items():
            zf.writestr(name, data)
        chunk = bytes(2**20)
        with zf.open("xl/media/zeros.bin", "w") as fh:
            for _ in range(300):
                fh.write(chunk)


def ratio_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in _workbook_members().items():
            zf.writestr(name, data)
        zf.writestr("xl/media/zeros.bin", bytes(4 * 2**20))


def lying_sizes(path: Path) -> None:
    """A zip whose central directory declares a 250 GB member (patched in place)."""
    _zip(path, {**_workbook_members(), "xl/big.bin": b"x" * 100})
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x01\x02")  # last central-directory entry: xl/big.bin
    data[cd + 24 : cd + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    path.write_bytes(bytes(data))


def too_many(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in _workbook_members().items():
            zf.writestr(name, data)
        for i in range(10_000):
            zf.writestr(f"xl/m/{i}.xml", b"")


def xml_bomb(path: Path) -> None:
    _zip(path, {"[Content_Types].xml": MINIMAL_CT, "xl/workbook.xml": LAUGHS})


def traversal(path: Path) -> None:
    _zip(path, {**_workbook_members(), "../../evil.txt": b"pwned"})


def absolute(path: Path) -> None:
    _zip(path, {**_workbook_members(), "/etc/cron.d/evil": b"pwned"})


def backslash_traversal(path: Path) -> None:
    _zip(path, {**_workbook_members(), "xl\\..\\..\\evil.txt": b"pwned"})


def duplicate(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        for name, data in _workbook_members().items():
            zf.writestr(name, data)
        zf.writestr("xl/workbook.xml", MINIMAL_WB)


def damaged_xml(path: Path) -> None:
    _zip(path, {"[Content_Types].xml": MINIMAL_CT, "xl/workbook.xml": b"<workbook><sheets>"})


CHECKED = [  # fail in check_package (and therefore in every public function)
    ("empty.xlsx", empty, "empty.xlsx: empty file"),
    ("notes.xlsx", text_file, "notes.xlsx: not a zip file"),
    (
        "secret.xlsx",
        ole_file,
        "secret.xlsx: password-protected or legacy .xls file (save it as .xlsx/.xlsm)",
    ),
    ("half.xlsm", truncated, "half.xlsm: truncated or damaged zip file"),
    ("nowb.xlsx", no_workbook, "nowb.xlsx: not an Excel workbook (no xl/workbook.xml)"),
    ("noct.xlsx", no_content_types, "noct.xlsx: not an Excel workbook (no [Content_Types].xml)"),
    ("plain.xlsx", plain_zip, "plain.xlsx: not an Excel workbook (no [Content_Types].xml)"),
    ("bomb.xlsx", zip_bomb, "bomb.xlsx: zip bomb refused (uncompressed size over 200 MiB)"),
    ("lies.xlsx", lying_sizes, "lies.xlsx: zip bomb refused (uncompressed size over 200 MiB)"),
    (
        "ratio.xlsx",
        ratio_bomb,
        "ratio.xlsx: zip bomb refused ('xl/media/zeros.bin' compression ratio {ratio}:1 "
        "over 200:1)",
    ),
    ("many.xlsx", too_many, "many.xlsx: too many zip members (10002 > 10000)"),
    ("trav.xlsx", traversal, "trav.xlsx: unsafe member path '../../evil.txt'"),
    ("abs.xlsx", absolute, "abs.xlsx: unsafe member path '/etc/cron.d/evil'"),
    (
        "bs.xlsx",
        backslash_traversal,
        "bs.xlsx: unsafe member path 'xl\\\\..\\\\..\\\\evil.txt'",
    ),
    ("dup.xlsx", duplicate, "dup.xlsx: duplicate member 'xl/workbook.xml'"),
]
PARSED = [  # pass the zip checks, fail when xl/workbook.xml is parsed
    ("laughs.xlsx", xml_bomb, "laughs.xlsx: XML bomb or DTD refused in xl/workbook.xml"),
    (
        "broken.xlsx",
        damaged_xml,
        "broken.xlsx: damaged XML in xl/workbook.xml (no element found: line 1, column 18)",
    ),
]


def _expected(message: str, path: Path) -> str:
    if "{ratio}" in message:
        with zipfile.ZipFile(path) as zf:
            zi = zf.getinfo("xl/media/zeros.bin")
        message = message.format(ratio=f"{zi.file_size / zi.compress_size:.0f}")
    return message


def _all_calls(path: Path, dst: Path) -> list[Callable[[], object]]:
    ref = CellRef("Inputs", "C3")
    return [
        lambda: defined_names(path),
        lambda: read_cells(path, [ref]),
        lambda: fill_package(path, dst, {ref: 1}),
    ]


@pytest.mark.parametrize(("name", "build", "message"), CHECKED, ids=[c[0] for c in CHECKED])
def test_bad_file_refused(
    tmp_path: Path, name: str, build: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / name
    build(path)
    message = _expected(message, path)
    before = path.read_bytes()
    with pytest.raises(WorkbookError) as exc:
        check_package(path)
    assert str(exc.value) == message
    assert "\n" not in str(exc.value)
    dst = tmp_path / "out" / f"filled{path.suffix}"
    dst.parent.mkdir()
    for call in _all_calls(path, dst):
        with pytest.raises(WorkbookError) as exc:
            call()
        assert str(exc.value) == message
    assert list(dst.parent.iterdir()) == []
    assert path.read_bytes() == before


@pytest.mark.parametrize(("name", "build", "message"), PARSED, ids=[c[0] for c in PARSED])
def test_bad_xml_refused(
    tmp_path: Path, name: str, build: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / name
    build(path)
    check_package(path)  # the zip itself is fine
    dst = tmp_path / "out" / "filled.xlsx"
    dst.parent.mkdir()
    for call in _all_calls(path, dst):
        with pytest.raises(WorkbookError) as exc:
            call()
        assert str(exc.value) == message
    assert list(dst.parent.iterdir()) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match=r"^ghost.xlsx: file not found$"):
        check_package(tmp_path / "ghost.xlsx")


def test_xml_bomb_in_sheet_refused(tmp_path: Path) -> None:
    template = build_template(tmp_path / "t", vba=False)
    with zipfile.ZipFile(template) as zf:
        members = {zi.filename: zf.read(zi) for zi in zf.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    head, _, rest = sheet.partition(b"?>")
    members["xl/worksheets/sheet1.xml"] = (
        head + b"?>" + LAUGHS.split(b"?>", 1)[1].split(b"<workbook")[0] + rest
    )
    path = tmp_path / "sheetbomb.xlsx"
    _zip(path, members)
    msg = "sheetbomb.xlsx: XML bomb or DTD refused in xl/worksheets/sheet1.xml"
    with pytest.raises(WorkbookError) as exc:
        read_cells(path, [CellRef("Inputs", "C3")])
    assert str(exc.value) == msg
    with pytest.raises(WorkbookError) as exc:
        fill_package(path, tmp_path / "out.xlsx", {CellRef("Inputs", "C3"): 1})
    assert str(exc.value) == msg
    assert not (tmp_path / "out.xlsx").exists()


def test_limits_are_configurable(tmp_path: Path) -> None:
    template = build_template(tmp_path / "t", vba=False)
    with pytest.raises(WorkbookError, match="too many zip members"):
        check_package(template, max_members=5)
    with zipfile.ZipFile(template) as zf:
        total = sum(zi.file_size for zi in zf.infolist())
    assert template.stat().st_size < total - 1
    with pytest.raises(WorkbookError) as exc:
        check_package(template, max_total_uncompressed=total - 1)
    assert (
        str(exc.value)
        == f"template.xlsx: zip bomb refused (uncompressed size over {total - 1} bytes)"
    )
    with pytest.raises(
        WorkbookError, match=r"^template.xlsx: file too large \(\d+ bytes > 100 bytes\)$"
    ):
        check_package(template, max_total_uncompressed=100)
