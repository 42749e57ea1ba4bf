"""Tests of xlcost.workbooks.package: lossless filling, reading, atomic writes."""

from __future__ import annotations

import hashlib
import io
import math
import re
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from _package_corpus import INPUT_NAMES, XLSM_CT, build_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcost.workbooks import filling
from xlcost.workbooks.cells import col_letters, col_number
from xlcost.workbooks.package import (
    CellRef,
    TemplateFiller,
    WorkbookError,
    check_package,
    defined_names,
    fill_package,
    read_cells,
)

INPUTS_PART = "xl/worksheets/sheet1.xml"

# openpyxl drops the x14 extensions it does not know when *it* loads a file (we only read)
pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def template_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("corpus_xlsx"), vba=False)


@pytest.fixture
def src(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "in" / template.name
    path.parent.mkdir()
    shutil.copyfile(template, path)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {zi.filename: zf.read(zi) for zi in zf.infolist()}


def _raw_members(path: Path) -> list[tuple[str, int, int, int, bytes]]:
    """(name, method, crc, compressed size, raw compressed bytes) in archive order."""
    out = []
    with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
        for zi in zf.infolist():
            fh.seek(zi.header_offset)
            head = fh.read(30)
            nlen, elen = struct.unpack("<HH", head[26:30])
            fh.seek(zi.header_offset + 30 + nlen + elen)
            out.append(
                (zi.filename, zi.compress_type, zi.CRC, zi.compress_size, fh.read(zi.compress_size))
            )
    return out


def _strip_cells(xml: str, cells: list[str]) -> str:
    for cell in cells:
        xml, n = re.subn(rf'<c r="{cell}"(?:[^>]*/>|[^>]*>.*?</c>)', "", xml)
        assert n <= 1
    return re.sub(r"<dimension [^>]*/>", "", xml)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- reading


def test_cellref_str() -> None:
    assert str(CellRef("Inputs", "C7")) == "Inputs!C7"
    assert str(CellRef("Cash flow", "B3")) == "'Cash flow'!B3"
    assert str(CellRef("It's", "A1")) == "'It''s'!A1"
    assert str(CellRef("A1", "B2")) == "'A1'!B2"


def test_check_package_accepts_template(template: Path) -> None:
    check_package(template)


def test_defined_names(template: Path) -> None:
    names = defined_names(template)
    expected = {name: CellRef("Inputs", cell) for name, cell in INPUT_NAMES.items()}
    expected["cash_start"] = CellRef("Cash flow", "B3")
    assert names == expected  # no range, formula or sheet-scoped names


def test_read_cells_template(template: Path) -> None:
    refs = [CellRef("Inputs", c) for c in ("C3", "C4", "C5", "C6", "C8", "D1", "Z99")]
    refs.append(CellRef("Model", "B2"))
    got = read_cells(template, refs)
    assert [got[r].value for r in refs] == [8.0, 2.5, "bert-base", True, 24.0, None, None, 20.0]
    assert got[refs[4]].formula == "C3*3"
    assert got[refs[5]].error == "#DIV/0!"
    assert got[refs[7]].formula == "train_gpus*gpu_hour_cost"
    assert got[refs[0]].formula is None and got[refs[0]].error is None


def test_read_cells_unknown_sheet(template: Path) -> None:
    with pytest.raises(WorkbookError, match=r"^template.xlsm: no sheet named 'Nope'$"):
        read_cells(template, [CellRef("Nope", "A1")])


# --------------------------------------------------------------------------- lossless fill

FILL = {
    CellRef("Inputs", "C3"): 16,
    CellRef("Inputs", "C4"): 3.25,
    CellRef("Inputs", "C5"): "llama & <friends>",
    CellRef("Inputs", "C6"): False,
    CellRef("Inputs", "C7"): "US",
    CellRef("Cash flow", "B3"): 2500.5,
}


def test_fill_is_lossless(src: Path, tmp_path: Path) -> None:
    before = _sha(src)
    dst = tmp_path / "out.xlsm"
    fill_package(src, dst, FILL)
    assert _sha(src) == before

    edited = {INPUTS_PART, "xl/worksheets/sheet4.xml", "xl/workbook.xml"}
    old_raw, new_raw = _raw_members(src), _raw_members(dst)
    assert [m[0] for m in old_raw] == [m[0] for m in new_raw]  # same names, same order
    for old, new in zip(old_raw, new_raw, strict=True):
        assert old[1] == new[1], old[0]  # same compression method
        if old[0] not in edited:
            assert old == new, old[0]  # raw compressed bytes copied

    old, new = _members(src), _members(dst)
    for name in old:
        if name not in edited:
            assert old[name] == new[name], name

    # the sheet differs only inside the filled cells (and the dimension)
    inputs_old, inputs_new = old[INPUTS_PART].decode(), new[INPUTS_PART].decode()
    cells = ["C3", "C4", "C5", "C6", "C7"]
    assert _strip_cells(inputs_old, cells) == _strip_cells(inputs_new, cells)
    assert '<c r="C3" s="2"><v>16</v></c>' in inputs_new
    assert '<c r="C6" s="2" t="b"><v>0</v></c>' in inputs_new
    assert (
        '<c r="C5" s="2" t="inlineStr"><is><t xml:space="preserve">llama &amp; &lt;friends&gt;'
        "</t></is></c>"
    ) in inputs_new
    cash_old = old["xl/worksheets/sheet4.xml"].decode()
    cash_new = new["xl/worksheets/sheet4.xml"].decode()
    assert _strip_cells(cash_old, ["B3"]) == _strip_cells(cash_new, ["B3"])

    # workbook.xml differs only in calcPr
    wb_old, wb_new = old["xl/workbook.xml"].decode(), new["xl/workbook.xml"].decode()
    assert wb_new == wb_old.replace(
        '<calcPr calcId="191029"/>', '<calcPr calcId="191029" fullCalcOnLoad="1"/>'
    )

    # still a macro-enabled workbook
    assert XLSM_CT in new["[Content_Types].xml"].decode()
    assert new["xl/vbaProject.bin"] == old["xl/vbaProject.bin"]

    got = read_cells(dst, FILL)
    assert {r: v.value for r, v in got.items()} == {
        r: (float(v) if isinstance(v, int) and not isinstance(v, bool) else v)
        for r, v in FILL.items()
    }
    assert read_cells(dst, [CellRef("Inputs", "C8")])[CellRef("Inputs", "C8")].formula == "C3*3"

    wb = openpyxl.load_workbook(dst, keep_vba=True)
    ws = wb["Inputs"]
    assert ws["C3"].value == 16
    assert ws["C5"].value == "llama & <friends>"
    assert ws["C6"].value is False
    assert ws["C3"].number_format == "#,##0.00"  # style kept
    assert wb["Cash flow"]["B3"].value == 2500.5
    assert ws["C7"].value == "US"
    assert wb.defined_names["train_gpus"].attr_text == "Inputs!$C$3"


def test_fill_read_by_calamine(src: Path, tmp_path: Path) -> None:
    calamine = pytest.importorskip("python_calamine")
    dst = tmp_path / "out.xlsm"
    fill_package(src, dst, FILL)
    book = calamine.CalamineWorkbook.from_path(str(dst))
    rows = book.get_sheet_by_name("Inputs").to_python(skip_empty_area=False)
    assert [rows[i][2] for i in range(2, 7)] == [16.0, 3.25, "llama & <friends>", False, "US"]


def test_fill_xlsx_without_vba(template_xlsx: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsx"
    fill_package(template_xlsx, dst, {CellRef("Inputs", "C3"): 1})
    assert read_cells(dst, [CellRef("Inputs", "C3")])[CellRef("Inputs", "C3")].value == 1.0
    assert "macroEnabled" not in _members(dst)["[Content_Types].xml"].decode()


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "=1+1", "+SUM(A1)", "@x"]
)
def test_text_is_never_a_formula(src: Path, tmp_path: Path, text: str) -> None:
    dst = tmp_path / "out.xlsm"
    ref = CellRef("Inputs", "C5")
    fill_package(src, dst, {ref: text})
    got = read_cells(dst, [ref])[ref]
    assert got.value == text and got.formula is None
    xml = _members(dst)[INPUTS_PART].decode()
    cell = re.search(r'<c r="C5".*?</c>', xml)
    assert cell is not None
    assert 't="inlineStr"' in cell.group(0) and "<f>" not in cell.group(0)
    ws = openpyxl.load_workbook(dst)["Inputs"]
    assert ws["C5"].value == text and ws["C5"].data_type == "s"


