"""Import of real exports (loyalty.ingest): every case on small files written here."""

from __future__ import annotations

import datetime as dt
import gzip
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from loyalty.ingest import (
    ImportProblem,
    build_dataset,
    check_consistency,
    list_sheets,
    load_table,
    normalise_event,
    suggest_mapping,
)
from loyalty.ingest.parsing import date_order_evidence, normalise_ids, parse_dates, parse_numbers
from loyalty.schema import SPECS, canonical_dtype

FRENCH = (
    "N° ticket;N° client;Date d'achat;Montant TTC (€);Magasin;Canal\r\n"
    "T1;C001;31/12/2024 18:05;1 234,56 €;Paris Opéra;Boutique\r\n"
    "T2;C002;01/02/2024;12,50;Lyon;Web\r\n"
    "T3;;15/03/2024;-3,20;Lyon;Web\r\n"
    "T4;C003;31/02/2024;5;Lyon;Web\r\n"
    "T5;C003;15/03/2024;douze;Lyon;Web\r\n"
    "T1;C001;31/12/2024 18:05;1 234,56 €;Paris Opéra;Boutique\r\n"
    "T2;C009;01/02/2024;12,50;Lyon;Web\r\n"
    "\r\n"
    "T6;C004;01/01/1900;10;Lyon;Web\r\n"
    "T7;C005;02/01/2024;1\u00a0000,00;Nice;Web\r\n"
)


def assert_canonical(df: pd.DataFrame, kind: str) -> None:
    spec = SPECS[kind]
    assert list(df.columns[: len(spec.names)]) == list(spec.names)
    for c in spec.columns:
        assert str(df[c.name].dtype) == canonical_dtype(c.dtype), c.name


def assert_accounted(report) -> None:
    assert report.rows_read == report.rows_kept + len(report.rejected)


# --------------------------------------------------------------- French CSV --
def test_french_cp1252_semicolon_decimal_comma():
    res = load_table(io.BytesIO(FRENCH.encode("cp1252")), "transactions", name="ventes.csv")
    rep = res.report
    assert rep.encoding == "cp1252"
    assert rep.separator == ";"
    assert rep.date_order == "dayfirst"
    assert rep.mapping == {
        "transaction_id": "N° ticket",
        "member_id": "N° client",
        "timestamp": "Date d'achat",
        "amount": "Montant TTC (€)",
        "store": "Magasin",
        "channel": "Canal",
    }
    assert (rep.rows_read, rep.rows_kept, len(rep.rejected)) == (9, 4, 5)
    assert rep.blank_rows == 1
    assert_accounted(rep)
    assert_canonical(res.data, "transactions")
    d = res.data.set_index("transaction_id")
    assert d.loc["T1", "amount"] == pytest.approx(1234.56)
    assert d.loc["T1", "timestamp"] == pd.Timestamp("2024-12-31 18:05")
    assert d.loc["T2", "timestamp"] == pd.Timestamp("2024-02-01")
    assert d.loc["T3", "amount"] == pytest.approx(-3.2)
    assert pd.isna(d.loc["T3", "member_id"])  # guest purchase, kept
    assert d.loc["T7", "amount"] == pytest.approx(1000.0)
    assert d.loc["T1", "store"] == "Paris Opéra"
    rej = rep.rejected.set_index("row")
    assert list(rej.index) == [5, 6, 7, 8, 10]  # file line numbers, header = line 1
    assert rej.loc[5, "reason"] == "unparseable date '31/02/2024' in column \"Date d'achat\""
    assert rej.loc[6, "reason"] == "unparseable amount 'douze' in column 'Montant TTC (€)'"
    assert rej.loc[7, "reason"] == "duplicate transaction_id 'T1' (exact duplicate of row 2)"
    assert rej.loc[8, "reason"] == "duplicate transaction_id 'T2' with different content (row 3 kept)"
    assert rej.loc[10, "reason"].startswith("implausible date '01/01/1900'")
    # The rejected rows are the original text.
    assert rej.loc[6, "Montant TTC (€)"] == "douze"
    assert list(rep.rejected.columns) == ["row", *rep.mapping.values(), "reason"]
    assert any("guest" in w for w in rep.warnings)
    assert any("blank line" in w for w in rep.warnings)


