"""``ClaimResult``: what checking a claim found -- verdict, interval, variant table, control, overall
status against the declared one -- as an object to assert on and as the JSON a report stores."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .verdicts import POSITIVE, VERDICTS, check_status

__all__ = ["ClaimResult", "KINDS", "fmt_value", "fmt_interval"]

#: a claim of the paper, or a check of mathematics or code (only the first count as reproduced)
KINDS = ("paper", "identity")


def fmt_value(v) -> str:
    if v is None:
        return "undefined"
    if isinstance(v, str):
        return v
    v = float(v)
    return f"{v:.4g}" if math.isfinite(v) else ("inf" if v > 0 else "-inf")


def fmt_interval(iv) -> str:
    if iv is None:
        return "-"
    return f"[{fmt_value(iv[0])}, {fmt_value(iv[1])}]"


@dataclass
class ClaimResult:
    """The outcome of one claim (``Claim.check``, ``from_samples`` or a report's ``record``).

    ``variants`` maps a variant's name to ``{"description", "verdict", "value", "interval", ...}``;
    ``control`` (or ``None``) is ``{"name", "description", "expected" (verdicts), "verdict",
    "value", "interval", "as_expected"}``; ``flips`` names the variants that make the claim
    FRAGILE."""
    id: str
    statement: str
    kind: str
    criterion: str
    verdict: str
    value: float | None
    interval: tuple | None
    overall: str
    expected: str
    reason: str = ""
    variants: dict = field(default_factory=dict)
    flips: list = field(default_factory=list)
    control: dict | None = None
    protocol: dict | None = None
    measured: object = None
    details: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    mode: str = "full"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict: expected one of {VERDICTS}, got {self.verdict!r}")
        check_status(self.overall, "overall")
        check_status(self.expected, "expected")

    # ---- what a caller asserts --------------------------------------------------------------
    @property
    def passed(self) -> bool:
        """The primary verdict is PASS."""
        return self.verdict == "PASS"

    @property
    def control_ok(self) -> bool:
        return self.control is None or bool(self.control["as_expected"])

    @property
    def as_declared(self) -> bool:
        """The observed overall status is the declared one, and the control (if any) came out as
        expected."""
        return self.overall == self.expected and self.control_ok

    @property
    def status(self) -> str:
        """pytest-style summary: PASS (a positive status, as declared), XFAIL (a declared negative
        status, as declared), XPASS (declared negative, came out positive), FAIL (otherwise)."""
        if self.as_declared:
            return "PASS" if self.expected in POSITIVE else "XFAIL"
        if self.overall in POSITIVE and self.expected not in POSITIVE and self.control_ok:
            return "XPASS"
        return "FAIL"

    def assert_holds(self, robust: bool = False):
        """``AssertionError`` (with the table) unless the primary verdict is PASS -- and, with
        ``robust=True``, the overall status ROBUST -- and the control came out as expected."""
        ok = self.passed and self.control_ok and (not robust or self.overall == "ROBUST")
        if not ok:
            raise AssertionError("claim does not hold:\n" + self.table())
        return self

    def assert_as_declared(self):
        """``AssertionError`` (with the table) unless :attr:`as_declared`."""
        if not self.as_declared:
            raise AssertionError(f"claim is not as declared (expected {self.expected}):\n" + self.table())
        return self

    # ---- text and JSON ----------------------------------------------------------------------
    def table(self) -> str:
        """The claim as text: verdict, interval, a row per variant, the control, the status."""
        decl = "as declared" if self.as_declared else f"declared {self.expected}"
        lines = [f"[{self.overall}, {decl}] {self.id} ({self.kind}): {self.statement}",
                 f"  criterion: {self.criterion}"]
        rows = [("primary", self.verdict, self.value, self.interval)]
        rows += [(n, v["verdict"], v.get("value"), v.get("interval")) for n, v in self.variants.items()]
        w = max(len(r[0]) for r in rows)
        for name, ver, val, iv in rows:
            mark = "  <- flips" if name in self.flips else ""
            lines.append(f"  {name:<{w}}  {ver:<12} value {fmt_value(val):>9}  CI {fmt_interval(iv)}{mark}")
        if self.control is not None:
            c = self.control
            lines.append(f"  control {c['name']}: {c['verdict']} (expected {' or '.join(c['expected'])}"
                         f"{'' if c['as_expected'] else ' -- NOT as expected'}), value "
                         f"{fmt_value(c.get('value'))}, CI {fmt_interval(c.get('interval'))}")
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The claim's JSON record (also the fields older reports had: ``passed``, ``expected``
        as pass/fail, ``status``)."""
        return {
            "id": self.id, "statement": self.statement, "kind": self.kind,
            "criterion": self.criterion, "protocol": self.protocol,
            "measured": self.value if self.measured is None else self.measured,
            "value": self.value, "interval": None if self.interval is None else list(self.interval),
            "verdict": self.verdict, "variants": self.variants, "flips": self.flips,
            "control": self.control, "overall": self.overall, "expected_status": self.expected,
            "reason": self.reason, "as_declared": self.as_declared, "mode": self.mode,
            "details": self.details, "provenance": self.provenance,
            "passed": self.passed, "expected": "pass" if self.expected in POSITIVE else "fail",
            "status": self.status,
        }
