"""The Data page: renders on the sample, imports uploads, shows counts/rejects, switches datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.apptest import open_app_page

ROOT = Path(__file__).resolve().parents[2]

FRENCH = (
    "N° ticket;N° client;Date d'achat;Montant TTC (€);Magasin;Email\r\n"
    "T1;C001;31/12/2024 18:05;1 234,56 €;Paris;a@b.fr\r\n"
    "T2;C002;01/02/2024;12,50;Lyon;c@d.fr\r\n"
    "T3;;15/03/2024;-3,20;Lyon;e@f.fr\r\n"
    "T4;C003;31/02/2024;5;Lyon;g@h.fr\r\n"
    "T5;C003;15/03/2024;douze;Lyon;g@h.fr\r\n"
    "T1;C001;31/12/2024 18:05;1 234,56 €;Paris;a@b.fr\r\n"
    "T6;**C004**;02/01/2024;7;<b>Nice</b>;z@z.fr\r\n"
).encode("cp1252")


def open_data_page() -> AppTest:
    return open_app_page("data.py")


def upload(at: AppTest, kind: str, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key=f"up_{kind}").set_value((name, data, mime))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def page() -> AppTest:
    return open_data_page()


def test_page_renders_on_the_sample(page):
    assert len(page.file_uploader) == 6  # transactions and the five optional tables (campaigns last)
    assert "Data" in [t.value for t in page.title]
    text = " ".join(c.value for c in page.caption)
    assert "Unlocks:" in text and "Dataset:" in text
    assert any("Upload a transactions file" in i.value for i in page.info)


def test_french_csv_shows_counts_and_rejects(page):
    at = upload(page, "transactions", "ventes.csv", FRENCH)
    assert metrics(at) == {"Rows read": "7", "Rows kept": "4", "Rows rejected": "3"}
    reasons = at.dataframe[-1].value["reason"].tolist()
    assert "unparseable date '31/02/2024' in column \"Date d'achat\"" in reasons
    assert "unparseable amount 'douze' in column 'Montant TTC (€)'" in reasons
    assert any(r.startswith("duplicate transaction_id 'T1'") for r in reasons)
    warnings = " ".join(w.value for w in at.warning)
    assert "Personal data not imported" in warnings
    # Uploaded values are escaped before reaching markdown.
    assert all("<b>" not in w.value for w in at.warning)

    # 3 of 7 rows rejected: flagged above "Use this data", which waits for a confirmation.
    assert any("Check this import before using it" in w.value for w in at.warning)
    assert at.button(key="data_use").disabled
    at.checkbox(key="data_confirm_alerts").check()
    at.run()
    at.button(key="data_use").click()
    at.run()
    assert not at.exception
    ds = at.session_state["dataset"]
    assert ds.name == "ventes.csv"
    assert len(ds.transactions) == 4
    assert "**C004**" in set(ds.transactions["member_id"])  # kept verbatim, shown only as plain text
    assert any("Now analysing" in s.value for s in at.success)

    at.button(key="data_use_sample").click()
    at.run()
    assert not at.exception
    assert at.session_state["dataset"].name != "ventes.csv"


def test_mapping_override_is_reapplied(page):
    data = b"Client;Carte;Date;Total;Autre\nA;K1;2024-01-05;3;9\nB;K2;2024-01-06;4;8\n"
    at = upload(page, "transactions", "cartes.csv", data)
    assert metrics(at)["Rows kept"] == "2"
    form_boxes = [s for s in at.selectbox if s.key and s.key.endswith("_member_id")]
    assert form_boxes[0].value == "Client"
    form_boxes[0].set_value("Carte")
    amount = [s for s in at.selectbox if s.key and s.key.endswith("_amount")][0]
    amount.set_value("Autre")
    apply = [b for b in at.button if b.key and b.key.endswith("_apply")][0]
    apply.click()
    at.run()
    assert not at.exception
    at.button(key="data_use").click()
    at.run()
    ds = at.session_state["dataset"]
    assert ds.transactions["member_id"].tolist() == ["K1", "K2"]
    assert ds.transactions["amount"].tolist() == [9.0, 8.0]


def test_unusable_file_shows_a_message_not_a_traceback(page):
    at = upload(page, "transactions", "photo.csv", bytes(range(256)) * 10)
    assert any("binary" in e.value for e in at.error)
    at = upload(at, "members", "members.csv", b"foo;bar\n1;2\n")
    errors = " ".join(e.value for e in at.error)
    assert "no usable column for member\\_id" in errors or "no usable column for member_id" in errors


def test_optional_table_and_consistency_notes(page):
    at = upload(page, "transactions", "tx.csv", b"id,client,date,total\nT1,M1,2024-01-05,3\nT2,M9,2024-01-06,4\n")
    at = upload(at, "members", "members.csv", b"member_id,enrolled_at\nM1,2023-01-01\n")
    at.button(key="data_use").click()
    at.run()
    ds = at.session_state["dataset"]
    assert ds.members is not None and len(ds.members) == 1
    assert any("not in the members table" in w.value for w in at.warning)


def test_file_over_the_limit_suggests_parquet(page, monkeypatch):
    monkeypatch.setattr("ui.widgets.MAX_UPLOAD_MB", 1)
    page.run()  # the uploader is redrawn with the new limit
    at = upload(page, "transactions", "big.csv", b"id,client,date,total\n" + b"T1,A,2024-01-05,3\n" * 70_000)
    errors = " ".join(e.value for e in at.error)
    assert "Parquet" in errors and "date range" in errors
    assert not at.metric


def test_excel_sheet_picker(page):
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "see the other sheet"
    ws = wb.create_sheet("Ventes")
    ws.append(["Ticket", "Client", "Date", "Montant"])
    ws.append(["T1", "C1", "05/01/2024", "3,50"])
    bio = io.BytesIO()
    wb.save(bio)
    at = upload(page, "transactions", "ventes.xlsx", bio.getvalue(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert any("choose the sheet" in e.value for e in at.error)
    sheet = [s for s in at.selectbox if s.key and s.key.startswith("sheet_")][0]
    assert sheet.options == ["Notes", "Ventes"]
    sheet.set_value("Ventes")
    at.run()
    assert not at.exception
    assert metrics(at) == {"Rows read": "1", "Rows kept": "1", "Rows rejected": "0"}


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", b"client;date;montant\r\n", "no data rows"),
        ("renamed.csv", b"%PDF-1.7 not a table", "PDF"),
    ],
)
def test_hostile_files_get_a_message(page, name, data, expected):
    at = upload(page, "transactions", name, data)
    assert any(expected in e.value for e in at.error)


def test_ten_thousand_columns_in_the_page(page):
    header = ",".join(["client", "date", "total", *[f"c{i}" for i in range(10_000)]])
    row = ",".join(["A", "2024-01-05", "3.5", *["1"] * 10_000])
    at = upload(page, "transactions", "wide.csv", f"{header}\n{row}\n".encode())
    assert metrics(at) == {"Rows read": "1", "Rows kept": "1", "Rows rejected": "0"}


def test_line_level_upload_shows_the_aggregation_and_no_duplicate_rejections(page):
    from tests.ingest.test_real_exports import grocery_lines, parquet_bytes

    lines = grocery_lines(40)
    at = upload(page, "transactions", "transaction_data.parquet", parquet_bytes(lines))
    m = metrics(at)
    assert m["Rows read"] == f"{len(lines):,}" and m["Rows rejected"] == "0"
    assert m["Receipts built"] == f"{lines['basket_id'].nunique():,}"
    agg = " ".join(i.value for i in at.info)
    assert f"{len(lines):,} lines → {lines['basket_id'].nunique():,} receipts" in agg
    assert "sum of 'sales\\_value'" in agg  # markdown-escaped for display
    assert not any("duplicate" in w.value for w in at.warning)
    assert not at.button(key="data_use").disabled  # a clean import needs no confirmation
    at.button(key="data_use").click()
    at.run()
    ds = at.session_state["dataset"]
    assert len(ds.transactions) == lines["basket_id"].nunique()
    assert round(ds.transactions["amount"].sum(), 2) == round(lines["sales_value"].sum(), 2)


def test_several_monthly_files_and_saved_settings(page):
    jan = b"id,client,date,montant\nT1,C1,2024-01-05,10\nT2,C2,2024-01-31,20\n"
    feb = b"id,client,date,montant\nT2,C2,2024-01-31,20\nT3,C3,2024-02-01,30\n"
    page.file_uploader(key="up_transactions").set_value([("jan.csv", jan, "text/csv"), ("feb.csv", feb, "text/csv")])
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    assert metrics(page) == {"Rows read": "4", "Rows kept": "3", "Rows rejected": "1"}
    assert any("found in several files" in w.value for w in page.warning)
    assert not page.button(key="data_use").disabled
    # The confirmed settings are offered as a JSON download.
    assert any(b.label.startswith("⬇ Import settings") for b in page.get("download_button"))


def test_unknown_headers_offer_guesses_to_confirm(page):
    rows = "".join(f"{i % 7},R{i},2024-01-{1 + i % 28:02d},{i * 1.25:.2f}\n" for i in range(60))
    at = upload(page, "transactions", "odd.csv", ("k1,k2,k3,k4\n" + rows).encode())
    assert any("Guessed from the columns' content" in w.value for w in at.warning)
    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("guess_"))).click()
    at.run()
    assert not at.exception
    assert metrics(at)["Rows kept"] == "60"