def test_reason_counts_and_summary():
    rep = load_table(FRENCH.encode("cp1252"), "transactions").report
    assert rep.summary() == "9 rows read, 4 kept, 5 rejected"
    counts = rep.reason_counts()
    assert counts.sum() == 5
    assert counts["unparseable date '…' in column \"Date d'achat\""] == 1


def test_utf8_bom_comma_file():
    text = "\ufeffCustomer ID,Order ID,Order Date,Total\n17850,A1,2024-03-01 10:00,12.50\n17851,A2,2024-03-02,\"1,234.50\"\n"
    res = load_table(io.BytesIO(text.encode("utf-8")), "transactions")
    assert res.report.encoding == "utf-8-sig"
    assert res.report.mapping["member_id"] == "Customer ID"  # no BOM glued to the first header
    assert res.data["amount"].tolist() == [12.5, 1234.5]
    assert res.data["member_id"].tolist() == ["17850", "17851"]


def test_utf16_tab_file():
    text = "member_id\ttransaction_id\ttimestamp\tamount\nM1\tT1\t2024-01-05\t3.5\n"
    res = load_table(text.encode("utf-16"), "transactions")
    assert res.report.separator == "\t"
    assert res.data["amount"].tolist() == [3.5]


def test_latin1_fallback():
    raw = "client;date;montant;magasin\nA;2024-01-05;3,5;Caf\xe9\x81\n".encode("latin-1")
    res = load_table(raw, "transactions")
    assert res.report.encoding == "latin-1"
    assert res.data["store"].iloc[0].startswith("Caf")


def test_pipe_separator_and_quoted_fields():
    text = 'id|client|date|total|store\nT1|A|2024-01-05|3.5|"Shop | North"\nT2|B|2024-01-06|4|"Say ""hi"""\n'
    res = load_table(io.StringIO(text), "transactions")
    assert res.report.separator == "|"
    assert res.data["store"].tolist() == ["Shop | North", 'Say "hi"']


def test_comma_file_with_quoted_decimal_commas():
    text = 'ticket,client,date,montant\nT1,A,05/01/2024,"12,50"\nT2,B,06/01/2024,"1 000,00"\n'
    res = load_table(io.StringIO(text), "transactions")
    assert res.report.separator == ","
    assert res.data["amount"].tolist() == [12.5, 1000.0]


def test_title_lines_before_header_are_skipped():
    text = "Export des ventes\nGénéré le 01/02/2024\nticket;client;date;montant\nT1;A;05/01/2024;3,5\n"
    res = load_table(io.StringIO(text), "transactions")
    assert res.data["amount"].tolist() == [3.5]
    assert any("title line" in w for w in res.report.warnings)


def test_gzip_csv():
    raw = gzip.compress(b"id,client,date,total\nT1,A,2024-01-05,3.5\n")
    assert load_table(raw, "transactions").data["amount"].tolist() == [3.5]


def test_malformed_line_rejected_with_line_number():
    text = "id,client,date,total\nT1,A,2024-01-05,3.5\nT2,B,2024-01-06,4,5\nT3,C,2024-01-07,6\n"
    rep = load_table(io.StringIO(text), "transactions").report
    assert (rep.rows_read, rep.rows_kept) == (3, 2)
    row = rep.rejected.iloc[0]
    assert row["row"] == 3
    assert row["reason"] == "malformed line: 5 fields where the header has 4"
    assert row["id"] == "T2,B,2024-01-06,4,5"