def test_fill_removes_formula_and_calc_chain_entry(src: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    ref = CellRef("Inputs", "C8")
    fill_package(src, dst, {ref: 7})
    got = read_cells(dst, [ref])[ref]
    assert got.value == 7.0 and got.formula is None
    xml = _members(dst)[INPUTS_PART].decode()
    assert '<c r="C8" s="2"><v>7</v></c>' in xml and "C3*3" not in xml
    chain = _members(dst)["xl/calcChain.xml"].decode()
    # C8 entry gone, the following entry restates the sheet id it inherited
    assert '<c r="C8"' not in chain and '<c i="1" r="C9"/><c r="B2" i="2"/><c r="B3"/>' in chain


def test_none_empties_cell_keeps_style(src: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    ref = CellRef("Inputs", "C5")
    fill_package(src, dst, {ref: None, CellRef("Inputs", "K40"): None})
    xml = _members(dst)[INPUTS_PART].decode()
    assert '<c r="C5" s="2"/>' in xml and "K40" not in xml
    assert read_cells(dst, [ref])[ref].value is None


def test_new_rows_and_cells_are_sorted(src: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    values = {
        CellRef("Inputs", "B3"): 1,  # new cell between A3 and C3
        CellRef("Inputs", "Z3"): 2,  # new cell at the end of row 3
        CellRef("Inputs", "A2"): "row 2",  # new row between 1 and 3
        CellRef("Inputs", "B12"): 3,  # new row between 9 and 20
        CellRef("Inputs", "A12"): 4,
        CellRef("Inputs", "AA300"): 5,  # new last row
        CellRef("Inputs", "E20"): "replaced",
    }
    fill_package(src, dst, values)
    xml = _members(dst)[INPUTS_PART].decode()
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    assert rows == sorted(rows) and {2, 12, 300} <= set(rows)
    for row in re.findall(r"<row [^>]*>(.*?)</row>", xml):
        cols = [col_number(c) for c in re.findall(r'<c r="([A-Z]+)\d+"', row)]
        assert cols == sorted(cols)
    assert '<row r="3" spans="1:26"' in xml
    assert '<dimension ref="A1:AA300"/>' in xml
    got = read_cells(dst, values)
    assert {r: v.value for r, v in got.items()} == {
        r: float(v) if isinstance(v, int) else v for r, v in values.items()
    }
    wb = openpyxl.load_workbook(dst)
    assert wb["Inputs"]["B3"].value == 1 and wb["Inputs"]["AA300"].value == 5
    assert wb["Inputs"]["A3"].value == "Train GPUs" and wb["Inputs"]["C3"].value == 8


def test_fill_empty_sheet(src: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    # 'Lists' has data; use a brand-new cell far away plus one in an existing row
    fill_package(src, dst, {CellRef("Lists", "B2"): 9, CellRef("Lists", "C10"): "x"})
    got = read_cells(dst, [CellRef("Lists", "A2"), CellRef("Lists", "B2"), CellRef("Lists", "C10")])
    assert [v.value for v in got.values()] == ["US", 9.0, "x"]


def test_shared_formula_master_refused(tmp_path: Path, template_xlsx: Path) -> None:
    src = tmp_path / "shared.xlsx"
    members = _members(template_xlsx)
    xml = members[INPUTS_PART].decode()
    xml = xml.replace("<f>C3*3</f>", '<f t="shared" ref="C8:C9" si="0">C3*3</f>')
    xml = xml.replace("<f>C4*2</f>", '<f t="shared" si="0"/>')
    members[INPUTS_PART] = xml.encode()
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    dst = tmp_path / "out.xlsx"
    msg = (
        "shared.xlsx: xl/worksheets/sheet1.xml: Inputs!C8 is the master cell of a shared "
        "formula (C8:C9); refusing to overwrite it"
    )
    with pytest.raises(WorkbookError) as exc:
        fill_package(src, dst, {CellRef("Inputs", "C8"): 1})
    assert str(exc.value) == msg
    assert not dst.exists()
    # a dependent of the shared formula can be overwritten
    fill_package(src, dst, {CellRef("Inputs", "C9"): 1})
    got = read_cells(dst, [CellRef("Inputs", "C9"), CellRef("Inputs", "C8")])
    assert got[CellRef("Inputs", "C9")].value == 1.0
    assert got[CellRef("Inputs", "C8")].formula == "C3*3"


def test_array_formula_refused(src: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    with pytest.raises(WorkbookError, match=r"Model!D2 is part of the array formula at D1"):
        fill_package(src, dst, {CellRef("Model", "D2"): 1})
    assert not dst.exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {CellRef("Inputs", "C3"): math.nan},
            "template.xlsm: Inputs!C3: cannot write nan (not a finite number)",
        ),
        (
            {CellRef("Inputs", "C3"): 10**400},
            "template.xlsm: Inputs!C3: number too large for Excel",
        ),
        (
            {CellRef("Inputs", "C3"): "\ud800"},
            "template.xlsm: Inputs!C3: text contains an invalid (surrogate) character",
        ),
        (
            {CellRef("Inputs", "C3"): "x" * 32768},
            "template.xlsm: Inputs!C3: text longer than 32767 characters",
        ),
        (
            {CellRef("Inputs", "C3"): [1]},
            "template.xlsm: Inputs!C3: cannot write a value of type list",
        ),
        ({CellRef("Nope", "C3"): 1}, "template.xlsm: no sheet named 'Nope'"),
        ({CellRef("Inputs", "C0"): 1}, "template.xlsm: invalid cell reference 'Inputs!C0'"),
        ({CellRef("Inputs", "XFE1"): 1}, "template.xlsm: invalid cell reference 'Inputs!XFE1'"),
        (
            {CellRef("Inputs", "C3"): 1, CellRef("inputs", "$C$3"): 2},
            "template.xlsm: inputs!$C$3 given twice (as Inputs!C3)",
        ),
    ],
)
def test_fill_refuses_bad_values(
    src: Path, tmp_path: Path, values: dict[CellRef, object], message: str
) -> None:
    dst = tmp_path / "out.xlsm"
    with pytest.raises(WorkbookError) as exc:
        fill_package(src, dst, values)  # type: ignore[arg-type]
    assert str(exc.value) == message
    assert not dst.exists()


def test_control_characters_are_escaped(src: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    ref = CellRef("Inputs", "C5")
    text = "a\x00b\x1fc\rd\te\nf_x0041_g\ufffe"
    fill_package(src, dst, {ref: text})
    assert read_cells(dst, [ref])[ref].value == text
    xml = _members(dst)[INPUTS_PART].decode()
    assert "a_x0000_b_x001F_c&#13;d\te\nf_x005F_x0041_g_xFFFE_" in xml
    openpyxl.load_workbook(dst)  # still a well-formed package


# --------------------------------------------------------------------------- atomicity


def test_existing_dst_not_overwritten(src: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    dst.write_bytes(b"precious")
    with pytest.raises(WorkbookError, match=r"^out.xlsm: exists; use --force$"):
        fill_package(src, dst, FILL)
    assert dst.read_bytes() == b"precious"
    fill_package(src, dst, FILL, overwrite=True)
    assert read_cells(dst, [CellRef("Inputs", "C7")])[CellRef("Inputs", "C7")].value == "US"


def test_dst_equal_src_refused(src: Path) -> None:
    before = _sha(src)
    for overwrite in (False, True):
        with pytest.raises(WorkbookError, match="output would overwrite the input file"):
            fill_package(src, src, FILL, overwrite=overwrite)
        with pytest.raises(WorkbookError, match="output would overwrite the input file"):
            fill_package(src, src.parent / ".." / "in" / src.name, FILL, overwrite=overwrite)
    assert _sha(src) == before


def test_extension_must_match(src: Path, tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match=r"^out.xlsx: output must have the same extension"):
        fill_package(src, tmp_path / "out.xlsx", FILL)


def test_error_mid_write_leaves_nothing(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dst = out_dir / "out.xlsm"
    real = filling.write_zip

    def exploding(*args: object, **kwargs: object) -> None:
        out = args[3]
        out.write(b"PK\x03\x04 half a file")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(filling, "write_zip", exploding)
    before = _sha(src)
    with pytest.raises(
        WorkbookError, match=r"^out.xlsm: cannot write \(No space left on device\)$"
    ):
        fill_package(src, dst, FILL)
    assert list(out_dir.iterdir()) == []
    assert _sha(src) == before

    def crash(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(filling, "write_zip", crash)
    with pytest.raises(KeyboardInterrupt):
        fill_package(src, dst, FILL)
    assert list(out_dir.iterdir()) == []


# --------------------------------------------------------------------------- property test

CONTROL = "".join(chr(i) for i in range(32)) + "\x7f\ufffe\uffff"
text_values = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(list(CONTROL + "<>&\"'=_x0041_ ")),
    ),
    max_size=40,
)
values_strategy = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e-308, 5e-324, 0.1, -0.0, 1 / 3]),
    st.integers(min_value=-(2**53), max_value=2**53),
    text_values,
    st.builds(lambda s: "=" + s, text_values),
    st.booleans(),
    st.none(),
)
cells_strategy = st.builds(
    lambda sheet, col, row: CellRef(sheet, f"{col_letters(col)}{row}"),
    st.sampled_from(["Inputs", "Cash flow"]),
    st.integers(1, 26),
    st.integers(1, 200),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(cells_strategy, values_strategy, max_size=12))
def test_round_trip_property(template: Path, values: dict[CellRef, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "out.xlsm"
        fill_package(template, dst, values)  # type: ignore[arg-type]
        got = read_cells(dst, values)
        for ref, value in values.items():
            cell = got[ref]
            assert cell.formula is None and cell.error is None
            if isinstance(value, bool) or value is None or isinstance(value, str):
                assert cell.value == value and type(cell.value) is type(value)
            else:
                assert isinstance(value, int | float)
                assert repr(cell.value) == repr(float(value))


# --------------------------------------------------------------------------- hand-made sheets

HAND_WB = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<x:sheets><x:sheet name="S" sheetId="1" r:id="rId1"/></x:sheets>'
    '<x:definedNames><x:definedName name="a">S!$B$2</x:definedName></x:definedNames>'
    "</x:workbook>"
)
HAND_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    'formats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/s.xml"/>'
    "</Relationships>"
)
X_NS = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _hand_made(path: Path, sheet: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", HAND_WB)
        zf.writestr("xl/_rels/workbook.xml.rels", HAND_RELS)
        zf.writestr("xl/worksheets/s.xml", sheet)
    return path


@pytest.mark.parametrize(
    ("sheet_data", "expected"),
    [
        # prefixed main namespace, rows and cells without r, a comment with a fake cell
        (
            "<x:sheetData><!-- <x:c r='B2'/> --><x:row><x:c><x:v>1</x:v></x:c></x:row>"
            '<x:row><x:c t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c><x:c s="3"><x:v>2'
            "</x:v></x:c></x:row><x:row/></x:sheetData>",
            "<x:sheetData><!-- <x:c r='B2'/> --><x:row r=\"1\"><x:c><x:v>1</x:v></x:c></x:row>"
            '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c>'
            '<x:c r="B2" s="3" t="inlineStr"><x:is><x:t xml:space="preserve">new</x:t></x:is>'
            '</x:c><x:c r="D2"><x:v>4</x:v></x:c></x:row><x:row r="3"/>'
            '<x:row r="5"><x:c r="A5" t="b"><x:v>1</x:v></x:c></x:row></x:sheetData>',
        ),
        (
            "<x:sheetData/>",
            '<x:sheetData><x:row r="2"><x:c r="B2" t="inlineStr"><x:is><x:t xml:space="preserve">'
            'new</x:t></x:is></x:c><x:c r="D2"><x:v>4</x:v></x:c></x:row><x:row r="5">'
            '<x:c r="A5" t="b"><x:v>1</x:v></x:c></x:row></x:sheetData>',
        ),
        (
            '<x:sheetData><x:row r="2" spans="1:1" customHeight="1" ht="30"/></x:sheetData>',
            '<x:sheetData><x:row r="2" spans="1:4" customHeight="1" ht="30"><x:c r="B2" '
            't="inlineStr"><x:is><x:t xml:space="preserve">new</x:t></x:is></x:c><x:c r="D2">'
            '<x:v>4</x:v></x:c></x:row><x:row r="5"><x:c r="A5" t="b"><x:v>1</x:v></x:c>'
            "</x:row></x:sheetData>",
        ),
    ],
)
def test_hand_made_sheets(tmp_path: Path, sheet_data: str, expected: str) -> None:
    head = f'<?xml version="1.0"?>\n<x:worksheet {X_NS}><x:dimension ref="A1"/>'
    src = _hand_made(tmp_path / "hand.xlsx", head + sheet_data + "</x:worksheet>")
    dst = tmp_path / "out.xlsx"
    values = {CellRef("S", "B2"): "new", CellRef("S", "D2"): 4, CellRef("S", "A5"): True}
    fill_package(src, dst, values)
    xml = _members(dst)["xl/worksheets/s.xml"].decode()
    assert xml == head.replace('"A1"', '"A1:D5"') + expected + "</x:worksheet>"
    got = read_cells(dst, values)
    assert [v.value for v in got.values()] == ["new", 4.0, True]
    assert defined_names(src) == {"a": CellRef("S", "B2")}
    wb = _members(dst)["xl/workbook.xml"].decode()
    assert wb == HAND_WB.replace("</x:workbook>", '<x:calcPr fullCalcOnLoad="1"/></x:workbook>')


class _Unseekable(io.RawIOBase):
    def __init__(self, fh: io.BufferedWriter) -> None:
        self.fh = fh

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.fh.write(data)


def test_members_with_data_descriptors_copied_raw(template_xlsx: Path, tmp_path: Path) -> None:
    """Zips written to a stream carry data descriptors; they must be copied intact."""
    src = tmp_path / "stream.xlsx"
    with (
        zipfile.ZipFile(template_xlsx) as zin,
        src.open("wb") as raw,
        zipfile.ZipFile(_Unseekable(raw), "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for zi in zin.infolist():
            zout.writestr(zi.filename, zin.read(zi))
    with zipfile.ZipFile(src) as zf:
        assert all(zi.flag_bits & 0x8 for zi in zf.infolist())
    dst = tmp_path / "out.xlsx"
    fill_package(src, dst, {CellRef("Inputs", "C3"): 5})
    with zipfile.ZipFile(dst) as zf:
        assert zf.testzip() is None
    old, new = _members(src), _members(dst)
    assert [n for n in old if old[n] != new[n]] == [INPUTS_PART, "xl/workbook.xml"]
    assert read_cells(dst, [CellRef("Inputs", "C3")])[CellRef("Inputs", "C3")].value == 5.0


def test_template_filler_matches_fill_package(src: Path, tmp_path: Path) -> None:
    cells = [*FILL, CellRef("Inputs", "C8")]
    filler = TemplateFiller(src, cells)
    for i in range(3):
        values = {**FILL, CellRef("Inputs", "C3"): i}
        filler.fill(tmp_path / f"fast{i}.xlsm", values)
        fill_package(src, tmp_path / f"slow{i}.xlsm", values)
        assert _members(tmp_path / f"fast{i}.xlsm") == _members(tmp_path / f"slow{i}.xlsm")
    filler.fill(tmp_path / "subset.xlsm", {CellRef("Inputs", "C8"): 1})  # a subset is fine
    chain = _members(tmp_path / "subset.xlsm")["xl/calcChain.xml"].decode()
    assert 'r="C8"' not in chain
    with pytest.raises(WorkbookError, match=r"Inputs!C9 was not prepared for filling$"):
        filler.fill(tmp_path / "x.xlsm", {CellRef("Inputs", "C9"): 1})
    with pytest.raises(WorkbookError, match=r"^fast0.xlsm: exists; use --force$"):
        filler.fill(tmp_path / "fast0.xlsm", FILL)


def test_refilled_cells_still_match_fill_package(src: Path, tmp_path: Path) -> None:
    """Later fills of cells already filled (and checked) once only parse the new cells;
    the output is still fill_package's, also for text XML must escape, and a bad value
    is still refused."""
    c5 = CellRef("Inputs", "C5")
    filler = TemplateFiller(src, FILL)
    awkward = ["a & b <c/>", "]]> \x01\x1f \ufffe", "=1+1", "  spaced  ", "", "q\"'"]
    for i, text in enumerate(awkward):
        values = {**FILL, c5: text, CellRef("Inputs", "C3"): i}
        filler.fill(tmp_path / f"fast{i}.xlsm", values)
        fill_package(src, tmp_path / f"slow{i}.xlsm", values)
        assert _members(tmp_path / f"fast{i}.xlsm") == _members(tmp_path / f"slow{i}.xlsm")
        assert read_cells(tmp_path / f"fast{i}.xlsm", [c5])[c5].value == text
    with pytest.raises(WorkbookError, match=r"surrogate"):
        filler.fill(tmp_path / "x.xlsm", {**FILL, c5: "\ud800"})
    assert not (tmp_path / "x.xlsm").exists()


def test_filler_sets_cached_results_and_keeps_formulas(src: Path, tmp_path: Path) -> None:
    b2, b3, b4 = CellRef("Model", "B2"), CellRef("Model", "B3"), CellRef("Model", "B4")
    filler = TemplateFiller(src, [*FILL, b2, b3, b4])
    dst = tmp_path / "cached.xlsm"
    filler.fill(dst, FILL, cached={b2: 99.5, b3: None, b4: 'no & "<maybe>"'})
    got = read_cells(dst, [b2, b3, b4])
    assert (got[b2].formula, got[b2].value) == ("train_gpus*gpu_hour_cost", 99.5)
    assert (got[b3].formula, got[b3].value) == ("Inputs!C3+1", None)
    assert (got[b4].formula, got[b4].value) == ('IF(use_cache,"yes","no")', 'no & "<maybe>"')
    old, new = _members(src), _members(dst)
    assert new["xl/calcChain.xml"] == old["xl/calcChain.xml"]  # no formula removed
    model = "xl/worksheets/sheet2.xml"
    assert _strip_cells(old[model].decode(), ["B2", "B3", "B4"]) == _strip_cells(
        new[model].decode(), ["B2", "B3", "B4"]
    )
    with pytest.raises(WorkbookError, match=r"Inputs!C3 holds no formula to set the result of$"):
        filler.fill(tmp_path / "x.xlsm", {}, cached={CellRef("Inputs", "C3"): 1})
    with pytest.raises(WorkbookError, match=r"Model!B2 given twice"):
        filler.fill(tmp_path / "x.xlsm", {b2: 1}, cached={b2: 1})
    assert not (tmp_path / "x.xlsm").exists()


# --------------------------------------------------------------------------- hostile sheet text

_CELLS = '<x:sheetData><x:row r="2"><x:c r="B2"><x:v>1</x:v></x:c></x:row></x:sheetData>'


@pytest.mark.parametrize(
    ("junk", "problem"),
    [
        # 2,000 unclosed comments: the scanner used to look for "-->" to the end from each one
        ("<!--" * 2000, "damaged XML (unclosed comment at offset {offset})"),
        ("<![CDATA[ x", "damaged XML (unclosed CDATA section at offset {offset})"),
        ("<?pi x", "damaged XML (unclosed processing instruction at offset {offset})"),
        ("< x:c>", "damaged XML (stray '<' at offset {offset})"),
    ],
)
@pytest.mark.parametrize("action", ["fill", "read"])
def test_damaged_sheet_text_refused_at_once(
    tmp_path: Path, junk: str, problem: str, action: str
) -> None:
    head = f'<?xml version="1.0"?>\n<x:worksheet {X_NS}><x:dimension ref="A1"/>'
    src = _hand_made(tmp_path / "hand.xlsx", head + junk + _CELLS + "</x:worksheet>")
    ref = CellRef("S", "B2")
    if action == "read" and not junk.startswith(("<!", "<?")):
        # reading finds a cell by its reference and scans only its element (the fast path
        # is taken unless the sheet has comments, CDATA or PIs): the stray '<' is not seen
        assert read_cells(src, [ref])[ref].value == 1.0
        return
    with pytest.raises(WorkbookError) as info:
        if action == "fill":
            fill_package(src, tmp_path / "out.xlsx", {ref: 2})
        else:
            read_cells(src, [ref])
    where = problem.format(offset=len(head))  # the junk starts right after the head
    assert str(info.value) == f"hand.xlsx: xl/worksheets/s.xml: {where}"
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("spelled", ["a", "A", "TRAIN_gpus"])
def test_defined_names_are_case_insensitive(tmp_path: Path, spelled: str) -> None:
    head = f'<?xml version="1.0"?>\n<x:worksheet {X_NS}>'
    src = _hand_made(tmp_path / "hand.xlsx", head + _CELLS + "</x:worksheet>")
    with zipfile.ZipFile(src) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b'name="a"', f'name="{spelled}"'.encode()
    )
    with zipfile.ZipFile(src, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    names = defined_names(src)
    assert list(names) == [spelled]
    assert names[spelled.lower()] == names[spelled.upper()] == CellRef("S", "B2")


def test_names_differing_only_in_case_refused(tmp_path: Path) -> None:
    head = f'<?xml version="1.0"?>\n<x:worksheet {X_NS}>'
    src = _hand_made(tmp_path / "hand.xlsx", head + _CELLS + "</x:worksheet>")
    with zipfile.ZipFile(src) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    twice = b'<x:definedName name="a">S!$B$2</x:definedName><x:definedName name="A">S!$B$3'
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b'<x:definedName name="a">S!$B$2', twice
    )
    with zipfile.ZipFile(src, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    with pytest.raises(WorkbookError, match=r"^hand.xlsx: defined names 'a' and 'A' differ only"):
        defined_names(src)
