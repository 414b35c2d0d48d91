"""Checking a campaigns table against the data before anything is measured.

:func:`check_campaigns` returns the assignments that can be measured and says, with counts, what
was left out and why. Nothing is guessed: a member whose group or window is unclear is left out
of that campaign, and a campaign that cannot be measured is left out of the results.

Rules (every one produces a message with counts):

* rows without a member id, campaign, group or window, with a group other than ``test`` /
  ``control``, or ending before they start are left out (the importer already rejects them;
  a :class:`~loyalty.schema.Dataset` built in code may still hold them); identical rows count once;
* a member in both the test and the control group of a campaign is left out of it;
* a member with several windows in one campaign (overlapping or not) is left out of it: one
  window per member and campaign;
* with a members table, a member id not in it is left out (unknown member); without one every id
  is kept (:func:`~loyalty.experiments.campaign_lift` counts the members without any purchase
  around the window, who weigh as zero spend);
* a member whose window is not inside the data (first to last transaction day) is left out:
  spend after the data ends is unknown, not zero;
* a campaign left with no control group, no test group, or fewer than 2 members in a group is
  left out of the results;
* members in two campaigns whose windows overlap are kept (with independent randomisations each
  lift is still unbiased, averaged over the other campaign) and counted in a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loyalty.experiments.windows import member_codes
from loyalty.schema import CAMPAIGN_GROUPS, Dataset

_DAY = pd.Timedelta(days=1)
_COLUMNS = ("member_id", "campaign", "group", "start", "end")


@dataclass(frozen=True, eq=False)
class CampaignCheck:
    """The measurable part of a campaigns table.

    Attributes
    ----------
    assignments : DataFrame
        One row per measured (campaign, member): ``campaign``, ``member_id``, ``is_test`` (bool),
        ``start`` and ``end`` (the window's first and last day, both included, midnight
        timestamps) and ``code`` (the member's position in ``ids``). Sorted by campaign, then member.
    campaigns : DataFrame
        One row per measured campaign: ``campaign``, ``start`` (earliest member start), ``end``
        (latest member end), ``n_test``, ``n_control``, ``notes`` (tuple of warnings).
    left_out : DataFrame
        ``campaign``, ``reason``: campaigns that cannot be measured.
    problems : tuple of str
        Every message, in order, with counts.
    data_first, data_last : Timestamp or None
        First and last transaction day of the data.
    ids : Series of str
        Distinct member ids of the campaigns table (``assignments.code`` indexes it).
    """

    assignments: pd.DataFrame
    campaigns: pd.DataFrame
    left_out: pd.DataFrame
    problems: tuple[str, ...]
    data_first: pd.Timestamp | None
    data_last: pd.Timestamp | None
    ids: pd.Series


def _examples(values, n: int = 3) -> str:
    vals = pd.Series(values).dropna().astype("str").unique()[:n]
    return ", ".join(repr(v[:40]) for v in vals)


def _day(d: pd.Timestamp) -> str:
    return f"{d:%Y-%m-%d}"


def _empty_check(problems: list[str], first, last) -> CampaignCheck:
    assignments = pd.DataFrame(
        {
            "campaign": pd.Series([], dtype="str"),
            "member_id": pd.Series([], dtype="str"),
            "is_test": pd.Series([], dtype=bool),
            "start": pd.Series([], dtype="datetime64[ns]"),
            "end": pd.Series([], dtype="datetime64[ns]"),
            "code": pd.Series([], dtype="int64"),
        }
    )
    campaigns = pd.DataFrame(columns=["campaign", "start", "end", "n_test", "n_control", "notes"])
    left = pd.DataFrame({"campaign": pd.Series([], dtype="str"), "reason": pd.Series([], dtype="str")})
    return CampaignCheck(assignments, campaigns, left, tuple(problems), first, last, pd.Series([], dtype="str"))


def _arrow_chunks(s: pd.Series) -> pa.Array:
    arr = getattr(s.array, "_pa_array", None)
    return arr.combine_chunks() if arr is not None else pa.array(s.to_numpy(dtype=object), type=pa.large_string())


def _member_space(ids: pd.Series, members: pd.DataFrame | None) -> tuple[pd.Series, np.ndarray, int]:
    """(id list, code of each campaign row, number of known ids): one hash pass over the rows.

    With a members table the id list is the table's ids (codes = their positions, so unknown ids
    are found in the same pass) followed by the unknown ids; without one, the distinct campaign ids
    (all taken as known). A missing id has code -1.
    """
    if members is None:
        codes, uniques = pd.factorize(ids, sort=False)
        return pd.Series(uniques, dtype="str"), codes.astype(np.int64), len(uniques)
    # The table's ids as they are (arrow): a repeated id matches its first row, a missing one nothing.
    known = members["member_id"].astype("str").reset_index(drop=True)
    codes = member_codes(ids, known)
    absent = ids.isna().to_numpy()
    codes[absent] = -1
    missing = (codes < 0) & ~absent
    if not missing.any():
        return known, codes, len(known)
    extra_codes, extra = pd.factorize(ids[missing], sort=False)
    codes[missing] = len(known) + extra_codes
    return pd.concat([known, pd.Series(extra, dtype="str")], ignore_index=True), codes, len(known)


def _repeated(key: np.ndarray, size: int) -> np.ndarray:
    """Per row: whether its ``key`` (in ``0 .. size - 1``) is on another row too."""
    if size <= 50_000_000:  # a counting pass beats a sort
        return np.bincount(key, minlength=size)[key] > 1
    _, inv, n = np.unique(key, return_inverse=True, return_counts=True)
    return n[inv] > 1


def _order_of_unique(key: np.ndarray, size: int) -> np.ndarray:
    """The permutation sorting distinct integer ``key`` values (in ``0 .. size - 1``)."""
    if size > 50_000_000:
        return np.argsort(key)
    present = np.zeros(size, dtype=bool)
    present[key] = True
    rank = np.cumsum(present) - 1  # a counting sort: no comparison sort of the rows
    order = np.empty(len(key), dtype=np.int64)
    order[rank[key]] = np.arange(len(key))
    return order


def _differs_in_pair(pair: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row: whether some row of the same ``pair`` key has a different ``values``."""
    _, inv = np.unique(pair, return_inverse=True)
    lo = np.full(inv.max() + 1, np.iinfo(np.int64).max)
    hi = np.full(inv.max() + 1, np.iinfo(np.int64).min)
    np.minimum.at(lo, inv, values)
    np.maximum.at(hi, inv, values)
    return (lo != hi)[inv]


