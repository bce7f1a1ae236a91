"""The package's shape, as the design asks: folders that are the pipeline's stages, data flowing
down through them in pipeline order, private modules behind each folder's public names, one way
through, and functions a reader can hold."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sdgen"
MODULES = sorted(PACKAGE.rglob("*.py"))

# The stages, in pipeline order: a module imports only from its own stage and those before it.
# The base (errors, files, memory, version, logs) is below every stage; config sits where the
# settings are first needed.
STAGES = ["markdown", "compose", "providers", "budget", "config", "check", "repair", "vault", "run",
          "site", "api", "_logs", "cli", "__init__", "__main__"]
BASE = {"errors", "_files", "_memory", "_version"}
PACKAGES = [p.name for p in sorted(PACKAGE.iterdir()) if (p / "__init__.py").is_file()]
# Modules still over the size a reader can hold (issue 21 splits them); none may join them, and
# none of them may grow.
TOO_LONG_TODAY = {"check/_validate.py": 430}


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


def _where(path: Path) -> list[str]:
    """A module's place: ["vault", "_notes"], ["api"]."""
    return list(path.relative_to(PACKAGE).with_suffix("").parts)


def _sdgen_imports(path: Path) -> list[list[str]]:
    """Each module of sdgen a file imports from, as its parts under sdgen."""
    here = _where(path)
    found = []
    for node in ast.walk(_tree(path)):
        if not isinstance(node, ast.ImportFrom) or (node.module is None and not node.level):
            continue
        if node.level:
            base = here[:-1][:len(here) - node.level]
            found.append([*base, *(node.module or "").split(".")] if node.module else base)
        elif node.module and node.module.split(".")[0] == "sdgen":
            found.append(node.module.split(".")[1:])
    return [f for f in found if f]


def _stage(parts: list[str]) -> str:
    return parts[0]


def test_data_flows_down_the_stages_with_no_import_from_a_later_one() -> None:
    backwards = []
    for path in MODULES:
        mine = _stage(_where(path))
        for target in _sdgen_imports(path):
            theirs = _stage(target)
            if theirs in BASE or (mine in BASE and theirs == mine):
                continue
            assert mine not in BASE or theirs in BASE, f"{path}: the base imports {target}"
            if mine in STAGES and theirs in STAGES and STAGES.index(theirs) > STAGES.index(mine):
                backwards.append(f"{'/'.join(_where(path))} -> {'.'.join(target)}")
    assert not backwards


def test_a_folder_is_reached_through_its_public_names() -> None:
    """No module imports another folder's private module (the SDK providers load by their entry
    points, not by import)."""
    private = []
    for path in MODULES:
        mine = _where(path)
        for target in _sdgen_imports(path):
            if len(target) > 1 and target[1].startswith("_") and target[0] != mine[0]:
                private.append(f"{'/'.join(mine)} -> {'.'.join(target)}")
    assert not private


def test_each_folder_says_its_job_and_lists_its_public_names() -> None:
    for name in PACKAGES:
        face = PACKAGE / name / "__init__.py"
        assert ast.get_docstring(_tree(face)), f"{name}/__init__.py: say what the stage does"
        module = importlib.import_module(f"sdgen.{name}")
        assert module.__all__ and all(hasattr(module, n) for n in module.__all__), name
        modules = [p for p in (PACKAGE / name).glob("*.py") if p.name != "__init__.py"]
        assert all(p.name.startswith("_") for p in modules), f"{name}: modules are private"
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top - BASE == {"__init__", "__main__", "_logs", "api", "config"}


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    long = {}
    for path in MODULES:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        name = "/".join(path.relative_to(PACKAGE).parts)
        if lines > max(400, TOO_LONG_TODAY.get(name, 0)):
            long[name] = lines
    assert not long


def test_only_the_cli_and_the_library_api_start_a_run() -> None:
    importers = {"/".join(_where(p)) for p in MODULES if "_runner" in _imported(_tree(p))}
    assert importers == {"run/__init__"}, importers
    callers = {"/".join(_where(p)) for p in MODULES if _where(p)[0] != "run"
               and "run_jobs" in ast.unparse(_tree(p))}
    assert callers <= {"cli", "api"}, callers


def test_no_function_but_the_argument_parser_is_longer_than_80_lines() -> None:
    long = []
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80 and (path.name, node.name) != ("_arguments.py", "build_parser"):
                    long.append(f"{path.name}:{node.name} ({length} lines)")
    assert not long


def test_the_output_budget_is_decided_in_one_function() -> None:
    """No min() over a max_tokens outside compose._prompt.output_budget."""
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
    assert found == ["_prompt.py:output_budget"]


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
