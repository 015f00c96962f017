"""``simopt bounds``: the bound report as a table, exit status 1 on a violation."""
import pytest

from simopt.cli import main


def test_bounds_verb_prints_the_report(capsys):
    rc = main(["bounds", "gd_lg", "--n-blocks", "3", "--block-size", "3", "--condition-number",
               "100", "--runs", "2", "--random-x0", "--eps", "1e-2"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "theory_notes §2B" in out and "T_bound" in out and "every per-step guarantee held" in out


def test_bounds_verb_reports_a_wrong_step(capsys):
    rc = main(["bounds", "gd", "--n-blocks", "3", "--block-size", "3", "--condition-number", "100",
               "--runs", "1", "--lr-scale", "2.5"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "VIOLATION" in out


@pytest.mark.parametrize("method", ["gd_vs_sign", "adam", "sign"])
def test_bounds_verb_other_methods(capsys, method):
    rc = main(["bounds", method, "--n-blocks", "2", "--block-size", "3", "--condition-number",
               "50", "--runs", "2", "--eps", "1e-2", "--random-x0"])
    assert rc == 0, capsys.readouterr().out


def test_bounds_verb_sgd_and_errors(capsys):
    rc = main(["bounds", "sgd", "--n-blocks", "2", "--block-size", "3", "--condition-number", "20",
               "--noise-scale", "0.01", "--runs", "100", "--eps", "0.05"])
    out = capsys.readouterr().out
    assert rc == 0 and "T(eps) of mean" in out
    assert main(["bounds", "sgd", "--runs", "10"]) == 2            # no noise: a clear error
    assert "noise" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bounds", "newton"])
