"""The strategy report's sections on the sample program: right figures, definitions, scope, safe output."""

import html as html_lib
import io
import re
from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd
import pytest

from loyalty import load_sample
from loyalty.clv import customer_value, fit_models
from loyalty.inputs import ProgramInputs
from loyalty.kpis import compute_kpis
from loyalty.kpis.frame import default_period
from loyalty.members.features import member_features
from loyalty.members.segmentation import rename, segment
from loyalty.periods import previous_period
from loyalty.report.sections import (
    ReportSegments,
    build_report,
    scenarios_from_json,
    scenarios_json,
)
from loyalty.simulator.rules import SAMPLE_RULES
from ui.report_charts import REPORT_CHARTS

EVIL_ID = "<script>alert('id')</script>"
EVIL_SEG = "<script>alert('seg')</script>"
FORMULA_SEG = '=HYPERLINK("http://evil.example","x")'
INPUTS = ProgramInputs(point_value=0.01, gross_margin=0.3, monthly_platform_cost=500.0, currency="€")


def _rename_member(ds, old: str, new: str):
    """The dataset with one member id replaced in every table."""
    changes = {}
    for kind in ("transactions", "members", "ledger", "surveys"):
        df = ds.table(kind)
        if df is not None:
            df = df.copy()
            for col in ("member_id", "referred_by"):
                if col in df.columns:
                    df[col] = df[col].mask(df[col] == old, new)
            changes[kind] = df
    return ds.replace(**changes)


@pytest.fixture(scope="module")
def built():
    sample = load_sample()
    m = fit_models(sample)
    top_id = customer_value(m.summary, m.bgnbd, m.gamma_gamma, 12, 0.3, 0.10, period_days=7)["clv"].idxmax()
    ds = _rename_member(sample, str(top_id), EVIL_ID)
    feats = member_features(ds)
    seg = segment(feats, 4)
    seg = rename(seg, {0: EVIL_SEG, 1: FORMULA_SEG})
    segments = ReportSegments.from_segmentation(seg, "Test segmentation")
    start, end = default_period(ds)
    report = build_report(ds, start, end, INPUTS, segments=segments, features=feats, charts=REPORT_CHARTS)
    return ds, (start, end), report


def test_kpi_table_holds_the_engines_values(built):
    ds, (start, end), report = built
    kw = dict(point_value=0.01, margin=0.3, monthly_platform_cost=500.0)
    cur = compute_kpis(ds, start, end, **kw)
    prev = compute_kpis(ds, *previous_period(start, end), **kw)
    table = report.tables["KPIs"].set_index("kpi")
    for key in ("revenue", "active_members", "retention_rate", "points_issued", "program_roi", "nps"):
        assert table.loc[key, "value"] == pytest.approx(cur[key], nan_ok=True)
        assert table.loc[key, "previous"] == pytest.approx(prev[key], nan_ok=True)
        assert table.loc[key, "formula"]  # every KPI carries its formula
    assert report.sections[0].title == "KPI summary"
    assert report.sections[0].tables[0][1] is report.tables["KPIs"]
    assert len(report.sections[0].charts) == 2  # monthly revenue/active members and points flows


def test_every_section_has_definitions_dataset_name_and_date_range(built):
    ds, _, report = built
    first, last = ds.date_range()
    titles = [s.title for s in report.sections]
    assert titles == ["KPI summary", "Segments", "Customer value", "Scenario comparison"]
    for sec in report.sections:
        assert sec.definitions, sec.title
        assert ds.name in sec.intro, sec.title
        assert f"{first:%Y-%m-%d} to {last:%Y-%m-%d}" in sec.intro, sec.title
        assert sec.tables and sec.charts, sec.title
        assert not any("unavailable" in n for n in sec.notes), sec.notes


def test_segments_clv_and_scenarios_content(built):
    _, _, report = built
    segs = report.tables["Segments"]
    assert list(segs["name"][:2]) == [EVIL_SEG, FORMULA_SEG]
    assert segs["members"].sum() == 5000 and segs["share_of_members"].sum() == pytest.approx(1.0)
    assert segs["suggested_action"].str.len().gt(0).all()
    assert {"CLV summary", "CLV by segment", "Top members by CLV", "CLV model parameters",
            "CLV fit diagnostics", "CLV holdout check"} <= set(report.tables)
    assert report.tables["Top members by CLV"]["member_id"].iloc[0] == EVIL_ID
    assert report.tables["CLV fit diagnostics"]["converged"].all()
    comp = report.tables["Scenario comparison"]
    assert comp.columns[3] == "Baseline (inferred)" and "Devalue points 20%" in comp.columns
    cost = comp.set_index("kpi").loc["reward_cost"]
    assert cost["Devalue points 20%"] == pytest.approx(0.8 * cost["Baseline (inferred)"])


