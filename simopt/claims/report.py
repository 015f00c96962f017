"""Reports of claims: the JSON a reproduction (or a user's study) writes, its printout, and the exit
code rule -- 0 exactly when every *paper* claim came out as its report declares.

Each claim's record (:meth:`ClaimResult.to_dict`) holds its id, statement, kind (paper | identity),
criterion, protocol, measured value, interval, verdict, variants (name -> verdict, value, interval),
control with its outcome, overall status, expected status, reason and provenance.  The report adds
settings, numbers, notes and provenance (versions, machine, wall time).  :func:`tally` reads reports
back, including those written before claims had kinds, intervals and statuses (a claim without them
is a paper claim decided by a point measurement: HOLDS if it passed, FAILS if not; declared HOLDS,
or FAILS for a documented known failure).
"""
from __future__ import annotations

import json
import math
import os
import platform
import time

import numpy as np

from .outcome import KINDS, ClaimResult, fmt_interval, fmt_value
from .verdicts import POSITIVE

__all__ = ["Report", "jsonable", "environment", "normalize_claim", "tally", "exit_code"]


def jsonable(v):
    """``v`` with NumPy scalars/arrays as Python values, tuples as lists, and non-finite floats as
    the strings ``"inf"``, ``"-inf"``, ``"nan"`` (JSON has no infinities)."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return jsonable(v.tolist())
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if math.isfinite(v) else str(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    return v


def environment() -> dict:
    """Versions and machine a report was made with (no host names or paths), and the digest of the
    sources that made it (:func:`simopt._provenance.source_digest`)."""
    from .._provenance import source_digest
    import numba
    import scipy

    import simopt
    return {"simopt": simopt.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "python": platform.python_version(),
            "machine": platform.machine(), "system": platform.system(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "numba_threads": numba.config.NUMBA_NUM_THREADS, "source_digest": source_digest()}


class Report:
    """The claims of one study (a reproduction, or a user's), with its settings and numbers."""

    def __init__(self, name, title="", source="", mode="full", settings=None, numbers=None,
                 notes=None):
        if mode not in ("quick", "full"):
            raise ValueError(f"mode: expected 'quick' or 'full', got {mode!r}")
        self.name, self.title, self.source, self.mode = name, title, source, mode
        self.settings = dict(settings or {})
        self.numbers = dict(numbers or {})
        self.notes = list(notes or [])
        self.claims: list[ClaimResult] = []
        self._t0 = time.perf_counter()

    # ---- adding claims ----------------------------------------------------------------------
    def add(self, result: ClaimResult) -> ClaimResult:
        """Add a checked claim (``Claim.check``, ``from_samples``); returns it."""
        if not isinstance(result, ClaimResult):
            raise TypeError(f"result: expected a ClaimResult, got {type(result).__name__}")
        if any(c.id == result.id for c in self.claims):
            raise ValueError(f"result: a claim with id {result.id!r} is already in the report")
        self.claims.append(result)
        return result

    def record(self, id, statement, criterion, measured, passed, *, kind="paper",
               known_failure=None, value=None) -> ClaimResult:
        """Add a claim decided by a point measurement (no interval, no variants): verdict PASS if
        ``passed``, else FAIL; declared HOLDS, or FAILS with ``known_failure="why"`` (a documented
        finding: it is as declared while it fails, and not once it starts to hold)."""
        ok = bool(passed)
        return self.add(ClaimResult(
            id=id, statement=statement, kind=kind, criterion=criterion,
            verdict="PASS" if ok else "FAIL", value=value, interval=None,
            overall="HOLDS" if ok else "FAILS", expected="FAILS" if known_failure else "HOLDS",
            reason=known_failure or "", measured=jsonable(measured), mode=self.mode))

    # ---- outcome ----------------------------------------------------------------------------
    def _of(self, kind):
        return [c for c in self.claims if c.kind == kind]

    @property
    def paper_as_declared(self) -> bool:
        return all(c.as_declared for c in self._of("paper"))

    @property
    def identity_as_declared(self) -> bool:
        return all(c.as_declared for c in self._of("identity"))

    @property
    def exit_code(self) -> int:
        """0 exactly when every paper claim is as declared (identity checks are reported, not
        counted)."""
        return 0 if self.paper_as_declared else 1

    def to_dict(self) -> dict:
        paper = self._of("paper")
        ident = self._of("identity")
        return jsonable({
            "name": self.name, "title": self.title, "source": self.source, "mode": self.mode,
            "passed": all(c.passed for c in self.claims), "as_expected": self.paper_as_declared,
            "paper_as_declared": self.paper_as_declared,
            "identity_as_declared": self.identity_as_declared,
            "counts": {"paper": len(paper), "paper_reproduced": sum(c.overall in POSITIVE for c in paper),
                       "paper_as_declared": sum(c.as_declared for c in paper),
                       "identity": len(ident), "identity_as_declared": sum(c.as_declared for c in ident)},
            "claims": [c.to_dict() for c in self.claims], "settings": self.settings,
            "numbers": self.numbers, "notes": self.notes,
            "provenance": {**environment(), "wall_seconds": round(time.perf_counter() - self._t0, 2)},
        })

    def write(self, path) -> dict:
        """Write the JSON report to ``path``; returns the document."""
        doc = self.to_dict()
        d = os.path.dirname(str(path))
        if d:
            os.makedirs(d, exist_ok=True)
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, path)
        return doc

    def lines(self) -> list:
        out = [f"{self.name} ({self.mode}): {self.title}"]
        for c in self.claims:
            out.append(f"  [{c.status}] ({c.kind}) {c.id}: {c.verdict}, CI {fmt_interval(c.interval)}; "
                       f"overall {c.overall}{'' if c.as_declared else f' (declared {c.expected})'}")
            out.append(f"          {c.criterion}; measured {fmt_value(c.value) if c.measured is None else c.measured}")
            for n, v in c.variants.items():
                out.append(f"          variant {n}: {v['verdict']}, CI {fmt_interval(v.get('interval'))}")
            if c.control is not None:
                out.append(f"          control {c.control['name']}: {c.control['verdict']} "
                           f"(expected {' or '.join(c.control['expected'])})")
            if c.reason:
                out.append(f"          reason: {c.reason}")
        return out