# ------------------------------------------------------------------ numbers --
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234.56", 1234.56),
        ("1,234.56", 1234.56),
        ("1,234,567.5", 1234567.5),
        ("$1,000", 1000.0),
        ("£ 12.5", 12.5),
        ("12.50 EUR", 12.5),
        ("(12.50)", -12.5),
        ("12.50-", -12.5),
        ("-7", -7.0),
        ("+7", 7.0),
        ("1e3", 1000.0),
        ("1'234.5", 1234.5),
    ],
)
def test_numbers_dot_decimal(text, value):
    parsed = parse_numbers(pd.Series([text, "0.25"]))
    assert parsed.values.iloc[0] == pytest.approx(value)
    assert not parsed.bad.any()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234,56", 1234.56),
        ("1 234,56", 1234.56),
        ("1\u00a0234,56", 1234.56),
        ("1\u202f234,56", 1234.56),
        ("1.234.567,5", 1234567.5),
        ("12,5 €", 12.5),
        ("€12,50", 12.5),
        ("(12,50)", -12.5),
        ("-0,5", -0.5),
    ],
)
def test_numbers_decimal_comma(text, value):
    parsed = parse_numbers(pd.Series([text, "0,25"]))
    assert parsed.decimal == ","
    assert parsed.values.iloc[0] == pytest.approx(value)
    assert not parsed.bad.any()


def test_number_contradicting_column_convention_is_bad_not_rescaled():
    parsed = parse_numbers(pd.Series(["12,50", "3,10", "12.50"]))
    assert parsed.decimal == ","
    assert parsed.bad.tolist() == [False, False, True]


def test_missing_markers_are_missing_not_bad():
    parsed = parse_numbers(pd.Series(["", " ", "NA", "null", "-", "n/a", "abc"]))
    assert parsed.values.isna().all()
    assert parsed.bad.tolist() == [False] * 6 + [True]


def test_ambiguous_thousands_use_hint():
    assert parse_numbers(pd.Series(["1,234", "5"]), ",").values.tolist() == [1.234, 5.0]
    assert parse_numbers(pd.Series(["1,234", "5"]), ".").values.tolist() == [1234.0, 5.0]


def test_decimal_separator_decided_per_file_for_ambiguous_columns():
    # 'points' only has 1,234-shaped values; the amount column proves the decimal comma.
    text = "id,client,date,total,points\nT1,A,2024-01-05,\"3,50\",\"1,234\"\nT2,B,2024-01-06,\"4,25\",\"2,000\"\n"
    res = load_table(io.StringIO(text), "transactions", mapping={"points_earned": "points"})
    assert res.data["points_earned"].tolist() == [1.234, 2.0]
    assert any("either way" in w for w in res.report.warnings)


# -------------------------------------------------------------------- dates --
def test_date_formats():
    s = pd.Series(
        ["2024-12-31 18:05", "2024-12-31T18:05:07Z", "2024/03/04", "31/12/2024 18h05", "1/2/24", "12 Jan 2024", "x"]
    )
    parsed = parse_dates(s, "dayfirst")
    assert parsed.values.tolist()[:6] == [
        pd.Timestamp("2024-12-31 18:05"),
        pd.Timestamp("2024-12-31 18:05:07"),
        pd.Timestamp("2024-03-04"),
        pd.Timestamp("2024-12-31 18:05"),
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-01-12"),
    ]
    assert parsed.bad.tolist() == [False] * 6 + [True]
    assert str(parsed.values.dtype) == "datetime64[ns]"


def test_time_zone_offsets_become_utc():
    parsed = parse_dates(pd.Series(["2024-01-05T10:00:00+01:00", "2024-01-05T10:00:00"]))
    assert parsed.values.tolist() == [pd.Timestamp("2024-01-05 09:00"), pd.Timestamp("2024-01-05 10:00")]


def test_am_pm():
    parsed = parse_dates(pd.Series(["1/2/2024 1:05 PM", "1/2/2024 12:30 AM"]), "monthfirst")
    assert parsed.values.tolist() == [pd.Timestamp("2024-01-02 13:05"), pd.Timestamp("2024-01-02 00:30")]


def test_order_evidence():
    ev = date_order_evidence(pd.Series(["31/12/2024", "01/02/2024", "2024-01-01"]))
    assert (ev.slash_values, ev.day_first, ev.month_first) == (2, 1, 0)


