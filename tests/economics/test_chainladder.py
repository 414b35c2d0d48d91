"""Our volume-weighted chain-ladder against the CAS ``chainladder`` package (the actuarial field's library,
a test-only dependency: it is too heavy for the app), and its edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from loyalty.economics import chain_ladder, exponential_tail, volume_weighted_factors
from loyalty.economics.breakage import TAIL_FIT_FROM, _TailFrom


def _triangle(n: int = 9, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f_true = 1 + 1.5 * np.exp(-0.5 * np.arange(n - 1))
    cum = np.full((n, n), np.nan)
    for c in range(n):
        v = 100 * rng.uniform(0.8, 1.2)
        for a in range(n - c):
            if a:
                v *= f_true[a - 1] * rng.uniform(0.97, 1.03)
            cum[c, a] = v
    return cum


def _cl_triangle(cum: np.ndarray):
    cl = pytest.importorskip("chainladder")
    rows = [
        {"origin": pd.Timestamp("2020-01-01") + pd.DateOffset(months=c),
         "valuation": pd.Timestamp("2020-01-01") + pd.DateOffset(months=c + a), "redeemed": cum[c, a]}
        for c in range(cum.shape[0]) for a in range(cum.shape[1]) if not np.isnan(cum[c, a])
    ]
    return cl, cl.Triangle(pd.DataFrame(rows), origin="origin", development="valuation", columns=["redeemed"],
                           cumulative=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_factors_tail_and_ultimates_equal_the_chainladder_package(seed):
    cum = _triangle(seed=seed)
    cl, tri = _cl_triangle(cum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dev = cl.Development(average="volume").fit(tri)
        np.testing.assert_allclose(volume_weighted_factors(cum), dev.ldf_.values.ravel(), rtol=1e-12)
        tail = cl.TailCurve(curve="exponential").fit(dev.transform(tri))
        assert exponential_tail(volume_weighted_factors(cum))[0] == pytest.approx(tail.tail_.values.ravel()[0], rel=1e-10)
        ours = chain_ladder(cum)
        want = cl.Chainladder().fit(tail.transform(tri)).ultimate_.values.ravel()
        np.testing.assert_allclose(ours.ultimate, want, rtol=1e-10)
        # the breakage estimate's tail: fitted from age TAIL_FIT_FROM on = chainladder's fit_period
        short = _triangle(n=12, seed=seed)
        cl2, tri2 = _cl_triangle(short)
        dev2 = cl2.Development(average="volume").fit(tri2)
        fp = cl2.TailCurve(curve="exponential", fit_period=(TAIL_FIT_FROM + 1, None)).fit(dev2.transform(tri2))
        got = _TailFrom(TAIL_FIT_FROM)(volume_weighted_factors(short))[0]
        assert got == pytest.approx(fp.tail_.values.ravel()[0], rel=1e-10)


def test_zero_early_development_and_horizon():
    cum = np.array([[0.0, 10, 15, 15], [0, 12, 18, np.nan], [0, 20, np.nan, np.nan], [0, np.nan, np.nan, np.nan]])
    f = volume_weighted_factors(cum)
    assert np.isnan(f[0])  # 42 / 0: undefined, not infinite
    assert f[1] == pytest.approx(33 / 22) and f[2] == 1.0
    r = chain_ladder(cum, tail="none")
    assert r.ultimate[3] == 0  # nothing to develop: 0, the estimate then uses Bornhuetter-Ferguson
    assert r.ultimate[2] == pytest.approx(20 * 33 / 22)
    h = chain_ladder(cum, horizon=2)
    assert h.tail == 1.0 and h.factors[2] == 1.0 and "horizon" in h.tail_method


def test_a_tail_that_does_not_decay_is_not_invented():
    t, how = exponential_tail(np.array([1.01, 1.02, 1.04, 1.08]))
    assert np.isnan(t) and "do not decay" in how
