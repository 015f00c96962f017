"""The documentation: every citation of the reference notes in a docstring or in the CLI help
resolves to a section of a notes page, and every docstring example runs."""
import argparse
import doctest
import importlib
import inspect
import os
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import notes_refs  # noqa: E402  (docs/_ext/notes_refs.py: the parser the Sphinx build uses)

import simopt  # noqa: E402
import simopt.paper_repro  # noqa: E402
from simopt.cli import build_parser  # noqa: E402


def _modules():
    names = ["simopt"]
    for pkg in (simopt, simopt.paper_repro):
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
    return [importlib.import_module(n) for n in sorted(set(names))]


MODULES = _modules()


def _docstrings():
    """``(where, text)`` of every docstring defined in simopt's modules (functions, classes,
    methods, properties), and of every parser of the command line."""
    seen = set()
    for mod in MODULES:
        yield mod.__name__, mod.__doc__ or ""
        for name, obj in vars(mod).items():
            if getattr(obj, "__module__", None) != mod.__name__ or id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{mod.__name__}.{name}", inspect.getdoc(obj) or ""
            if inspect.isclass(obj):
                for mname, m in vars(obj).items():
                    doc = getattr(m, "__doc__", None) if not isinstance(m, (str, int, float)) else None
                    if doc and (inspect.isfunction(m) or isinstance(m, (property, classmethod,
                                                                          staticmethod))):
                        yield f"{mod.__name__}.{name}.{mname}", doc

    def walk(parser, path):
        yield " ".join(path) + " --help", parser.format_help()
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    yield from walk(sub, path + [name])
    yield from walk(build_parser(), ["simopt"])


DOCSTRINGS = list(_docstrings())
CITED = [(where, text) for where, text in DOCSTRINGS if "§" in text]


def test_the_scan_sees_the_citations():
    assert len(CITED) > 30                            # docstrings + CLI help that cite the notes
    assert any(w == "simopt bounds --help" for w, _ in CITED)


def test_notes_pages_have_a_label_per_section():
    labels = notes_refs.page_labels()
    for doc, page in notes_refs.NOTES.items():
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        n_sections = text.count("\n## ")
        assert n_sections >= 5
        assert sum(1 for lab in labels if lab.startswith(doc + "-")) >= n_sections


@pytest.mark.parametrize("where,text", CITED, ids=[w for w, _ in CITED])
def test_every_citation_resolves_to_a_notes_section(where, text):
    labels = notes_refs.page_labels()
    for cited, doc, targets in notes_refs.citations(text):
        assert doc is not None, f"{where}: {cited!r} names no document (theory_notes.md / seed_math.md)"
        for t in targets:
            assert t in labels, f"{where}: {cited!r} -> no section {t} in docs/{notes_refs.NOTES[doc]}"


def test_cli_help_names_the_document_of_every_citation():
    for where, text in CITED:
        if where.endswith("--help"):
            for cited, doc, _ in notes_refs.citations(text):
                assert cited.startswith(("theory_notes", "seed_math")), (where, cited)


def test_citation_parser():
    got = list(notes_refs.citations("see theory_notes.md §2B–D and §3 F, seed_math.md §4; §5"))
    assert got[0][2] == ["theory_notes-2b", "theory_notes-2c", "theory_notes-2d"]
    assert got[1][2] == ["theory_notes-3f"]
    assert got[2][2] == ["seed_math-4"] and got[3][2] == ["seed_math-5"]
    assert list(notes_refs.citations("only §2A"))[0][1] is None


# -- docstring examples ---------------------------------------------------------------------------

EXAMPLES = [(m, t) for m in MODULES for t in doctest.DocTestFinder(exclude_empty=True).find(m)
            if t.examples]


def test_there_are_docstring_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("mod,test", EXAMPLES, ids=[t.name for _, t in EXAMPLES])
def test_docstring_examples_run(mod, test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


def test_examples_dir_is_not_cited_as_documentation():
    for where, text in DOCSTRINGS:
        assert "see examples/" not in text and "see simopt/sweep/spec.py" not in text, where
    assert "simopt/sweep/spec.py" not in (ROOT / "examples" / "sweep_grids.toml").read_text()
    assert os.path.exists(ROOT / "docs" / "sweep_spec.md")