def _dates_file(dates: list[str], sep: str = ",") -> bytes:
    lines = [sep.join(["id", "client", "date", "total"])]
    lines += [sep.join([f"T{i}", "A", d, "3"]) for i, d in enumerate(dates)]
    return ("\n".join(lines) + "\n").encode()


def test_month_first_inferred():
    res = load_table(_dates_file(["12/31/2024", "01/02/2024 10:00"]), "transactions")
    assert res.report.date_order == "monthfirst"
    assert res.data["timestamp"].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2024-01-02 10:00")]


def test_day_first_inferred():
    res = load_table(_dates_file(["31/12/2024", "01/02/2024"]), "transactions")
    assert res.report.date_order == "dayfirst"
    assert res.data["timestamp"].tolist()[1] == pd.Timestamp("2024-02-01")


def test_ambiguous_dates_warn_and_default_by_convention():
    comma = load_table(_dates_file(["01/02/2024", "03/04/2024"]), "transactions")
    assert comma.report.date_order == "monthfirst"
    assert any("ambiguous" in w for w in comma.report.warnings)
    semi = load_table(_dates_file(["01/02/2024", "03/04/2024"], ";"), "transactions")
    assert semi.report.date_order == "dayfirst"
    assert semi.data["timestamp"].iloc[0] == pd.Timestamp("2024-02-01")


def test_date_order_override():
    res = load_table(_dates_file(["01/02/2024", "31/12/2024"]), "transactions", date_order="monthfirst")
    assert res.report.date_order == "monthfirst"
    assert res.data["timestamp"].tolist() == [pd.Timestamp("2024-01-02")]
    assert res.report.rejected["reason"].iloc[0] == "unparseable date '31/12/2024' in column 'date'"


def test_conflicting_date_orders_reject_minority():
    res = load_table(_dates_file(["31/12/2024", "13/01/2024", "12/31/2024"]), "transactions")
    assert res.report.date_order == "dayfirst"
    assert len(res.report.rejected) == 1
    assert any("both day-first" in w for w in res.report.warnings)


def test_iso_override_rejects_slash_dates():
    res = load_table(_dates_file(["2024-01-05", "05/01/2024"]), "transactions", date_order="iso")
    assert len(res.data) == 1 and len(res.report.rejected) == 1


# ---------------------------------------------------------------------- ids --
def test_float_looking_ids_normalised():
    assert normalise_ids(pd.Series(["17850.0", " 0012 ", "A-1", None])).tolist()[:3] == ["17850", "0012", "A-1"]
    assert normalise_ids(pd.Series([17850.0, np.nan, 1.5])).tolist()[::2] == ["17850", "1.5"]


# ------------------------------------------------------------------ mapping --
@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Customer ID", "member_id"),
        ("CustomerID", "member_id"),
        ("customer_id", "member_id"),
        ("N° client", "member_id"),
        ("Numéro de carte", "member_id"),
        ("Date d'achat", "timestamp"),
        ("InvoiceDate", "timestamp"),
        ("Montant TTC (€)", "amount"),
        ("Total", "amount"),
        ("InvoiceNo", "transaction_id"),
        ("N° ticket", "transaction_id"),
        ("Magasin", "store"),
        ("Canal", "channel"),
    ],
)
def test_header_synonyms(header, target):
    assert suggest_mapping([header], "transactions").get(target) == header


def test_price_without_quantity_is_the_amount():
    assert suggest_mapping(["CustomerID", "Date", "Price"], "transactions")["amount"] == "Price"


def test_personal_headers_never_partially_mapped():
    m = suggest_mapping(["Customer name", "Date de naissance", "Date", "Total"], "transactions")
    assert "member_id" not in m and m["timestamp"] == "Date"


def test_user_mapping_overrides_inference():
    text = "Client,Carte,Date,Total,Autre\nA,K1,2024-01-05,3,9\n"
    auto = load_table(io.StringIO(text), "transactions")
    assert auto.report.mapping["member_id"] == "Client"
    res = load_table(io.StringIO(text), "transactions", mapping={"member_id": "Carte", "amount": "Autre"})
    assert res.report.mapping["member_id"] == "Carte"
    assert res.data["member_id"].tolist() == ["K1"]
    assert res.data["amount"].tolist() == [9.0]
    unmapped = load_table(io.StringIO(text), "transactions", mapping={"store": None})
    assert "store" not in unmapped.report.mapping