def check_campaigns(dataset: Dataset) -> CampaignCheck:
    """The assignments of ``dataset.campaigns`` that can be measured, and what was left out.

    Parameters
    ----------
    dataset : Dataset
        Needs ``campaigns``; ``members`` (when present) tells known member ids, ``transactions``
        the days the data covers.

    Returns
    -------
    CampaignCheck
        See the module docstring for the rules. Vectorised: member ids are matched once (arrow
        hash lookups), every rule works on integer codes.
    """
    tx = dataset.transactions
    first = last = None
    if len(tx):
        ts = tx["timestamp"]
        lo, hi = ts.min(), ts.max()
        if pd.notna(lo):
            first, last = lo.normalize(), hi.normalize()
    problems: list[str] = []
    raw = dataset.campaigns
    if raw is None or raw.empty:
        return _empty_check(problems, first, last)
    missing_cols = [col for col in _COLUMNS if col not in raw.columns]
    if missing_cols:
        problems.append(f"The campaigns table has no {', '.join(missing_cols)} column: nothing can be measured.")
        return _empty_check(problems, first, last)
    # Integer codes first (one hash pass per column); labels are cleaned on their distinct values.
    camp_code, camp_names = pd.factorize(raw["campaign"], sort=False)
    clean = pd.Index(np.asarray(camp_names, dtype=object)).astype("str").str.strip()
    if clean.has_duplicates or (clean == "").any():  # names equal once stripped are one campaign
        remap, clean = pd.factorize(clean.where(clean != "", None))
        camp_code = np.where(camp_code >= 0, np.asarray(remap)[camp_code], -1)
    camp_names = np.asarray(clean, dtype=object)
    ids_text, mem_code, n_known = _member_space(raw["member_id"].astype("str"), dataset.members)
    text = _arrow_chunks(ids_text)
    empty = pc.fill_null(pc.or_(pc.utf8_is_space(text), pc.equal(pc.utf8_length(text), 0)), False)
    blank = np.flatnonzero(empty.to_numpy(zero_copy_only=False)) if len(ids_text) else np.array([], dtype=np.int64)
    if len(blank):
        mem_code = np.where(np.isin(mem_code, blank), -1, mem_code)
    grp_code, grp_names = pd.factorize(raw["group"], sort=False)
    grp_clean = np.array([str(g).strip().lower() for g in grp_names], dtype=object)
    grp_ok = np.isin(grp_clean, CAMPAIGN_GROUPS)
    is_test_all = np.r_[grp_clean == "test", False][grp_code]

    def _days(col: pd.Series) -> np.ndarray:
        d = col if pd.api.types.is_datetime64_dtype(col.dtype) else pd.to_datetime(col, errors="coerce")
        return d.dt.normalize().to_numpy(dtype="datetime64[ns]").view("i8")

    s_all, e_all = _days(raw["start"]), _days(raw["end"])
    nat = np.iinfo(np.int64).min
    incomplete = (camp_code < 0) | (mem_code < 0) | (grp_code < 0) | (s_all == nat) | (e_all == nat)
    if incomplete.any():
        problems.append(
            f"{int(incomplete.sum()):,} campaign rows without a member id, campaign, group or window were left out."
        )
    bad_group = ~incomplete & ~np.r_[grp_ok, False][grp_code]
    if bad_group.any():
        problems.append(
            f"{int(bad_group.sum()):,} campaign rows with a group other than test or control (e.g. "
            f"{_examples(grp_names[np.unique(grp_code[bad_group])])}) were left out."
        )
    backwards = ~incomplete & ~bad_group & (e_all < s_all)
    if backwards.any():
        problems.append(f"{int(backwards.sum()):,} campaign rows whose window ends before it starts were left out.")
    ok = ~(incomplete | bad_group | backwards)
    if not ok.any():
        return _empty_check(problems, first, last)
    camp_code, mem_code, is_test = camp_code[ok], mem_code[ok], is_test_all[ok]
    s_ns, e_ns = s_all[ok], e_all[ok]

    n_ids = len(ids_text)
    pair = camp_code.astype(np.int64) * n_ids + mem_code
    dup = np.zeros(len(pair), dtype=bool)
    multi = np.flatnonzero(_repeated(pair, len(camp_names) * n_ids))  # full rows compared only there
    if len(multi):
        row = np.column_stack([pair[multi], is_test[multi], s_ns[multi], e_ns[multi]])
        _, first_idx = np.unique(row, axis=0, return_index=True)
        dup[multi] = True
        dup[multi[first_idx]] = False
    if dup.any():
        problems.append(f"{int(dup.sum()):,} duplicate campaign rows were counted once.")
        keep_rows = ~dup
        camp_code, mem_code, is_test = camp_code[keep_rows], mem_code[keep_rows], is_test[keep_rows]
        s_ns, e_ns, pair = s_ns[keep_rows], e_ns[keep_rows], pair[keep_rows]
    repeated = _repeated(pair, len(camp_names) * n_ids) if len(multi) else np.zeros(len(pair), dtype=bool)
    both = np.zeros(len(pair), dtype=bool)
    if repeated.any():
        both[repeated] = _differs_in_pair(pair[repeated], is_test[repeated].astype(np.int64))
    several = repeated & ~both
    overlapping = np.zeros(len(pair), dtype=bool)
    if several.any():
        idx = np.flatnonzero(several)
        o = idx[np.lexsort((s_ns[idx], pair[idx]))]
        same = np.r_[False, pair[o][1:] == pair[o][:-1]]
        hit = same & (s_ns[o] <= np.r_[0, e_ns[o][:-1]])
        bad_pairs = np.unique(pair[o][hit])
        overlapping[idx] = np.isin(pair[idx], bad_pairs)

    unknown_id = np.arange(n_ids) >= n_known  # ids after the members table's are unknown members
    unknown = unknown_id[mem_code]
    if first is None:
        outside = np.ones(len(pair), dtype=bool)
    else:
        outside = (s_ns < first.value) | (e_ns > last.value)
    drop = both | several | unknown | outside

    def members_with(flag: np.ndarray) -> np.ndarray:
        """Distinct members per campaign with ``flag`` on one of their rows."""
        p = np.unique(pair[flag])
        return np.bincount(p // n_ids, minlength=len(camp_names))

    counts = {name: members_with(flag) for name, flag in (
        ("both", both), ("several", several), ("overlapping", overlapping), ("unknown", unknown),
        ("outside", outside)) if flag.any()}
    data = "no transactions" if first is None else f"transactions {_day(first)} – {_day(last)}"
    for k, camp in enumerate(camp_names):
        n = {key: int(counts[key][k]) if key in counts else 0
             for key in ("both", "several", "overlapping", "unknown", "outside")}
        if n["both"]:
            problems.append(
                f"{camp}: {n['both']:,} members are in both the test and the control group; left out "
                "(their group is unknown)."
            )
        if n["several"]:
            kind = f"{n['overlapping']:,} with overlapping windows" if n["overlapping"] else "none overlapping"
            problems.append(
                f"{camp}: {n['several']:,} members have several windows ({kind}); left out (one window per "
                "member and campaign: name each wave as its own campaign)."
            )
        if n["unknown"]:
            rows_k = (camp_code == k) & unknown
            problems.append(
                f"{camp}: {n['unknown']:,} member ids are not in the members table (e.g. "
                f"{_examples(ids_text.iloc[mem_code[rows_k][:3]])}); left out (unknown members)."
            )
        if n["outside"]:
            rows_k = (camp_code == k) & outside
            span = f"{_day(pd.Timestamp(int(s_ns[rows_k].min())))} – {_day(pd.Timestamp(int(e_ns[rows_k].max())))}"
            problems.append(
                f"{camp}: {n['outside']:,} members' windows ({span}) are not inside the data ({data}); left out "
                "(spend outside the data is unknown, not zero)."
            )

    keep = ~drop
    k_camp, k_mem, k_test = camp_code[keep], mem_code[keep], is_test[keep]
    k_s, k_e = s_ns[keep], e_ns[keep]
    n_c = len(camp_names)
    n_test = np.bincount(k_camp, weights=k_test, minlength=n_c).astype(np.int64)
    n_all = np.bincount(k_camp, minlength=n_c).astype(np.int64)
    left: list[tuple[str, str]] = []
    measured = np.zeros(n_c, dtype=bool)
    for k, camp in enumerate(camp_names):
        nt, nc = int(n_test[k]), int(n_all[k] - n_test[k])
        if nt + nc == 0:
            reason = "no member left to measure (see the messages above)"
        elif nc == 0:
            reason = f"no control group ({nt:,} test members, 0 control): the lift cannot be measured"
        elif nt == 0:
            reason = f"no test group (0 test members, {nc:,} control)"
        elif nt < 2 or nc < 2:
            reason = f"{nt:,} test and {nc:,} control members: at least 2 per group are needed"
        else:
            measured[k] = True
            continue
        left.append((str(camp), reason))
        problems.append(f"{camp}: left out: {reason}.")
    sel = measured[k_camp]
    k_camp, k_mem, k_test, k_s, k_e = k_camp[sel], k_mem[sel], k_test[sel], k_s[sel], k_e[sel]
    o = _order_of_unique(k_camp.astype(np.int64) * n_ids + k_mem, len(camp_names) * n_ids)
    k_camp, k_mem, k_test, k_s, k_e = k_camp[o], k_mem[o], k_test[o], k_s[o], k_e[o]
    names = np.asarray(camp_names, dtype=object)
    assignments = pd.DataFrame(
        {
            "campaign": pd.array(names, dtype="str").take(k_camp),
            "member_id": ids_text.array.take(k_mem),
            "is_test": k_test,
            "start": k_s.astype("datetime64[ns]"),
            "end": k_e.astype("datetime64[ns]"),
            "code": k_mem.astype(np.int64),
        }
    )
    notes = _overlap_notes(k_camp, k_mem, k_s, k_e, names)
    for k in np.flatnonzero(measured):
        if k in notes:
            problems.append(f"{names[k]}: {notes[k]}")
    w_lo = np.full(n_c, np.iinfo(np.int64).max)
    w_hi = np.full(n_c, np.iinfo(np.int64).min)
    np.minimum.at(w_lo, k_camp, k_s)
    np.maximum.at(w_hi, k_camp, k_e)
    ks = np.flatnonzero(measured)
    campaigns = pd.DataFrame(
        {
            "campaign": pd.array(names[ks], dtype="str"),
            "start": w_lo[ks].astype("datetime64[ns]"),
            "end": w_hi[ks].astype("datetime64[ns]"),
            "n_test": n_test[ks],
            "n_control": (n_all - n_test)[ks],
            "notes": [tuple([notes[k]] if k in notes else []) for k in ks],
        }
    )
    left_out = pd.DataFrame(
        {"campaign": pd.array([a for a, _ in left], dtype="str"), "reason": pd.array([b for _, b in left], dtype="str")}
    )
    return CampaignCheck(assignments, campaigns, left_out, tuple(problems), first, last, ids_text)


def _overlap_notes(camp: np.ndarray, mem: np.ndarray, s_ns: np.ndarray, e_ns: np.ndarray,
                   names: np.ndarray) -> dict[int, str]:
    """Per campaign code: members also in another campaign whose window overlaps theirs.

    Rows are sorted by member then start; a row overlapping the latest end of the member's
    earlier rows flags both campaigns.
    """
    ks = np.flatnonzero(np.bincount(camp))
    if len(ks) < 2:
        return {}
    lo = np.full(ks.max() + 1, np.iinfo(np.int64).max)
    hi = np.full(ks.max() + 1, np.iinfo(np.int64).min)
    np.minimum.at(lo, camp, s_ns)
    np.maximum.at(hi, camp, e_ns)
    a_lo, a_hi = lo[ks], hi[ks]
    spans = np.argsort(a_lo)
    if not (a_lo[spans][1:] <= np.maximum.accumulate(a_hi[spans])[:-1]).any():
        return {}  # no two campaigns run at the same time
    o = np.lexsort((s_ns, mem))
    m, c, s, e = mem[o], camp[o], s_ns[o], e_ns[o]
    same = np.r_[False, m[1:] == m[:-1]]
    run = pd.Series(e).groupby(np.cumsum(~same)).cummax().to_numpy()  # latest end so far, per member
    prev_end = np.r_[np.iinfo(np.int64).min, run[:-1]]
    hit = same & (s <= prev_end)
    if not hit.any():
        return {}
    a = np.concatenate([c[hit], c[np.flatnonzero(hit) - 1]])
    b = np.concatenate([c[np.flatnonzero(hit) - 1], c[hit]])
    who = np.concatenate([m[hit], m[hit]])
    diff = a != b
    a, b, who = a[diff], b[diff], who[diff]
    out: dict[int, str] = {}
    for k in np.unique(a):
        sel = a == k
        others = ", ".join(repr(str(names[o_])) for o_ in pd.unique(b[sel])[:3])
        out[int(k)] = (
            f"{len(np.unique(who[sel])):,} members were also in another campaign at the same time ({others}); "
            "kept: the lift includes what that campaign did to them, alike in both groups when the "
            "assignments were independent."
        )
    return out
