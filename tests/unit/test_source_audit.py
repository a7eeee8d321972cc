"""Security properties of the source itself (issue 8): every SQL statement binds its
parameters, and nothing from chain data or config is evaluated or handed to a shell.

These read the code: a new f-string SQL statement, `eval`, or `shell=True` fails here, and the
behavioural test next to it (a hostile --axis / --market) checks the binding where it runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scanner.devnet.toolchain import project_root

SOURCES = sorted((project_root() / "scanner").rglob("*.py"))
# SQLAlchemy entry points that take raw SQL text; only constants may reach them.
RAW_SQL_CALLS = {"text", "exec_driver_sql", "execute", "executescript", "literal_column"}
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}  # called by bare name
FORBIDDEN_METHODS = {"system", "popen", "getoutput", "getstatusoutput"}  # os., subprocess.


def _calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _is_built_string(node: ast.expr) -> bool:
    """An f-string, `%` or `+` on strings, or str.format(): SQL built from values."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(project_root())))
def test_no_sql_built_from_values(path: Path) -> None:
    for call in _calls(path):
        if _name(call) in RAW_SQL_CALLS and call.args:
            assert not _is_built_string(call.args[0]), (
                f"{path.name}:{call.lineno}: SQL text built from values: bind parameters")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(project_root())))
def test_nothing_is_evaluated_or_given_to_a_shell(path: Path) -> None:
    for call in _calls(path):
        bare = isinstance(call.func, ast.Name)
        forbidden = FORBIDDEN_BUILTINS if bare else FORBIDDEN_METHODS
        assert _name(call) not in forbidden, f"{path.name}:{call.lineno}: {_name(call)}()"
        for keyword in call.keywords:
            if keyword.arg == "shell":
                assert isinstance(keyword.value, ast.Constant) and keyword.value.value is False, (
                    f"{path.name}:{call.lineno}: shell=True")
    text = path.read_text()
    assert "pickle" not in text and "yaml.load(" not in text, path.name


def test_the_audit_sees_a_violation(tmp_path: Path) -> None:
    """The checks above can fail: they flag these lines."""
    bad = tmp_path / "bad.py"
    bad.write_text('conn.execute(text(f"SELECT * FROM t WHERE a = {a}"))\n'
                   'subprocess.run(cmd, shell=True)\neval(answer)\n')
    calls = _calls(bad)
    assert any(_name(c) == "text" and _is_built_string(c.args[0]) for c in calls)
    assert any(_name(c) == "eval" for c in calls)
    assert any(k.arg == "shell" and getattr(k.value, "value", None) is True
               for c in calls for k in c.keywords)