# ---- reading reports back ------------------------------------------------------------------------
def normalize_claim(c: dict) -> dict:
    """A claim record with kind, verdict, interval, variants, overall, expected status and
    as_declared, also for records of older reports (module docstring)."""
    passed = bool(c.get("passed", c.get("verdict") == "PASS"))
    verdict = c.get("verdict") or ("PASS" if passed else "FAIL")
    overall = c.get("overall") or ("HOLDS" if passed else "FAILS")
    expected = c.get("expected_status") or ("HOLDS" if c.get("expected", "pass") == "pass" else "FAILS")
    kind = c.get("kind", "paper")
    if kind not in KINDS:
        raise ValueError(f"kind: claim {c.get('id')!r} has kind {kind!r}, expected one of {KINDS}")
    ctrl = c.get("control")
    as_declared = c.get("as_declared")
    if as_declared is None:
        as_declared = overall == expected and (ctrl is None or bool(ctrl.get("as_expected")))
    return {"id": c.get("id", "?"), "kind": kind, "criterion": c.get("criterion", ""),
            "verdict": verdict, "interval": c.get("interval"), "variants": c.get("variants") or {},
            "control": ctrl, "overall": overall, "expected_status": expected,
            "as_declared": bool(as_declared), "reason": c.get("reason", ""),
            "flips": c.get("flips") or []}


def tally(docs) -> dict:
    """Counts over reports (dicts as written by :meth:`Report.write`): paper claims, how many are
    reproduced (ROBUST or HOLDS) and as declared, the paper claims that are not as declared, and the
    same for identity checks; ``paper_by_status`` counts the paper claims by overall status."""
    out = {"paper_by_status": {}, "paper": 0, "paper_reproduced": 0, "paper_as_declared": 0, "paper_not_as_declared": [],
           "identity": 0, "identity_as_declared": 0, "identity_not_as_declared": []}
    for doc in docs:
        for raw in doc.get("claims", []):
            c = normalize_claim(raw)
            k = c["kind"]
            out[k] += 1
            if c["as_declared"]:
                out[f"{k}_as_declared"] += 1
            else:
                out[f"{k}_not_as_declared"].append(
                    (doc.get("name", "?"), c["id"], c["overall"], c["expected_status"]))
            if k == "paper":
                st = out["paper_by_status"]
                st[c["overall"]] = st.get(c["overall"], 0) + 1
            if k == "paper" and c["overall"] in POSITIVE:
                out["paper_reproduced"] += 1
    return out


def exit_code(docs, crashed=()) -> int:
    """0 exactly when nothing crashed (a crashed reproduction has no report to vouch for its claims)
    and every paper claim of ``docs`` is as declared."""
    t = tally(docs)
    return 0 if not list(crashed) and not t["paper_not_as_declared"] else 1
