"""When a CLV model cannot be fitted or used, and the minimum data it needs."""

from __future__ import annotations

#: Fewer repeat buyers than this and a probabilistic fit is refused.
MIN_REPEAT_BUYERS = 50


class ModelError(ValueError):
    """A model cannot be fitted or used on this data (message says why, for the user)."""
