"""Reports: every claim's JSON lists kind, verdict, interval, variants with verdicts and overall
status; the exit code of ``simopt repro`` is 0 exactly when every paper claim is as its report
declares (identity checks reported, not counted); older reports are read the same way."""
import json
import math
import sys
import types

import numpy as np
import pytest

import simopt
import simopt.repro_cli
from simopt import claims
from simopt.claims import ClaimResult, Report, exit_code, tally
from simopt.paper_repro._common import Report as ReproReport


def result(id, overall="HOLDS", expected="HOLDS", kind="paper", verdict=None, variants=None,
           control=None):
    verdict = verdict or {"HOLDS": "PASS", "ROBUST": "PASS", "FAILS": "FAIL",
                          "INCONCLUSIVE": "INCONCLUSIVE", "FRAGILE": "PASS"}[overall]
    return ClaimResult(id=id, statement=f"statement {id}", kind=kind, criterion="x >= 1",
                       verdict=verdict, value=1.5, interval=(1.2, math.inf), overall=overall,
                       expected=expected, variants=variants or {}, control=control)


def doc_of(*results, name="study"):
    rep = Report(name, "a study", "nowhere", mode="quick")
    for r in results:
        rep.add(r)
    return json.loads(json.dumps(rep.to_dict()))


def test_every_claim_record_lists_kind_verdict_interval_variants_and_status(tmp_path):
    samples = {"a": np.linspace(1.0, 2.0, 20), "b": np.linspace(0.5, 1.0, 20)}
    stat = claims.log_ratio_of_medians("a", "b")
    checked = claims.from_samples("ratio", "a is slower than b", samples, stat, at_least=0.0,
                                  variants={"half": ({"a": samples["a"][:10], "b": samples["b"][:10]},
                                                     "the first half of the units")})
    rep = Report("study", "a study", "nowhere")
    rep.add(checked)
    rep.record("identity_check", "1 + 1 = 2", "exact", 2, True, kind="identity")
    rep.record("known_failure", "a finding", "x >= 1", 0.3, False, known_failure="not reproduced: why")
    path = tmp_path / "study.json"
    rep.write(path)
    doc = json.loads(path.read_text())
    for c in doc["claims"]:
        for key in ("id", "statement", "kind", "criterion", "protocol", "measured", "interval",
                    "verdict", "variants", "control", "overall", "expected_status", "reason",
                    "as_declared", "provenance"):
            assert key in c, (c["id"], key)
    by = {c["id"]: c for c in doc["claims"]}
    assert by["ratio"]["kind"] == "paper" and by["ratio"]["verdict"] == "PASS"
    assert by["ratio"]["variants"]["half"]["verdict"] in claims.VERDICTS
    assert by["ratio"]["overall"] in ("ROBUST", "FRAGILE") and len(by["ratio"]["interval"]) == 2
    assert by["identity_check"]["kind"] == "identity" and by["identity_check"]["overall"] == "HOLDS"
    kf = by["known_failure"]
    assert kf["overall"] == "FAILS" and kf["expected_status"] == "FAILS" and kf["as_declared"]
    assert kf["status"] == "XFAIL" and kf["reason"].startswith("not reproduced")
    assert doc["counts"] == {"paper": 2, "paper_reproduced": int(by["ratio"]["overall"] == "ROBUST"),
                             "paper_as_declared": 1 + int(by["ratio"]["as_declared"]),
                             "identity": 1, "identity_as_declared": 1}
    for key in ("simopt", "numpy", "python", "machine", "cpus", "wall_seconds"):
        assert key in doc["provenance"]


@pytest.mark.parametrize("results,crashed,code", [
    ([result("a"), result("b", "FAILS", "FAILS")], (), 0),                       # all as declared
    ([result("a"), result("b", "FAILS", "HOLDS")], (), 1),                       # a paper claim fails
    ([result("a", "HOLDS", "FAILS")], (), 1),                                    # a known failure holds
    ([result("a"), result("i", "FAILS", "HOLDS", kind="identity")], (), 0),      # identity: not counted
    ([result("a", "INCONCLUSIVE", "INCONCLUSIVE")], (), 0),
    ([result("a", "INCONCLUSIVE", "ROBUST")], (), 1),
    ([result("a", "FRAGILE", "FRAGILE", variants={"v": {"verdict": "FAIL"}})], (), 0),
    ([result("a")], ("other_reproduction",), 1),                                 # a crash
    ([result("a", control={"name": "c", "expected": ["FAIL"], "verdict": "PASS",
                           "as_expected": False})], (), 1),                      # control not as expected
])
def test_exit_code_is_zero_exactly_when_every_paper_claim_is_as_declared(results, crashed, code):
    assert exit_code([doc_of(*results)], crashed) == code


