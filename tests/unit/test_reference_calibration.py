"""benchmarks/reference_calibration.py: the weighted ECE behind its bootstrap interval is the
diagnostics' ECE under resampling weights."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pnlc.value.diagnostics import expected_calibration_error

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "reference_calibration.py"


@pytest.fixture(scope="module")
def weighted_ece():
    spec = importlib.util.spec_from_file_location("reference_calibration", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.weighted_ece


def test_unit_weights_give_the_diagnostics_ece(weighted_ece):
    rng = np.random.default_rng(0)
    pred = np.r_[rng.random(200), 0.0, 1.0]  # both edges: 1.0 falls in the last bin
    label = (rng.random(202) < pred).astype(float)
    got = weighted_ece(pred, label, np.ones((1, pred.size)), 10)
    assert got.shape == (1,)
    assert got[0] == pytest.approx(expected_calibration_error(pred, label, 10), abs=1e-12)


def test_multiplicities_equal_repeated_items_and_zero_weights_drop_them(weighted_ece):
    rng = np.random.default_rng(1)
    pred, label = rng.random(50), (rng.random(50) < 0.4).astype(float)
    counts = rng.integers(0, 4, size=(3, 50))
    got = weighted_ece(pred, label, counts, 10)
    for row, value in zip(counts, got):
        idx = np.repeat(np.arange(50), row)
        assert value == pytest.approx(expected_calibration_error(pred[idx], label[idx], 10), abs=1e-12)
