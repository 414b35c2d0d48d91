"""Importing a campaigns table: EN/FR headers, group labels, whole-day windows, rejects with reasons."""

from __future__ import annotations

import pandas as pd
import pytest

from loyalty.ingest import build_dataset, load_table, suggest_mapping
from loyalty.ingest.rows import normalise_group
from loyalty.schema import CAMPAIGN_GROUPS, OPTIONAL_KINDS, SPECS, canonical_dtype

FRENCH = (
    "N° client;Campagne;Groupe;Date début;Date fin\n"
    "C1;Printemps;Test;01/04/2026;30/04/2026\n"
    "C2;Printemps;Témoin;01/04/2026;30/04/2026\n"
    "C3;Printemps;groupe témoin;01/04/2026 10:00;30/04/2026\n"
    "C4;Printemps;B;01/04/2026;30/04/2026\n"
    "C5;Printemps;inconnu;01/04/2026;30/04/2026\n"
    "C6;Printemps;test;01/04/2026;30/04/2026\n"
    "C6;Printemps;holdout;01/04/2026;30/04/2026\n"
    "C7;Printemps;test;30/04/2026;01/04/2026\n"
    "C8;Printemps;test;01/04/2026;30/04/2026\n"
    "C8;Printemps;test;01/04/2026;30/04/2026\n"
    "C9;Été;non ciblé;01/07/2026;31/07/2026\n"
    "C9;Été;test;01/08/2026;31/08/2026\n"
    "C10;Été;contrôle;01/07/2026;31/07/2026\n"
    "C11;Été;traitement;01/07/2026;31/07/2026\n"
    "C11;Été;traitement;05/07/2026;31/07/2026\n"
).encode()


def test_campaigns_is_an_optional_canonical_table():
    assert "campaigns" in OPTIONAL_KINDS and SPECS["campaigns"].required == ("member_id", "campaign", "group",
                                                                           "start", "end")
    assert CAMPAIGN_GROUPS == ("test", "control")


@pytest.mark.parametrize(
    "headers",
    [
        ["Customer ID", "Campaign name", "Group", "Start date", "End date"],
        ["N° client", "Campagne", "Groupe", "Date début", "Date fin"],
        ["Card number", "Experiment", "Test/Control", "From", "To"],
        ["member_id", "campaign", "group", "start", "end"],
    ],
)
def test_english_and_french_headers_are_recognised(headers):
    mapping = suggest_mapping(headers, "campaigns")
    assert list(mapping) == ["member_id", "campaign", "group", "start", "end"], mapping


@pytest.mark.parametrize(
    ("label", "group"),
    [("test", "test"), ("Treatment", "test"), ("traitement", "test"), ("ciblé", "test"), ("B", "test"),
     ("Groupe test", "test"), ("exposed", "test"), ("control", "control"), ("Contrôle", "control"),
     ("témoin", "control"), ("Groupe témoin", "control"), ("holdout", "control"), ("Hold-out", "control"),
     ("A", "control"), ("non ciblé", "control"), ("not exposed", "control"), ("1", None), ("oui", None),
     ("test témoin", None), ("", None), ("inconnu", None)],
)
def test_group_labels(label, group):
    assert normalise_group(label) == group


def test_french_file_rejects_with_reasons_and_keeps_whole_days():
    res = load_table(FRENCH, "campaigns", name="campagnes.csv")
    rep = res.report
    assert rep.rows_read == 15 and rep.rows_read == rep.rows_kept + rep.rows_rejected
    data = res.data
    for c in SPECS["campaigns"].columns:
        assert str(data[c.name].dtype) == canonical_dtype(c.dtype)
    kept = data.set_index("member_id")
    assert kept.loc["C3", "group"] == "control" and kept.loc["C3", "start"] == pd.Timestamp("2026-04-01")
    assert kept.loc["C4", "group"] == "test" and kept.loc["C10", "group"] == "control"
    assert set(data["member_id"]) == {"C1", "C2", "C3", "C4", "C8", "C10"}
    reasons = dict(zip(rep.rejected["row"], rep.rejected["reason"], strict=True))
    assert reasons[6].startswith("unknown group 'inconnu' in column 'Groupe' (expected test or control")
    assert reasons[7] == reasons[8] == ("member 'C6' is in both test and control of campaign 'Printemps' (rows 7, 8): "
                                        "left out, its group is unknown")
    assert reasons[9] == "window ends (2026-04-01) before it starts (2026-04-30)"
    assert reasons[11] == "duplicate campaign row (same member, campaign, group and window as row 10)"
    assert "both test and control of campaign 'Été'" in reasons[12]
    assert "has several windows in campaign 'Été' (rows 15, 16)" in reasons[15] and reasons[15] == reasons[16]
    warnings = " ".join(rep.warnings)
    assert "1 campaign window had a time of day" in warnings
    assert "A = control, B = test" in warnings
    assert "2 members in both the test and the control group" in warnings


def test_a_campaign_without_control_group_is_flagged_on_import():
    csv = b"member_id,campaign,group,start,end\nM1,Solo,test,2026-01-01,2026-01-31\nM2,Solo,test,2026-01-01,2026-01-31\n"
    rep = load_table(csv, "campaigns").report
    assert any("'Solo' has no control group" in w for w in rep.warnings)


def test_dataset_carries_the_campaigns():
    tx = b"transaction_id,member_id,timestamp,amount\nT1,C1,2026-04-02,10\nT2,C2,2026-04-03,12\n"
    ds = build_dataset({"transactions": load_table(tx, "transactions"), "campaigns": load_table(FRENCH, "campaigns")},
                       "shop")
    assert ds.campaigns is not None and len(ds.campaigns) == 6
    assert "campaigns" not in ds.missing()
    bare = ds.replace(campaigns=None)
    assert bare.fingerprint != ds.fingerprint
