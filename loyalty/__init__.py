"""Loyalty Lab domain package (pure pandas/numpy; never imports streamlit)."""

from loyalty.rules import SAMPLE_RULES, ExpiryPolicy, RewardRules, RulesError, Tier
from loyalty.sample import load_sample
from loyalty.schema import Dataset

__all__ = [
    "SAMPLE_RULES",
    "Dataset",
    "ExpiryPolicy",
    "RewardRules",
    "RulesError",
    "Tier",
    "load_sample",
]