def test_html_is_self_contained_and_escapes_data(built):
    ds, _, report = built
    html = report.to_html()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html, re.I)
    assert "<link" not in html.lower() and "@import" not in html
    assert html.count("<svg") == sum(len(s.charts) for s in report.sections)
    quote = "(?:'|&#x27;|&#39;)"
    assert re.search(f"&lt;script&gt;alert\\({quote}id{quote}\\)&lt;/script&gt;", html)  # member id, escaped
    # the segment name, escaped in the tables and in the SVG charts' labels
    assert len(re.findall(f"&lt;script&gt;alert\\({quote}seg{quote}\\)&lt;/script&gt;", html)) >= 3
    assert "Definitions" in html and ds.name in html


def test_excel_has_one_sheet_per_table_and_is_formula_safe(built):
    _, _, report = built
    wb = openpyxl.load_workbook(io.BytesIO(report.to_excel()))
    assert wb.sheetnames == list(report.tables)
    for name, df in report.tables.items():
        assert wb[name].max_row == len(df) + 1, name  # header + every row
    seg = wb["Segments"]
    header = [c.value for c in seg[1]]
    names = [row[header.index("Name")] for row in seg.iter_rows(min_row=2, values_only=True)]
    assert names[1] == "'" + FORMULA_SEG  # neutralised text
    members = [row[header.index("Members")] for row in seg.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, int) for v in members)  # numbers stay numbers
    kpis = wb["KPIs"]
    assert all(isinstance(c.value, (int, float)) for c in list(kpis.columns)[3][1:] if c.value is not None)


def _two_segments(feats):
    """Members above (0) / below (1) the median net spend."""
    return pd.Series(np.where(feats["monetary"] > feats["monetary"].median(), 0, 1), index=feats.index)


def test_pseudonymised_report_hides_member_ids(built):
    ds, (start, end), report = built
    feats = member_features(ds)
    segments = ReportSegments.from_labels(feats, _two_segments(feats), {0: "A", 1: "B"}, "Labels only")
    pseudo = build_report(ds, start, end, INPUTS, segments=segments, features=feats, pseudonymise_salt="salt")
    top = pseudo.tables["Top members by CLV"]["member_id"]
    assert top.str.match(r"^M-[0-9a-f]{10}$").all()
    html = pseudo.to_html(render_svg=lambda spec: "<svg></svg>")
    assert "alert('id" not in html and "alert(&#x27;id" not in html
    xlsx = openpyxl.load_workbook(io.BytesIO(pseudo.to_excel()))
    assert xlsx["Top members by CLV"]["A2"].value == top.iloc[0]
    assert "Stability across random seeds: see the Segments page" in " ".join(pseudo.sections[1].notes)


def test_thin_data_gives_notes_not_errors():
    ds = load_sample()
    keep = set(sorted(ds.members["member_id"])[:40])
    small = ds.replace(
        transactions=ds.transactions[ds.transactions["member_id"].isin(keep)],
        members=ds.members[ds.members["member_id"].isin(keep)],
        ledger=ds.ledger[ds.ledger["member_id"].isin(keep)],
        surveys=None,
        costs=None,
    )
    start, end = default_period(small)
    report = build_report(small, start, end, INPUTS, scenarios=[SAMPLE_RULES])
    clv = report.sections[2]
    assert any(n.startswith("Probabilistic CLV not available") for n in clv.notes)
    assert "Classic CLV" in report.tables
    assert "simulator's baseline" in report.sections[3].intro
    assert len(report.tables["Scenario rules"]) == 6  # the baseline and the five presets
    assert "<script" not in report.to_html(render_svg=lambda spec: "<svg></svg>").lower()


def test_user_scenario_names_are_escaped_and_formula_safe(built):
    ds, (start, end), _ = built
    evil = replace(SAMPLE_RULES, name="<script>alert('scn')</script>")
    formula = replace(SAMPLE_RULES, point_value=0.008, name="=1+1")
    report = build_report(ds, start, end, INPUTS, segments=ReportSegments.from_labels(
        member_features(ds), _two_segments(member_features(ds)), {0: "A", 1: "B"}, "Labels only"),
        scenarios=[evil, formula])
    comp = report.tables["Scenario comparison"]
    assert list(comp.columns[3:5]) == [evil.name, formula.name]
    assert "your" not in report.sections[3].intro and "simulator" in report.sections[3].intro
    html = report.to_html(render_svg=lambda spec: "<svg></svg>")
    assert "<script" not in html.lower() and "&lt;script&gt;alert(" in html
    wb = openpyxl.load_workbook(io.BytesIO(report.to_excel()))
    headers = [c.value for c in wb["Scenario comparison"][1]]
    assert "'=1+1" in headers and "=1+1" not in headers


def test_scenarios_json_round_trip():
    assert scenarios_from_json(scenarios_json([SAMPLE_RULES])) == [SAMPLE_RULES]
    assert scenarios_json(None) == "" and scenarios_from_json("") is None


