"""The HTML report is self-contained (opens offline) and never renders data as HTML."""

import html
import re

import altair as alt
import pandas as pd

from loyalty.export import ROW, TableFormat
from loyalty.report import ReportSection, build_report_html

EVIL = "<script>alert(1)</script>"


def sections():
    df = pd.DataFrame({"member_id": [EVIL, "**bold**"], "clv": [12.5, 3.25]})
    chart = alt.Chart(df).mark_bar().encode(x="member_id:N", y="clv:Q").properties(title="CLV")
    return [
        ReportSection(
            "Customer value",
            intro="Intro " + EVIL,
            tables=(("Top members", df),),
            charts=(chart.to_dict(),),
            definitions=(("CLV", "expected margin"),),
        )
    ]


def test_report_escapes_data_and_embeds_svg():
    out = build_report_html(EVIL, (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31")), sections())
    assert "<script" not in out.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<svg" in out
    assert "2025-01-01 to 2025-12-31" in out
    assert "Definitions" in out and "expected margin" in out


def test_report_needs_no_network():
    out = build_report_html("Sample", None, sections())
    # No external resources: no src/href to http(s), no <link>, no script tags.
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", out, re.I)
    assert "<link" not in out.lower()


def test_a_failing_chart_does_not_lose_the_report():
    def broken(spec):
        raise RuntimeError("no renderer")

    out = build_report_html("Sample", None, sections(), render_svg=broken)
    assert "chart unavailable" in out and "Top members" in out


# --------------------------------------------------------------------------- figures for people
def _cells(out: str) -> list[list[str]]:
    """Text of every row's cells (header row included) of the first table in ``out``."""
    table = out[out.index("<table"):out.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in rows]


def _one_table(df: pd.DataFrame, fmt=None, currency: str = "€") -> list[list[str]]:
    table = ("Figures", df) if fmt is None else ("Figures", df, fmt)
    out = build_report_html("Sample", None, [ReportSection("S", tables=(table,))], currency=currency)
    return _cells(out)


def test_registry_columns_are_labelled_and_formatted_by_unit():
    df = pd.DataFrame({
        "members_total": [5000.0],  # a count held as a float must not read 5,000.00
        "active_rate": [0.7562],
        "member_revenue_share": [9.184e-05],
        "revenue": [1374091.3],
        "points_issued": [1312385.0],
        "nps": [37.88],
        "csat": [4.1512],
        "total_clv": [263976.26],
    })
    header, row = _one_table(df)
    assert header == ["Members", "Active rate", "Member revenue share", "Revenue", "Points issued", "NPS", "CSAT",
                      "Total CLV"]
    assert row == ["5,000", "75.6%", "0.0%", "€1,374,091.30", "1,312,385", "+37.9", "4.15", "€263,976.26"]


def test_declared_units_row_units_changes_and_hidden_keys():
    df = pd.DataFrame({
        "kpi": ["active_rate", "aov", "members_total"],
        "label": ["Active rate", "Average order value", "Members"],
        "value": [0.6938, 51.32, 5000.0],
        "delta": [-0.1116, -0.48, 2153.0],
        "delta_pct": [-0.1386, -0.009266, 0.7562],
        "unit": ["pct", "money", "int"],
        EVIL: [1.0, 2.0, 3.0],
    })
    fmt = TableFormat(labels={"label": "KPI", "value": "This period", "delta": "Change", "delta_pct": "Change %"},
                      units={"value": ROW, "delta": ROW, "delta_pct": "change", EVIL: "num"},
                      deltas=("delta",), row_unit="unit", hidden=("kpi", "unit"))
    out = build_report_html("Sample", None, [ReportSection("S", tables=(("KPIs", df, fmt),))], currency="€")
    header, *rows = _cells(out)
    assert header == ["KPI", "This period", "Change", "Change %", EVIL]  # keys and unit codes hidden
    assert rows[0][:4] == ["Active rate", "69.4%", "-11.2 pp", "-13.9%"]  # a share's change in points
    assert rows[1][:4] == ["Average order value", "€51.32", "-€0.48", "-0.9%"]
    assert rows[2][:4] == ["Members", "5,000", "+2,153", "+75.6%"]
    assert "<script" not in out.lower()  # a header from the data is escaped too
    assert "active_rate" not in out and ">pct<" not in out


def test_missing_values_are_an_em_dash_never_none_or_nan():
    df = pd.DataFrame({
        "name": pd.array(["A", None], dtype="string"),
        "note": [None, "x"],
        "revenue": [float("nan"), 1.0],
        "share_of_clv": [float("inf"), 0.5],
        "converged": [True, False],
    })
    header, *rows = _one_table(df, TableFormat(units={"share_of_clv": "pct", "converged": "bool"}))
    assert header == ["Name", "Note", "Revenue", "Share of clv", "Converged"]
    assert rows == [["A", "—", "—", "—", "Yes"], ["—", "x", "€1.00", "50.0%", "No"]]
    text = " ".join(" ".join(r) for r in rows)
    assert not re.search(r"\b(None|nan|NaN|inf|<NA>)\b", text)


def test_figures_are_right_aligned_and_text_is_not():
    out = build_report_html("Sample", None, sections())
    assert "<td class='num'>€12.50</td>" not in out  # no currency given: none invented
    assert "<td class='num'>12.50</td>" in out and "<td>**bold**</td>" in out