def test_bad_user_mapping_is_an_import_problem():
    text = "Client,Date,Total\nA,2024-01-05,3\n"
    with pytest.raises(ImportProblem, match="not in"):
        load_table(io.StringIO(text), "transactions", mapping={"member_id": "Nope"})
    with pytest.raises(ImportProblem, match="Unknown column"):
        load_table(io.StringIO(text), "transactions", mapping={"shoe_size": "Client"})


def test_missing_required_column_message():
    text = "Ticket;Magasin;Date d'achat\nT1;Paris;01/02/2024\n"
    with pytest.raises(ImportProblem) as err:
        load_table(io.StringIO(text), "transactions", name="ventes.csv")
    msg = str(err.value)
    assert "'ventes.csv' has no usable column for member_id, amount" in msg
    assert "Columns found: 'Ticket', 'Magasin', \"Date d'achat\"" in msg
    assert "Header names tried for member_id: 'member id'" in msg
    assert "Header names tried for amount: 'amount'" in msg


def test_missing_transaction_id_is_generated():
    res = load_table(io.StringIO("client,date,total\nA,2024-01-05,3\nB,2024-01-06,4\n"), "transactions")
    assert res.data["transaction_id"].tolist() == ["row-2", "row-3"]
    assert any("generated" in w for w in res.report.warnings)


# --------------------------------------------------------------- line items --
UCI = (
    "InvoiceNo,StockCode,Description,Quantity,UnitPrice,CustomerID,InvoiceDate,Country\n"
    "536365,85123A,WHITE HANGING HEART,6,2.55,17850.0,12/1/2010 8:26,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,3.39,17850.0,12/1/2010 8:28,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,3.39,17850.0,12/1/2010 8:28,United Kingdom\n"
    "C536379,D,Discount,-1,27.50,14527.0,12/13/2010 9:41,United Kingdom\n"
    "536380,22,\"BOX, RED\",2,1.00,,12/13/2010 9:41,France\n"
    "536381,22,BAD,x,1.00,12345.0,12/13/2010 9:41,France\n"
    "536382,22,RETURN,-2,4.00,12345.0,12/14/2010 9:41,France\n"
    "536382,23,OTHER,1,10.00,12345.0,12/14/2010 9:45,France\n"
)


def test_line_items_aggregated_with_cancellations():
    res = load_table(io.StringIO(UCI), "transactions", name="online_retail.csv")
    rep = res.report
    assert rep.line_items
    assert rep.mapping["quantity"] == "Quantity" and rep.mapping["unit_price"] == "UnitPrice"
    assert (rep.rows_read, rep.rows_kept, len(rep.rejected), rep.rows_output) == (8, 6, 2, 4)
    assert_accounted(rep)
    assert_canonical(res.data, "transactions")
    d = res.data.set_index("transaction_id")
    assert d.loc["536365", "amount"] == pytest.approx(6 * 2.55 + 6 * 3.39)
    assert d.loc["536365", "timestamp"] == pd.Timestamp("2010-12-01 08:26")  # first line's
    assert d.loc["536365", "member_id"] == "17850"  # float-looking id normalised
    assert d.loc["C536379", "amount"] == pytest.approx(-27.5)
    assert pd.isna(d.loc["536380", "member_id"])
    assert d.loc["536382", "amount"] == pytest.approx(-8 + 10)
    reasons = rep.rejected.set_index("row")["reason"]
    assert reasons[4] == "exact duplicate line (same as row 3)"
    assert reasons[7] == "unparseable number 'x' in column 'Quantity'"
    assert "summed into" in rep.summary()


