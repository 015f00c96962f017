"""Sphinx configuration of simopt's documentation (build: ``sphinx-build -W -b html docs docs/_build``).

Pages generated at build time (not committed): ``gallery.md`` from the reproductions' JSON reports
in ``figures/``, ``cli.md`` from the command line's help texts and ``rules_api.rst`` (one section per
module of ``simopt/optim/rules``).  Citations of the reference notes
in docstrings (``theory_notes.md §2B``) become links to the notes' sections (``_ext/notes_refs.py``).
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))

import simopt  # noqa: E402

project = "simopt"
author = "the simopt authors"
copyright = "simopt authors, MIT licence"
release = version = simopt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx.ext.mathjax",
    "myst_parser",
    "docstring_text",
    "notes_refs",
    "api_refs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "README.md", "_ext", "rules_api.rst"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# every reference to a Python object must resolve: a docstring that names a missing function fails -W
nitpicky = True
nitpick_ignore_regex = [
    # third-party and builtin types named in docstrings and signatures (no intersphinx offline)
    (r"py:.*", r"(np|numpy|pd|pandas|matplotlib|scipy|numba|distributed|dask|pyarrow|optax|torch|jax)(\..*)?"),
    (r"py:.*", r"(argparse|tomllib|json|zipfile|concurrent|multiprocessing|threading)(\..*)?"),
    (r"py:.*", r"(Path|pathlib\..*|os\.PathLike|callable|optional|array_like|array-like)"),
    (r"py:class", r"(int|float|str|bool|dict|list|tuple|None|object|bytes|type)"),
    (r"py:class", r"simopt\.optim\.rule\._Def"),   # the private base of RuleDef and Wrapper
]
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

html_theme = "alabaster"
html_title = f"simopt {release}"
html_static_path = []


def _gallery() -> str:
    from simopt.repro_cli import gallery_markdown
    figdir = ROOT / "figures"
    body = gallery_markdown(str(figdir)).replace(str(figdir), "../figures")
    # the README's sections (###) and entries (####) one level up, under this page's title
    body = "\n".join(line[1:] if line.startswith(("### ", "#### ")) else line
                     for line in body.splitlines())
    return ("# Gallery of reproductions\n\n"
            "Every reproduction is a script in `simopt.paper_repro` (the repository's "
            "`paper_repro/` folder) that uses only the public API, writes "
            "`figures/<name>.png/.pdf/.json` and checks its paper's claims, each stated as a number "
            "with a threshold fixed in advance.  A claim is **PASS**, **FAIL**, or **XFAIL** (checked, "
            "did not reproduce under the stated settings, kept as a finding with its explanation).  "
            "This page is generated from the committed reports in `figures/*.json`; run one with "
            "`simopt repro NAME` (`--quick` for the CI size).\n\n" + body + "\n")


def _cli() -> str:
    import argparse

    from simopt.cli import build_parser
    out = ["# Command line\n",
           "The `simopt` command is installed with the package.  Every command prints one line "
           "`simopt: error: ...` and exits with status 2 when it is misused; set `SIMOPT_DEBUG=1` "
           "to see the traceback instead.  This page is generated from the help texts.\n"]

    def walk(parser, path):
        out.append(f"\n{'#' * min(len(path) + 1, 3)} `{' '.join(path)}`\n")
        out.append("```text\n" + parser.format_help().rstrip() + "\n```\n")
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    walk(sub, path + [name])
    os.environ.setdefault("COLUMNS", "100")
    walk(build_parser(), ["simopt"])
    return "\n".join(out)


def _rules_api() -> str:
    """One automodule per built-in rule module (``simopt/optim/rules/*.py``): a new rule is documented
    without editing the docs."""
    import pkgutil

    import simopt.optim.rules as rules
    out = [".. automodule:: simopt.optim.rules\n   :no-members:\n"]
    for m in sorted(pkgutil.iter_modules(rules.__path__), key=lambda m: m.name):
        out.append(f".. automodule:: simopt.optim.rules.{m.name}\n   :members:\n")
    return "\n".join(out)


def _write_if_changed(path: Path, text: str):
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _generate(app):
    _write_if_changed(HERE / "gallery.md", _gallery())
    _write_if_changed(HERE / "cli.md", _cli())
    _write_if_changed(HERE / "rules_api.rst", _rules_api())


def setup(app):
    app.connect("builder-inited", _generate)
