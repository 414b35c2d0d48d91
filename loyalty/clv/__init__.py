"""Customer lifetime value: classic CLV, the RFM summary, BG/NBD and Gamma-Gamma models, value, calibration.

One model per file, as in pymc-marketing's ``clv``: ``summary`` (lifetimes data conventions),
``bgnbd``, ``gamma_gamma``, ``value`` (CLV from the fitted models), ``calibration`` (holdout check),
``classic`` (AOV x frequency x lifespan).
"""

from loyalty.clv.bgnbd import (
    BGNBDFit,
    bgnbd_loglik,
    bgnbd_loglik_grad,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    p_alive,
    p_alive_matrix,
    xtT,
)
from loyalty.clv.calibration import (
    CalibrationCheck,
    calibration_holdout,
    default_calibration_end,
    member_calibration_check,
)
from loyalty.clv.classic import (
    LIFESPAN_CAP_YEARS,
    SimpleCLV,
    clv_simple,
    expected_lifespan_years,
    lifespan_capped,
)
from loyalty.clv.errors import MIN_REPEAT_BUYERS, ModelError
from loyalty.clv.gamma_gamma import GammaGammaFit, expected_spend, fit_gamma_gamma, gamma_gamma_loglik
from loyalty.clv.summary import PERIOD_DAYS, member_rfm_summary, rfm_summary
from loyalty.clv.tables import TOP_MEMBER_COLUMNS, clv_summary, fit_diagnostics, parameter_table, top_members
from loyalty.clv.value import CLVModels, clv_by_segment, customer_value, fit_models

__all__ = [
    "BGNBDFit",
    "CLVModels",
    "CalibrationCheck",
    "GammaGammaFit",
    "LIFESPAN_CAP_YEARS",
    "MIN_REPEAT_BUYERS",
    "ModelError",
    "PERIOD_DAYS",
    "SimpleCLV",
    "TOP_MEMBER_COLUMNS",
    "bgnbd_loglik",
    "bgnbd_loglik_grad",
    "calibration_holdout",
    "clv_by_segment",
    "clv_simple",
    "clv_summary",
    "conditional_expected_purchases",
    "customer_value",
    "default_calibration_end",
    "expected_lifespan_years",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_diagnostics",
    "fit_gamma_gamma",
    "fit_models",
    "gamma_gamma_loglik",
    "lifespan_capped",
    "member_calibration_check",
    "member_rfm_summary",
    "p_alive",
    "p_alive_matrix",
    "parameter_table",
    "rfm_summary",
    "top_members",
    "xtT",
]
