"""The phase diagram (heterogeneity x rotation angle on the block-rotated path) in quick mode,
computed through two simopt.sweep sweeps (SGD+m vs Adam, GD vs sign)."""
import json
import os

import numpy as np
import pytest

from simopt.paper_repro import phase_diagram as mod

CLAIM_IDS = [f"{c}[{m['key']}]" for m in mod.MAPS
             for c in ("C1_max_at_h1_theta0", "C2_shrinks_with_rotation",
                       "C3_grows_with_heterogeneity")]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("phase_quick")
    store = out / "store"
    code = mod.main(["--quick", "--out", str(out), "--store", str(store), "--workers", "1"])
    doc = json.loads((out / f"{mod.NAME}.json").read_text())
    return code, doc, out, store


@pytest.mark.slow
def test_quick_report_is_complete_and_consistent(quick):
    code, doc, out, store = quick
    assert doc["mode"] == "quick"
    assert code == (0 if doc["as_expected"] else 1)
    assert doc["passed"] is all(c["passed"] for c in doc["claims"])
    assert sorted(c["id"] for c in doc["claims"]) == sorted(CLAIM_IDS)
    for ext in ("png", "pdf"):
        assert (out / f"{mod.NAME}.{ext}").stat().st_size > 0
    n = doc["numbers"]
    cfg = mod._sizes(True)
    assert n["columns"] == [mod.AXIS_ALIGNED] + [str(float(t)) for t in cfg["thetas"]]
    for key, (num, den) in {"log10_sgdm_over_adam": ("sgdm", "adam"),
                            "log10_gd_over_sign": ("gd", "sign")}.items():
        M = np.array(n[key], dtype=float)
        assert M.shape == (len(cfg["hs"]), 1 + len(cfg["thetas"]))
        assert np.all(np.isfinite(M))
        # a median over 2 seeds of log ratios: its sign agrees with T_num vs T_den when both seeds
        # agree; at least check the map is not the ratio of something else where they agree strongly
        Tn, Td = np.array(n[f"T_median_{num}"]), np.array(n[f"T_median_{den}"])
        strong = np.abs(np.log10(Tn / Td)) > 0.5
        assert np.all(np.sign(M[strong]) == np.sign(np.log10(Tn / Td)[strong]))
    # the reference (not claimed) plain GD vs Adam numbers are there
    ref = n["reference_eps_1e_3_not_claimed"]
    assert np.array(ref["log10_T_gd_over_T_adam"], dtype=float).shape == M.shape
    # the stores given by --store are kept and resumable: a second run computes nothing new
    from simopt import sweep
    for k, spec in mod.spec_dicts(cfg).items():
        sp = sweep.parse(spec)
        rep = sweep.run_sweep(sp, os.path.join(str(store), k), workers=1, quiet=True)
        assert rep.computed == [] and rep.skipped_done == len(sp.cells)


@pytest.mark.slow
def test_quick_every_claim_passes(quick):
    """Quick mode has no known failure: every claim must pass (the full-size known failure of
    C1[gd/sign] is checked to be off in quick mode, where it holds)."""
    code, doc, _, _ = quick
    failed = [(c["id"], c["measured"]) for c in doc["claims"] if not c["passed"]]
    assert code == 0 and not failed, f"claims failed: {failed}"
    assert all(c["expected"] == "pass" for c in doc["claims"])


def test_known_failures_are_documented_and_only_for_full_mode():
    """The full-size known failure is exactly C1 of the GD/sign map, with its reason, and the
    committed full-size report shows it as XFAIL and every other claim as PASS."""
    assert set(mod.KNOWN_FAILURES_FULL) == {"C1_max_at_h1_theta0[gd/sign]"}
    assert set(mod.KNOWN_FAILURES_FULL) <= set(CLAIM_IDS)
    assert all(len(r) > 50 for r in mod.KNOWN_FAILURES_FULL.values())
    path = os.path.join(os.path.dirname(__file__), "..", "figures", f"{mod.NAME}.json")
    if not os.path.exists(path):
        pytest.skip("no committed full-size report")
    doc = json.loads(open(path).read())
    assert doc["mode"] == "full" and doc["as_expected"]
    status = {c["id"]: c["status"] for c in doc["claims"]}
    assert status == {cid: ("XFAIL" if cid in mod.KNOWN_FAILURES_FULL else "PASS")
                      for cid in CLAIM_IDS}
