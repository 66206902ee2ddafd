"""The architecture holds: layers import one way (import-linter) and no package reaches into another's privates."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SOURCE = REPO / "src" / "monoculture"


def test_layers_import_one_way():
    # The contract is in pyproject.toml ([tool.importlinter]); lint-imports exits non-zero on a broken one.
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, importer: str, is_package: bool) -> list[str]:
    """Every module (or module attribute) an importer names, resolved to absolute dotted names."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = importer.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names += [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in names if name.startswith("monoculture")]


def _private_owner(name: str) -> str | None:
    """The package that owns the first private part of a dotted name (``a.b._c.d`` -> ``a.b``), if any."""
    parts = name.split(".")
    for index, part in enumerate(parts[1:], start=1):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:index])
    return None


def test_no_package_imports_another_packages_private_modules():
    offences = []
    for path in sorted(SOURCE.rglob("*.py")):
        importer = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imported(tree, importer, path.name == "__init__.py"):
            owner = _private_owner(name)
            if owner is not None and not (importer == owner or importer.startswith(owner + ".")):
                offences.append(f"{importer} imports {name}")
            # The CLI calls the public API: nothing private of the root package (monoculture._run, ._api).
            if importer.startswith("monoculture.cli") and owner == "monoculture":
                offences.append(f"{importer} imports {name}")
    assert offences == []


def test_the_checker_sees_a_private_import():
    # The check above must be able to fail: a module outside tasks naming tasks._contract is an offence.
    tree = ast.parse("from monoculture.tasks._contract import Task\nfrom monoculture.tasks import _registry\n")
    names = _imported(tree, "monoculture.report._html", False)
    assert [_private_owner(n) for n in names] == ["monoculture.tasks", "monoculture.tasks"]
    assert _private_owner("monoculture.tasks.colour") is None


def test_the_summary_schema_document_is_generated_from_the_models():
    from monoculture.analysis._schema import schema_markdown

    document = (REPO / "docs" / "summary-schema.md").read_text(encoding="utf-8")
    assert document == schema_markdown(), "run: python -m monoculture.analysis._schema > docs/summary-schema.md"
    for name in ("ColourResult", "ConceptResult", "Accounting", "Repeats", "Alarm", "ModelRecord"):
        assert f"### {name}\n" in document


def test_the_replication_schema_document_is_generated_from_the_models():
    from monoculture.replicate._schema import schema_markdown

    document = (REPO / "docs" / "replication-schema.md").read_text(encoding="utf-8")
    assert document == schema_markdown(), "run: python -m monoculture.replicate._schema > docs/replication-schema.md"
    for name in ("Replication", "ReplicatedCell", "FamilyVerdict", "RecipeVerdict"):
        assert f"### {name}\n" in document
