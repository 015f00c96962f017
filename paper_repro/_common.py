"""What every reproduction shares: its command line, the report of claims it writes as JSON beside
its figure, and the exit code that says whether every claim held."""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field

import numpy as np

import simopt


def parse_args(name: str, description: str, argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=f"simopt repro {name}", description=description)
    ap.add_argument("--quick", action="store_true",
                    help="CI size (well under a minute); the default is the gallery's full size")
    ap.add_argument("--out", default="figures", help="directory for <name>.png/.pdf/.json (default figures/)")
    ap.add_argument("--seed", type=int, default=0, help="base seed of the problems and runs")
    return ap.parse_args(argv)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if math.isfinite(v) else str(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


@dataclass
class Claim:
    """One of the paper's claims, stated as a number compared with a threshold fixed in advance."""
    id: str
    statement: str          # the paper's claim, in words (with its source)
    criterion: str          # how it is decided, e.g. "final-loss ratio SGD/SSD >= 10"
    measured: object        # the measured number(s)
    passed: bool
    expected: str = "pass"  # "fail" for a documented known failure (a finding), like pytest's xfail
    reason: str = ""        # why a known failure fails

    @property
    def as_expected(self) -> bool:
        return self.passed == (self.expected == "pass")

    @property
    def status(self) -> str:
        if self.expected == "pass":
            return "PASS" if self.passed else "FAIL"
        return "XPASS" if self.passed else "XFAIL"


@dataclass
class Report:
    """Settings, numbers and claims of one reproduction; ``finish`` writes them and gives the exit code."""
    name: str
    title: str
    source: str             # paper and figure reproduced
    quick: bool
    out: str = "figures"
    settings: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # e.g. which settings are not known from the paper
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    @classmethod
    def from_args(cls, name, title, source, args):
        return cls(name=name, title=title, source=source, quick=bool(args.quick), out=args.out)

    def claim(self, id, statement, criterion, measured, passed, known_failure=None) -> bool:
        """Record a claim.  ``known_failure="why"`` marks a claim that is known not to reproduce under
        these settings (a finding, stated in the report): it is reported as XFAIL and does not fail the
        run -- but if it ever passes (XPASS) the run fails, so the note gets revisited."""
        c = Claim(id, statement, criterion, _jsonable(measured), bool(passed),
                  expected="fail" if known_failure else "pass", reason=known_failure or "")
        self.claims.append(c)
        return bool(passed)

    @property
    def passed(self) -> bool:
        """Every claim held."""
        return all(c.passed for c in self.claims)

    @property
    def as_expected(self) -> bool:
        """Every claim held, except documented known failures, which failed."""
        return all(c.as_expected for c in self.claims)

    def path(self, ext: str) -> str:
        return os.path.join(self.out, f"{self.name}.{ext}")

    def finish(self, fig=None) -> int:
        """Save the figure (png + pdf) and the JSON report; print the claims; 0 iff every claim held
        (documented known failures excepted)."""
        os.makedirs(self.out, exist_ok=True)
        if fig is not None:
            simopt.plotting.savefig(fig, self.path("png"))
        doc = {
            "name": self.name, "title": self.title, "source": self.source,
            "mode": "quick" if self.quick else "full", "passed": self.passed,
            "as_expected": self.as_expected,
            "claims": [dict(asdict(c), status=c.status) for c in self.claims], "settings": _jsonable(self.settings),
            "numbers": _jsonable(self.numbers), "notes": self.notes,
            "provenance": {"simopt": simopt.__version__, "numpy": np.__version__,
                           "python": platform.python_version(),
                           "wall_seconds": round(time.perf_counter() - self._t0, 2)},
        }
        with open(self.path("json"), "w") as f:
            json.dump(doc, f, indent=1)
        print(f"{self.name} ({doc['mode']}): {self.title}")
        for c in self.claims:
            print(f"  [{c.status}] {c.id}: {c.criterion}; measured {c.measured}")
            if c.reason:
                print(f"          known failure: {c.reason}")
        print(f"  wrote {self.path('png') if fig is not None else ''} {self.path('json')}")
        return 0 if self.as_expected else 1
