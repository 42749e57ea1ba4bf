"""Run many ``xlcost`` command lines in one process, each with a wall-clock limit.

Usage: ``python _hostile_driver.py INVOCATIONS.json LIMIT_SECONDS`` prints, as JSON, for each
invocation its exit code, stdout, stderr, elapsed seconds and whether it timed out. Starting
one interpreter for all of them keeps the hostile-input test fast; a real hang is still caught
(the alarm interrupts it) and the caller runs this script with its own timeout too.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import xlcost.cli


class Timeout(BaseException):
    """Raised by the alarm when an invocation runs past its limit."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise Timeout


def main() -> None:
    invocations = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    limit = float(sys.argv[2])
    signal.signal(signal.SIGALRM, _alarm)
    app = getattr(xlcost.cli, "load_commands", lambda: xlcost.cli.app)()
    runner = CliRunner()
    out = []
    for args in invocations:
        start = time.perf_counter()
        timed_out = False
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            result = runner.invoke(app, args, catch_exceptions=True)
            code, stdout, stderr = result.exit_code, result.stdout, result.stderr
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                stderr += f"\nUNCAUGHT {type(result.exception).__name__}: {result.exception}"
        except Timeout:
            timed_out, code, stdout, stderr = True, -1, "", ""
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        out.append(
            {
                "args": args,
                "code": code,
                "stdout": stdout[:2000],
                "stderr": stderr[:4000],
                "seconds": time.perf_counter() - start,
                "timeout": timed_out,
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
