"""Saved import settings: the confirmed mapping of one export shape, re-applied to the next month's file.

An :class:`ImportSettings` holds what a user confirms on the Data page (column mapping,
separator, date order, sheet, personal-data choice) plus the shape of the file it was made
on (:attr:`loyalty.ingest.FilePreview.signature`: format and normalised headers). It
travels as a small JSON file; re-applied to a file of the same shape it reproduces the same
import (line-item aggregation included: it follows from the mapping).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from loyalty.ingest.mapping import targets
from loyalty.ingest.parsing import DATE_ORDERS
from loyalty.ingest.readers import SEPARATOR_CHOICES, ImportProblem
from loyalty.schema import SPECS

_VERSION = 1


@dataclass(frozen=True)
class ImportSettings:
    """How one export shape is imported.

    Attributes
    ----------
    kind : str
        Table kind (``transactions``, ``members``...).
    signature : str
        Shape of the file the settings were confirmed on (format and normalised headers).
    mapping : tuple of (target, column)
        Field -> source column, as confirmed.
    separator, date_order, sheet : str or None
        Overrides (None = inferred from the file).
    keep_personal : bool
        Keep personal-data columns.
    """

    kind: str
    signature: str
    mapping: tuple[tuple[str, str], ...]
    separator: str | None = None
    date_order: str | None = None
    sheet: str | None = None
    keep_personal: bool = False

    def __post_init__(self) -> None:
        if self.kind not in SPECS:
            raise ImportProblem(f"Saved settings: unknown table kind {self.kind!r}.")
        allowed = set(targets(self.kind))
        unknown = [t for t, _ in self.mapping if t not in allowed]
        if unknown:
            raise ImportProblem(f"Saved settings: unknown field(s) {', '.join(map(repr, unknown))} for {self.kind}.")
        if self.separator is not None and self.separator not in SEPARATOR_CHOICES:
            raise ImportProblem(f"Saved settings: unknown separator {self.separator!r}.")
        if self.date_order is not None and self.date_order not in DATE_ORDERS:
            raise ImportProblem(f"Saved settings: unknown date order {self.date_order!r}.")

    @property
    def mapping_dict(self) -> dict[str, str]:
        return dict(self.mapping)

    def fits(self, columns: tuple[str, ...] | list[str]) -> bool:
        """Whether every mapped source column is among ``columns`` (a file of the same shape)."""
        cols = set(columns)
        return all(c in cols for _, c in self.mapping)

    def to_json(self) -> str:
        return json.dumps(
            {
                "loyalty_lab_import_settings": _VERSION,
                "kind": self.kind,
                "signature": self.signature,
                "mapping": dict(self.mapping),
                "separator": self.separator,
                "date_order": self.date_order,
                "sheet": self.sheet,
                "keep_personal": self.keep_personal,
            },
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ImportSettings:
        """Parse saved settings; :class:`ImportProblem` with the reason when the file is not one."""
        try:
            doc = json.loads(text[:200_000] if isinstance(text, str | bytes) else text)
        except (ValueError, TypeError) as exc:
            raise ImportProblem(f"Saved settings: not a JSON file ({exc}).") from None
        if not isinstance(doc, dict) or doc.get("loyalty_lab_import_settings") != _VERSION:
            raise ImportProblem("Saved settings: this JSON file is not a Loyalty Lab import-settings file.")
        mapping = doc.get("mapping")
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise ImportProblem("Saved settings: 'mapping' must map fields to column names.")
        return cls(
            kind=str(doc.get("kind")),
            signature=str(doc.get("signature", "")),
            mapping=tuple((str(k), v) for k, v in mapping.items()),
            separator=doc.get("separator"),
            date_order=doc.get("date_order"),
            sheet=doc.get("sheet"),
            keep_personal=bool(doc.get("keep_personal", False)),
        )