def test_cancellation_prefix_forces_negative_amount():
    text = "InvoiceNo,Quantity,UnitPrice,CustomerID,InvoiceDate\nC1,2,5.0,1,2024-01-05\n"
    assert load_table(io.StringIO(text), "transactions").data["amount"].tolist() == [-10.0]


# -------------------------------------------------------------------- excel --
def _workbook() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Lisez-moi"
    ws["A1"] = "Ce fichier contient les ventes"
    ws2 = wb.create_sheet("Ventes")
    ws2["A1"] = "Export des ventes 2024"
    ws2.merge_cells("A1:E1")
    ws2.append([])
    ws2.append(["Ticket", "Client", None, "Achat", None])
    ws2.merge_cells("B3:C3")
    ws2.merge_cells("D3:E3")
    ws2.append(["N°", "ID", "Nom", "Date", "Montant"])
    ws2.append(["T1", 17850, "Dupont", dt.datetime(2024, 3, 1, 10, 0), 12.5])
    ws2.append(["T2", "C2", "Durand", "02/03/2024", "1 234,50"])
    ws2.append(["T3", "C2", "Durand", "13/03/2024", None])
    ws3 = wb.create_sheet("Membres")
    ws3.append(["member_id", "enrolled_at"])
    ws3.append(["17850", dt.date(2023, 5, 1)])
    bio = io.BytesIO()
    wb.save(bio)
    return bio.getvalue()


def test_excel_sheets_listed():
    assert list_sheets(io.BytesIO(_workbook())) == ["Lisez-moi", "Ventes", "Membres"]
    assert list_sheets(b"a,b\n1,2\n") == []


def test_excel_chosen_sheet_with_merged_header():
    res = load_table(_workbook(), "transactions", sheet="Ventes", name="ventes.xlsx")
    rep = res.report
    assert rep.format == "xlsx" and rep.sheet == "Ventes"
    assert rep.mapping == {
        "transaction_id": "Ticket N°",
        "member_id": "Client ID",
        "timestamp": "Achat Date",
        "amount": "Achat Montant",
    }
    assert rep.dropped_columns == ("Client Nom",)
    assert res.data["member_id"].tolist() == ["17850", "C2"]
    assert res.data["amount"].tolist() == [12.5, 1234.5]  # typed cell + French text cell
    assert res.data["timestamp"].tolist() == [pd.Timestamp("2024-03-01 10:00"), pd.Timestamp("2024-03-02")]
    assert rep.rejected[["row", "reason"]].values.tolist() == [[7, "missing amount ('Achat Montant' is empty)"]]


def test_excel_first_sheet_by_default_and_clear_message():
    with pytest.raises(ImportProblem) as err:
        load_table(_workbook(), "transactions", name="ventes.xlsx")
    assert "'Ventes'" in str(err.value) and "choose the sheet" in str(err.value)
    members = load_table(_workbook(), "members", sheet=2)
    assert members.data["enrolled_at"].tolist() == [pd.Timestamp("2023-05-01")]


def test_excel_unknown_sheet():
    with pytest.raises(ImportProblem, match="no sheet 'Nope'"):
        load_table(_workbook(), "transactions", sheet="Nope")


# ------------------------------------------------------------------ parquet --
def test_parquet_typed_columns():
    df = pd.DataFrame(
        {
            "transaction_id": ["a", "b", "c"],
            "member_id": [1.0, np.nan, 2.0],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "1900-01-01"]).tz_localize("Europe/Paris"),
            "amount": [1.5, 2.0, 3.0],
        }
    )
    bio = io.BytesIO()
    df.to_parquet(bio)
    res = load_table(bio, "transactions", name="data.csv")  # the content decides, not the name
    assert res.report.format == "parquet"
    assert res.data["member_id"].tolist()[::2] == ["1"] and pd.isna(res.data["member_id"].iloc[1])
    assert res.data["timestamp"].iloc[0] == pd.Timestamp("2023-12-31 23:00")
    assert res.report.rejected["row"].tolist() == [3]
    assert_canonical(res.data, "transactions")


