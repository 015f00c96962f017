"""The store's lock file and the export's temporary files never follow a planted symlink, and an
export that fails part-way (e.g. ENOSPC) leaves no temporary file behind and the old table intact."""
import errno
import importlib
import os

import pytest

from simopt.sweep import StoreError, export, run_sweep

export_mod = importlib.import_module("simopt.sweep.export")  # the module, not the function

SPEC = {"steps": 10, "runs": 2, "seeds": [0, 1], "record_every": 5,
        "problems": [{"type": "quadratic", "eigvals": [0.1, 0.5, 1.0]}],
        "optimizers": [{"name": "sgd", "lr": [0.5]}]}


@pytest.fixture
def swept(tmp_path):
    out = tmp_path / "s"
    run_sweep(SPEC, out, workers=1, quiet=True)
    return out


def test_planted_lock_symlink_is_refused_and_its_target_untouched(tmp_path):
    out = tmp_path / "s"
    (out / "cells").mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.symlink(victim, out / ".lock")
    with pytest.raises(StoreError, match="symbolic link"):
        run_sweep(SPEC, out, workers=1, quiet=True)
    assert victim.read_text() == "keep"


def test_export_does_not_follow_planted_symlinks(swept, tmp_path):
    exp = swept / "export"
    exp.mkdir()
    victims = {}
    for name in ("long.csv.tmp", "long.csv", "summary.csv"):
        v = tmp_path / f"victim-{name}"
        v.write_text("keep")
        os.symlink(v, exp / name)
        victims[name] = v
    paths = export(swept, parquet=False)
    assert all(v.read_text() == "keep" for v in victims.values())
    assert not paths["long"].is_symlink() and paths["long"].read_text().startswith("cell,")


def test_a_failed_export_leaves_no_temporary_file_and_the_old_table(swept, monkeypatch):
    export(swept, parquet=False)
    exp = swept / "export"
    before = {p.name: p.read_bytes() for p in exp.iterdir()}
    n = [0]
    real = export_mod._fmt

    def full_disk(v):
        n[0] += 1
        if n[0] > 20:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(v)

    monkeypatch.setattr(export_mod, "_fmt", full_disk)
    with pytest.raises(OSError) as e:
        export(swept, parquet=False)
    assert e.value.errno == errno.ENOSPC
    assert {p.name: p.read_bytes() for p in exp.iterdir()} == before  # no .tmp, tables unchanged
