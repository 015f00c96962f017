"""What every reproduction shares: its command line, and its report -- a :class:`simopt.claims.Report`
written as JSON beside its figure, whose exit code says whether every paper claim came out as
declared.

Claims are added either as checked :class:`simopt.claims.Claim` s (``rep.add(claim.check(mode))``:
verdict, bootstrap interval, protocol variants, control, overall status) or, for a claim decided by
a point measurement, with :meth:`Report.claim` (verdict PASS/FAIL, no interval; a documented known
failure is declared FAILS and is as declared while it fails).
"""
from __future__ import annotations

import argparse
import os

import simopt
from simopt.claims import Report as ClaimsReport
from simopt.claims.report import jsonable

__all__ = ["parse_args", "Report", "jsonable", "evaluated"]


def parse_args(name: str, description: str, argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=f"simopt repro {name}", description=description)
    ap.add_argument("--quick", action="store_true",
                    help="CI size (well under a minute); the default is the gallery's full size")
    ap.add_argument("--out", default="figures", help="directory for <name>.png/.pdf/.json (default figures/)")
    ap.add_argument("--seed", type=int, default=0, help="base seed of the problems and runs")
    return ap.parse_args(argv)


class Report(ClaimsReport):
    """A reproduction's report: ``finish`` saves the figure and the JSON and gives the exit code."""

    def __init__(self, name, title, source, quick, out="figures"):
        super().__init__(name, title, source, mode="quick" if quick else "full")
        self.quick = bool(quick)
        self.out = out

    @classmethod
    def from_args(cls, name, title, source, args):
        return cls(name=name, title=title, source=source, quick=bool(args.quick), out=args.out)

    def claim(self, id, statement, criterion, measured, passed, known_failure=None,
              kind="paper") -> bool:
        """Record a claim decided by a point measurement (:meth:`simopt.claims.Report.record`).
        ``known_failure="why"`` marks a claim known not to reproduce under these settings (a
        finding, stated in the report): declared FAILS, so it does not fail the run -- but if it
        ever passes the run fails, so the note gets revisited.  Returns ``passed``."""
        self.record(id, statement, criterion, measured, passed, kind=kind,
                    known_failure=known_failure)
        return bool(passed)

    @property
    def passed(self) -> bool:
        """Every claim's verdict is PASS."""
        return all(c.passed for c in self.claims)

    @property
    def as_expected(self) -> bool:
        """Every paper claim is as declared."""
        return self.paper_as_declared

    def path(self, ext: str) -> str:
        return os.path.join(self.out, f"{self.name}.{ext}")

    def finish(self, fig=None) -> int:
        """Save the figure (png + pdf) and the JSON report; print the claims; 0 iff every paper
        claim is as declared."""
        os.makedirs(self.out, exist_ok=True)
        if fig is not None:
            simopt.plotting.savefig(fig, self.path("png"))
        self.write(self.path("json"))
        for line in self.lines():
            print(line)
        print(f"  wrote {self.path('png') if fig is not None else ''} {self.path('json')}")
        return self.exit_code


def evaluated(runner, claim, result, label, variant=None):
    """The :class:`simopt.Result` s (one per evaluation draw) of method ``label`` of a checked
    ``claim`` at the hyperparameters its tuning chose -- under the primary protocol, or under
    ``variant`` (a variant's name) -- taken from ``runner``, the
    :class:`simopt.claims.protocol.Runner` the claim was checked with (so the runs are those
    the claim measured, not new ones)."""
    from simopt.claims.protocol import is_fixed
    from simopt.tuning import with_hyper
    part = result.details["methods"] if variant is None else result.variants[variant]["methods"]
    c = claim if variant is None else next(v for v in claim.variants if v.name == variant)(claim)
    tuning = part[label]["tuning"]
    opt = c.methods[label]
    if tuning["hyper"]:
        opt = with_hyper(opt, **tuning["hyper"])
    if tuning["lr"] is not None:
        opt = opt.with_lr(tuning["lr"])
    units = c.protocol.evaluation_units(is_fixed(c.family))
    return runner.run(c.family, opt, units, c.steps, c.record_every, c.protocol.starts,
                      c.protocol.seed, c.record)
