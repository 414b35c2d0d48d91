"""Exports are safe to open in Excel and keep numbers as numbers."""

import io

import openpyxl
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from loyalty.export import (
    ROW,
    TableFormat,
    excel_number_format,
    format_cell,
    neutralise_cell,
    pseudonymise_frame,
    safe_frame,
    to_csv_bytes,
    to_excel_bytes,
)
from loyalty.metrics import format_number

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


# --------------------------------------------------------------------------- readable Excel
def _sheet(data: bytes, name: str):
    return openpyxl.load_workbook(io.BytesIO(data))[name]


def _column(ws, header: str) -> list:
    j = [c.value for c in ws[1]].index(header) + 1
    return [ws.cell(r, j) for r in range(2, ws.max_row + 1)]


def test_excel_number_formats_by_declared_unit_and_frozen_labelled_header():
    df = pd.DataFrame({
        "segment": ["A", "B"],
        "members": [816, 1216],
        "share_of_members": [0.1632, 0.2432],
        "total_clv": [147321.91, 24286.48],
        "point_value": [0.01, 0.008],
        "lifespan_years": [2.6, 10.0],
        "month": pd.to_datetime(["2025-11-01", "2025-12-01"]),
    })
    fmt = TableFormat(labels={"segment": "Segment", "members": "Members", "share_of_members": "Share of members"},
                      units={"members": "int", "share_of_members": "pct", "point_value": "price",
                             "lifespan_years": "years", "month": "month"}, frozen_columns=1)
    ws = _sheet(to_excel_bytes({"Segments": df}, formats={"Segments": fmt}, currency="€"), "Segments")
    assert [c.value for c in ws[1]] == ["Segment", "Members", "Share of members", "Total CLV", "Point value",
                                        "Lifespan years", "Month"]
    assert ws.freeze_panes == "B2"  # header row and the segment column stay in view
    assert all(c.font.b for c in ws[1])
    expected = {"Members": "#,##0", "Share of members": "0.0%", "Total CLV": '"€"#,##0.00;-"€"#,##0.00',
                "Point value": '"€"#,##0.0000;-"€"#,##0.0000', "Lifespan years": '0.0" years"', "Month": "yyyy-mm"}
    for header, number_format in expected.items():
        assert {c.number_format for c in _column(ws, header)} == {number_format}, header
    # values stay numbers a finance user can sum
    assert [c.value for c in _column(ws, "Share of members")] == [0.1632, 0.2432]
    assert all(isinstance(c.value, int) for c in _column(ws, "Members"))
    assert ws.column_dimensions["C"].width >= len("Share of members")


def test_excel_row_units_changes_and_unit_names():
    df = pd.DataFrame({"kpi": ["active_rate", "revenue", "nps"], "value": [0.69, 1374091.3, 37.9],
                       "delta": [-0.11, -0.48, 20.5], "delta_pct": [-0.14, -0.01, 1.18],
                       "unit": ["pct", "money", "score"]})
    fmt = TableFormat(units={"value": ROW, "delta": ROW, "delta_pct": "change"}, deltas=("delta",), row_unit="unit")
    ws = _sheet(to_excel_bytes({"KPIs": df}, formats={"KPIs": fmt}, currency="€"), "KPIs")
    assert [c.number_format for c in _column(ws, "Value")] == ["0.0%", '"€"#,##0.00;-"€"#,##0.00', "+0.0;-0.0;0.0"]
    assert [c.number_format for c in _column(ws, "Delta")] == [
        "+0.0%;-0.0%;0.0%", '+"€"#,##0.00;-"€"#,##0.00;"€"0.00', "+0.0;-0.0;0.0"]
    assert {c.number_format for c in _column(ws, "Delta pct")} == {"+0.0%;-0.0%;0.0%"}
    assert [c.value for c in _column(ws, "Unit")] == ["share", "currency", "index"]  # registry UNIT_NAMES
    assert [c.value for c in _column(ws, "Value")] == [0.69, 1374091.3, 37.9]


def test_excel_without_a_format_keeps_names_but_formats_registry_columns():
    df = pd.DataFrame({"member_id": ["M1", "M2"], "monetary": [10.5, -2.0], "frequency": [3, 1],
                       "redemption_ratio": [0.25, float("nan")], "score": [1.5, 2.5]})
    ws = _sheet(to_excel_bytes({"features": df}), "features")
    assert [c.value for c in ws[1]] == list(df.columns)  # a data export keeps its column names
    assert ws.freeze_panes == "A2"
    assert {c.number_format for c in _column(ws, "monetary")} == {"#,##0.00"}  # no currency given: none invented
    assert {c.number_format for c in _column(ws, "frequency")} == {"#,##0"}
    assert {c.number_format for c in _column(ws, "redemption_ratio")} == {"0.0%"}
    assert {c.number_format for c in _column(ws, "score")} == {"#,##0.00"}  # unknown float: two decimals
    assert _column(ws, "redemption_ratio")[1].value is None  # missing: an empty cell, not "nan"


def test_formatted_excel_stays_formula_safe():
    df = pd.DataFrame({"=cmd": [1.0], "name": [HOSTILE], "note": [None]})
    fmt = TableFormat(labels={"name": "@label", "note": "Note"})
    ws = _sheet(to_excel_bytes({"t": df}, formats={"t": fmt}), "t")
    assert [c.value for c in ws[1]] == ["'=cmd", "'@label", "Note"]
    assert ws["B2"].value == "'" + HOSTILE and ws["B2"].data_type == "s"
    assert ws["C2"].value is None


def test_format_number_by_unit():
    assert format_number(0.7562, "pct") == "75.6%"
    assert format_number(-0.5641, "pct", delta=True) == "-56.4 pp"
    assert format_number(5000.0, "int") == "5,000"
    assert format_number(1312385.0, "points") == "1,312,385"
    assert format_number(-2618.0, "money", "€") == "-€2,618.00"
    assert format_number(15.3, "money", "USD", delta=True) == "+USD 15.30"
    assert format_number(37.88, "score") == "+37.9"
    assert format_number(4.1512, "rating") == "4.15"
    assert format_number(18.2, "days") == "18 days" and format_number(2.64, "years") == "2.6 years"
    assert format_number(9.184e-05, "pct", delta=True) == "0.0 pp"  # rounds to zero: no sign
    assert format_number(-0.0001, "num") == "0.00"
    assert format_number(float("nan"), "money", "€") == "—" and format_number(None, "int") == "—"


def test_format_cell_and_excel_number_format_agree_on_units():
    assert format_cell(0.008, "price", "€") == "€0.0080"
    assert format_cell(-0.2, "change") == "-20.0%" and format_cell(0.0, "change") == "0.0%"
    assert format_cell(float("inf"), "change") == "—"
    assert format_cell(True, "bool") == "Yes" and format_cell(pd.NA, "text") == "—"
    assert format_cell(pd.Timestamp("2025-11-01"), "month") == "2025-11"
    assert excel_number_format("pct") == "0.0%" and excel_number_format("pct", delta=True) == "+0.0%;-0.0%;0.0%"
    assert excel_number_format("money", 'U;S"D') == '"USD "#,##0.00;-"USD "#,##0.00'  # no broken format
    assert excel_number_format("text") is None