# --------------------------------------------------------------------------- read by a finance team
def _html_table(page: str, caption: str) -> list[list[str]]:
    """Header and rows (cell texts) of the table under ``caption`` in the report ``page``."""
    start = page.index(f"<p class='caption'>{html_lib.escape(caption)}</p>")
    table = page[start:page.index("</table>", start)]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [[html_lib.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in rows]


def _kpis(ds, start, end):
    kw = dict(point_value=0.01, margin=0.3, monthly_platform_cost=500.0)
    return compute_kpis(ds, start, end, **kw)


def test_html_report_shows_labels_and_figures_by_unit(built):
    ds, (start, end), report = built
    cur = _kpis(ds, start, end)
    page = report.to_html(render_svg=lambda spec: "<svg></svg>")
    header, *rows = _html_table(page, "KPIs with previous-period values, changes and formulas")
    assert header == ["KPI", "Group", "This period", "Previous period", "Change", "Change %", "Formula"]
    by_label = {r[0]: r for r in rows}
    assert by_label["Members"][2] == f"{cur['members_total']:,.0f}"  # a count, not 5,000.00
    assert by_label["Active rate"][2] == f"{cur['active_rate']:.1%}"  # a rate, not 0.6938
    assert by_label["Active rate"][4].endswith(" pp")  # a rate's change in percentage points
    assert by_label["Revenue"][2] == f"€{cur['revenue']:,.2f}"
    assert by_label["Points issued"][2] == f"{cur['points_issued']:,.0f}"
    assert re.fullmatch(r"[+-]?\d+(,\d{3})*\.\d%", by_label["Members"][5])

    seg_header, *segs = _html_table(page, "Segments, sizes, revenue shares and suggested actions")
    assert seg_header == ["Segment", "Name", "Members", "Share of members", "Share of net spend", "Suggested action"]
    assert all(re.fullmatch(r"\d+\.\d%", r[3]) for r in segs)
    clv_header, clv_row = _html_table(page, "Probabilistic CLV summary (€)")
    assert {"Total CLV", "Mean CLV per member", "Members modelled"} <= set(clv_header)
    assert clv_row[clv_header.index("Total CLV")].startswith("€")
    assert clv_row[clv_header.index("Mean P(alive), repeat buyers")].endswith("%")

    captions = re.findall(r"<p class='caption'>(.*?)</p>", page)
    assert len(captions) == sum(len(s.tables) for s in report.sections)
    for caption in map(html_lib.unescape, captions):
        head, *body = _html_table(page, caption)
        assert not [h for h in head if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", h)], caption  # no internal keys
        cells = [c for r in body for c in r]
        assert not [c for c in cells if re.search(r"\b(None|nan|NaN|inf)\b|\de[-+]\d", c)], caption
        if caption != "Model parameters (time unit: weeks)":  # estimates keep four decimals on purpose
            assert not [c for c in cells if re.fullmatch(r"-?[\d,]*\.\d{3,}", c)], caption


def test_excel_sheets_have_frozen_headers_and_number_formats(built):
    _, _, report = built
    wb = openpyxl.load_workbook(io.BytesIO(report.to_excel()))
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), ws.title
        headers = [str(c.value) for c in ws[1]]
        assert not [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", h)], ws.title

    def cells(sheet: str, key_header: str, value_header: str) -> dict:
        ws = wb[sheet]
        head = [c.value for c in ws[1]]
        k, v = head.index(key_header), head.index(value_header)
        return {row[k].value: row[v] for row in ws.iter_rows(min_row=2)}

    value = cells("KPIs", "Key", "This period")
    assert value["revenue"].number_format == '"€"#,##0.00;-"€"#,##0.00'
    assert value["active_rate"].number_format == "0.0%" and value["members_total"].number_format == "#,##0"
    assert isinstance(value["revenue"].value, float)  # a number to sum, not text
    assert cells("KPIs", "Key", "Change")["active_rate"].number_format == "+0.0%;-0.0%;0.0%"
    assert wb["KPIs"].freeze_panes == "C2"  # the key and the KPI label stay in view

    shares = cells("Segments", "Segment", "Share of members")
    assert {c.number_format for c in shares.values()} == {"0.0%"}
    assert sum(c.value for c in shares.values()) == pytest.approx(1.0)
    total = cells("CLV summary", "Members modelled", "Total CLV")
    assert {c.number_format for c in total.values()} == {'"€"#,##0.00;-"€"#,##0.00'}

    # Δ% is a 0-1 fraction like every other percentage of the workbook: -20.0% holds -0.2
    pct = cells("Scenario comparison", "Key", "Δ% Devalue points 20%")["reward_cost"]
    assert pct.value == pytest.approx(-0.2) and pct.number_format == "+0.0%;-0.0%;0.0%"
    comp = report.tables["Scenario comparison"].set_index("kpi")
    assert comp.loc["reward_cost", "Δ% Devalue points 20%"] == pytest.approx(-0.2)
