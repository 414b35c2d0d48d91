"""The HTML report is self-contained (opens offline) and never renders data as HTML."""

import re

import altair as alt
import pandas as pd

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
