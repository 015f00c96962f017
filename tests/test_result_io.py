"""Result.save / Result.load round-trip bit-identically without pickle; to_dataframe is the long
form of the arrays; plot draws the median and IQR band of plotting.band."""
import json
import warnings
import zipfile

import numpy as np
import pytest

import simopt
from simopt import Result, noise, optim


@pytest.fixture(scope="module", params=[0.5, 1.5], ids=["converging", "diverging"])
def res(request):
    p = simopt.quadratic([0.1, 0.5, 1.0, 2.0], rotation="haar", noise=noise.gaussian(0.05), seed=1)
    # lr 1.5 > 2/L = 1 diverges: inf values and the divergence flags must survive the trip too
    r = simopt.run(p, optim.sgd(request.param), steps=60, runs=6, seed=3, record_every=7,
                   record=("x", "sharpness"))
    assert r.diverged.all() == (request.param > 1.0)
    return r


def _same(a: Result, b: Result):
    for k in ("steps", "loss", "grad_norm", "x", "x0", "f0", "diverged", "diverged_step"):
        va, vb = getattr(a, k), getattr(b, k)
        assert va.dtype == vb.dtype and va.shape == vb.shape, k
        assert va.tobytes() == vb.tobytes(), k          # bit-identical, inf and NaN included
    assert a.records.keys() == b.records.keys()
    for k in a.records:
        assert a.records[k].tobytes() == b.records[k].tobytes()
    assert a.meta == json.loads(json.dumps(a.meta, default=lambda o: o.tolist()))  # JSON-able
    assert b.meta == json.loads(json.dumps(a.meta, default=lambda o: o.tolist()))


def test_round_trip_is_bit_identical(res, tmp_path):
    path = res.save(tmp_path / "r")
    assert path.name == "r.npz" and path.exists()
    back = Result.load(path)
    _same(res, back)
    assert back.iterations_to(1e-2).tolist() == res.iterations_to(1e-2).tolist()
    assert repr(back.summary(1e-2)) == repr(res.summary(1e-2))   # NaN quantiles compare by repr
    assert Result.load(tmp_path / "r").runs == res.runs        # suffix optional when loading


def test_file_holds_no_pickled_objects(res, tmp_path):
    path = res.save(tmp_path / "r.npz")
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
        assert str(z["__format__"]) == "simopt.Result/1"


def test_load_rejects_other_files_naming_them(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(ValueError, match="other.npz"):
        Result.load(other)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="bad.npz"):
        Result.load(bad)
    with pytest.raises(FileNotFoundError):
        Result.load(tmp_path / "none.npz")
    with pytest.raises(TypeError, match="path"):
        Result.load(3)


def test_save_is_atomic_and_leaves_no_temporary(res, tmp_path):
    res.save(tmp_path / "r.npz")
    res.save(tmp_path / "r.npz")                               # overwrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.npz"]
    assert zipfile.is_zipfile(tmp_path / "r.npz")


def test_dataframe_is_the_long_form_of_the_arrays(res):
    pd = pytest.importorskip("pandas")
    df = res.to_dataframe()
    runs, n = res.loss.shape
    assert len(df) == runs * n
    assert list(df.columns) == ["run", "step", "loss", "rel_loss", "grad_norm", "diverged",
                                "sharpness"]
    wide = df.pivot(index="run", columns="step", values="loss").to_numpy()
    assert wide.tobytes() == res.loss.tobytes()
    np.testing.assert_array_equal(df["rel_loss"].to_numpy().reshape(runs, n),
                                  res.loss / res.f0[:, None])
    assert df.groupby("run")["diverged"].first().tolist() == res.diverged.tolist()
    assert isinstance(df, pd.DataFrame) and df["loss"].dtype == np.float64


def test_dataframe_without_pandas_is_one_clear_error(res, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pandas: pip install 'simopt\[io\]'"):
        res.to_dataframe()


def test_plot_draws_the_median_and_the_iqr(res):
    from simopt import plotting
    with plotting.style() as plt:
        fig, ax = plt.subplots()
        out = res.plot(ax=ax, label="SGD")
        assert out is ax
        (line,) = ax.get_lines()
        Y = np.where(np.isfinite(res.loss), res.loss, np.nan)
        ok = np.any(np.isfinite(Y), axis=0)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # steps where every run diverged
            med = np.nanmedian(Y, axis=0)
        np.testing.assert_allclose(line.get_ydata(), med[ok])
        assert ax.get_yscale() == "log" and len(ax.collections) == 1     # the IQR band
        plt.close(fig)
    ax = res.plot(metric="grad_norm", relative=True)
    assert ax.get_lines()[0].get_ydata()[0] == 1.0
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="metric"):
        res.plot(metric="speed")
