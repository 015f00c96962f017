"""``simopt repro list | NAME | all | gallery [--quick] [--out DIR] [--seed N]``: run the paper
reproductions (``simopt.paper_repro``), each of which checks its paper's claims and writes a figure and a
JSON report.

The exit code of ``simopt repro NAME`` or ``all`` is 0 exactly when every *paper* claim of the
reports written by the run came out as its report declares, and no reproduction crashed
(:func:`simopt.claims.report.exit_code`); checks of mathematics or code (kind ``identity``) are
reported beside them and do not count, neither in the exit code nor in "N/N reproduced".
"""
from __future__ import annotations

import importlib
import json
import os
import time

from .claims.outcome import fmt_interval
from .claims.report import exit_code, normalize_claim, tally


def _names():
    from .paper_repro import REPRODUCTIONS
    return REPRODUCTIONS


def _cell(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _variants_cell(c) -> str:
    if not c["variants"]:
        return "-"
    return "; ".join(f"{n}: {v.get('verdict', '?')}" for n, v in c["variants"].items())


def claims_table(doc) -> list:
    """Markdown rows of a report's claims: claim, kind, criterion, verdict, interval, variants,
    control, status (and the declared one when it differs)."""
    rows = ["| claim | kind | criterion | verdict | interval | variants | status |",
            "|---|---|---|---|---|---|---|"]
    for raw in doc.get("claims", []):
        c = normalize_claim(raw)
        status = f"**{c['overall']}**"
        if not c["as_declared"]:
            status += f" (declared {c['expected_status']})"
        elif c["overall"] != "HOLDS" and c["overall"] != "ROBUST":
            status += " (as declared)"
        var = _variants_cell(c)
        if c["control"]:
            var += f"; control {c['control'].get('name')}: {c['control'].get('verdict')}"
        rows.append(f"| {_cell(c['id'])} | {c['kind']} | {_cell(c['criterion'])} | {c['verdict']} | "
                    f"{fmt_interval(c['interval'])} | {_cell(var)} | {status} |")
    return rows


def _gallery_entry(n, figdir, docs) -> list:
    path = os.path.join(figdir, f"{n}.json")
    if not os.path.exists(path):
        return [f"#### {n}\n\n(no report yet: run `simopt repro {n}`)\n"]
    with open(path) as f:
        doc = json.load(f)
    docs.append(doc)
    mod = importlib.import_module(f"simopt.paper_repro.{n}")
    first = (mod.__doc__ or "").strip().splitlines()[0]
    lines = [f"#### {n} — {doc['title']}\n", f"*{doc['source']}.* {first}\n",
             f"![{n}]({figdir}/{n}.png)\n"]
    lines.extend(claims_table(doc))
    for raw in doc["claims"]:
        c = normalize_claim(raw)
        if c["reason"]:
            lines.append(f"\n*{c['id']} ({c['overall']}):* {c['reason']}")
    lines.append("")
    return lines


def _tally_line(t) -> str:
    by = ", ".join(f"{n} {k}" for k, n in sorted(t["paper_by_status"].items()))
    return (f"{t['paper_reproduced']}/{t['paper']} paper claims reproduced ({by}); "
            f"{t['identity']} identity check(s) of mathematics or code reported separately.")


def gallery_markdown(figdir="figures") -> str:
    """The README's gallery section, made from the reports the reproductions wrote into ``figdir``:
    one subsection per entry of ``simopt.paper_repro.GALLERIES`` (the seed papers, the later theory),
    each closed by its own tally, and a total over all of them."""
    from .paper_repro import GALLERIES
    lines, every = [], []
    listed = [n for names in GALLERIES.values() for n in names]
    sections = dict(GALLERIES)
    rest = [n for n in _names() if n not in listed]
    if rest:
        sections["Other reproductions"] = tuple(rest)
    for title, names in sections.items():
        docs = []
        lines.append(f"### {title}\n")
        for n in names:
            lines.extend(_gallery_entry(n, figdir, docs))
        t = tally(docs)
        lines.append(f"*{title}:* {_tally_line(t)}\n")
        every.extend(docs)
    t = tally(every)
    lines.append(f"In all: {_tally_line(t)}")
    return "\n".join(lines)


def _stamp(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _read_report(path, before):
    """The report at ``path`` if it was written since ``before`` (its stamp then), else ``None``."""
    now = _stamp(path)
    if now is None or now == before:
        return None
    with open(path) as f:
        return json.load(f)


def summary_lines(docs, crashed=()) -> list:
    """The closing lines of a run: paper claims reproduced and as declared, identity checks, and
    what is not as declared."""
    t = tally(docs)
    out = [f"{t['paper_reproduced']}/{t['paper']} paper claims reproduced (ROBUST or HOLDS); "
           f"{t['paper_as_declared']}/{t['paper']} as their reports declare; "
           f"identity checks: {t['identity_as_declared']}/{t['identity']} as declared"]
    for rep, cid, obs, exp in t["paper_not_as_declared"]:
        out.append(f"  NOT AS DECLARED (paper): {rep}: {cid}: {obs}, declared {exp}")
    for rep, cid, obs, exp in t["identity_not_as_declared"]:
        out.append(f"  not as declared (identity, not counted): {rep}: {cid}: {obs}, declared {exp}")
    for n in crashed:
        out.append(f"  CRASHED or wrote no report: {n}")
    return out


def _run(args) -> int:
    names = _names()
    if args.out is None:
        args.out = "figures/quick" if args.quick else "figures"
    if args.target == "gallery":
        print(gallery_markdown(args.out))
        return 0
    if args.target == "list":
        for n in names:
            mod = importlib.import_module(f"simopt.paper_repro.{n}")
            print(f"{n:28s} {(mod.__doc__ or '').strip().splitlines()[0]}")
        return 0
    todo = names if args.target == "all" else [args.target]
    if args.target not in ("all",) and args.target not in names:
        from .cli import CLIError
        raise CLIError(f"repro: unknown reproduction {args.target!r}; expected list, all, gallery "
                       f"or one of: {', '.join(names)}")
    extra = (["--quick"] if args.quick else []) + ["--out", args.out]
    if args.seed is not None:
        extra += ["--seed", str(args.seed)]
    docs, crashed = [], []
    for n in todo:
        t = time.perf_counter()
        path = os.path.join(args.out, f"{n}.json")
        before = _stamp(path)
        ok = True
        try:
            importlib.import_module(f"simopt.paper_repro.{n}").main(extra)
        except Exception as e:  # a crash is a failed reproduction, the others still run
            print(f"{n}: crashed: {type(e).__name__}: {e}")
            ok = False
        doc = _read_report(path, before)
        if doc is None or not ok:
            crashed.append(n)
        if doc is not None:
            docs.append(doc)
        print(f"  ({time.perf_counter() - t:.1f} s)")
    for line in summary_lines(docs, crashed):
        print(line)
    return exit_code(docs, crashed)


def register(sub):
    from .paper_repro import REPRODUCTIONS
    p = sub.add_parser(
        "repro", help="reproduce the papers' figures and check their claims",
        description="Run one reproduction or all of them: each writes <name>.png/.pdf/.json into "
                    "--out and prints every claim with its verdict, interval and status.  Exit status "
                    "0 exactly when every paper claim comes out as its report declares, 1 otherwise, 2 "
                    "for misuse.\n\nReproductions: " + ", ".join(REPRODUCTIONS) + ".")
    p.add_argument("target", metavar="TARGET",
                   help="'list' (name and one line each), 'all', a reproduction name, or 'gallery' "
                        "(print the README's gallery section from the reports in --out)")
    p.add_argument("--quick", action="store_true", help="CI size (each well under a minute)")
    p.add_argument("--out", default=None,
                   help="output directory (default figures/, or figures/quick/ with --quick so the "
                        "gallery's full-size figures are not overwritten)")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="base seed of the problems and runs (default: each script's own)")
    p.set_defaults(func=_run)
