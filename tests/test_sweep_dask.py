"""Dask execution: a 2-process LocalCluster on loopback gives results bit-identical to the local
executor, and a sweep survives one of its workers being killed."""
import os
import signal

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from simopt.sweep import Store, parse, run_sweep  # noqa: E402
from simopt.sweep.executors import WORKER_ENV  # noqa: E402

SPEC = {"steps": 1500, "runs": 4, "seeds": list(range(6)), "record_every": 50,
        "problems": [{"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 5,
                      "condition_number": 20.0, "noise": {"type": "gaussian", "scale": 0.01},
                      "grid": {"heterogeneity": [0.0, 1.0]}}],
        "optimizers": [{"name": "sgd", "lr": [0.01, 0.05]}, {"name": "adam", "lr": [0.01]}]}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    spec = parse(SPEC)
    rep = run_sweep(spec, out, workers=1, quiet=True)
    assert not rep.failed
    return spec, Store(out)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", scheduler_port=0, dashboard_address="127.0.0.1:0",
                                       env=dict(WORKER_ENV))
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _assert_identical(spec, a: Store, b: Store):
    assert b.states(spec.hashes) == {h: "done" for h in spec.hashes}
    for h in spec.hashes:
        ra, rb = a.load(h), b.load(h)
        for k in ra.arrays:
            assert np.array_equal(ra.arrays[k], rb.arrays[k]), (h, k)


def test_local_cluster_bit_identical_to_local_executor(reference, client, tmp_path):
    spec, ref = reference
    assert len(client.scheduler_info()["workers"]) == 2
    assert all(a.startswith("tcp://127.0.0.1:") for a in client.scheduler_info()["workers"])
    rep = run_sweep(spec, tmp_path, client=client, quiet=True)
    assert rep.executor["executor"] == "dask" and not rep.failed
    assert len(rep.computed) == len(spec.cells)
    _assert_identical(spec, ref, Store(tmp_path))
    # the workers ran the cells (not this process)
    pids = {Store(tmp_path).load(h).info["worker"]["pid"] for h in spec.hashes}
    assert os.getpid() not in pids and len(pids) >= 1


def test_sweep_completes_when_a_dask_worker_is_killed(reference, client, tmp_path):
    spec, ref = reference
    pids = list(client.run(os.getpid).values())
    assert len(pids) == 2
    killed = []

    def kill_one(cell, res):
        if not killed:
            os.kill(pids[0], signal.SIGKILL)   # a worker dies mid-sweep; its tasks are rescheduled
            killed.append(pids[0])

    rep = run_sweep(spec, tmp_path, client=client, quiet=True, on_result=kill_one)
    assert killed and not rep.failed and len(rep.computed) == len(spec.cells)
    _assert_identical(spec, ref, Store(tmp_path))
    assert killed[0] not in client.run(os.getpid).values()  # that worker really died


def test_dask_local_option_starts_and_stops_its_own_cluster(reference, tmp_path):
    spec, ref = reference
    small = parse(dict(SPEC, seeds=[0]))
    rep = run_sweep(small, tmp_path, dask="local", workers=2, quiet=True)
    assert rep.executor == {"executor": "dask", "scheduler": "local", "workers": 2}
    _assert_identical(small, ref, Store(tmp_path))


def test_sweep_gives_up_with_a_clear_error_when_every_worker_is_gone(tmp_path):
    from simopt.sweep.executors import DaskExecutor, NoWorkersError
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", scheduler_port=0,
                                       dashboard_address="127.0.0.1:0", env=dict(WORKER_ENV))
    client = distributed.Client(cluster)
    try:
        spec = parse(SPEC)
        gone = []

        def remove_workers(cell, res):
            if not gone:
                cluster.scale(0)
                gone.append(cell)

        ex = DaskExecutor(client=client, no_worker_timeout=2.0)
        with pytest.raises(NoWorkersError, match=r"no Dask worker .* for 2 s: \d+ cell\(s\) not "
                                                 r"computed .*re-run the same command"):
            run_sweep(spec, tmp_path, executor=ex, quiet=True, on_result=remove_workers)
        assert gone
        done = [h for h, s in Store(tmp_path).states(spec.hashes).items() if s == "done"]
        assert 1 <= len(done) < len(spec.hashes)  # what finished is kept: a re-run resumes
    finally:
        client.close()
        cluster.close()


USER_RULE_TOML = """
steps = 200
runs = 3
seeds = [0, 1]
record_every = 20

[[problems]]
type = "quadratic"
eigvals = {spectrum = "logspace", d = 12, low = 1.0, high = 100.0}
rotation = "haar"
noise = {type = "gaussian", scale = 0.05}

[[optimizers]]
name = "user_rules:lion"
lr = [1e-3, 3e-3]
beta1 = 0.95
"""


def test_a_users_rule_in_a_toml_sweep_is_bit_identical_locally_pooled_and_on_dask(tmp_path, monkeypatch):
    """A rule declared in the user's own module (``examples/user_rules.py``, named by import path in the
    spec) runs in a TOML sweep in this process, in a worker pool and on a Dask cluster -- every worker
    imports it and loads its compiled step from the cache -- with bit-identical results."""
    from simopt.sweep import load
    examples = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, "examples"))
    monkeypatch.syspath_prepend(examples)
    monkeypatch.setenv("PYTHONPATH", examples + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cfg = tmp_path / "lion.toml"
    cfg.write_text(USER_RULE_TOML)
    spec = load(cfg)
    assert {c.payload["optimizer"]["name"] for c in spec.cells} == {"user_rules:lion"}
    ref = tmp_path / "serial"
    assert run_sweep(spec, ref, workers=1, quiet=True).ok
    pool = tmp_path / "pool"
    assert run_sweep(spec, pool, workers=2, quiet=True).ok
    _assert_identical(spec, Store(ref), Store(pool))
    env = dict(WORKER_ENV, PYTHONPATH=os.environ["PYTHONPATH"])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  scheduler_port=0, dashboard_address="127.0.0.1:0", env=env) as cluster, \
            distributed.Client(cluster) as c:
        out = tmp_path / "dask"
        rep = run_sweep(spec, out, client=c, quiet=True)
        assert rep.executor["executor"] == "dask" and rep.ok
    _assert_identical(spec, Store(ref), Store(out))
    pids = {Store(out).load(h).info["worker"]["pid"] for h in spec.hashes}
    assert os.getpid() not in pids
