"""The package's shape, as the design asks: one way through, and functions a reader can hold."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sdgen"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.rsplit(".", 1)[-1])
        elif isinstance(node, ast.Import):
            names.update(alias.name.rsplit(".", 1)[-1] for alias in node.names)
    return names


def test_only_the_cli_and_the_library_api_import_the_runner() -> None:
    importers = {p.name for p in MODULES if "runner" in _imported(_tree(p))}
    assert importers <= {"cli.py", "api.py"}, importers


def test_no_function_but_the_argument_parser_is_longer_than_80_lines() -> None:
    long = []
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80 and (path.name, node.name) != ("cli.py", "_parser"):
                    long.append(f"{path.name}:{node.name} ({length} lines)")
    assert not long


def test_the_output_budget_is_decided_in_one_function() -> None:
    """No min() over a max_tokens outside prompt.output_budget."""
    found = []
    for path in MODULES:
        tree = _tree(path)
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "min" and "max_tokens" in ast.unparse(node)):
                    found.append(f"{path.name}:{func.name}")
    assert found == ["prompt.py:output_budget"]


def test_every_error_class_is_drawn_in_the_error_tree() -> None:
    doc = ast.get_docstring(_tree(PACKAGE / "errors.py")) or ""
    classes = [n.name for n in ast.walk(_tree(PACKAGE / "errors.py"))
               if isinstance(n, ast.ClassDef)]
    assert classes and all(name in doc for name in classes)
    # Every exception the package defines is of the one tree, and is drawn in errors.py.
    elsewhere = [f"{p.name}:{n.name}" for p in MODULES if p.name != "errors.py"
                 for n in ast.walk(_tree(p)) if isinstance(n, ast.ClassDef)
                 and any(ast.unparse(b) in classes for b in n.bases)]
    assert not elsewhere, "define sdgen's errors in errors.py"
    raised_bare = [f"{p.name}:{n.lineno}" for p in MODULES for n in ast.walk(_tree(p))
                   if isinstance(n, ast.Raise) and n.exc is not None
                   and isinstance(n.exc, ast.Call) and ast.unparse(n.exc.func) == "SdgenError"]
    assert not raised_bare


def test_importing_the_command_line_loads_no_heavy_module() -> None:
    """`sdgen --version`, `--help` and argument errors start in a few times Python's own start."""
    import subprocess
    import sys

    heavy = ["pydantic", "jinja2", "markdown_it", "rich", "openai", "anthropic", "yaml",
             "mdformat", "py_mini_racer", "httpx", "typing"]
    code = ("import sys, sdgen, sdgen.cli, sdgen.__main__; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
