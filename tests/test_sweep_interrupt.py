"""Ctrl-C on ``simopt sweep run`` (serial, 2 pool workers, Dask LocalCluster): one line with the
done/pending counts and the resume command, exit status 130, no traceback from any process, no
process left behind; re-running the same command completes bit-identical to an uninterrupted run."""
import os
import signal
import subprocess
import sys
import time

import pytest

from simopt.sweep import Store, load, run_sweep

SPEC = """
steps = 20000
runs = 4
seeds = {start = 0, count = 12}
record_every = 1000

[[problems]]
type = "quadratic"
eigvals = {spectrum = "logspace", d = 30, low = 0.01, high = 1.0}
rotation = "haar"
noise = {type = "gaussian", scale = 0.01}

[[optimizers]]
name = "sgd"
lr = [0.3, 1.0]
"""


def _alive(sid):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(d))
    return pids


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    cfg = d / "s.toml"
    cfg.write_text(SPEC)
    run_sweep(load(cfg), d / "out", workers=1, quiet=True)
    return cfg, Store(d / "out")


@pytest.mark.slow
@pytest.mark.parametrize("how", [["--workers", "1"], ["--workers", "2"],
                                 ["--dask", "local", "--workers", "2"]],
                         ids=["serial", "pool", "dask"])
def test_ctrl_c_prints_one_line_exits_130_and_resumes_bit_identical(reference, tmp_path, how):
    if "--dask" in how:
        pytest.importorskip("distributed")
    cfg, ref = reference
    spec = load(cfg)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "simopt.cli", "sweep", "run", str(cfg), "--out", str(out),
           "--quiet", *how]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    cells = out / "cells"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if cells.is_dir() and len(list(cells.glob("*.json"))) >= 2:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the sweep finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    out_text, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    done = sum(v == "done" for v in Store(out).states(spec.hashes, warn=False).values())
    assert 2 <= done < len(spec.hashes)
    assert lines[0].startswith("simopt sweep: interrupted: ")
    assert f"{done}/{len(spec.hashes)} cells done, {len(spec.hashes) - done} pending" in lines[0]
    assert f"simopt sweep run {cfg} --out {out}" in lines[0]
    t_end = time.time() + 30
    while _alive(proc.pid) and time.time() < t_end:
        time.sleep(0.1)
    left = _alive(proc.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "processes outlived the interrupted sweep"

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    store = Store(out)
    for h in spec.hashes:
        assert (store.cells_dir / f"{h}.npz").read_bytes() == (ref.cells_dir / f"{h}.npz").read_bytes()
