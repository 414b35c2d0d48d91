"""Points about to expire: by month, and the reminder list by window."""

from __future__ import annotations

import pandas as pd

from loyalty.economics import expiring_by_month, expiring_members, expiring_summary

OPEN = pd.DataFrame(
    {
        "member_id": pd.Series(["A", "A", "B", "C", "D", "E"], dtype="str"),
        "points": [100.0, 50, 30, 20, 10, 5],
        "expires_at": pd.to_datetime(
            ["2026-11-10", "2026-12-20", "2026-11-30", "2027-01-15", None, "2026-10-30"]
        ).astype("datetime64[ns]"),
    }
)


def test_by_month():
    m = expiring_by_month(OPEN, "2026-10-31", months=2, point_value=0.01)
    # nothing left to expire in October after the 31st (E expired before): the months start in November
    assert m["month"].dt.strftime("%Y-%m").tolist() == ["2026-11", "2026-12"]
    assert m["points"].tolist() == [130, 50]  # C falls after
    assert m["members"].tolist() == [2, 1]
    assert m["value"].tolist() == [1.3, 0.5]
    m = expiring_by_month(OPEN, "2026-11-05", months=3)
    assert m["month"].dt.strftime("%Y-%m").tolist() == ["2026-11", "2026-12", "2027-01"]
    assert m["points"].tolist() == [130, 50, 20]


def test_reminder_list():
    lst = expiring_members(OPEN, "2026-10-31", 90, 0.01)
    assert lst["member_id"].tolist() == ["A", "B", "C"]
    a = lst.iloc[0]
    assert a["points"] == 150 and a["expires_at"] == pd.Timestamp("2026-11-10") and a["window"] == "0-30 days"
    assert lst["window"].tolist() == ["0-30 days", "0-30 days", "61-90 days"]
    assert expiring_members(OPEN, "2026-10-31", 30)["member_id"].tolist() == ["A", "B"]
    s = expiring_summary(OPEN, "2026-10-31", 0.01)
    assert s["points"].tolist() == [180, 180, 200] and s["members"].tolist() == [2, 2, 3]
    assert expiring_members(OPEN, "2030-01-01").empty
