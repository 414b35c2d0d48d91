"""Exports are safe to open in Excel and keep numbers as numbers."""

import io

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from loyalty.export import (
    neutralise_cell,
    pseudonymise_frame,
    safe_frame,
    to_csv_bytes,
    to_excel_bytes,
)

HOSTILE = '=HYPERLINK("http://evil.example","click")'


def frame():
    return pd.DataFrame(
        {
            "member_id": [HOSTILE, "+1", "-2", "@SUM(A1)", "\tx", "\rx", "ok", None],
            "amount": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )


def test_csv_neutralises_formula_cells_and_keeps_numbers():
    text = to_csv_bytes(frame()).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert back["member_id"].tolist()[:7] == ["'" + HOSTILE, "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "ok"]
    assert back["amount"].dtype == float
    assert back["amount"].iloc[0] == -1.5  # a negative number is a number, not a formula


def test_excel_neutralises_and_keeps_numbers():
    data = to_excel_bytes({"members": frame(), "second": frame()})
    sheets = pd.read_excel(io.BytesIO(data), sheet_name=None)
    assert list(sheets) == ["members", "second"]
    df = sheets["members"]
    assert df.loc[0, "member_id"] == "'" + HOSTILE
    assert pd.api.types.is_float_dtype(df["amount"])


def test_sheet_names_are_made_valid_and_unique():
    data = to_excel_bytes({"a/b:c*?": frame(), "A/B:C*?": frame(), "x" * 40: frame()})
    names = list(pd.read_excel(io.BytesIO(data), sheet_name=None))
    assert len(set(n.lower() for n in names)) == 3
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)


def test_hostile_column_names_and_index():
    df = pd.DataFrame({"=cmd": [1]}, index=pd.Index(["=x"], name="member_id"))
    out = safe_frame(df)
    assert list(out.columns) == ["'=cmd"]
    assert out.index[0] == "'=x"


def test_pseudonymise_is_stable_and_hides_ids():
    df = pd.DataFrame({"member_id": ["A", "B", "A", None], "referred_by": ["B", None, None, None]})
    out = pseudonymise_frame(df, salt="s1")
    assert out.loc[0, "member_id"] == out.loc[2, "member_id"] != "A"
    assert out.loc[0, "referred_by"] == out.loc[1, "member_id"]  # links between columns survive
    assert pd.isna(out.loc[3, "member_id"])
    assert pseudonymise_frame(df, salt="s2").loc[0, "member_id"] != out.loc[0, "member_id"]


@given(st.text())
def test_neutralised_cell_never_starts_with_a_trigger(s):
    v = neutralise_cell(s)
    assert not v.startswith(("=", "+", "-", "@", "\t", "\r"))
