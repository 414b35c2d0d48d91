"""Program inputs that KPIs need but exports rarely carry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProgramInputs:
    """Set once in the sidebar and used by every page.

    Attributes
    ----------
    point_value : float
        Cost of one redeemed point, currency per point.
    gross_margin : float
        Gross margin as a fraction of revenue (0-1).
    monthly_platform_cost : float
        Fixed program running cost per month (currency), added to costs from data.
    currency : str
        Symbol shown next to money figures.
    """

    point_value: float = 0.01
    gross_margin: float = 0.30
    monthly_platform_cost: float = 0.0
    currency: str = "€"

    def __post_init__(self) -> None:
        if not 0 <= self.point_value:
            raise ValueError("Point value cannot be negative.")
        if not 0 <= self.gross_margin <= 1:
            raise ValueError("Gross margin must be between 0 and 1.")
        if self.monthly_platform_cost < 0:
            raise ValueError("Monthly platform cost cannot be negative.")
