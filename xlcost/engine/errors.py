"""Errors raised inside the engine.

Inside xlcost problems are exceptions; at the Excel boundary (:mod:`xlcost.functions`) they become
Excel error values, and at the command line one clear line with exit code 1.
"""

from __future__ import annotations


class XlcostError(Exception):
    """A problem the user can fix; ``str(error)`` is one complete, user-facing line."""


class InputError(XlcostError, ValueError):
    """An input value is missing or outside its domain.

    Parameters
    ----------
    field
        The snake_case input name, e.g. ``"train_gpus"``.
    reason
        What is wrong, e.g. ``"must be ≥ 0"``.
    value
        The offending value, shown as ``got <value>``; omitted when ``None``.
    where
        Where the value came from, e.g. ``"scenarios.csv row 4"`` or ``"q3.xlsx Inputs!C7"``.

    Examples
    --------
    >>> str(InputError("train_gpus", "must be ≥ 0", -3, where="scenarios.csv row 4"))
    'scenarios.csv row 4, train_gpus: must be ≥ 0, got -3'
    """

    def __init__(
        self, field: str, reason: str, value: object = None, *, where: str | None = None
    ) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        self.where = where
        super().__init__(self._text())

    def _text(self) -> str:
        got = "" if self.value is None else f", got {_shown(self.value)}"
        if isinstance(self.value, float | int) and not isinstance(self.value, bool):
            got = f", got {self.value:g}"
        prefix = f"{self.where}, " if self.where else ""
        return f"{prefix}{self.field}: {self.reason}{got}"


_SHOWN_CHARS = 60


def _shown(value: object) -> str:
    """``repr(value)`` for a message (control characters escaped), cut to 60 characters.

    >>> _shown("1" * 100)
    "'111111111111111111111111111111111111111111111111111111111…' (100 characters)"
    """
    text = repr(value)
    if len(text) <= _SHOWN_CHARS:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return text[: _SHOWN_CHARS - 2] + "…" + text[0] + size


class ScenarioErrors(XlcostError):
    """Several input problems found at once (for example in one scenario file)."""

    def __init__(self, problems: list[InputError]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
