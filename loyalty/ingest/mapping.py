"""Header synonyms: which source column holds which canonical column.

Headers are compared after :func:`normalise_header` (lower case, accents and
punctuation removed, camelCase split, spaces removed), so ``Customer ID``,
``CustomerID``, ``customer_id`` and ``CUSTOMER-ID`` are the same, and
``N° client``, ``Numéro de carte``, ``Date d'achat`` and ``Montant TTC (€)``
match their French synonyms. :func:`suggest_mapping` is what the Data page
shows (and lets the user override).

Besides the canonical columns of :mod:`loyalty.schema`, transactions accept
*helper* columns used for line-item exports: ``quantity``, ``unit_price``,
``product_id`` (a line's product: lines of one receipt that differ in it are lines,
never duplicates) and up to three discount columns (``retail_disc``, ``coupon_disc``),
summed per receipt into the canonical ``discount`` column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pandas as pd

from loyalty.schema import SPECS

#: Helper (non-canonical) columns a source may provide, per table kind.
HELPER_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": ("quantity", "unit_price", "product_id", "discount_1", "discount_2", "discount_3")
}
#: Helper columns that hold a discount (several may be mapped: ``retail_disc`` and ``coupon_disc``);
#: their sum per receipt is the canonical ``discount`` column, which is derived, never mapped.
DISCOUNT_COLUMNS: tuple[str, ...] = ("discount_1", "discount_2", "discount_3")
_DERIVED: dict[str, tuple[str, ...]] = {"transactions": ("discount",)}

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
    "household id", "household", "household key", "hh id", "hh key", "household number", "customer key",
    "cust no", "cust number", "customer ref", "shopper id", "shopper", "buyer id", "client number",
    "client no", "loyalty card id", "loyalty card no", "card nbr", "menage", "id menage", "foyer",
    "id foyer", "numero de client fidelite", "id carte", "n de client",
)
# fmt: on

_DISCOUNT = (
    "discount", "retail disc", "retail discount", "coupon disc", "coupon discount", "coupon match disc",
    "coupon", "promo", "promotion", "promo amount", "markdown", "rebate", "loyalty discount", "remise",
    "montant remise", "remise fidelite", "reduction", "rabais", "promo montant", "bon de reduction",
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
            "basket", "basket key", "basket number", "basket no", "receipt key", "transaction key",
            "trans no", "trans number", "order ref", "order reference", "invoice ref", "bon", "numero de bon",
            "id panier", "panier id", "numero de panier", "ticket de caisse", "n ticket de caisse",
            "visit id", "id ticket", "purchase id", "sales id",
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
            "transaction timestamp", "trans date", "trans time", "trans dt", "purchase datetime",
            "order datetime", "order timestamp", "sale datetime", "day", "jour", "date du jour",
            "date d achat ticket", "date de la transaction", "date et heure d achat",
        ),
        "amount": (
            "amount", "total", "total amount", "amount paid", "paid", "gross amount", "amount incl tax",
            "total incl tax", "sales", "sale amount", "sales amount", "revenue", "value", "spend", "basket",
            "basket value", "order total", "order amount", "transaction amount", "net sales", "montant",
            "montant ttc", "montant total", "montant total ttc", "total ttc", "prix total",
            "chiffre d affaires", "ca", "ca ttc", "montant paye", "montant achat", "montant de l achat",
            "montant du ticket", "panier", "valeur", "depense", "total paye",
            "sales value", "dollar value", "dollars", "sales dollars", "net amount", "net value", "line total",
            "line amount", "line value", "total price", "extended price", "ext price", "item total",
            "amount net", "turnover", "gross sales", "montant ligne", "montant de la ligne", "montant net",
            "total ligne", "ca ht", "montant ht", "total ht", "valeur vente", "prix paye",
        ),
        "store": (
            "store", "store id", "store name", "store code", "shop", "shop id", "magasin", "code magasin",
            "id magasin", "nom magasin", "boutique", "point de vente", "pdv", "site", "location", "branch",
            "outlet", "agence", "enseigne",
            "store nbr", "store number", "store no", "store key", "shop code", "retailer", "magasin id",
            "n magasin", "numero magasin", "site id",
        ),
        "channel": (
            "channel", "sales channel", "canal", "canal de vente", "canal vente", "source",
            "order channel", "channel type", "canal commande", "canal de commande", "order source",
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
            "quantity sold", "qty sold", "units sold", "item count", "items", "number of items",
            "number of cds", "quantite vendue", "qte vendue", "nombre d unites", "nb unites",
        ),
        "unit_price": (
            "unit price", "price", "unit cost price", "prix", "prix unitaire", "pu", "prix unitaire ttc",
            "price each", "item price",
            "unit sales price", "selling price", "prix de vente", "prix de vente unitaire",
        ),
        "product_id": (
            "product id", "product", "product code", "product key", "sku", "sku id", "item id", "item code",
            "item number", "article", "code article", "ref article", "reference article", "id article",
            "produit", "id produit", "code produit", "reference produit", "ref produit", "ean", "upc", "gtin",
            "barcode", "code barre", "line number", "line no", "line id", "ligne", "numero de ligne",
            "stock code", "stockcode",
        ),
        "discount_1": _DISCOUNT,
        "discount_2": _DISCOUNT,
        "discount_3": _DISCOUNT,
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
    "campaigns": {
        "member_id": _MEMBER_ID,
        "campaign": (
            "campaign", "campaign name", "campaign id", "campaign code", "campaign key", "campagne",
            "nom campagne", "nom de campagne", "nom de la campagne", "code campagne", "id campagne",
            "campagne marketing", "experiment", "experiment name", "experiment id", "experience", "test name",
            "test id", "nom du test", "offer", "offer name", "offre", "operation", "operation commerciale",
            "mailing", "action marketing", "promotion", "promo",
        ),
        "group": (
            "group", "groupe", "test", "test group", "test control", "test or control", "test vs control",
            "test control group", "test temoin", "groupe test temoin", "groupe test", "cell", "cellule",
            "arm", "bras", "variant", "variante", "treatment", "treatment group", "assignment", "allocation",
            "ab group", "ab", "ab test", "split", "population", "groupe temoin", "temoin", "control group",
            "holdout group",
        ),
        "start": (
            "start", "start date", "start day", "begin", "begin date", "from", "date from", "window start",
            "campaign start", "launch date", "date debut", "debut", "date de debut", "date de lancement",
            "debut campagne", "date debut campagne", "du",
        ),
        "end": (
            "end", "end date", "end day", "to", "date to", "until", "window end", "campaign end", "stop date",
            "last day", "date fin", "fin", "date de fin", "fin campagne", "date fin campagne", "au",
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
    """Columns a source of ``kind`` may map: canonical ones (not the derived ones), then helpers."""
    derived = _DERIVED.get(kind, ())
    return tuple(n for n in SPECS[kind].names if n not in derived) + HELPER_COLUMNS.get(kind, ())


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


# ------------------------------------------------------------ confidence --
CONFIDENCE = ("high", "medium", "low")


@dataclass(frozen=True)
class MappingGuess:
    """One suggested ``target <- column`` with how sure it is and why.

    ``high``: the header is a known name of the field (or one plus noise words);
    ``medium``: the header shares a distinctive word with a known name; ``low``: guessed
    from the column's content only. Low guesses are never applied without confirmation.
    """

    target: str
    column: str
    confidence: str
    reason: str


def header_guesses(columns: Iterable[object], kind: str) -> list[MappingGuess]:
    """:func:`suggest_mapping` with the confidence and reason of each match."""
    cols = [str(c) for c in columns]
    out = []
    for target, col in suggest_mapping(cols, kind).items():
        score = _score(normalise_header(col), kind, target)
        if score >= 2:
            out.append(MappingGuess(target, col, "high", f"header {col!r} is a known name for {target}"))
        elif target == "amount" and _score(normalise_header(col), kind, "unit_price") >= 2:
            out.append(MappingGuess(target, col, "high", f"header {col!r} is a price, and there is no quantity"))
        else:
            out.append(MappingGuess(target, col, "medium", f"header {col!r} shares a word with names of {target}"))
    return out


_DATE_TARGETS = {"transactions": "timestamp", "ledger": "timestamp", "members": "enrolled_at", "surveys": "date",
                 "costs": "month", "campaigns": "start"}


def content_guesses(frame: pd.DataFrame, kind: str, taken: dict[str, str]) -> list[MappingGuess]:
    """Low-confidence guesses from column content for required fields no header matched.

    Looks at up to 5,000 rows of the unmapped columns: a column of dates (typed, ISO,
    ``a/b/yyyy``, ``yyyymmdd`` integers) for the date field; for transactions, a
    numeric column with decimals for ``amount``, an id-like column repeated over rows for
    ``member_id`` and a near-unique one for ``transaction_id``.
    """
    from loyalty.ingest.parsing import as_text, parse_dates, parse_numbers

    spec = SPECS[kind]
    # Bounded: a 10,000-column sheet must not be scanned column by column.
    free = [str(c) for c in frame.columns if str(c) not in set(taken.values())][:60]
    sample = frame.head(5000)
    missing = [t for t in spec.required if t not in taken]
    guesses: list[MappingGuess] = []

    def take(target: str, col: str, reason: str) -> None:
        guesses.append(MappingGuess(target, col, "low", reason))
        free.remove(col)

    def filled(col: str) -> pd.Series:
        s = sample[col]
        return s[as_text(s).notna()] if s.dtype == "str" or s.dtype == object else s.dropna()

    date_target = _DATE_TARGETS.get(kind)
    if date_target in missing:
        for col in list(free):
            values = filled(col)
            if len(values) < 2:
                continue
            parsed = parse_dates(values, "dayfirst")
            numeric_small = pd.api.types.is_numeric_dtype(values.dtype) and not (values > 19000000).all()
            if not numeric_small and parsed.values.notna().mean() >= 0.95:
                take(date_target, col, f"{parsed.values.notna().mean():.0%} of the values of {col!r} are dates")
                break
    if kind != "transactions":
        return guesses
    numbers = {}
    for col in free:
        values = filled(col)
        if len(values):
            parsed = parse_numbers(values, ".")
            if parsed.values.notna().mean() >= 0.95:
                numbers[col] = parsed.values
    if "amount" in missing:
        fractional = {c: float((v.dropna() != v.dropna().round()).mean()) for c, v in numbers.items()}
        best = max(fractional, key=fractional.get, default=None)
        if best is not None and fractional[best] >= 0.3:
            take("amount", best, f"{best!r} holds numbers with decimals ({fractional[best]:.0%} of them)")
    ids = {}
    for col in free:
        values = filled(col)
        if len(values) < 10:
            continue
        text = as_text(values.astype("str")) if values.dtype != "str" else as_text(values)
        whole = col not in numbers or bool((numbers[col].dropna() == numbers[col].dropna().round()).all())
        if whole and text.str.len().max() <= 40:
            ids[col] = text.nunique() / len(text)
    if "transaction_id" in missing:
        unique = {c: r for c, r in ids.items() if r >= 0.98}
        if unique:
            col = max(unique, key=unique.get)
            take("transaction_id", col, f"{col!r} is unique on almost every row")
            ids.pop(col)
    if "member_id" in missing:
        repeated = {c: r for c, r in ids.items() if r <= 0.6 and c in free}
        if repeated:
            col = min(repeated, key=lambda c: abs(repeated[c] - 0.2))
            take("member_id", col, f"{col!r} is an id repeated over rows ({1 / repeated[col]:.1f} rows per value)")
    return guesses
