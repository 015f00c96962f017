"""Citations of the reference notes (``theory_notes.md §2B``, ``seed_math.md §4``) in docstrings and
CLI help: how they are parsed, which section of which page they point to, and a Sphinx extension
that turns them into links in the API reference.

A citation is ``<document>[.md] §<section>[<letter>]``, where ``<document>`` is ``theory_notes`` or
``seed_math``; a letter range (``§2B–D``, ``§2A–E``, ``§3 F–G``) cites every section in it.  A ``§``
without a document name cites the document named last before it in the same text (``theory_notes.md
§2A ... §2B``); one with no document named before it does not resolve.

Each section of a notes page carries a MyST label ``(<document>-<section><letter>)=`` before its
heading (``theory_notes-2b``), so a citation resolves exactly when that label exists.
"""
from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent

#: the notes' document names and their pages in docs/
NOTES = {"theory_notes": "theory_notes.md", "seed_math": "seed_math.md"}

_DOC = r"(?P<doc>theory_notes|seed_math)(?:\.md)?[\s,]*"
_SEC = r"§\s?(?P<num>\d+)(?:\s?(?P<a>[A-Z])(?:\s?[–-]\s?(?P<b>[A-Z]))?)?(?![A-Za-z])"
CITATION = re.compile(rf"(?:{_DOC})?{_SEC}")
LABEL = re.compile(r"^\((?P<label>[\w.-]+)\)=\s*$", re.M)


def label(doc: str, num: str, letter: str | None = None) -> str:
    return f"{doc}-{num}{(letter or '').lower()}"


def citations(text: str):
    """Yield ``(matched text, document or None, [labels])`` for every citation in ``text``."""
    current = None
    for m in CITATION.finditer(text):
        doc = m.group("doc") or current
        if m.group("doc"):
            current = m.group("doc")
        if doc is None:
            yield m.group(0), None, []
            continue
        a, b = m.group("a"), m.group("b")
        letters = [None] if a is None else [chr(c) for c in range(ord(a), ord(b or a) + 1)]
        yield m.group(0), doc, [label(doc, m.group("num"), x) for x in letters]


def page_labels() -> set:
    """Every ``(label)=`` of the notes pages."""
    out = set()
    for page in NOTES.values():
        out.update(LABEL.findall((DOCS / page).read_text(encoding="utf-8")))
    return out


def _link_line(line: str, state: dict) -> str:
    parts = re.split(r"(``.*?``|`[^`]*`)", line)  # leave literals, roles and math alone
    for i in range(0, len(parts), 2):
        def repl(m):
            doc = m.group("doc") or state.get("doc")
            if m.group("doc"):
                state["doc"] = m.group("doc")
            if doc is None:
                return m.group(0)
            text = m.group(0).rstrip(" ,")
            tail = m.group(0)[len(text):]
            target = label(doc, m.group("num"), m.group("a"))
            return f":ref:`{text} <{target}>`{tail}"
        parts[i] = CITATION.sub(repl, parts[i])
    return "".join(parts)


def _process_docstring(app, what, name, obj, options, lines):
    state: dict = {}
    for i, line in enumerate(lines):
        lines[i] = _link_line(line, state)


def setup(app):
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
