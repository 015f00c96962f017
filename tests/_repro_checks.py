"""What every reproduction's quick-mode test checks, in one place: run the script once per module, the
report's common structure (mode, claim ids as declared, exit code, figure files, finite intervals,
tuning units), and a claim's overall status against its declaration.

``SIMOPT_QUICK_REPORTS=DIR`` lets the tests take a reproduction's quick report from ``DIR`` instead of
running it again, when that report was made by exactly these sources (the same
``provenance.source_digest``) -- CI sets it to where the README's first Quick-start command, ``simopt
repro all --quick``, has just written them, so each quick reproduction runs once per CI run, not twice.
A report from other sources, or none, is made afresh."""
import json
import math
import os
import shutil
from pathlib import Path

from simopt._provenance import source_digest


def quick_main(mod, out):
    """``mod.main(["--quick", "--out", out])``, or the same code's report copied from
    ``$SIMOPT_QUICK_REPORTS``: the exit code (0 exactly when every paper claim is as declared)."""
    src = os.environ.get("SIMOPT_QUICK_REPORTS")
    if src:
        report = Path(src) / f"{mod.NAME}.json"
        try:
            with open(report) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            doc = None
        figures = [Path(src) / f"{mod.NAME}.{ext}" for ext in ("png", "pdf")]
        if (doc is not None and doc.get("mode") == "quick" and all(p.exists() for p in figures)
                and doc.get("provenance", {}).get("source_digest") == source_digest()):
            for p in [report, *figures]:
                shutil.copy(p, Path(out) / p.name)
            return 0 if doc["paper_as_declared"] else 1
    return mod.main(["--quick", "--out", str(out)])


def run_quick(mod, tmp_path_factory):
    """Run ``mod`` in quick mode into a fresh directory: (exit code, report dict, directory)."""
    out = tmp_path_factory.mktemp(mod.NAME)
    code = quick_main(mod, out)
    with open(out / f"{mod.NAME}.json") as f:
        doc = json.load(f)
    return code, doc, out


def check_report(mod, code, doc, out, kinds=("paper", "identity")):
    """The structure every report shares; returns the claims by id for the script's own checks."""
    assert doc["mode"] == "quick"
    assert [c["id"] for c in doc["claims"]] == list(mod.EXPECTED)
    assert code == (0 if doc["paper_as_declared"] else 1)
    assert (out / f"{mod.NAME}.png").stat().st_size > 0 and (out / f"{mod.NAME}.pdf").stat().st_size > 0
    for c in doc["claims"]:
        assert c["kind"] in kinds
        assert c["interval"] is not None and len(c["interval"]) == 2
        lo, hi = (float(x) for x in c["interval"])
        assert lo <= hi and not (math.isnan(lo) or math.isnan(hi))
        assert c["variants"], f"{c['id']} has no protocol variants"
        assert c["protocol"]["protocol"]["tune_runs"] >= 1
    return {c["id"]: c for c in doc["claims"]}


def assert_as_declared(doc, claim_id):
    c = {c["id"]: c for c in doc["claims"]}[claim_id]
    assert c["overall"] == c["expected_status"], (
        f"{claim_id}: {c['verdict']} {c['interval']} overall {c['overall']}, declared "
        f"{c['expected_status']}; variants { {k: v['verdict'] for k, v in c['variants'].items()} }")
