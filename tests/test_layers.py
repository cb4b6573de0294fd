"""The code's shape, checked on every run: layer contracts (import-linter) and small modules and functions.

* Layers (contracts in pyproject.toml): ``core``, ``services`` and ``sandbox`` never import Qt; widgets reach
  the Sandbox, Google's SDKs and the keyring only through ``services``; ``qtcore`` reaches the Sandbox only
  through ``services``; ``core`` imports nothing of ours above it; ``ui`` → ``qtcore`` → ``services`` → ``core``.
* Size: no module over 500 lines and no function over 80 lines, except a function whose body is one
  literal table (a declarative table reads best in one piece).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gemtune_desktop"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def test_the_layer_contracts_are_kept() -> None:
    run = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                                                "sys.exit(lint_imports_command())"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def _is_table(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Return) and \
        isinstance(body[0].value, ast.Dict | ast.List | ast.Tuple | ast.Set)


def test_modules_and_functions_stay_small() -> None:
    too_long: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        lines = text.count("\n") + 1
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{rel}: {lines} lines (at most {MAX_MODULE_LINES}: split it by role)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and not _is_table(node):
                    too_long.append(f"{rel}:{node.lineno} {node.name}(): {length} lines (at most {MAX_FUNCTION_LINES})")
    assert not too_long, "\n".join(too_long)


def test_the_size_check_would_notice(tmp_path: Path) -> None:
    long_function = "def f():\n" + "    x = 1\n" * 90
    tree = ast.parse(long_function)
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef) and node.end_lineno is not None
    assert node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES and not _is_table(node)
    table = "def g():\n    return {\n" + "        'k': 1,\n" * 90 + "    }\n"
    node = ast.parse(table).body[0]
    assert isinstance(node, ast.FunctionDef) and _is_table(node)


def test_no_product_module_is_named_like_a_test() -> None:
    """pytest collects, and grep for tests finds, any ``test_*.py`` or ``*_test.py``: product code never is."""
    named = sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                   if p.name.startswith("test_") or p.name.endswith("_test.py"))
    assert named == []