# ------------------------------------------------------------ personal data --
def test_personal_columns_dropped_by_default_and_kept_on_request():
    text = (
        "client,date,total,Prénom,contact,Téléphone,notes\n"
        "A,2024-01-05,3,Jean,jean@example.com,06 12 34 56 78,x\n"
        "B,2024-01-06,bad,Marie,marie@example.org,+33 6 98 76 54 32,y\n"
    )
    res = load_table(io.StringIO(text), "transactions")
    assert set(res.report.dropped_columns) == {"Prénom", "contact", "Téléphone"}
    assert res.report.ignored_columns == ("notes",)
    assert not {"Prénom", "contact", "Téléphone"} & set(res.data.columns)
    assert not {"Prénom", "contact", "Téléphone"} & set(res.report.rejected.columns)
    assert any("Personal data not imported" in w for w in res.report.warnings)
    kept = load_table(io.StringIO(text), "transactions", keep_personal=True)
    assert kept.report.dropped_columns == ()
    assert kept.data["contact"].tolist() == ["jean@example.com"]
    assert "Prénom" in kept.report.rejected.columns


def test_email_member_ids_warned():
    res = load_table(io.StringIO("email client,date,total\na@b.fr,2024-01-05,3\n"), "transactions", mapping={"member_id": "email client"})
    assert any("email addresses" in w for w in res.report.warnings)


# ------------------------------------------------------------- other tables --
def test_ledger_french_events_signed():
    text = (
        "N° client;Date;Type d'opération;Nombre de points\n"
        "C1;01/02/2024;Gain;120\n"
        "C1;05/02/2024;Utilisation;500\n"
        "C1;05/03/2025;Expiration;20\n"
        "C1;05/03/2025;Ajustement;-5\n"
        "C2;05/03/2024;Mystère;5\n"
        ";05/03/2024;gain;5\n"
    )
    res = load_table(io.StringIO(text), "ledger")
    assert res.data["event"].tolist() == ["earn", "redeem", "expire", "adjust"]
    assert res.data["points"].tolist() == [120.0, -500.0, -20.0, -5.0]
    assert any("unsigned" in w for w in res.report.warnings)
    reasons = res.report.rejected["reason"].tolist()
    assert reasons[0].startswith("unknown event 'Mystère'")
    assert reasons[1] == "missing member_id ('N° client' is empty)"
    assert_canonical(res.data, "ledger")


def test_ledger_already_signed_kept():
    text = "member_id,timestamp,event,points\nM1,2024-01-01,earn,10\nM1,2024-01-02,burn,-5\n"
    res = load_table(io.StringIO(text), "ledger")
    assert res.data["points"].tolist() == [10.0, -5.0]
    assert not any("unsigned" in w for w in res.report.warnings)


@pytest.mark.parametrize(
    ("label", "event"),
    [("Accrual", "earn"), ("REDEEM", "redeem"), ("burn", "redeem"), ("Points expirés", None), ("expired", "expire"),
     ("Ajustement manuel", "adjust"), ("gagné", "earn"), ("zzz", None)],
)
def test_event_synonyms(label, event):
    assert normalise_event(label) == event


def test_members_duplicates_and_birth_dates():
    text = (
        "N° adhérent;Date d'inscription;Niveau;Date de naissance;Pays\n"
        "M1;01/02/2023;Gold;14/07/1980;FR\n"
        "M2;02/02/2023;Silver;1850;FR\n"
        "M1;01/02/2023;Gold;14/07/1980;FR\n"
        "M2;03/03/2023;Bronze;01/01/1990;BE\n"
    )
    res = load_table(io.StringIO(text), "members")
    assert res.data["member_id"].tolist() == ["M1", "M2"]
    assert res.data["birth_year"].tolist()[0] == 1980
    assert pd.isna(res.data["birth_year"].iloc[1])  # 1850 is not a plausible birth year
    assert res.report.rejected["reason"].tolist() == [
        "duplicate member_id 'M1' (exact duplicate of row 2)",
        "duplicate member_id 'M2' with different content (row 3 kept)",
    ]
    assert_canonical(res.data, "members")


