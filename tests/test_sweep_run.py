"""Sweep execution and the store: resume after SIGKILL, failed cells, local pool == serial."""
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from simopt import cli
from simopt.sweep import LocalExecutor, Store, load, parse, run_sweep, status

SLOW_SPEC = """
steps = 4000
runs = 4
seeds = {start = 0, count = 8}
record_every = 100

[[problems]]
type = "quadratic"
eigvals = {spectrum = "logspace", d = 20, low = 0.01, high = 1.0}
rotation = "haar"
noise = {type = "gaussian", scale = 0.01}

[[optimizers]]
name = "sgd"
lr = [0.3, 1.0, 1.9]

[[optimizers]]
name = "adam"
lr = [0.01, 0.1]
"""


def _tiny(**over):
    d = {"steps": 30, "runs": 2, "seeds": [0, 1], "record_every": 5,
         "problems": [{"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 3,
                       "condition_number": 10.0, "noise": {"type": "gaussian", "scale": 0.01},
                       # f(x0) overflows: valid at parse time, fails when the cell runs
                       "grid": [{"heterogeneity": [0.0, 0.5]},
                                {"heterogeneity": [1.0], "x0": [[1e200] * 6]}]}],
         "optimizers": [{"name": "sgd", "lr": [0.05, 0.2]}]}
    d.update(over)
    return d


def _same_results(store_a, store_b, hashes):
    for h in hashes:
        a, b = store_a.load(h), store_b.load(h)
        assert sorted(a.arrays) == sorted(b.arrays)
        for k in a.arrays:
            assert np.array_equal(a.arrays[k], b.arrays[k]), (h, k)
        assert a.info["cell"] == b.info["cell"]


def _exactly_once(store, hashes):
    """Every cell has exactly its .npz and .json; no stray, temporary or failed files."""
    names = sorted(os.listdir(store.cells_dir))
    assert names == sorted([f"{h}.npz" for h in hashes] + [f"{h}.json" for h in hashes])


def _session_pids(sid):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":  # session id, not a zombie
                pids.append(int(d))
    return pids


