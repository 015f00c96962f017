"""Exports people can open: typed columns, a thinned long table, the best-lr table, a tuning table
without JSON in its cells, Parquet equal to CSV, and a one-line error when Parquet is missing."""
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simopt.cli import main
from simopt.sweep import Store, export, run_sweep, tune
from simopt.sweep.export import PER_DECADE, TABLES, best_lr_cells, log_steps

pd = pytest.importorskip("pandas")

SPEC = {"steps": 300, "runs": 2, "seeds": [0, 1], "record_every": 3, "eps": 0.05,
        "problems": [{"type": "quadratic", "eigvals": [0.1, 0.4, 1.0],
                      "noise": {"type": "gaussian", "scale": 0.01},
                      "grid": {"rotation": ["none", 0.5]}}],   # a string in one cell, a number in the other
        "optimizers": [{"name": "sgd", "lr": [0.3, 1.0, 2.5], "grid": {"momentum": [0.0, 0.5]}},
                       {"name": "gd_oracle", "rule": "2/(L+mu)"}]}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    rep = run_sweep(SPEC, out, workers=1, quiet=True)
    assert rep.ok
    return out


@pytest.fixture(scope="module")
def exported(swept, tmp_path_factory):
    return export(swept, tmp_path_factory.mktemp("export"))


def _read_csv(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a DtypeWarning (mixed types) fails the test
        return pd.read_csv(path)


def test_every_table_is_written_as_csv_and_parquet(exported):
    for t in TABLES:
        assert exported[t].exists() and exported[t + "_parquet"].exists()


def test_csv_columns_have_one_numeric_type(exported):
    long = _read_csv(exported["long"])
    for col in ("loss", "rel_loss", "grad_norm", "optimizer.lr", "problem.rotation_value",
                "optimizer.momentum"):
        assert long[col].dtype == np.float64, col
    for col in ("run", "step", "seed"):
        assert long[col].dtype == np.int64, col
    assert long["diverged"].dtype == bool
    # the mixed parameter is split: strings in one column, numbers in the other
    rot = long[["problem.rotation", "problem.rotation_value"]].drop_duplicates()
    assert set(map(str, rot["problem.rotation"].dropna())) == {"none"}
    assert set(rot["problem.rotation_value"].dropna()) == {0.5}
    assert (rot["problem.rotation"].isna() != rot["problem.rotation_value"].isna()).all()
    summary = _read_csv(exported["summary"])
    for col in ("T_eps_median", "ERT", "final_rel_loss_median", "n_diverged", "runs", "steps"):
        assert pd.api.types.is_numeric_dtype(summary[col]), col


def test_diverged_runs_export_inf_as_a_float(exported):
    long = _read_csv(exported["long"])
    div = long[long["diverged"]]
    assert len(div) > 0                      # lr 2.5 > 2/L diverges
    assert np.isposinf(div["loss"]).any()
    tun = _read_csv(exported["tuning"])
    assert tun["score"].dtype == np.float64 and np.isposinf(tun["score"]).any()


def test_tuning_table_is_long_and_agrees_with_tune(swept, exported):
    tun = _read_csv(exported["tuning"])
    assert not tun.astype(str).apply(lambda c: c.str.startswith("[")).any().any()  # no JSON lists
    for t in tune(swept):
        rows = tun[tun["group_key"] == t.group_key]
        if t.status == "no_lr":
            assert len(rows) == 1 and rows["best"].all() and rows["lr"].isna().all()
            continue
        assert rows["lr"].tolist() == t.lrs
        np.testing.assert_array_equal(rows["score"].to_numpy(), np.asarray(t.scores, float))
        assert rows.loc[rows["best"], "lr"].tolist() == [t.best_lr]


def test_best_lr_table_holds_exactly_the_tuned_cells(swept, exported):
    best = _read_csv(exported["best_lr"])
    chosen = best_lr_cells(swept)
    assert set(best["cell"]) == chosen
    spec = Store(swept).read_spec()
    picks = {t.group_key: t for t in tune(swept)}
    for c in spec.cells:
        t = picks[c.group_key]
        assert (c.hash in chosen) == (t.status == "no_lr" or c.lr == t.best_lr)


def test_parquet_equals_csv_with_categorical_labels(exported):
    for t in TABLES:
        csv_df = _read_csv(exported[t])
        pq = pd.read_parquet(exported[t + "_parquet"])
        assert list(pq.columns) == list(csv_df.columns)
        assert len(pq) == len(csv_df)
        for col in csv_df.columns:
            if pd.api.types.is_numeric_dtype(csv_df[col]):
                np.testing.assert_array_equal(pq[col].to_numpy(float), csv_df[col].to_numpy(float),
                                              err_msg=f"{t}.{col}")
    pq = pd.read_parquet(exported["long_parquet"])
    assert isinstance(pq["problem_label"].dtype, pd.CategoricalDtype)
    assert isinstance(pq["cell"].dtype, pd.CategoricalDtype)


def test_long_table_is_thinned_by_default_and_full_on_request(swept, tmp_path):
    thin = _read_csv(export(swept, tmp_path / "a", parquet=False, tables=("long",))["long"])
    full = _read_csv(export(swept, tmp_path / "b", parquet=False, steps="all",
                            tables=("long",))["long"])
    recorded = np.arange(0, 301, 3)
    assert sorted(full["step"].unique()) == recorded.tolist()
    kept = np.array(sorted(thin["step"].unique()))
    assert kept[0] == 0 and kept[-1] == 300 and len(kept) < len(recorded) / 2
    # the thinned rows are the full rows at the kept steps, unchanged
    sub = full[full["step"].isin(kept)].reset_index(drop=True)
    pd.testing.assert_frame_equal(thin, sub)


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=300, unique=True),
       st.integers(1, 30))
def test_log_steps_covers_every_record_within_two_grid_spacings(steps, per_decade):
    steps = np.array([0] + sorted(steps))
    idx = log_steps(steps, per_decade)
    assert np.all(np.diff(idx) > 0) and idx[0] == 0 and idx[-1] == steps.size - 1
    kept = steps[idx]
    pos = kept[kept > 0]
    # every recorded step lies within 2/per_decade decades of a kept one (nearest-point rounding of
    # a geometric grid with spacing 1/per_decade decades)
    gap = np.min(np.abs(np.log10(steps[1:, None] / pos[None, :])), axis=1)
    assert np.all(gap <= 2.0 / per_decade + 1e-12)
    decades = np.log10(steps[-1] / steps[1]) if steps.size > 1 else 0.0
    assert idx.size <= per_decade * decades + 4


def test_log_steps_rejects_a_bad_density():
    with pytest.raises(ValueError, match="per_decade"):
        log_steps(np.arange(10), 0)
    assert PER_DECADE >= 1


def test_parquet_without_pyarrow_is_one_line_naming_the_extra(swept, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(ImportError, match=r"simopt\[io\]"):
        export(swept, tmp_path, parquet=True)
    assert main(["sweep", "export", str(swept), "--out", str(tmp_path), "--parquet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("simopt: error:") and "simopt[io]" in err
    # without --parquet the CSV tables are still written
    assert main(["sweep", "export", str(swept), "--out", str(tmp_path / "csv")]) == 0
    assert (tmp_path / "csv" / "long.csv").exists()
    assert not (tmp_path / "csv" / "long.parquet").exists()
