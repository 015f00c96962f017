"""A damaged cell is never "done": every kind of damage to a cell's .npz or .json (truncated,
garbage, empty, swapped from another cell, one value changed) is reported by ``status``, skipped
with a warning naming the file by tune / export / plot, refused by ``load``, and recomputed by a
resumed run, which then ends byte-identical to an undamaged store."""
import csv
import io
import json
import os
import shutil

import numpy as np
import pytest

from simopt import cli
from simopt.sweep import Store, export, parse, run_sweep, status, tune
from simopt.sweep.plot import plot_best
from simopt.sweep.store import CellDamagedError, DamagedCellWarning, npz_bytes

SPEC = {"steps": 40, "runs": 2, "seeds": [0, 1, 2, 3, 4], "record_every": 10,
        "problems": [{"type": "quadratic", "eigvals": [0.1, 0.5, 1.0], "rotation": "haar",
                      "noise": {"type": "gaussian", "scale": 0.01}}],
        "optimizers": [{"name": "sgd", "lr": [0.3, 1.0]}]}


def _change_one_npz_value(path, other):
    with np.load(path) as z:
        arrays = {k: z[k].copy() for k in z.files}
    arrays["loss"][0, 1] = np.nextafter(arrays["loss"][0, 1], np.inf)
    path.write_bytes(npz_bytes(arrays))


def _change_one_json_value(path, other):
    info = json.loads(path.read_text())
    info["wall_time"] = info["wall_time"] * 2
    path.write_text(json.dumps(info))


DAMAGE = {
    "truncated": lambda p, o: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "garbage": lambda p, o: p.write_bytes(os.urandom(p.stat().st_size)),
    "empty": lambda p, o: p.write_bytes(b""),
    "swapped": lambda p, o: shutil.copyfile(o, p),
}
NPZ_DAMAGE = dict(DAMAGE, one_value_changed=_change_one_npz_value)
JSON_DAMAGE = dict(DAMAGE, one_value_changed=_change_one_json_value)
KINDS = [(".npz", k) for k in NPZ_DAMAGE] + [(".json", k) for k in JSON_DAMAGE]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    spec = parse(SPEC)
    assert len(spec.cells) == 10 == len(KINDS)
    run_sweep(spec, out, workers=1, quiet=True)
    return spec, out


@pytest.fixture
def damaged(reference, tmp_path):
    """A copy of the reference store with cell i damaged as KINDS[i] says."""
    spec, ref = reference
    out = tmp_path / "d"
    shutil.copytree(ref, out)
    store = Store(out)
    bad = {}
    for i, (suffix, kind) in enumerate(KINDS):
        h, other = spec.hashes[i], spec.hashes[(i + 1) % len(spec.hashes)]
        p = store.cells_dir / f"{h}{suffix}"
        (NPZ_DAMAGE if suffix == ".npz" else JSON_DAMAGE)[kind](p, store.cells_dir /
                                                                f"{other}{suffix}")
        bad[h] = (p, kind)
    return spec, out, bad


def test_every_damage_kind_is_found_and_named(damaged):
    spec, out, bad = damaged
    store = Store(out)
    st = status(out)
    assert sorted(st["damaged"]) == sorted(bad) and st["done"] == [] and st["pending"] == []
    for h, (p, kind) in bad.items():
        why = store.check(h)
        assert why is not None and str(p) in why, (kind, why)
        with pytest.raises(CellDamagedError, match=str(p.name)):
            store.load(h)


def test_status_cli_lists_damaged_cells(damaged, capsys):
    spec, out, bad = damaged
    assert cli.main(["sweep", "status", str(out)]) == 0
    text = capsys.readouterr().out
    assert "10 cells: 0 done, 10 damaged, 0 failed, 0 pending" in text
    for h, (p, _) in bad.items():
        assert f"damaged {h[:12]}" in text and p.name in text


