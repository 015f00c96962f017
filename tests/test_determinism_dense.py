"""Dense problems are bit-identical whatever the BLAS thread count of the process that builds them,
and so are sweeps of them: serial, a 2-worker pool (whose parent computes cells with 2 BLAS threads
while the workers start), a Dask LocalCluster, and a run SIGKILLed half-way then resumed give
byte-identical cell arrays and exports."""
import csv
import hashlib
import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from simopt.sweep import Store, load

PROBE = r"""
import hashlib, numpy as np, simopt
from simopt import noise, spectra
lam = spectra.logspace(300, 1e-3, 1.0)
out = []
for rot in ("haar", 0.5):
    p = simopt.quadratic(lam, rotation=rot, seed=1, noise=noise.hessian_aligned(0.1))
    out += [p.hessian(), p.noise.factor(p)[1], p.grad(np.ones((5, 300))), p.block_eigvals[0]]
q = simopt.block_diagonal([lam[:150], lam[150:]], rotation=0.7, within_blocks=True, seed=2)
c = noise.correlated_gaussian(q.hessian())
out += [q.hessian(), c.factor(q)[1], c.covariance(q), simopt.rotations.haar(300, 3),
        simopt.rotations.principal_log(simopt.rotations.partial(200, 0.3, 4))]
print(hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in out)).hexdigest())
"""


def _env(**over):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env.update(over)
    return env


def test_construction_does_not_depend_on_the_blas_thread_count():
    digests = {n: subprocess.run([sys.executable, "-c", PROBE], env=_env(OPENBLAS_NUM_THREADS=n),
                                 capture_output=True, text=True, check=True).stdout.strip()
               for n in ("1", "2")}
    assert digests["1"] == digests["2"], digests


SPEC = """
steps = 3000
runs = 4
seeds = {start = 0, count = 3}
record_every = 100

[[problems]]
type = "quadratic"
eigvals = {spectrum = "logspace", d = 100, low = 0.01, high = 1.0}
rotation = "haar"
noise = {type = "gaussian", scale = 0.01}

[[problems]]
type = "quadratic"
eigvals = {spectrum = "logspace", d = 120, low = 0.01, high = 1.0}
rotation = 0.5
noise = {type = "hessian_aligned", scale = 0.05}

[[optimizers]]
name = "sgd"
lr = [0.3, 1.0]

[[optimizers]]
name = "adam"
lr = [0.01]
"""


def _sweep(cfg, out, *args, env=None):
    cmd = [sys.executable, "-m", "simopt.cli", "sweep", "run", str(cfg), "--out", str(out),
           "--quiet", *args]
    r = subprocess.run(cmd, env=env or _env(OPENBLAS_NUM_THREADS="2"), capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out


def _export(out):
    r = subprocess.run([sys.executable, "-m", "simopt.cli", "sweep", "export", str(out)],
                       env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    long = (out / "export" / "long.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO((out / "export" / "summary.csv").read_text())))
    for row in rows:
        row.pop("wall_time")
    return hashlib.sha256(long).hexdigest(), rows


def _cells(out, hashes):
    store = Store(out)
    assert store.states(hashes) == {h: "done" for h in hashes}
    return {h: (store.cells_dir / f"{h}.npz").read_bytes() for h in hashes}


@pytest.mark.slow
def test_dense_sweep_bit_identical_across_executors_and_a_kill(tmp_path):
    cfg = tmp_path / "dense.toml"
    cfg.write_text(SPEC)
    spec = load(cfg)
    hashes = spec.hashes
    assert len(hashes) == 18
    outs = {"serial": _sweep(cfg, tmp_path / "serial", "--workers", "1"),
            "pool": _sweep(cfg, tmp_path / "pool", "--workers", "2")}
    pytest.importorskip("distributed")
    outs["dask"] = _sweep(cfg, tmp_path / "dask", "--dask", "local", "--workers", "2")

    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "simopt.cli", "sweep", "run", str(cfg), "--out",
                             str(killed), "--workers", "2", "--quiet"], start_new_session=True,
                            env=_env(OPENBLAS_NUM_THREADS="2"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(list((killed / "cells").glob("*.json")) if (killed / "cells").is_dir() else []) >= 3:
            break
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers
    proc.wait()
    assert 3 <= sum(v == "done" for v in Store(killed).states(hashes).values()) < len(hashes)
    outs["killed+resumed"] = _sweep(cfg, killed, "--workers", "2")

    ref_cells = _cells(outs["serial"], hashes)
    ref_export = _export(outs["serial"])
    for name, out in outs.items():
        cells = _cells(out, hashes)
        differ = [h[:12] for h in hashes if cells[h] != ref_cells[h]]
        assert not differ, f"{name}: {len(differ)}/{len(hashes)} cells differ from serial"
        assert _export(out) == ref_export, name
    # the arrays themselves (not only the bytes) are what the serial run computed
    a = Store(outs["serial"]).load(hashes[0]).arrays
    b = Store(outs["dask"]).load(hashes[0]).arrays
    assert all(np.array_equal(a[k], b[k]) for k in a)
    workers = {Store(outs["pool"]).load(h).info["worker"]["pid"] for h in hashes}
    serial = {Store(outs["serial"]).load(h).info["worker"]["pid"] for h in hashes}
    assert workers.isdisjoint(serial)  # pool processes computed the cells (one may have done them all)
