"""Smoke test of the benchmark (benchmarks/bench.py through `simopt bench --quick`).

Speed is never asserted here; the test checks that the quick run completes, reports every case and
optimizer for every framework that is installed (peers that are not installed are listed as skipped),
and that the frameworks solve the same problem: on the noise-free cases every peer's loss curves
must equal simopt's to rounding for SGD.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simopt import bench_cli
from simopt.bench_cli import CASES, OPTIMIZERS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench.py"

pytestmark = pytest.mark.skipif(not SCRIPT.is_file(), reason="benchmarks/ not in this checkout")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    md, js = tmp / "RESULTS.md", tmp / "results.json"
    cmd = [sys.executable, "-m", "simopt.cli", "bench", "--quick", "--output", str(md), "--json", str(js)]
    env = dict(os.environ, SIMOPT_BENCH_SCRIPT=str(SCRIPT))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return md.read_text(), json.loads(js.read_text()), proc.stdout


def test_quick_report_has_every_case_and_optimizer(quick_run):
    text, res, stdout = quick_run
    assert "QUICK MODE" in text
    assert stdout.strip().startswith("# simopt benchmark results")
    times = text.split("## Times", 1)[1].split("\n## ", 1)[0]
    for case in CASES:
        for opt in OPTIMIZERS:
            assert f"| {case} | {opt} |" in times, (case, opt)
            assert f"{case}/{opt}" in res["times"]
    for key, per_fw in res["times"].items():
        for fw, s in per_fw.items():
            assert 0 < s["min"] <= s["median"] <= s["max"], (key, fw, s)
    for ck in CASES:
        assert ck in res["floors"]


def test_quick_report_runs_installed_peers_and_skips_the_rest(quick_run):
    _, res, _ = quick_run
    assert "simopt" in res["frameworks"] and "numpy" in res["frameworks"]
    for fw in ("torch", "jax"):
        if _installed(fw):
            assert fw in res["frameworks"], res["skipped"].get(fw)
        else:
            assert fw in res["skipped"] and fw not in res["frameworks"]
        assert (fw in res["frameworks"]) == any(fw in t for t in res["times"].values())


def test_peers_solve_the_same_problem(quick_run):
    _, res, _ = quick_run
    for case in ("A0", "B0"):
        for fw, a in res["agreement"][f"{case}/sgd"].items():
            assert a["max_rel_diff"] < 1e-10, (case, fw, a)
    for case in ("A", "B", "C"):
        for fw, a in res["agreement"][f"{case}/sgd"].items():
            assert a["mean_final"] > 0 and a["rel_diff"] < 0.5, (case, fw, a)


def test_bench_flags_are_checked():
    import argparse
    p = argparse.ArgumentParser()
    bench_cli.add_arguments(p)
    args = p.parse_args(["--cases", "B,A,B", "--optimizers", "adam", "--repeats", "2"])
    assert args.cases == ("B", "A") and args.optimizers == ("adam",) and args.repeats == 2
    for bad in (["--cases", "Z"], ["--optimizers", "lbfgs"], ["--frameworks", "tf"], ["--repeats", "0"],
                ["--repeats", "x"], ["--cases", ","]):
        with pytest.raises(SystemExit):
            p.parse_args(bad)


def test_missing_script_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="benchmarks/bench.py"):
        bench_cli.find_script(str(tmp_path / "nope.py"))
    assert bench_cli.find_script(str(SCRIPT)) == SCRIPT


def test_sampled_noise_benchmark_runs_every_case():
    """benchmarks/sampled_noise.py at tiny sizes: every case reports positive times (speed not asserted)."""
    import importlib.util as iu
    spec = iu.spec_from_file_location("sampled_noise", ROOT / "benchmarks" / "sampled_noise.py")
    mod = iu.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.measure(runs=4, steps=2, repeats=1, quick=True)
    assert len(res) == len(mod.cases(quick=True)) == 8
    assert all(v["ms_per_step"] > 0 and v["vs_additive"] > 0 and v["vs_numpy"] > 0 for v in res.values())