def test_surveys_scores_validated():
    text = "member_id,date,nps,csat\nM1,2024-01-01,9,4.5\nM2,2024-01-02,11,3\nM3,2024-01-03,7.5,9\n,2024-01-03,0,\n"
    res = load_table(io.StringIO(text), "surveys")
    assert res.data["nps_score"].tolist() == [9, 0]
    assert str(res.data["nps_score"].dtype) == "Int64"
    reasons = res.report.rejected["reason"].tolist()
    assert reasons == ["nps_score '11' outside 0-10", "unparseable whole number '7.5' in column 'nps'"]


def test_costs_month_normalised():
    text = "Mois;Catégorie;Coût (€)\n2024-01-15;plateforme;1 200,00\n01/02/2024;acquisition;300\n"
    res = load_table(io.StringIO(text), "costs")
    assert res.data["month"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert res.data["amount"].tolist() == [1200.0, 300.0]


# ----------------------------------------------------------------- datasets --
def test_build_dataset_and_consistency():
    tx = load_table(io.StringIO("id,client,date,total\nT1,M1,2024-01-05,3\nT2,M9,2024-01-06,4\n"), "transactions")
    members = load_table(io.StringIO("member_id,enrolled_at\nM1,2023-01-01\nM2,2023-01-01\n"), "members")
    ledger = load_table(io.StringIO("member_id,timestamp,event,points\nM1,2024-01-05,earn,3\nM7,2024-01-05,earn,3\n"), "ledger")
    ds = build_dataset({"transactions": tx, "members": members, "ledger": ledger}, "My program")
    assert ds.name == "My program"
    assert ds.members is members.data and ds.surveys is None
    assert any("transactions are not in the members table" in n for n in ds.notes)
    assert any("points ledger are not in the members table" in n for n in ds.notes)
    assert check_consistency(ds) == ds.notes
    with pytest.raises(ImportProblem, match="transactions table is required"):
        build_dataset({"members": members}, "x")
    with pytest.raises(ImportProblem, match="imported as members"):
        build_dataset({"transactions": members}, "x")


def test_accounting_invariant_on_mixed_garbage():
    rows = ["id,client,date,total"]
    expected_bad = 0
    for i in range(60):
        kind = i % 6
        if kind == 0:
            rows.append(f"T{i},M{i},2024-01-05,abc")
            expected_bad += 1
        elif kind == 1:
            rows.append(f"T{i},M{i},not a date,3")
            expected_bad += 1
        elif kind == 2:
            rows.append(f"T{i},M{i},,3")
            expected_bad += 1
        elif kind == 3:
            rows.append(f"T{i - 1},M{i},2024-01-05,3")  # duplicate id of the previous (rejected) row? no: T{i-1} was kind 2
        else:
            rows.append(f"T{i},M{i},2024-01-05,{i}.5")
    rep = load_table(io.StringIO("\n".join(rows) + "\n"), "transactions").report
    assert_accounted(rep)
    # kind 3 rows reuse ids of rejected rows, so they are kept as first occurrences.
    assert len(rep.rejected) == expected_bad
    assert rep.rows_kept == 60 - expected_bad


def test_preview_file_for_the_mapping_ui():
    from loyalty.ingest import preview_file

    p = preview_file(_workbook(), sheet="Ventes")
    assert p.format == "xlsx" and p.sheet == "Ventes" and p.sheets == ("Lisez-moi", "Ventes", "Membres")
    assert p.columns[:2] == ("Ticket N°", "Client ID")
    assert len(p.head) == 3
    with pytest.raises(ImportProblem):
        preview_file(b"\x00\x01" * 100)


def test_line_numbers_survive_multiline_quoted_values():
    text = 'Titre\r\nid,client,date,total,note\r\nT1,A,2024-01-05,3,"multi\r\nline"\r\n\r\nT2,B,2024-01-06,x,ok\r\n'
    rep = load_table(io.BytesIO(text.encode()), "transactions").report
    assert rep.rejected[["row", "reason"]].values.tolist() == [[6, "unparseable amount 'x' in column 'total'"]]
