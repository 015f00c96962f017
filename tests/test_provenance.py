"""What results depend on is recorded: versions, revision and the machine type (BLAS kernel, Numba
target, CPU, NumPy SIMD), in every sweep cell and in ``simopt info``; the portable mode pins the
CPU-dependent choices through environment variables set before NumPy and Numba load."""
import json
import subprocess
import sys

from simopt import _cache, _provenance, cli
from simopt.sweep import Store, parse, run_sweep


def test_provenance_names_blas_kernel_and_numba_target():
    p = _provenance.provenance()
    for k in ("simopt", "numpy", "scipy", "numba", "llvmlite", "python", "git_sha", "machine_type"):
        assert k in p
    mt = p["machine_type"]
    assert mt["blas"] and all(len(b.split()) == 3 for b in mt["blas"])  # api, version, kernel
    assert all(b["architecture"] for b in p["blas"])
    import numba
    assert mt["numba_cpu_name"] == (numba.config.CPU_NAME or p["numba_target"]["host_cpu_name"])
    assert isinstance(mt["numba_cpu_features"], str) and mt["cpu_model"]
    json.dumps(p)  # JSON-able, as stored in every cell


def test_every_cell_records_parent_and_worker_machine_type(tmp_path):
    spec = parse({"steps": 5, "seeds": [0], "problems": [{"type": "quadratic", "eigvals": [1.0]}],
                  "optimizers": [{"name": "sgd", "lr": 0.1}]})
    run_sweep(spec, tmp_path, workers=1, quiet=True)
    info = Store(tmp_path).load(spec.hashes[0]).info
    assert info["provenance"]["machine_type"] == _provenance.machine_type()
    assert info["worker"]["machine_type"] == _provenance.machine_type()


def test_simopt_info_prints_the_machine_type(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    mt = _provenance.machine_type()
    assert "machine type" in out and mt["numba_cpu_name"] in out
    assert all(b.split()[-1] in out for b in mt["blas"])


PORTABLE_PROBE = r"""
import importlib.util, os, sys, warnings
if sys.argv[1] == "late":
    sys.modules["numpy"] = type(sys)("numpy")  # as if numpy had been imported first
spec = importlib.util.spec_from_file_location("_cache", sys.argv[2])  # not simopt/__init__.py,
_cache = importlib.util.module_from_spec(spec)                      # which loads numpy
spec.loader.exec_module(_cache)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    _cache._configure_portable()  # numpy and numba are not loaded: nothing runs with these set
print(os.environ["NUMBA_CPU_NAME"], os.environ.get("OPENBLAS_CORETYPE"), len(w),
      "cannot take effect" in str(w[0].message) if w else "")
"""


def test_portable_mode_sets_the_baselines_before_numpy_and_numba_load():
    import platform
    for when, n_warn in (("early", "0"), ("late", "1")):
        r = subprocess.run([sys.executable, "-c", PORTABLE_PROBE, when, _cache.__file__],
                           capture_output=True, text=True, check=True)
        name, coretype, nw, named = r.stdout.split()[:3] + (r.stdout.split()[3:] or [""])
        assert name == "generic" and nw == n_warn
        if platform.machine() in ("x86_64", "AMD64"):
            assert coretype == "Haswell"
        if when == "late":
            assert named == "True"
