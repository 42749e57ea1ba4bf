"""A JSON scenario list is read and parsed a piece at a time: the same items, the same refusals
with the same messages as parsing the whole document, and neither its text nor its items held
whole."""

from __future__ import annotations

import json
import re
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcost import reading
from xlcost.reading import (
    LIMITS,
    ReadError,
    json_file_items,
    json_list_items,
    load_json,
    load_tree,
    read_text,
)
from xlcost.scenario_files import open_table, table_records

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


def _outcome(parse: Any) -> tuple[str, Any]:
    try:
        return "ok", parse()
    except ReadError as e:
        return "error", str(e)


def _from_file(data: bytes, piece: int) -> tuple[str, Any] | None:
    """:func:`json_file_items` over ``data`` read ``piece`` bytes at a time (``None``: not a
    list)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d, "s.json")
        path.write_bytes(data)
        old, reading._JSON_PIECE = reading._JSON_PIECE, piece
        try:
            items = json_file_items(path, LIMITS)
            return None if items is None else _outcome(lambda: list(items))
        finally:
            reading._JSON_PIECE = old


def _ways(data: bytes) -> list[tuple[str, Any]]:
    """The UTF-8 document parsed whole, its text an item at a time, and the file a piece of
    1, 5 and 64 bytes at a time (a way that finds no list counts as the whole document)."""
    text = data.decode("utf-8")
    whole = _outcome(lambda: load_json(text, "s.json"))
    items = json_list_items(text, "s.json")
    out = [whole, _outcome(lambda: list(items)) if items is not None else whole]
    for piece in (1, 5, 64):
        streamed = _from_file(data, piece)
        out.append(whole if streamed is None else streamed)
    return out


def _both(text: str) -> tuple[tuple[str, Any], tuple[str, Any]]:
    whole, *streamed = _ways(text.encode("utf-8"))
    assert all(s == streamed[0] for s in streamed), (text, streamed)
    return whole, streamed[0]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(JSON, max_size=6), st.integers(0, 400), st.sampled_from(["", ",", "]", "x", "{"]))
def test_items_and_errors_are_the_whole_documents(items: list[Any], cut: int, junk: str) -> None:
    """A list, and the same text cut short or with a character put in, parsed both ways."""
    text = json.dumps(items, indent=1)
    for variant in (text, text[:cut], text[:cut] + junk + text[cut:]):
        whole, streamed = _both(variant)
        if variant.lstrip().startswith("["):
            assert streamed == whole, variant


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"a": 1}, {"a": 1, "a": 2}]', "s.json: key 'a' appears twice in one object"),
        ("[1, " + "[" * 40 + "]" * 40 + "]", "s.json: nested deeper than 32 levels; refused"),
        ("[1, " + "9" * 101 + "]", "s.json: number longer than 100 characters; refused"),
        ("[1] [2]", "s.json: not valid JSON: Extra data: line 1 column 5 (char 4)"),
        ("[1 2]", "s.json: not valid JSON: Expecting ',' delimiter: line 1 column 4 (char 3)"),
        ("[1,]", "s.json: not valid JSON: Expecting value: line 1 column 4 (char 3)"),
    ],
)
def test_refusals_name_the_file_as_before(text: str, message: str) -> None:
    whole, streamed = _both(text)
    assert whole == streamed == ("error", message)


_EXCEL_UTF8 = "in Excel, save as 'CSV UTF-8'"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"a": 1},\n {"a": "\xff"}]', f"s.json: not UTF-8 text (byte 19); {_EXCEL_UTF8}"),
        (b'\xef\xbb\xbf[{"a": 1}]', None),
        (b'  \n [ {"a": 12345678901234567890} ]  \n', None),
    ],
)
def test_bytes_read_a_piece_at_a_time_as_read_whole(data: bytes, message: str | None) -> None:
    """A byte that is not UTF-8 past the first piece, a BOM, a long number split by pieces."""
    whole = _outcome(lambda: load_tree(_written(data)))
    assert whole[0] == ("ok" if message is None else "error")
    if message is not None:
        assert whole[1] == message
    for piece in (1, 3, 64):  # None: not a list in the first piece, so read whole
        assert _from_file(data, piece) in (whole, None)
    assert _from_file(data, 1) == whole


def _written(data: bytes) -> Path:
    d = tempfile.mkdtemp()
    path = Path(d, "s.json")
    path.write_bytes(data)
    return path


def _scenarios(n: int) -> list[dict[str, Any]]:
    from xlcost.engine.examples import seed_scenario

    base = {k: v for k, v in seed_scenario().model_dump().items() if v is not None}
    return [{**base, "name": f"option {i}"} for i in range(n)]


def test_a_scenario_list_is_read_one_item_at_a_time(tmp_path: Path) -> None:
    """Reading 5,000 scenarios through the table needs at its peak (tracemalloc, Python's own
    accounting) less than half of reading the file's text, and well under the text and the
    whole document's tree together."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_scenarios(5_000)), encoding="utf-8")

    def peak(work: Any) -> int:
        tracemalloc.start()
        try:
            work()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    text = peak(lambda: read_text(path, LIMITS.text_file_bytes))
    whole = peak(lambda: load_tree(path))
    streamed = peak(lambda: sum(1 for _ in table_records(open_table(path))))
    assert streamed < 0.5 * text, (streamed, text)
    assert streamed < 0.75 * whole, (streamed, whole)


def test_the_object_form_and_a_single_scenario_still_read(tmp_path: Path) -> None:
    rows = _scenarios(2)
    for data, where in (({"scenarios": rows}, "s.json scenarios[1]"), (rows[0], "s.json [0]")):
        path = tmp_path / "s.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        records = list(table_records(open_table(path)))
        assert records[-1][0] == where
        assert records[0][1]["name"] == "option 0"


def test_a_list_replaced_while_being_read_is_said_so(tmp_path: Path) -> None:
    """The file was a list when it was opened and is not one when its items are read: one
    line saying so (not an empty list), both for the items and for the table's rows."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_scenarios(2)), encoding="utf-8")
    items = json_file_items(path, LIMITS)
    table = open_table(path)
    assert items is not None
    path.write_text(json.dumps(_scenarios(1)[0]), encoding="utf-8")
    changed = "s.json: the file changed while it was being read; try again"
    with pytest.raises(ReadError, match="^" + re.escape(changed) + "$"):
        list(items)
    with pytest.raises(ReadError, match="^" + re.escape(changed) + "$"):
        list(table_records(table))


def test_a_byte_that_is_not_utf8_at_the_end_is_the_same_error(tmp_path: Path) -> None:
    """A character cut at the very end is found only when the last piece is decoded: the
    items before it are given, then the message the whole text's reader gives."""
    path = _written(b"[1,2,3]\xc3")
    whole = _outcome(lambda: read_text(path, LIMITS.text_file_bytes, "YAML/JSON file"))
    items = json_file_items(path, LIMITS)
    assert items is not None
    got: list[Any] = []
    with pytest.raises(ReadError) as e:
        got.extend(items)
    assert ("error", str(e.value)) == whole
    assert whole[1] == f"s.json: not UTF-8 text (byte 7); {_EXCEL_UTF8}"
