"""Customer-value tables shown on the Customer value page and in the report (one builder per table)."""

from __future__ import annotations

import pandas as pd

from loyalty.clv.value import CLVModels

#: Columns of :func:`top_members`, in order.
TOP_MEMBER_COLUMNS: tuple[str, ...] = (
    "member_id",
    "clv",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "frequency",
    "one_time_buyer",
)

#: Labels and units (:data:`loyalty.metrics.Unit`, or ``text``/``bool``/``param``) of the columns
#: below that are not registry metrics (``total_clv``, ``mean_clv``, ``p_alive_repeat`` and
#: ``one_time_share`` take the registry's); the columns keep their names.
CLV_SUMMARY_LABELS: dict[str, str] = {"members_modelled": "Members modelled", "median_clv": "Median CLV per member"}
CLV_SUMMARY_UNITS: dict[str, str] = {"members_modelled": "int", "median_clv": "money"}

#: ``frequency`` is the model's repeat purchase days, not the member feature "Purchases".
TOP_MEMBER_LABELS: dict[str, str] = {
    "member_id": "Member",
    "clv": "CLV",
    "p_alive": "P(alive)",
    "expected_purchases": "Expected purchases (horizon)",
    "expected_spend": "Expected spend per purchase",
    "frequency": "Repeat purchase days",
    "one_time_buyer": "One-time buyer",
}
TOP_MEMBER_UNITS: dict[str, str] = {
    "member_id": "text",
    "clv": "money",
    "p_alive": "pct",
    "expected_purchases": "num",
    "expected_spend": "money",
    "frequency": "int",
    "one_time_buyer": "bool",
}

#: Model estimates keep four decimals (a shape parameter of 0.61 vs 0.6064 matters).
PARAMETER_TABLE_LABELS: dict[str, str] = {"model": "Model", "parameter": "Parameter", "value": "Estimate"}
PARAMETER_TABLE_UNITS: dict[str, str] = {"model": "text", "parameter": "text", "value": "param"}

FIT_DIAGNOSTICS_LABELS: dict[str, str] = {
    "model": "Model",
    "customers": "Customers fitted",
    "log_likelihood": "Log-likelihood",
    "converged": "Converged",
    "optimiser_message": "Optimiser message",
}
FIT_DIAGNOSTICS_UNITS: dict[str, str] = {
    "model": "text",
    "customers": "int",
    "log_likelihood": "num",
    "converged": "bool",
    "optimiser_message": "text",
}


def clv_summary(values: pd.DataFrame) -> pd.DataFrame:
    """One row: members modelled, total / mean / median CLV, mean P(alive) of repeat buyers, one-time share.

    ``p_alive_repeat`` leaves out one-time buyers, whom the BG/NBD model gives P(alive) = 1
    by construction (registry key ``p_alive_repeat``).
    """
    one_time = values["one_time_buyer"].astype(bool)
    return pd.DataFrame(
        {
            "members_modelled": [len(values)],
            "total_clv": [values["clv"].sum()],
            "mean_clv": [values["clv"].mean()],
            "median_clv": [values["clv"].median()],
            "p_alive_repeat": [values.loc[~one_time, "p_alive"].mean()],
            "one_time_share": [one_time.mean()],
        }
    )


def top_members(values: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` members with the highest CLV, with their model quantities (:data:`TOP_MEMBER_COLUMNS`)."""
    top = values.nlargest(n, "clv").reset_index()
    top = top.rename(columns={top.columns[0]: "member_id"})
    return top[list(TOP_MEMBER_COLUMNS)]


def parameter_table(models: CLVModels) -> pd.DataFrame:
    """Fitted parameters of both models: ``model``, ``parameter``, ``value`` (time unit: model periods)."""
    b, g = models.bgnbd, models.gamma_gamma
    return pd.DataFrame(
        {
            "model": ["BG/NBD"] * 4 + ["Gamma-Gamma"] * 3,
            "parameter": ["r", "alpha", "a", "b", "p", "q", "v"],
            "value": [b.r, b.alpha, b.a, b.b, g.p, g.q, g.v],
        }
    )


def fit_diagnostics(models: CLVModels) -> pd.DataFrame:
    """Per model: customers fitted, log-likelihood, convergence and the optimiser's message."""
    b, g = models.bgnbd, models.gamma_gamma
    return pd.DataFrame(
        {
            "model": ["BG/NBD", "Gamma-Gamma"],
            "customers": [b.n_customers, g.n_customers],
            "log_likelihood": [b.log_likelihood, g.log_likelihood],
            "converged": [bool(b.converged), bool(g.converged)],
            "optimiser_message": [b.message, g.message],
        }
    )
