"""Import contracts between ledgerbridge's layers, read from the source.

* `domain` decides; it imports no framework, database or HTTP library and
  nothing of ledgerbridge outside itself.
* `sync` may use `domain` and itself, and the same libraries are banned.
* `sandbox` (the Exact simulator) imports nothing of ledgerbridge outside
  itself, so it cannot inherit the service's payload bugs.

Relative imports and `importlib.import_module("...")`/`__import__("...")`
with a literal name count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "src" / "ledgerbridge"

BANNED_LIBRARIES = frozenset(
    {
        "sqlalchemy",
        "httpx2",
        "httpx",
        "fastapi",
        "starlette",
        "alembic",
        "psycopg",
        "typer",
    }
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module named by an import in `source`, relative ones resolved.

    `from a import b` yields both `a` and `a.b`, since `b` may be a module.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and _is_dynamic_import(node.func)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _is_within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def forbidden_imports(
    layer: str, allowed: tuple[str, ...], ban_libraries: bool
) -> list[str]:
    """`file: module` for each import that breaks the layer's contract."""
    breaches = []
    for path in sorted((PACKAGE_ROOT / layer).rglob("*.py")):
        module = _module_name(path)
        names = imported_modules(
            path.read_text(encoding="utf-8"), module, path.name == "__init__.py"
        )
        for name in sorted(names):
            top = name.partition(".")[0]
            if (ban_libraries and top in BANNED_LIBRARIES) or (
                top == "ledgerbridge" and not _is_within(name, allowed)
            ):
                breaches.append(f"{path.relative_to(PACKAGE_ROOT)}: {name}")
    return breaches


def _require(layer: str) -> None:
    if not (PACKAGE_ROOT / layer).is_dir():
        pytest.skip(f"src/ledgerbridge/{layer} does not exist yet")


def test_architecture_domain_imports_no_framework_and_no_outer_layer():
    _require("domain")

    breaches = forbidden_imports(
        "domain", allowed=("ledgerbridge.domain",), ban_libraries=True
    )

    assert not breaches, "imports that break the contract:\n" + "\n".join(breaches)


def test_architecture_sync_imports_only_domain_and_itself():
    _require("sync")

    breaches = forbidden_imports(
        "sync",
        allowed=("ledgerbridge.domain", "ledgerbridge.sync"),
        ban_libraries=True,
    )

    assert not breaches, "imports that break the contract:\n" + "\n".join(breaches)


def test_architecture_sandbox_imports_nothing_of_ledgerbridge():
    _require("sandbox")

    breaches = forbidden_imports(
        "sandbox", allowed=("ledgerbridge.sandbox",), ban_libraries=False
    )

    assert not breaches, "imports that break the contract:\n" + "\n".join(breaches)


# The checker itself must see what it is meant to forbid.


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sqlalchemy.orm", "sqlalchemy.orm"),
        ("from httpx2 import Client", "httpx2"),
        ("from ledgerbridge.storage import tables", "ledgerbridge.storage"),
        ("from ledgerbridge import wiring", "ledgerbridge.wiring"),
        ("from ..storage import tables", "ledgerbridge.storage"),
        ("from .. import settings", "ledgerbridge.settings"),
        ("from . import money", "ledgerbridge.domain.money"),
        ("importlib.import_module('fastapi')", "fastapi"),
        ("__import__('typer')", "typer"),
        ("def f():\n    import psycopg\n", "psycopg"),
    ],
)
def test_imported_modules_finds_every_spelling(source, expected):
    assert expected in imported_modules(source, "ledgerbridge.domain.vat", False)


def test_imported_modules_relative_from_package_init():
    found = imported_modules("from .vat import spread", "ledgerbridge.domain", True)

    assert "ledgerbridge.domain.vat" in found


def test_is_within_does_not_match_a_prefix_of_a_name():
    assert _is_within("ledgerbridge.domain.vat", ("ledgerbridge.domain",))
    assert not _is_within("ledgerbridge.domainx", ("ledgerbridge.domain",))


# The web pages read through `queries/` and act through use cases.

PAGE_SQL_CALLS = frozenset({"execute", "scalars", "scalar", "query", "get_bind"})
ALLOWED_SQLALCHEMY = frozenset({"sqlalchemy.orm", "sqlalchemy.orm.Session"})


def page_breaches(source: str, name: str) -> list[str]:
    """What in a page module runs SQL or HTTP of its own: a session's query
    methods, SQLAlchemy beyond the `Session` type, or a call into httpx2
    (its exception types may be caught). `runner.execute(run_id)` is the
    sync engine's use case, not SQL."""
    breaches = []
    module = f"ledgerbridge.web.pages.{name}"
    for imported in sorted(imported_modules(source, module, False)):
        if imported.partition(".")[0] == "sqlalchemy" and (
            imported not in ALLOWED_SQLALCHEMY
        ):
            breaches.append(f"{name}: imports {imported}")
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        target = node.func.value
        runs_a_run = isinstance(target, ast.Name) and target.id == "runner"
        if node.func.attr in PAGE_SQL_CALLS and not runs_a_run:
            breaches.append(f"{name}:{node.lineno}: .{node.func.attr}(...)")
        if isinstance(target, ast.Name) and target.id == "httpx2":
            breaches.append(f"{name}:{node.lineno}: httpx2.{node.func.attr}(...)")
    return breaches


def test_architecture_pages_run_no_sql_and_no_http_of_their_own():
    breaches = []
    for path in sorted((PACKAGE_ROOT / "web" / "pages").glob("*.py")):
        breaches += page_breaches(path.read_text(encoding="utf-8"), path.stem)

    assert not breaches, "pages doing a query's or a client's work:\n" + "\n".join(
        breaches
    )


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select",
        "def f(session):\n    return session.scalars(q)",
        "def f(session):\n    session.execute(q)",
        "import httpx2\ndef f():\n    httpx2.get('http://x')",
    ],
)
def test_page_breaches_are_seen(source):
    assert page_breaches(source, "example")


def test_page_may_name_the_session_type_and_catch_http_errors():
    source = (
        "import httpx2\nfrom sqlalchemy.orm import Session\n"
        "def f(session: Session, runner):\n    try:\n        runner.execute(1)\n"
        "    except httpx2.HTTPError:\n        pass\n"
    )
    assert page_breaches(source, "example") == []
