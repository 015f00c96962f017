"""``simopt repro list | NAME | all | gallery [--quick] [--out DIR] [--seed N]``: run the paper
reproductions (``simopt.paper_repro``), each of which checks its paper's claims and writes a figure
and a JSON report."""
from __future__ import annotations

import importlib
import time


def _names():
    from .paper_repro import REPRODUCTIONS
    return REPRODUCTIONS


def gallery_markdown(figdir="figures") -> str:
    """The README's gallery section, made from the reports the reproductions wrote into ``figdir``."""
    import json
    import os
    lines = []
    for n in _names():
        path = os.path.join(figdir, f"{n}.json")
        if not os.path.exists(path):
            lines.append(f"### {n}\n\n(no report yet: run `simopt repro {n}`)\n")
            continue
        with open(path) as f:
            doc = json.load(f)
        mod = importlib.import_module(f"simopt.paper_repro.{n}")
        first = (mod.__doc__ or "").strip().splitlines()[0]
        lines.append(f"### {n} — {doc['title']}\n")
        lines.append(f"*{doc['source']}.* {first}\n")
        lines.append(f"![{n}]({figdir}/{n}.png)\n")
        lines.append("| claim | criterion | status |\n|---|---|---|")
        for c in doc["claims"]:
            status = c.get("status", "PASS" if c["passed"] else "FAIL")
            crit = c["criterion"].replace("|", "\\|")
            lines.append(f"| {c['id']} | {crit} | **{status}** |")
        reasons = [c for c in doc["claims"] if c.get("reason")]
        for c in reasons:
            lines.append(f"\n*{c['id']} ({c['status']}):* {c['reason']}")
        lines.append("")
    return "\n".join(lines)


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
    failed = []
    for n in todo:
        t = time.perf_counter()
        try:
            code = importlib.import_module(f"simopt.paper_repro.{n}").main(extra)
        except Exception as e:  # a crash is a failed reproduction, the others still run
            print(f"{n}: crashed: {type(e).__name__}: {e}")
            code = 1
        print(f"  ({time.perf_counter() - t:.1f} s)")
        if code:
            failed.append(n)
    if len(todo) > 1:
        print(f"{len(todo) - len(failed)}/{len(todo)} reproductions passed"
              + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def register(sub):
    from .paper_repro import REPRODUCTIONS
    p = sub.add_parser(
        "repro", help="reproduce the papers' figures and check their claims",
        description="Run one reproduction or all of them: each writes <name>.png/.pdf/.json into "
                    "--out and prints every claim as PASS, FAIL or XFAIL (a documented known "
                    "failure).  Exit status 0 when every claim came out as stated, 1 otherwise, 2 "
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