def test_older_reports_are_read_as_point_measured_paper_claims():
    old = {"name": "old", "claims": [
        {"id": "p", "passed": True, "expected": "pass", "status": "PASS", "criterion": "c"},
        {"id": "x", "passed": False, "expected": "fail", "status": "XFAIL", "criterion": "c"}]}
    t = tally([old])
    assert t["paper"] == 2 and t["paper_as_declared"] == 2 and t["paper_reproduced"] == 1
    assert exit_code([old]) == 0
    old["claims"][1]["passed"] = True      # the known failure now holds: XPASS
    assert exit_code([old]) == 1


@pytest.fixture
def fake_reproductions(monkeypatch):
    """Two reproductions writing synthetic reports, installed as paper_repro modules."""
    outcomes = {}

    def make(name):
        mod = types.ModuleType(f"simopt.paper_repro.{name}")
        mod.__doc__ = f"{name}: a synthetic reproduction."

        def main(argv):
            out = argv[argv.index("--out") + 1]
            if outcomes[name] == "crash":
                raise RuntimeError("boom")
            rep = ReproReport(name, f"title {name}", "synthetic", quick="--quick" in argv, out=out)
            for r in outcomes[name]:
                rep.add(r)
            return rep.finish()
        mod.main = main
        return mod

    names = ("fake_one", "fake_two")
    for n in names:
        monkeypatch.setitem(sys.modules, f"simopt.paper_repro.{n}", make(n))
    monkeypatch.setattr(simopt.repro_cli, "_names", lambda: names)
    return outcomes


def test_repro_all_exit_code_and_count(fake_reproductions, tmp_path, capsys):
    from simopt.cli import main
    fake_reproductions["fake_one"] = [result("a", "ROBUST", "ROBUST"), result("b", "FAILS", "FAILS"),
                                      result("i", "FAILS", "HOLDS", kind="identity")]
    fake_reproductions["fake_two"] = [result("c", "INCONCLUSIVE", "INCONCLUSIVE")]
    out = str(tmp_path / "q")
    assert main(["repro", "all", "--quick", "--out", out]) == 0
    text = capsys.readouterr().out
    assert "1/3 paper claims reproduced" in text and "3/3 as their reports declare" in text
    assert "identity checks: 0/1 as declared" in text
    fake_reproductions["fake_two"] = [result("c", "INCONCLUSIVE", "ROBUST")]
    assert main(["repro", "all", "--quick", "--out", out]) == 1
    assert "NOT AS DECLARED (paper): fake_two: c: INCONCLUSIVE, declared ROBUST" in capsys.readouterr().out
    fake_reproductions["fake_two"] = "crash"   # its old report is still on disk: it must not count
    assert main(["repro", "all", "--quick", "--out", out]) == 1
    assert "CRASHED or wrote no report: fake_two" in capsys.readouterr().out
    assert main(["repro", "fake_one", "--quick", "--out", out]) == 0


def test_gallery_table_has_verdict_interval_variants_and_kind(fake_reproductions, tmp_path):
    fake_reproductions["fake_one"] = [
        result("a", "FRAGILE", "FRAGILE", variants={"first-hit T": {"verdict": "FAIL"}}),
        result("i", kind="identity")]
    fake_reproductions["fake_two"] = [result("c")]
    out = tmp_path / "g"
    for n in ("fake_one", "fake_two"):
        sys.modules[f"simopt.paper_repro.{n}"].main(["--quick", "--out", str(out)])
    md = simopt.repro_cli.gallery_markdown(str(out))
    assert "| claim | kind | criterion | verdict | interval | variants | status |" in md
    assert "| a | paper | x >= 1 | PASS | [1.2, inf] | first-hit T: FAIL | **FRAGILE** (as declared) |" in md
    assert "| i | identity |" in md
    assert "1/2 paper claims reproduced" in md      # a is FRAGILE; the identity check is not counted


def test_reproductions_keep_their_point_measured_claims():
    rep = ReproReport("r", "t", "s", quick=True, out="unused")
    assert rep.claim("ok", "s", "c", 1.0, True) is True
    assert rep.claim("kf", "s", "c", 0.0, False, known_failure="why") is False
    assert rep.as_expected and not rep.passed and rep.exit_code == 0
    rep.claim("xpass", "s", "c", 1.0, True, known_failure="why")
    assert not rep.as_expected and rep.exit_code == 1
    rep2 = ReproReport("r2", "t", "s", quick=False)
    rep2.claim("broken_identity", "s", "c", 0.0, False, kind="identity")
    assert rep2.exit_code == 0 and not rep2.identity_as_declared
