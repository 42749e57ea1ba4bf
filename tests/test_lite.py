"""workbook/lite/main.py (what a user pastes into xlwings Lite) is up to date, imports on its
own — without xlcost installed, against a stand-in for Lite's ``xlwings`` decorators, under
Pyodide's ``sys.platform`` — and gives the same results as xlcost.udfs in Lite mode."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from spec_functions import SPEC_SIGNATURES

from xlcost import udfs
from xlcost.functions import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
LITE = ROOT / "workbook" / "lite"

CALLS: list[tuple[str, list[object]]] = [
    ("TRAIN_COST", [32, 3, 5]),
    ("DEPLOY_COST", [1, 100, 0.1]),
    ("MAINTAIN_COST", [2, 100, 0.5]),
    ("BENEFIT", [100000000, 0.005, 0.003, 0.1]),
    ("ROI", [150, 590]),
    ("ROI", [150, 590, "ratio"]),
    ("BCR", [150, 590]),
    ("GPU_SPEC", ["H100", "price_per_hour"]),
    ("XLCOST_VERSION", []),
    ("TRAIN_FLOPS", [7e9, 1e12]),
    ("TRAIN_HOURS", [1e9, 1e10, 8, 312, 0.5]),
    ("REPLICAS", [1000, 120]),
    ("ROI", [150, 0]),  # #DIV/0!
    ("TRAIN_COST", [-1, 3, 5]),  # #NUM!
    ("TRAIN_COST", ["abc", 3, 5]),  # #VALUE!
    ("GPU_SPEC", ["X100", "price_per_hour"]),  # #N/A
    ("TRAIN_COST", ["#N/A", 3, 5]),  # passed through
    ("TRAIN_COST", [[[32], [-1], ["x"], [64]], [[3]], 5]),  # a column, one bad row each
    ("TRAIN_COST", [-2146826246, 1, 1]),  # in Lite an int is a number: #NUM!, not #N/A
]

STUB = '''
"""A stand-in for xlwings Lite's decorators: records what Lite would register."""
def func(f=None, **kwargs):
    def inner(f):
        xlf = f.__dict__.setdefault("__xlfunc__", {"args": {}})
        xlf.update(kwargs, name=f.__name__, doc=f.__doc__)
        return f
    return inner(f) if f is not None else inner
def arg(name, convert=None, **kwargs):
    def inner(f):
        f.__dict__.setdefault("__xlfunc__", {"args": {}})["args"][name] = kwargs
        return f
    return inner
def ret(*args, **kwargs):
    return lambda f: f
'''


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate_main", LITE / "generate_main.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_main_py_is_up_to_date() -> None:
    assert (LITE / "main.py").read_text(encoding="utf-8") == _generator().generate(), (
        "workbook/lite/main.py is out of date: run python workbook/lite/generate_main.py"
    )


def test_requirements_are_lines_to_add_not_a_replacement() -> None:
    """requirements.txt holds the lines to add (packages Pyodide ships); the README says to add
    them and keep Lite's own lines marked ``# required``, and mentions the Restart."""
    reqs = [
        line.split("#")[0].strip() for line in (LITE / "requirements.txt").read_text().splitlines()
    ]
    reqs = [r for r in reqs if r]
    assert set(reqs) <= {"numpy", "pydantic", "pyyaml"}  # ship with Pyodide
    assert not any(r.lower().startswith(("xlwings", "python-dotenv", "pyodide-http")) for r in reqs)
    readme = " ".join((LITE / "README.md").read_text(encoding="utf-8").split())
    assert "replace its content with the content of" not in readme
    assert "**add** the lines" in readme and "`# required`" in readme
    assert "Keep every existing line" in readme
    assert "**Restart**" in readme
    assert "have not been tried in Excel" in readme


def test_main_needs_only_the_listed_packages() -> None:
    source = _generator().generate()  # the modules are embedded as string literals
    imported = set(re.findall(r"(?:^|\\n)\s*(?:import|from) (numpy|pydantic|yaml)\b", source))
    assert imported == {"numpy", "pydantic", "yaml"}
    listed = {"pyyaml" if p == "yaml" else p for p in imported}
    reqs = (LITE / "requirements.txt").read_text().split()
    assert listed <= set(reqs)


@pytest.fixture(scope="module")
def lite_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("lite")
    (tmp / "xlwings").mkdir()
    (tmp / "xlwings" / "__init__.py").write_text(STUB)
    code = textwrap.dedent(
        f"""
        import json, sys
        sys.path[:0] = [{str(tmp)!r}, {str(LITE)!r}]
        platform, sys.platform = sys.platform, "emscripten"  # as under Pyodide, at import
        import main
        sys.platform = platform
        assert main.TRAIN_COST.__module__ == "xlcost.udfs" and sys.modules["xlcost.udfs"].LITE
        calls = json.loads(sys.stdin.read())
        out = {{
            "results": [getattr(main, name)(*args) for name, args in calls],
            "xlcost_file": sys.modules["xlcost"].__file__,
            "meta": {{n: {{"category": getattr(main, n).__xlfunc__.get("category"),
                          "args": getattr(main, n).__xlfunc__["args"]}} for n in main.__all__}},
        }}
        print(json.dumps(out))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code],
        input=json.dumps(CALLS),
        capture_output=True,
        text=True,
        cwd=tmp,
        check=True,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_main_imports_without_xlcost_installed(lite_run: dict[str, object]) -> None:
    assert str(ROOT / "xlcost") not in str(lite_run["xlcost_file"])


def test_same_results_as_xlcost_udfs_in_lite_mode(lite_run: dict[str, object]) -> None:
    expected = [udfs.to_excel(REGISTRY[name](*args), lite=True) for name, args in CALLS]
    assert lite_run["results"] == expected
    results = lite_run["results"]
    assert isinstance(results, list)
    assert results[0] == 480.0 and results[7] == 3.78  # the worked example, independently
    assert results[12:17] == ["#DIV/0!", "#NUM!", "#VALUE!", "#N/A", "#N/A"]
    assert results[17] == [[480.0], ["#NUM!"], ["#VALUE!"], [960.0]]
    assert results[18] == "#NUM!"


def test_lite_registers_every_function_with_its_arguments(lite_run: dict[str, object]) -> None:
    meta = lite_run["meta"]
    assert isinstance(meta, dict) and sorted(meta) == sorted(SPEC_SIGNATURES)
    for name, m in meta.items():
        assert m["category"] == "xlcost"
        assert sorted(m["args"]) == sorted(a for a, _ in SPEC_SIGNATURES[name])
        assert all(a["doc"] and a["ndim"] == 2 and a["err_to_str"] for a in m["args"].values())
