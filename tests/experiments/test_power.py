"""Power and design: the MDE formula, its inverse, a simulation check, the program's own variance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from loyalty import load_sample, minimum_detectable_effect, plan_test, required_group_size, spend_variance
from loyalty.experiments import cuped_welch_arrays, detectable_at


def test_mde_formula():
    # (1.959964 + 0.841621) x 10 x sqrt(1/100 + 1/100)
    assert minimum_detectable_effect(100, 100, 10.0) == pytest.approx(2.801585 * 10 * math.sqrt(0.02), rel=1e-6)
    # CUPED removing 75% of the variance halves the MDE
    assert minimum_detectable_effect(100, 100, 10.0, variance_reduction=0.75) == pytest.approx(
        minimum_detectable_effect(100, 100, 10.0) / 2)
    assert math.isnan(minimum_detectable_effect(0, 100, 10.0))
    assert detectable_at(1.0) == pytest.approx(2.801585, rel=1e-6)


@pytest.mark.parametrize("share", [0.5, 0.2, 0.1])
def test_required_group_size_inverts_the_mde(share):
    n_t, n_c = required_group_size(2.0, 30.0, control_share=share, variance_reduction=0.3)
    assert n_c / (n_t + n_c) == pytest.approx(share, abs=0.01)
    assert minimum_detectable_effect(n_t, n_c, 30.0, variance_reduction=0.3) <= 2.0
    assert minimum_detectable_effect(n_t - 5, n_c - 5, 30.0, variance_reduction=0.3) > 2.0
    assert required_group_size(0.0, 30.0) == (0, 0)


def test_power_at_the_mde_is_80_percent_by_simulation():
    """Vectorised over 4,000 simulated tests: an effect equal to the MDE is detected ~80% of the time."""
    rng = np.random.default_rng(11)
    n_t, n_c, sd = 300, 200, 25.0
    effect = minimum_detectable_effect(n_t, n_c, sd)
    is_test = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    y = rng.normal(50, sd, (4000, n_t + n_c)) + effect * is_test
    r = cuped_welch_arrays(y, None, is_test)
    power = float((r["ci_low"] > 0).mean())
    assert 0.76 <= power <= 0.84, power
    null = cuped_welch_arrays(rng.normal(50, sd, (4000, n_t + n_c)), None, is_test)
    assert 0.035 <= float((null["p_value"] < 0.05).mean()) <= 0.065


def test_plan_from_the_programs_own_variance():
    ds = load_sample()
    v = spend_variance(ds, 28)
    assert v.members > 1000 and v.sd > 0 and 0 <= v.variance_reduction < 1
    assert v.window_end == ds.transactions["timestamp"].max().normalize()
    assert (v.window_end - v.window_start).days == 27
    plan = plan_test(v, 2000, 500, target_effect=5.0)
    assert plan.mde_cuped < plan.mde_plain
    assert sum(plan.needed_cuped) <= sum(plan.needed_plain)
    assert plan.needed_cuped[1] / sum(plan.needed_cuped) == pytest.approx(0.2, abs=0.01)
    everyone = spend_variance(ds, 28, population="all")
    assert everyone.members > v.members
    with pytest.raises(ValueError):
        spend_variance(ds, 0)
