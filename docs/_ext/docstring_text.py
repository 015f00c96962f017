"""Docstrings are written as plain text with light reST: this makes two plain-text habits valid
reST before the docstring is parsed, without changing what it says.

* ``|g|`` (an absolute value or a norm) would be a reST substitution reference: its bars are
  escaped, outside literals, roles and math;
* a bullet list that follows a paragraph line directly gets the blank line reST needs before it.
"""
from __future__ import annotations

import re

_LITERAL = re.compile(r"(``.*?``|:\w+:`[^`]*`|`[^`]*`)")


def _escape_bars(line: str) -> str:
    if line.lstrip().startswith(("|", "+-", "+=")):  # a line block or a table
        return line
    parts = _LITERAL.split(line)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"(?<!\\)\|", r"\\|", parts[i])
    return "".join(parts)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_bullet(line: str) -> bool:
    return line.lstrip().startswith(("- ", "* "))


def fix_lines(lines: list) -> list:
    out = []
    for line in lines:
        if (_is_bullet(line) and out and out[-1].strip() and not _is_bullet(out[-1])
                and _indent(out[-1]) <= _indent(line)):
            out.append("")
        out.append(_escape_bars(line))
    return out


def _process(app, what, name, obj, options, lines):
    lines[:] = fix_lines(lines)


def setup(app):
    app.connect("autodoc-process-docstring", _process, priority=400)  # before numpydoc parses it
    return {"parallel_read_safe": True, "parallel_write_safe": True}