def test_tune_export_plot_skip_damaged_cells_with_a_warning_naming_the_file(damaged, reference):
    spec, out, bad = damaged
    some = dict(list(bad.items())[:3])
    store = Store(out)
    shutil.rmtree(store.cells_dir)
    shutil.copytree(reference[1] / "cells", store.cells_dir)  # undamaged again ...
    for h in some:  # ... but for three cells
        p, kind = bad[h]
        NPZ_DAMAGE[kind](p, store.cells_dir / f"{spec.hashes[0]}.npz") if p.suffix == ".npz" \
            else JSON_DAMAGE[kind](p, store.cells_dir / f"{spec.hashes[0]}.json")
    for fn in (lambda: tune(out), lambda: export(out, parquet=False), lambda: plot_best(out)):
        with pytest.warns(DamagedCellWarning) as rec:
            fn()
        named = " ".join(str(w.message) for w in rec)
        assert all(str(bad[h][0]) in named for h in some)
    long = list(csv.DictReader(io.StringIO((out / "export" / "long.csv").read_text())))
    assert long and not {r["cell"] for r in long} & set(some)
    summary = {r["cell"]: r for r in csv.DictReader(
        io.StringIO((out / "export" / "summary.csv").read_text()))}
    for h in some:
        assert summary[h]["status"] == "damaged" and bad[h][0].name in summary[h]["error"]


def test_resumed_run_recomputes_exactly_the_damaged_cells(damaged, reference):
    spec, out, bad = damaged
    rep = run_sweep(spec, out, workers=1, quiet=True)
    assert sorted(rep.damaged) == sorted(bad) == sorted(rep.computed) and not rep.failed
    ref = Store(reference[1])
    store = Store(out)
    assert store.states(spec.hashes) == {h: "done" for h in spec.hashes}
    for h in spec.hashes:
        assert (store.cells_dir / f"{h}.npz").read_bytes() == (ref.cells_dir / f"{h}.npz").read_bytes()
    assert run_sweep(spec, out, workers=1, quiet=True).computed == []


def test_record_without_its_npz_is_damaged_and_npz_without_record_is_pending(reference, tmp_path):
    spec, ref = reference
    out = tmp_path / "s"
    shutil.copytree(ref, out)
    store = Store(out)
    a, b = spec.hashes[:2]
    os.unlink(store.cells_dir / f"{a}.npz")
    os.unlink(store.cells_dir / f"{b}.json")
    st = store.states([a, b], warn=False)
    assert st == {a: "damaged", b: "pending"}
    assert f"{a}.npz" in store.check(a) and "missing" in store.check(a)


def test_legacy_cells_without_checksums_are_checked_structurally(reference, tmp_path):
    spec, ref = reference
    out = tmp_path / "s"
    shutil.copytree(ref, out)
    store = Store(out)
    for h in spec.hashes:  # as simopt 0.1.0 wrote them: no checksums
        p = store.cells_dir / f"{h}.json"
        info = json.loads(p.read_text())
        del info["checksum"], info["record_sha256"]
        p.write_text(json.dumps(info))
    assert store.states(spec.hashes) == {h: "done" for h in spec.hashes}
    h0, h1 = spec.hashes[:2]
    p = store.cells_dir / f"{h0}.npz"
    p.write_bytes(p.read_bytes()[:100])
    shutil.copyfile(store.cells_dir / f"{h0}.json", store.cells_dir / f"{h1}.json")
    assert Store(out).states([h0, h1], warn=False) == {h0: "damaged", h1: "damaged"}


def test_export_cli_names_the_damaged_file_in_one_line(damaged, capsys):
    spec, out, bad = damaged
    assert cli.main(["sweep", "export", str(out)]) == 0
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == len(bad)
    for h, (p, _) in bad.items():
        assert sum(ln.startswith("simopt sweep: warning: damaged cell file ") and str(p) in ln
                   for ln in err) == 1
