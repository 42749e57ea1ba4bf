"""A small, linear-time tag scanner for the XML text of workbook parts.

Edits are made by splicing a part's original text at positions this scanner finds, so
namespaces, prefixes, ``mc:Ignorable`` and extension lists survive exactly.  Reading the input
cells of a workbook uses the same scanner (it is several times faster than building elements).

The scanner is strict where strictness keeps it linear: every ``<`` must start a tag, comment,
CDATA section or processing instruction, and an unclosed one is refused at once (it is damaged
XML) instead of being looked for again from every later ``<``.  It does not expand entities
other than XML's five and character references, and refuses a DTD.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from xlcost.workbooks.cells import WorkbookError

__all__ = ["Tag", "attr", "attrs", "tags", "xml_text", "xml_unquote"]

_NAME = r"[^\W\d][\w.\-]*"
_TOKEN_RE = re.compile(
    r"<!--(?P<comment>.*?(?:-->|\Z))"
    r"|<!\[CDATA\[(?P<cdata>.*?(?:\]\]>|\Z))"
    r"|<\?(?P<pi>.*?(?:\?>|\Z))"
    rf"|<(?P<close>/?)(?:(?P<prefix>{_NAME}):)?(?P<name>{_NAME})"
    r"(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?P<empty>/?)>"
    r"|<",
    re.S,
)
_ATTR_RE = re.compile(r"(\s+)([^\s=/>]+)(\s*=\s*)(\"[^\"]*\"|'[^']*')")
_UNCLOSED = {"comment": "-->", "cdata": "]]>", "pi": "?>"}
_LABELS = {"comment": "comment", "cdata": "CDATA section", "pi": "processing instruction"}


@dataclass
class Tag:
    """One start, end or empty-element tag: its span in the text, name and attribute text."""

    start: int
    end: int
    closing: bool
    prefix: str | None
    name: str
    attrs: str
    empty: bool


def tags(xml: str, err: str, pos: int = 0) -> Iterator[Tag]:
    """The tags of ``xml`` from ``pos`` on, in order (comments, CDATA and PIs skipped).

    Parameters
    ----------
    xml : str
        The part's text.
    err : str
        What to name in a problem, e.g. ``"q3.xlsx: xl/worksheets/sheet1.xml"``.
    pos : int
        Where to start.

    Raises
    ------
    WorkbookError
        A ``<`` that starts no token, an unclosed comment, CDATA section or processing
        instruction, or a DTD.

    Examples
    --------
    >>> [(t.name, t.closing, t.empty) for t in tags('<a x="1"><!-- <b> --><b/></a>', "t")]
    [('a', False, False), ('b', False, True), ('a', True, False)]
    >>> list(tags("<a><!-- <b>", "t.xml"))
    Traceback (most recent call last):
    ...
    xlcost.workbooks.cells.WorkbookError: t.xml: damaged XML (unclosed comment at offset 3)
    """
    for m in _TOKEN_RE.finditer(xml, pos):
        name = m.group("name")
        if name is not None:
            yield Tag(
                m.start(),
                m.end(),
                m.group("close") == "/",
                m.group("prefix"),
                name,
                m.group("attrs") or "",
                m.group("empty") == "/",
            )
            continue
        _check_token(m, xml, err)


def _check_token(m: re.Match[str], xml: str, err: str) -> None:
    """Refuse a comment, CDATA or PI token that runs to the end, or a stray ``<``."""
    kind = m.lastgroup
    if kind in _UNCLOSED:
        if not m.group(kind).endswith(_UNCLOSED[kind]):
            label = _LABELS[kind]
            raise WorkbookError(f"{err}: damaged XML (unclosed {label} at offset {m.start()})")
        return
    if xml.startswith("<!DOCTYPE", m.start()) or xml.startswith("<!ENTITY", m.start()):
        raise WorkbookError(f"{err}: XML bomb or DTD refused")
    raise WorkbookError(f"{err}: damaged XML (stray '<' at offset {m.start()})")


def attrs(text: str) -> list[tuple[str, str, str, str]]:
    """The attributes of a tag's attribute text: (space, name, equals, quoted value)."""
    return cast(list[tuple[str, str, str, str]], _ATTR_RE.findall(text))


def attr(text: str, name: str) -> str | None:
    """The value of attribute ``name`` (entities decoded), or None.

    >>> attr(' r="A1" t="s"', "t"), attr(' r="A1"', "t")
    ('s', None)
    """
    for _ws, key, _eq, val in attrs(text):
        if key == name:
            return xml_unquote(val[1:-1])
    return None


def xml_unquote(text: str) -> str:
    """Decode XML's five predefined entities and character references.

    >>> xml_unquote("a &lt;&amp;&gt; &#65;&#x42;")
    'a <&> AB'
    """
    if "&" not in text:
        return text
    return _ENTITY_RE.sub(_entity, text)


_ENTITY_RE = re.compile(r"&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot|apos));")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m: re.Match[str]) -> str:
    hex_code, dec_code, named = m.groups()
    if named is not None:
        return _PREDEFINED[named]
    code = int(hex_code, 16) if hex_code is not None else int(dec_code)
    return chr(code) if code <= 0x10FFFF else m.group(0)


_CDATA_RE = re.compile(r"<!\[CDATA\[(.*?)\]\]>|<!--.*?-->", re.S)


def xml_text(raw: str) -> str:
    """The character data of element content (line ends normalised as XML parsers do).

    >>> xml_text("a &amp; b\\r\\n<![CDATA[<c>]]>")
    'a & b\\n<c>'
    """
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "<" not in raw:
        return xml_unquote(raw)
    out: list[str] = []
    pos = 0
    for m in _CDATA_RE.finditer(raw):
        out.append(xml_unquote(raw[pos : m.start()]))
        out.append(m.group(1) or "")
        pos = m.end()
    out.append(xml_unquote(raw[pos:]))
    return "".join(out)
