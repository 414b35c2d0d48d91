"""Header synonyms: which source column holds which canonical column.

Headers are compared after :func:`normalise_header` (lower case, accents and
punctuation removed, camelCase split, spaces removed), so ``Customer ID``,
``CustomerID``, ``customer_id`` and ``CUSTOMER-ID`` are the same, and
``N° client``, ``Numéro de carte``, ``Date d'achat`` and ``Montant TTC (€)``
match their French synonyms. :func:`suggest_mapping` is what the Data page
shows (and lets the user override).

Besides the canonical columns of :mod:`loyalty.schema`, transactions accept
two *helper* columns used for line-item exports: ``quantity`` and
``unit_price`` (amount = quantity x unit price, summed per transaction).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from loyalty.schema import SPECS

#: Helper (non-canonical) columns a source may provide, per table kind.
HELPER_COLUMNS: dict[str, tuple[str, ...]] = {"transactions": ("quantity", "unit_price")}

# fmt: off
_MEMBER_ID = (
    "member id", "member", "member number", "member no", "membership number", "membership id",
    "customer id",
    "customer", "customer number", "customer no", "customer code", "cust id", "client id", "client",
    "id client", "n client", "no client", "num client", "numero client", "numero de client", "code client",
    "ref client", "reference client", "card number", "card no", "card id", "card", "loyalty id",
    "loyalty card",
    "loyalty number", "loyalty card number", "numero de carte", "numero carte", "n carte", "n de carte",
    "carte", "carte fidelite", "numero carte fidelite", "numero de carte fidelite", "adherent",
    "id adherent",
    "n adherent", "numero adherent", "numero d adherent", "membre", "id membre", "numero membre", "user id",
    "account id", "account number", "contact id",
)
# fmt: on

# fmt: off
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "transactions": {
        "transaction_id": (
            "transaction id", "transaction", "txn id", "trans id", "transaction number", "transaction no",
            "receipt", "receipt id", "receipt number", "receipt no", "ticket", "ticket id", "n ticket",
            "numero ticket", "numero de ticket", "no ticket", "order id", "order", "order number",
            "order no",
            "invoice", "invoice no", "invoice number", "invoice id", "facture", "n facture",
            "numero facture",
            "numero de facture", "id transaction", "id vente", "vente id", "numero de vente", "commande",
            "n commande", "numero commande", "numero de commande", "id commande", "reference transaction",
            "ref transaction", "basket id", "sale id", "id",
        ),
        "member_id": _MEMBER_ID,
        "timestamp": (
            "timestamp", "date", "datetime", "date time", "transaction date", "transaction time",
            "transaction datetime", "purchase date", "purchase time", "order date", "invoice date",
            "sale date", "sales date", "receipt date", "date d achat", "date achat", "date de l achat",
            "date transaction", "date de transaction", "date vente", "date de vente", "date commande",
            "date de commande", "date ticket", "date du ticket", "date heure", "date et heure",
            "date facture", "date de facture",
            "created at", "created", "time", "horodatage",
        ),
        "amount": (
            "amount", "total", "total amount", "amount paid", "paid", "gross amount", "amount incl tax",
            "total incl tax", "sales", "sale amount", "sales amount", "revenue", "value", "spend", "basket",
            "basket value", "order total", "order amount", "transaction amount", "net sales", "montant",
            "montant ttc", "montant total", "montant total ttc", "total ttc", "prix total",
            "chiffre d affaires", "ca", "ca ttc", "montant paye", "montant achat", "montant de l achat",
            "montant du ticket", "panier", "valeur", "depense", "total paye",
        ),
        "store": (
            "store", "store id", "store name", "store code", "shop", "shop id", "magasin", "code magasin",
            "id magasin", "nom magasin", "boutique", "point de vente", "pdv", "site", "location", "branch",
            "outlet", "agence", "enseigne",
        ),
        "channel": (
            "channel", "sales channel", "canal", "canal de vente", "canal vente", "source",
        ),
        "points_earned": (
            "points earned", "earned points", "points", "points gagnes", "points acquis", "points credites",
            "points cumules", "points awarded",
        ),
        "points_redeemed": (
            "points redeemed", "redeemed points", "points used", "points spent", "points burned",
            "points utilises", "points depenses", "points consommes", "points echanges",
        ),
        "quantity": (
            "quantity", "qty", "quantite", "qte", "units", "nb articles", "nombre d articles",
        ),
        "unit_price": (
            "unit price", "price", "unit cost price", "prix", "prix unitaire", "pu", "prix unitaire ttc",
            "price each", "item price",
        ),
    },
    "members": {
        "member_id": _MEMBER_ID,
        "enrolled_at": (
            "enrolled at", "enrolled", "enrolment date", "enrollment date", "enrolled on", "join date",
            "joined", "joined at", "joined on", "date joined", "signup date", "sign up date", "signup",
            "registration date", "registered at", "registered", "member since", "membre depuis",
            "date inscription", "date d inscription", "inscription", "date adhesion", "date d adhesion",
            "adhesion",
            "date creation", "date de creation", "creation date", "created at", "created",
            "date d enrolement", "opt in date", "date", "start date", "date debut",
        ),
        "tier": (
            "tier", "tier name", "level", "status", "niveau", "statut", "palier", "rang", "grade",
        ),
        "channel": (
            "channel", "enrolment channel", "enrollment channel", "acquisition channel", "signup channel",
            "source", "canal", "canal d inscription", "canal inscription", "canal d acquisition", "origine",
        ),
        "referred_by": (
            "referred by", "referrer", "referrer id", "referral", "referred by id", "sponsor", "sponsor id",
            "parrain", "id parrain", "parraine par", "code parrain", "numero parrain",
        ),
        "birth_year": (
            "birth year", "year of birth", "birthyear", "yob", "annee de naissance", "annee naissance",
            "date of birth", "birth date", "birthdate", "dob", "date de naissance", "naissance",
        ),
        "region": (
            "region", "country", "pays", "area", "zone", "state", "province", "departement", "department",
            "city", "ville", "territory", "territoire",
        ),
    },
    "ledger": {
        "member_id": _MEMBER_ID,
        "timestamp": (
            "timestamp", "date", "datetime", "date time", "event date", "event time", "transaction date",
            "created at", "date operation", "date de l operation", "date mouvement", "date du mouvement",
            "date evenement", "time", "horodatage",
        ),
        "event": (
            "event", "event type", "type", "operation", "operation type", "type operation",
            "type d operation", "movement", "movement type", "mouvement", "type de mouvement",
            "type mouvement",
            "nature", "transaction type", "action", "evenement", "kind",
        ),
        "points": (
            "points", "point", "points amount", "nb points", "nombre de points", "delta", "points delta",
            "points change", "valeur", "value", "amount", "montant", "quantity",
        ),
    },
    "surveys": {
        "member_id": _MEMBER_ID + ("respondent", "respondent id"),
        "date": (
            "date", "response date", "survey date", "submitted at", "submitted", "answered at",
            "completed at", "timestamp", "date reponse", "date de reponse", "date enquete",
        ),
        "nps_score": (
            "nps", "nps score", "score nps", "nps note", "note nps", "recommend", "likelihood to recommend",
            "recommendation", "recommandation", "note recommandation", "score", "note",
        ),
        "csat": (
            "csat", "csat score", "satisfaction", "note satisfaction", "score satisfaction",
            "satisfaction score",
        ),
    },
    "costs": {
        "month": (
            "month", "mois", "period", "periode", "date", "month start", "yearmonth",
        ),
        "category": (
            "category", "categorie", "cost type", "type", "poste", "poste de cout", "nature", "libelle",
            "cost category", "item",
        ),
        "amount": (
            "amount", "cost", "costs", "montant", "cout", "couts", "total", "value", "valeur", "depense",
            "spend",
        ),
    },
}
# fmt: on


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Words that carry no meaning for matching ("Montant TTC (€)" = "montant ttc").
_NOISE = re.compile(r"\b(?:eur|euro|euros|usd|gbp|chf|in|en)\b")


def normalise_header(name: object) -> str:
    """Header as lower-case ASCII words: ``"Date d'achat"`` -> ``"date d achat"``."""
    text = _CAMEL.sub(" ", str(name))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = _NON_ALNUM.sub(" ", text)
    text = _NOISE.sub(" ", text)
    return " ".join(text.split())


def _compact(name: str) -> str:
    return name.replace(" ", "")


def targets(kind: str) -> tuple[str, ...]:
    """Columns a source of ``kind`` may map: canonical ones, then helpers."""
    return SPECS[kind].names + HELPER_COLUMNS.get(kind, ())


@cache
def _index(kind: str, target: str) -> tuple[frozenset[str], tuple[tuple[str, ...], ...], frozenset[str]]:
    """(compact synonyms, synonym word tuples, vocabulary) of one target column."""
    syn = SYNONYMS[kind].get(target, ())
    words = tuple(tuple(s.split()) for s in syn)
    return frozenset(_compact(s) for s in syn), words, frozenset(w for ws in words for w in ws)


def _score(header: str, kind: str, target: str) -> int:
    """3 = exact synonym, 2 = synonym + noise words, 1 = shares a distinctive synonym word."""
    h = _compact(header)
    if not h:
        return 0
    compact, synonym_words, vocabulary = _index(kind, target)
    if h in compact:
        return 3
    words = header.split()
    if vocabulary.isdisjoint(words):  # fast exit: most headers share no word at all
        return 0
    for sw in synonym_words:
        if len(sw) >= 2 and all(w in words for w in sw):
            return 2
        if len(sw) == 1 and len(sw[0]) >= 4 and sw[0] in words:
            return 2 if len(words) <= 3 else 1
    return 0


def suggest_mapping(columns: Iterable[object], kind: str) -> dict[str, str]:
    """Infer ``{canonical column: source column}`` from header synonyms.

    Each source column is used at most once; exact synonym matches win over
    partial ones, and at equal score the canonical column listed first in the
    schema wins. Unmatched canonical columns are absent from the result.
    """
    if kind not in SYNONYMS:
        raise KeyError(kind)
    cols = [str(c) for c in columns]
    norm = {c: normalise_header(c) for c in cols}
    personal = {c: personal_header(c) for c in cols}
    order = targets(kind)
    candidates: list[tuple[int, int, int, str, str]] = []
    for ti, target in enumerate(order):
        for ci, c in enumerate(cols):
            score = _score(norm[c], kind, target)
            # A partial match never maps personal data ("Customer name" is not a customer id).
            if score < 3 and personal[c]:
                continue
            if score:
                candidates.append((-score, ti, ci, target, c))
    candidates.sort()
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for _neg, _ti, _ci, target, c in candidates:
        if target in mapping or c in used:
            continue
        mapping[target] = c
        used.add(c)
    # "Price" with no quantity is the amount of a one-row-per-purchase export.
    if "unit_price" in mapping and "quantity" not in mapping and "amount" not in mapping:
        mapping["amount"] = mapping.pop("unit_price")
    return {t: mapping[t] for t in order if t in mapping}


def tried_synonyms(kind: str, target: str, limit: int = 8) -> str:
    """A short list of synonyms for error messages."""
    syn = SYNONYMS[kind].get(target, ())
    more = f", … ({len(syn)} in all)" if len(syn) > limit else ""
    return ", ".join(repr(s) for s in syn[:limit]) + more


# ------------------------------------------------------------ personal data --
_PERSONAL_HEADER = re.compile(
    r"\b(?:first ?name|last ?name|full ?name|surname|given ?name|family ?name|name|nom|prenom|"
    r"nom de famille|customer ?name|client ?name|e ?mail|email|mail|courriel|phone|telephone|tel|"
    r"mobile|portable|gsm|cell|address|adresse|street|rue|iban|ssn|passport|birth ?date|date of birth|"
    r"dob|date de naissance)\b"
)


def personal_header(name: object) -> bool:
    """Whether a header names personal data (names, emails, phones, addresses)."""
    norm = normalise_header(name)
    # "store name", "nom magasin", "product name" describe things, not people.
    if re.search(
        r"\b(?:store|shop|magasin|boutique|product|produit|article|item|tier|segment|campaign|file)\b", norm
    ):
        return False
    return bool(_PERSONAL_HEADER.search(norm))
