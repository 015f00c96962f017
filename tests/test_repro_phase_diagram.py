"""The phase diagram (heterogeneity x rotation) in quick mode, computed through a simopt.sweep sweep."""
import json

import numpy as np
import pytest

from paper_repro import phase_diagram as mod


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
    assert code == (0 if all(c["passed"] for c in doc["claims"]) else 1)
    assert doc["passed"] is all(c["passed"] for c in doc["claims"])
    assert len(doc["claims"]) == 6          # C1, C2, C3 for each of the two maps
    for ext in ("png", "pdf"):
        assert (out / f"{mod.NAME}.{ext}").stat().st_size > 0
    n = doc["numbers"]
    cfg = mod._sizes(True)
    for key in ("log10_sgd_over_adam", "log10_sgd_over_sign"):
        M = np.array(n[key], dtype=float)
        assert M.shape == (len(cfg["hs"]), 1 + len(cfg["thetas"]))
        assert np.all(np.isfinite(M))
    # the map is the ratio of the tuned T's (medians over one seed each would be exact; check signs)
    Ts, Ta = np.array(n["T_median_sgd"]), np.array(n["T_median_adam"])
    assert np.all((Ts > Ta) == (np.array(n["log10_sgd_over_adam"]) > 0) | (Ts == Ta))
    # the sweep store given by --store is kept and resumable: a second run computes nothing new
    from simopt import sweep
    spec = sweep.parse(mod.spec_dict(cfg))
    rep = sweep.run_sweep(spec, str(store), workers=1, quiet=True)
    assert rep.computed == [] and rep.skipped_done == len(spec.cells)


@pytest.mark.slow
def test_quick_every_claim_passes(quick):
    code, doc, _, _ = quick
    failed = [(c["id"], c["measured"]) for c in doc["claims"] if not c["passed"]]
    assert code == 0 and not failed, f"claims failed: {failed}"