def test_sigkill_midway_then_rerun_every_cell_once_and_bit_identical(tmp_path):
    cfg = tmp_path / "slow.toml"
    cfg.write_text(SLOW_SPEC)
    spec = load(cfg)
    total = len(spec.cells)
    ref = run_sweep(spec, tmp_path / "ref", workers=1, quiet=True)
    assert len(ref.computed) == total and not ref.failed

    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "simopt.cli", "sweep", "run", str(cfg), "--out",
                             str(out), "--workers", "2", "--quiet"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    cells = out / "cells"
    n = 0
    while time.time() < deadline and proc.poll() is None:
        n = len(list(cells.glob("*.json"))) if cells.is_dir() else 0
        if n >= 3:
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)   # a real kill of the sweep process, mid-sweep
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    done_at_kill = len(status(out)["done"])
    assert 3 <= done_at_kill < total, "the kill did not land mid-sweep"
    # the orphaned pool workers notice their parent is gone and exit on their own
    t_end = time.time() + 30
    while _session_pids(proc.pid) and time.time() < t_end:
        time.sleep(0.1)
    left = _session_pids(proc.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "pool workers outlived their killed parent"

    rerun = run_sweep(cfg, out, workers=2, quiet=True)
    assert rerun.skipped_done == done_at_kill
    assert len(rerun.computed) == total - done_at_kill and not rerun.failed
    store = Store(out)
    _exactly_once(store, spec.hashes)
    _same_results(Store(tmp_path / "ref"), store, spec.hashes)
    # a third run computes nothing
    again = run_sweep(cfg, out, workers=2, quiet=True)
    assert again.computed == [] and again.skipped_done == total


def test_failed_cell_recorded_others_finish_fixed_rerun_computes_only_it(tmp_path):
    out = tmp_path / "s"
    spec = parse(_tiny())
    rep = run_sweep(spec, out, workers=1, quiet=True)
    bad = [c for c in spec.cells if "x0" in c.problem]
    assert len(bad) == 4
    assert sorted(rep.failed) == sorted(c.hash for c in bad)
    assert len(rep.computed) == len(spec.cells)
    st = status(out)
    assert len(st["done"]) == 8 and sorted(st["failed"]) == sorted(c.hash for c in bad)
    store = Store(out)
    f = store.load_failure(bad[0].hash)
    assert f["status"] == "failed" and f["error"].startswith("ValueError: x0")
    assert "Traceback" in f["traceback"] and f["cell"] == bad[0].payload
    assert not (store.cells_dir / f"{bad[0].hash}.json").exists()  # not cached as a success

    # same spec again: nothing computed, the failures are reported, not retried
    rep2 = run_sweep(spec, out, workers=1, quiet=True)
    assert rep2.computed == [] and sorted(rep2.skipped_failed) == sorted(c.hash for c in bad)
    assert not rep2.ok
    # on request, only the failed cells are retried (and fail again)
    rep3 = run_sweep(spec, out, workers=1, quiet=True, retry_failed=True)
    assert sorted(rep3.computed) == sorted(c.hash for c in bad) == sorted(rep3.failed)

    # the spec fixed: only the new cells are computed
    fixed = parse(_tiny(problems=[dict(_tiny()["problems"][0], grid={"heterogeneity": [0.0, 0.5,
                                                                                        1.0]})]))
    rep4 = run_sweep(fixed, out, workers=1, quiet=True)
    new = [c.hash for c in fixed.cells if c.problem["heterogeneity"] == 1.0]
    assert sorted(rep4.computed) == sorted(new) and not rep4.failed and rep4.ok
    assert rep4.stale == 4
    assert status(out) == {"done": fixed.hashes, "damaged": [], "failed": [], "pending": []}


def test_pool_survives_a_killed_worker_and_matches_serial(tmp_path):
    spec = parse(_tiny(problems=[dict(_tiny()["problems"][0], grid={"heterogeneity": [0.0, 1.0]})],
                       steps=400, seeds=list(range(6))))
    ref = run_sweep(spec, tmp_path / "ref", workers=1, quiet=True)
    killed = []

    def kill_one(cell, res):
        # kill the worker that just returned a result: it has already been sent its next cell
        if not killed:
            pid = res["worker"]["pid"]
            assert pid in {k.pid for k in multiprocessing.active_children()}
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    pool = LocalExecutor(2, help_during_startup=False)  # every cell runs in a worker process
    rep = run_sweep(spec, tmp_path / "pool", executor=pool, quiet=True, on_result=kill_one)
    assert killed and not rep.failed and len(rep.computed) == len(spec.cells) == len(ref.computed)
    store = Store(tmp_path / "pool")
    _exactly_once(store, spec.hashes)
    _same_results(Store(tmp_path / "ref"), store, spec.hashes)
    pids = {store.load(h).info["worker"]["pid"] for h in spec.hashes}
    assert os.getpid() not in pids and killed[0] in pids
    # without retries, the cell the killed worker was running is recorded failed (WorkerDied)
    killed.clear()
    rep = run_sweep(spec, tmp_path / "noretry", quiet=True, on_result=kill_one,
                    executor=LocalExecutor(2, help_during_startup=False, retries=0))
    assert len(rep.failed) == 1 and len(rep.computed) == len(spec.cells)
    err = Store(tmp_path / "noretry").load_failure(rep.failed[0])["error"]
    assert err.startswith("WorkerDied") and "exit code -9" in err
    # with the default start-up help this process computes some cells too: same results
    rep = run_sweep(spec, tmp_path / "help", workers=2, quiet=True)
    assert len(rep.computed) == len(spec.cells)
    _same_results(Store(tmp_path / "ref"), Store(tmp_path / "help"), spec.hashes)


def test_cell_record_has_config_and_provenance(tmp_path):
    spec = parse(_tiny(problems=[dict(_tiny()["problems"][0], grid={"heterogeneity": [0.5]})],
                       seeds=[3], record=["sharpness"]))
    run_sweep(spec, tmp_path, workers=1, quiet=True)
    c = spec.cells[0]
    r = Store(tmp_path).load(c.hash)
    info = json.loads((tmp_path / "cells" / f"{c.hash}.json").read_text())
    assert info["status"] == "done" and info["cell"] == c.payload and info["seed"] == 3
    prov = info["provenance"]
    for k in ("simopt", "numpy", "numba", "python", "git_sha", "executor"):
        assert k in prov
    assert info["wall_time"] > 0
    assert r.arrays["loss"].shape == (2, 7) and r.arrays["record_sharpness"].shape == (2, 7)
    assert r.records.keys() == {"sharpness"}


def test_store_is_locked_while_a_sweep_runs(tmp_path):
    from simopt.sweep import StoreError
    store = Store(tmp_path, create=True)
    with store.lock():
        with pytest.raises(StoreError, match="another sweep"):
            run_sweep(_tiny(), tmp_path, workers=1, quiet=True)


def test_cli_run_status_tune_export_plot(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("""
steps = 40
runs = 2
seeds = [0, 1]
record_every = 10
eps = 0.1

[[problems]]
type = "quadratic"
eigvals = [0.1, 0.5, 1.0]

[[problems]]
type = "quadratic"
eigvals = [0.1, 0.5, 1.0]
seed = 1
x0 = [1e200, 1e200, 1e200]

[[optimizers]]
name = "sgd"
lr = [0.5, 1.0, 3.0]
""")
    out = tmp_path / "o"
    assert cli.main(["sweep", "run", str(cfg), "--out", str(out), "--workers", "1"]) == 1
    text = capsys.readouterr()
    assert "6/12 cells done" in text.out and "6 failed" in text.out
    assert "cell/s" in text.err or "cell" in text.err  # progress bar on stderr
    assert cli.main(["sweep", "status", str(out)]) == 0
    text = capsys.readouterr().out
    assert "12 cells: 6 done, 0 damaged, 6 failed, 0 pending" in text and "x0" in text
    assert cli.main(["sweep", "tune", str(out)]) == 0
    text = capsys.readouterr().out
    assert "quadratic#0 | sgd: best lr" in text
    assert "quadratic#1 | sgd: no pick: no lr has all its cells done" in text
    assert cli.main(["sweep", "export", str(out)]) == 0
    capsys.readouterr()
    assert (out / "export" / "long.csv").stat().st_size > 0
    assert cli.main(["sweep", "plot", str(out)]) == 0
    png = Path(capsys.readouterr().out.strip())
    assert png.suffix == ".png" and png.stat().st_size > 1000
    assert cli.main(["sweep", "run", str(cfg), "--out", str(out), "--quiet"]) == 1
    assert capsys.readouterr().out == ""  # --quiet: no bar, no summary
