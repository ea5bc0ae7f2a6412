"""An anonymized copy of a company's data, safe to show in a training room.

``kam anonymize DATASET --out DIR`` (or :func:`write_anonymized`) writes a copy of
a dataset in which everything that names a customer or a person is replaced by a
pseudonym, free text is removed, money and quantities are scaled by secret factors
and every date is moved back by a secret number of four-year blocks. The analyses
of the kit give the same findings on the copy as on the original, under the
aliases: the same ABC-XYZ class per account, the same key accounts with the same
types, the same lost accounts, loss events, reasons and win-back order
(``tests/test_anonymize.py`` proves it on the sample and on a second company).

Everything is derived from one **secret** (``--secret`` or the environment
variable ``KAM_SECRET``, at least 12 characters): the same data and the same
secret give a byte-identical copy, another secret gives other aliases, factors and
shift. The secret, the factors and the shift are never written into the copy.
Whoever has the secret *and* the original data can rebuild the alias table
(:func:`anonymization_key`) and map results back; without the secret nothing maps
back. Keep the secret where you keep passwords.

Teaching on your own company's data
-----------------------------------
Trainees learn more from their own customers' patterns than from the sample
company: the real concentration of revenue, the real buyers who stopped, the real
reasons. To use them in a room:

1. Check the data: ``kam check data/acme`` (fix what it reports).
2. Make a secret and keep it, e.g. in the password manager::

       python -c "import secrets; print(secrets.token_urlsafe(16))"

3. Write the copy: ``KAM_SECRET=... kam anonymize data/acme --out data/acme-course``.
4. Run the notebooks on the copy (their parameter ``data = "data/acme-course"``,
   or ``kam report --data data/acme-course``) and hand out only the copy. Its
   ``as_of`` is the original one moved back by the same whole number of four-year
   blocks as every other date: month, day, quarter and half-year are the original
   ones, only the year differs. Leave ``as_of`` empty (the last transaction), or
   move a fixed one with ``key.shift(as_of)``.
5. To name the real account behind an alias after the session, rebuild the key
   with the secret: ``key = kamlib.anonymize.anonymization_key(kamlib.load_dataset(
   "data/acme"), secret=...)``, then ``key.original_map("account")["ACC-7F3A2C"]``.

What the copy does **not** hide: the shape of the business. Segments, industries,
countries, the size ranking and the buying rhythm are kept on purpose (the lessons
need them), so a colleague who knows the customers may still recognise "the
largest OEM in Poland". It is a pseudonymized copy for the training room, not
anonymous data in the legal sense; do not publish it. Scaling hides the level of
the figures, not their proportions: anyone who knows one true amount can work out
the factor of its group (not of the others). ``docs/anonymize.md`` lists what the
copy protects and what it does not.

The pseudonyms
--------------
A pseudonym is a keyed hash, HMAC-SHA256 of (secret, kind, original value), shown
as a short upper-case hex code: ``ACC-7F3A2C`` for an account. The same value of
the same kind gets the same alias in every table (so every foreign key still
matches) and on every run with the same secret. Where two values of one kind would
share a code, both get two more hex digits until they differ (rare: about once in
several thousand accounts), so only such a pair depends on the rest of the data.

=================  ======================  ==========================================
kind               example                 replaces
=================  ======================  ==========================================
``account``        ``ACC-7F3A2C``          ``account_id`` in every table
``contact``        ``CON-19A2B4``          ``contact_id`` (contacts, interactions)
``product``        ``PRD-0C44E1``          ``product_id`` (transactions, products)
``invoice``        ``INV-5D21A9F0``        ``invoice_id`` (transactions, invoices)
``interaction``    ``INT-90E1C2D3``        ``interactions.interaction_id``
``proposal``       ``PRP-1B7C0A44``        ``proposals.proposal_id``
``group``          ``Group 3F2A``          ``accounts.group``
``manager``        ``Manager 8E10``        ``accounts.account_manager``
``competitor``     ``Competitor 4F2A``     ``competitor`` (competitors, proposals)
=================  ======================  ==========================================

Names are given the code of their row's id: account ``ACC-7F3A2C`` is called
``Account 7F3A2C``, contact ``CON-19A2B4`` ``Contact 19A2B4``, product
``PRD-0C44E1`` ``Product 0C44E1``.

Column by column
----------------
Every column of the model (:data:`kamlib.schema.MODEL`) has one decision
(:data:`COLUMN_RULES`; a test checks that none is missing). Columns outside the
model are never copied, and neither are files that are not tables of the model
(the sample's ``scenario.csv``).

- ``transactions``: ``account_id``, ``product_id``, ``invoice_id`` pseudonyms;
  ``date`` shifted; ``amount``, ``cost``, ``margin`` × money factor; ``quantity`` ×
  quantity factor.
- ``accounts``: ``account_id`` pseudonym; ``name`` "Account <code>";
  ``account_manager`` and ``group`` pseudonyms (the same manager or group keeps one
  alias, so workload and group membership stay visible); ``first_order_date``
  shifted; ``annual_sales`` × its own factor; ``headcount`` × its own factor, rounded
  to whole people (at least 1 where it was at least 1) — both are public, so they
  would point at the customer, and a factor of their own keeps a published figure from
  giving away the money factor; ``country``, ``region``, ``industry``, ``segment`` kept
  (scrubbed, see below); the flags ``is_distributor``, ``is_multinational``,
  ``is_prestige``, ``is_test_partner`` kept.
- ``products``: ``product_id`` pseudonym; ``name`` "Product <code>";
  ``product_group`` and ``unit`` kept (scrubbed); ``is_slow_moving`` kept;
  ``list_price`` × money factor ÷ quantity factor (a price per unit, so amount ÷
  quantity keeps matching it).
- ``invoices``: ``invoice_id``, ``account_id`` pseudonyms; ``invoice_date``,
  ``due_date``, ``paid_date`` shifted (days late are unchanged); ``amount`` × money
  factor; ``payment_method`` kept (scrubbed: ``cash`` marks cash payers).
- ``contacts``: ``contact_id``, ``account_id`` pseudonyms; ``name`` "Contact
  <code>"; ``job_title`` kept (scrubbed): a function such as "Purchasing Manager"
  names nobody once the company is hidden, and the buying-centre lesson needs it;
  ``role`` kept (a category, see below); ``influence``, ``attitude`` kept; ``last_contact`` shifted.
- ``interactions``: ``interaction_id``, ``account_id``, ``contact_id`` pseudonyms;
  ``date`` shifted; ``type`` kept (a category); ``outcome`` and ``reason`` kept (scrubbed: the
  loss analysis reads "account lost" and the reason); ``note`` (free text) becomes
  "(note removed)" where there was one.
- ``proposals``: ``proposal_id``, ``account_id``, ``competitor`` pseudonyms;
  ``date``, ``decided_date`` shifted; ``value`` × its own factor (an awarded tender
  can be published); ``kind``, ``outcome`` kept (categories); ``reason`` kept (scrubbed).
- ``competitors``: ``account_id``, ``competitor`` pseudonyms; ``since`` shifted;
  ``estimated_share`` kept (a fraction).
- ``surveys``: ``account_id`` pseudonym; ``date`` shifted; ``score`` kept;
  ``comment`` (free text) becomes "(comment removed)" where there was one.

*Scrubbed* means kept, with what could name someone taken out (``docs/anonymize.md``
has the details and examples):

- HTML tags are removed (``<script>…``, ``<img onerror=…>``), and so are stray angle
  brackets; ``javascript:`` becomes ``[url]``;
- e-mail addresses become ``[email]``, web addresses ``[url]``, phone numbers
  (``+49 (0)89 123-4567``, ``089 123-4567``) ``[phone]``, and every number with three
  digits or more or with decimals (amounts, invoice numbers, postcodes: ``12.345,67``,
  ``R-2024-00017``) ``[number]``;
- a whole name the copy replaces elsewhere (four characters or longer, any case)
  becomes its alias: an outcome "lost to Adhexa" becomes "lost to Competitor 4F2A";
- any other word that, folded (:func:`_fold`: case, accents, ß/ss, ä/ae, ö/oe, ü/ue,
  doubled letters), is a word of three characters or more of a replaced value (an id,
  account, contact, product, group, manager or competitor name) becomes ``[name]``:
  "Mueller" for Müller, a surname alone, "Ivo". Not replaced: the :data:`STOPWORDS`
  (legal forms, articles, generic company words), the words the kit's analyses read
  (loss reasons, "lost", "cash", the model's categories), and a word of an account,
  group or product name that is a category word (:func:`_category_words`: "Automotive"
  of "Müller Automotive GmbH" where other accounts are in the automotive industry).

Categories with a fixed list of values (``role``, ``type``, ``kind``, proposal
``outcome``) are kept where the value is one of the model's, scrubbed otherwise. Every
text cell of the copy that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading apostrophe (:func:`kamlib.export.neutralise_formulas`), so that it
never runs as a spreadsheet formula.

Rows are sorted by date and pseudonym (or by pseudonym), so the order of the rows
does not give away the original numbering.

Amounts and quantities
----------------------
Each group of numeric columns (:data:`FACTOR_GROUPS`) is multiplied by a factor of
its own: ``money`` (transaction amounts, costs, margins and invoice totals, which must
add up and reconcile), ``quantity``, ``annual_sales``, ``headcount`` and
``proposal_value``; a list price is × money ÷ quantity. Each factor lies between 0.5 and
2 and never between 0.9 and 1.1 (so real figures never slip through almost unchanged):
``2 ** ±m`` with ``m`` between log2(1.1) and 1, sign and size chosen by the secret; any
two factors differ by a ratio of at least 1.1. Values are rounded to the
decimals of the original column (at least 2; a list price keeps two more), so the
copy looks like an export; a sum over many lines is therefore the scaled sum give
or take half a cent per line. Shares, ratios, growth rates, coefficients of
variation and rankings do not depend on the scale, which is why the classes come
out the same.

Dates
-----
Every date is moved back by the same number of days, ``1461 × k`` with ``k`` from
1 to 5 chosen by the secret (4 to 20 years). Four years of the Gregorian calendar
between 1901 and 2099 always hold exactly one 29 February, so they are always
exactly 1461 days: a shift of whole four-year blocks maps every date to the same
month and day of a year ``4k`` earlier, and keeps the leap years (2024-02-29 becomes
2020-02-29 or 2016-02-29). Month windows, "12 months before", quarters, half-years,
gaps in days, days late and tenures are therefore exactly those of the original.
What moves is the year and the weekday (1461 days are 208 weeks and 5 days), which
no analysis of the kit uses. Where an early date (a first order in 1910) would end
up before 1 March 1900, fewer blocks are used so that none does; dates before
1904-03-01 (no room for one block) and after 2100-02-28 are refused with the table
and column named: they are almost always placeholders.

What is not invariant
---------------------
- Ties broken by account id can order differently, since the ids are different:
  the ABC rank of two accounts with equal totals, the win-back order among equal
  priorities and revenues lost, and above all the key-account score ranking. Scores
  are weighted sums of percentile ranks, so two accounts can score exactly the same
  (on a generated company of 220 accounts, two unassigned key accounts at 67.42
  points swapped places under two of three secrets); with the ``share`` rule, such
  a tie exactly where the target is crossed could even swap which of the two is in.
- Rounding to cents can, in principle, move an account sitting exactly on a
  boundary (a cut-off share, a 12-month ratio at the ``theta`` limit, two nearly
  equal totals); ``cv`` and shares agree to about 1e-4, not to the last digit.
  The tests check that no class, list or finding moves on the sample and on a
  second company.
- Thresholds in absolute money or kilograms mean something else on the copy (say,
  "accounts above 10,000 EUR", or a dossier signal threshold raised from 0 to 500):
  scale them by the factors or use relative ones. The kit's defaults are relative,
  counts, days or zero, so they hold.
- Years and weekdays; free text; anything sorted by name or id.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from kamlib._files import check_target, csv_text, folder_written_whole
from kamlib.dataset import Dataset, load_dataset
from kamlib.export import neutralise_formulas
from kamlib.paths import resolve_dataset
from kamlib.schema import MODEL

__all__ = [
    "COLUMN_RULES",
    "FACTOR_GROUPS",
    "KINDS",
    "MIN_SECRET_LENGTH",
    "STOPWORDS",
    "AnonymizationKey",
    "anonymization_key",
    "anonymize_dataset",
    "write_anonymized",
]

#: Shortest secret accepted: a short one could be guessed from a known alias.
MIN_SECRET_LENGTH = 12

#: Kinds of pseudonym: how each alias starts and how many hex digits it has at least.
KINDS: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "account": ("ACC-", 6),
        "contact": ("CON-", 6),
        "product": ("PRD-", 6),
        "invoice": ("INV-", 8),
        "interaction": ("INT-", 8),
        "proposal": ("PRP-", 8),
        "group": ("Group ", 4),
        "manager": ("Manager ", 4),
        "competitor": ("Competitor ", 4),
    }
)

#: What happens to every column of the model: ``("alias", kind)`` pseudonym;
#: ``("name", kind, id column, label)`` "<label> <code of the row's id>"; ``("text",
#: placeholder)`` free text removed; ``("scale", group)`` × the factor of its group (see
#: :data:`FACTOR_GROUPS`), ``("headcount", group)`` the same rounded to whole people,
#: ``("price",)`` × money ÷ quantity factor; ``("date",)`` shifted; ``("scrub",)`` kept with
#: names, contacts and numbers scrubbed; ``("category",)`` kept where one of the model's
#: values, scrubbed otherwise; ``("keep",)`` kept as it is.
COLUMN_RULES: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "transactions": {
            "account_id": ("alias", "account"),
            "date": ("date",),
            "amount": ("scale", "money"),
            "quantity": ("scale", "quantity"),
            "cost": ("scale", "money"),
            "margin": ("scale", "money"),
            "product_id": ("alias", "product"),
            "invoice_id": ("alias", "invoice"),
        },
        "accounts": {
            "account_id": ("alias", "account"),
            "name": ("name", "account", "account_id", "Account"),
            "country": ("scrub",),
            "region": ("scrub",),
            "industry": ("scrub",),
            "segment": ("scrub",),
            "account_manager": ("alias", "manager"),
            "first_order_date": ("date",),
            "headcount": ("headcount", "headcount"),
            "annual_sales": ("scale", "annual_sales"),
            "is_distributor": ("keep",),
            "is_multinational": ("keep",),
            "group": ("alias", "group"),
            "is_prestige": ("keep",),
            "is_test_partner": ("keep",),
        },
        "products": {
            "product_id": ("alias", "product"),
            "name": ("name", "product", "product_id", "Product"),
            "product_group": ("scrub",),
            "unit": ("scrub",),
            "is_slow_moving": ("keep",),
            "list_price": ("price",),
        },
        "invoices": {
            "invoice_id": ("alias", "invoice"),
            "account_id": ("alias", "account"),
            "invoice_date": ("date",),
            "due_date": ("date",),
            "paid_date": ("date",),
            "amount": ("scale", "money"),
            "payment_method": ("scrub",),
        },
        "contacts": {
            "contact_id": ("alias", "contact"),
            "account_id": ("alias", "account"),
            "name": ("name", "contact", "contact_id", "Contact"),
            "job_title": ("scrub",),
            "role": ("category",),
            "influence": ("keep",),
            "attitude": ("keep",),
            "last_contact": ("date",),
        },
        "interactions": {
            "interaction_id": ("alias", "interaction"),
            "account_id": ("alias", "account"),
            "date": ("date",),
            "type": ("category",),
            "contact_id": ("alias", "contact"),
            "outcome": ("scrub",),
            "reason": ("scrub",),
            "note": ("text", "(note removed)"),
        },
        "proposals": {
            "proposal_id": ("alias", "proposal"),
            "account_id": ("alias", "account"),
            "date": ("date",),
            "kind": ("category",),
            "value": ("scale", "proposal_value"),
            "outcome": ("category",),
            "decided_date": ("date",),
            "reason": ("scrub",),
            "competitor": ("alias", "competitor"),
        },
        "competitors": {
            "account_id": ("alias", "account"),
            "competitor": ("alias", "competitor"),
            "since": ("date",),
            "estimated_share": ("keep",),
        },
        "surveys": {
            "account_id": ("alias", "account"),
            "date": ("date",),
            "score": ("keep",),
            "comment": ("text", "(comment removed)"),
        },
    }
)

#: Which numeric columns are multiplied by one factor. Columns that must stay consistent
#: share one: transaction amounts, costs and margins add up (margin = amount - cost) and
#: invoice totals reconcile with their lines, so ``money`` scales them all. A figure that
#: can be public has a factor of its own, so that knowing it (a customer's published
#: annual sales, its headcount, a published tender award) reveals nothing about the others.
#: ``products.list_price`` is × money ÷ quantity (a price per unit, matching amount ÷
#: quantity). Every two factors differ by a ratio of at least 1.1. Shares (``estimated_share``),
#: scores and the 1-5 / -2..+2 scales are not scaled.
FACTOR_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "money": (
            "transactions.amount",
            "transactions.cost",
            "transactions.margin",
            "invoices.amount",
        ),
        "quantity": ("transactions.quantity",),
        "annual_sales": ("accounts.annual_sales",),
        "headcount": ("accounts.headcount",),
        "proposal_value": ("proposals.value",),
    }
)

#: Words of names that are not scrubbed from kept text: legal forms, articles and generic
#: company words (so that categories stay readable), and the labels of the aliases.
#: Compared case- and accent-folded, like every name token.
STOPWORDS = frozenset(
    """
    ag sa sl co kg se nv bv ab as oy de la y e et el le di da du of
    gmbh mbh ohg gbr ug kgaa ltd inc plc llc llp lp corp sas sarl spa srl sro ooo kft zrt bvba
    aps asa sae sec cie company corporation incorporated limited
    holding holdings group gruppe groupe grupo industries industrie international
    the and und les des der die das del los las von van ven dei
    account contact product manager competitor
    """.split()
)

#: Row order of the copy: date first where a table has one, then pseudonyms.
_ORDER = {
    "transactions": ("date", "account_id", "invoice_id", "product_id"),
    "accounts": ("account_id",),
    "products": ("product_id",),
    "invoices": ("due_date", "invoice_id"),
    "contacts": ("account_id", "contact_id"),
    "interactions": ("date", "account_id", "interaction_id"),
    "proposals": ("date", "account_id", "proposal_id"),
    "competitors": ("account_id", "competitor"),
    "surveys": ("date", "account_id"),
}

_DOMAIN = "kamlib.anonymize/1"
_BLOCK_DAYS = 1461  # four Gregorian years between 1901 and 2099
_MAX_BLOCKS = 5
_EARLIEST = pd.Timestamp("1900-03-01")  # 1900 is no leap year: no date may cross it
_LATEST = pd.Timestamp("2100-02-28")
_MIN_FACTOR_DISTANCE = math.log2(1.1)  # factors are never between 1/1.1 and 1.1
_WORD = re.compile(r"\w+")
#: Scrubbed from kept text, in this order (markup first, numbers last).
_PATTERNS = (
    (r"<[^<>]*>", ""),  # an HTML tag: <script>, <img onerror=…>
    (r"[<>]", ""),  # what is left of one
    (r"(?i)\b(?:java|vb)script\s*:", "[url]"),
    (r"[\w.+\-']+@[\w\-]+(?:\.[\w\-]+)+", "[email]"),
    (r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>\"']+", "[url]"),
    # +49 (0)89 123-4567, 0049 89 1234567; 089 123-4567, (089) 12 34 56
    (r"(?<![\w+])(?:\+|00)\d{1,3}(?:[ \t.\-/]*\(\d{1,5}\))?(?:[ \t.\-/]*\d){5,}", "[phone]"),
    (r"(?<![\w+])(?:\(0\d{1,5}\)|0\d{1,5})(?:[ \t.\-/]*\d){5,}", "[phone]"),
    # 12.345,67  1'234  0.5  2024  00017 (also inside R-2024-00017 or K10001)
    (r"\d{1,3}(?:[.,'\u2019\u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+[.,]\d+|\d{3,}", "[number]"),
)
_COMBINING = r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})
#: Words the kit's analyses read in kept text: never scrubbed, even where a name has them.
_KIT_WORDS = ("lost", "not", "account", "won", "back", "cash", "transfer", "direct_debit")
_WRITTEN_BY = "kam anonymize"
_MARKER = "# Anonymized copy made with `kam anonymize` (kamlib.anonymize)."
_YAML = f"""\
{_MARKER}
# Names and ids are pseudonyms, notes and comments are removed, money and quantities
# are scaled and dates moved back by whole four-year blocks. Only the secret it was
# made with (together with the original data) maps results back to real accounts.
name: Anonymized copy
currency: {{currency}}
quantity_unit: {{quantity_unit}}
tables:
{{tables}}
"""


# ---------------------------------------------------------------------------- secret


def _secret_key(secret: object) -> bytes:
    if not isinstance(secret, str) or not secret.strip():
        raise ValueError(
            "an anonymized copy needs a secret: give --secret or set the environment variable "
            "KAM_SECRET (keep it: with the same secret the same accounts get the same aliases)"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"the secret must have at least {MIN_SECRET_LENGTH} characters, got {len(secret)}; "
            'make one with: python -c "import secrets; print(secrets.token_urlsafe(16))"'
        )
    return secret.encode("utf-8")


def _mac(key: bytes, *parts: str) -> bytes:
    message = "\x1f".join((_DOMAIN, *parts)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).digest()


def _unit(key: bytes, label: str) -> float:
    """A number in [0, 1) that only the secret decides."""
    return int.from_bytes(_mac(key, "parameter", label)[:8], "big") / 2**64


def _factor(key: bytes, label: str) -> float:
    u = _unit(key, label)
    sign = 1.0 if u >= 0.5 else -1.0
    magnitude = _MIN_FACTOR_DISTANCE + (1 - _MIN_FACTOR_DISTANCE) * ((2 * u) % 1)
    return float(2 ** (sign * magnitude))


def _factors(key: bytes) -> dict[str, float]:
    """One factor per group of :data:`FACTOR_GROUPS`, every two at least 1.1 apart.

    ``money`` and ``quantity`` keep the labels they always had; a factor too close to
    one chosen before is drawn again under the next label (``... #1``, ``#2``), so the
    result depends on the secret only.
    """
    chosen: dict[str, float] = {}
    for group in FACTOR_GROUPS:
        label = {"money": "money factor", "quantity": "quantity factor"}.get(
            group, f"factor {group}"
        )
        for attempt in itertools.count():
            factor = _factor(key, label if attempt == 0 else f"{label} #{attempt}")
            if all(
                abs(math.log2(factor / other)) >= _MIN_FACTOR_DISTANCE for other in chosen.values()
            ):
                break
        chosen[group] = factor
    return chosen


# ------------------------------------------------------------------------ pseudonyms


def _codes(key: bytes, kind: str, values: Iterable[str]) -> dict[str, str]:
    """Hex code per value: ``KINDS[kind]`` digits, longer only where two would clash."""
    digests = {v: _mac(key, "alias", kind, v).hex().upper() for v in values}
    length = dict.fromkeys(digests, KINDS[kind][1])
    while True:
        by_code: dict[str, list[str]] = defaultdict(list)
        for value, digest in digests.items():
            by_code[digest[: length[value]]].append(value)
        clashes = [vals for vals in by_code.values() if len(vals) > 1]
        if not clashes:
            return {v: digests[v][: length[v]] for v in digests}
        for vals in clashes:
            for value in vals:
                length[value] += 2


def _originals(dataset: Dataset) -> dict[str, list[str]]:
    """Every original value per kind of pseudonym, over all tables."""
    found: dict[str, set[str]] = defaultdict(set)
    for table, frame in dataset.tables.items():
        for column, rule in COLUMN_RULES.get(table, {}).items():
            if rule[0] == "alias" and column in frame:
                found[rule[1]].update(str(v) for v in pd.unique(frame[column].dropna()))
    return {kind: sorted(found[kind]) for kind in KINDS if found[kind]}


# ---------------------------------------------------------------------------- dates


def _date_columns(dataset: Dataset) -> list[tuple[str, str]]:
    return [
        (table, column)
        for table, frame in dataset.tables.items()
        for column, rule in COLUMN_RULES.get(table, {}).items()
        if rule[0] == "date" and column in frame
    ]


def _blocks(dataset: Dataset, wanted: int) -> int:
    """Four-year blocks to move back: ``wanted``, fewer where a date would cross 1900-02-28."""
    earliest: pd.Timestamp | None = None
    for table, column in _date_columns(dataset):
        values = dataset.tables[table][column].dropna()
        if values.empty:
            continue
        first, last = pd.Timestamp(values.min()), pd.Timestamp(values.max())
        if last > _LATEST:
            raise ValueError(
                f"{dataset.files.get(table, table)}: column {column!r} ({table}.{column}) has "
                f"dates after {_LATEST.date()} (latest {last.date()}), which cannot be moved by "
                "whole four-year blocks; correct those dates (a placeholder like 9999-12-31?) "
                "or leave them empty"
            )
        if first < _EARLIEST + pd.Timedelta(days=_BLOCK_DAYS):
            raise ValueError(
                f"{dataset.files.get(table, table)}: column {column!r} ({table}.{column}) has "
                f"dates before {(_EARLIEST + pd.Timedelta(days=_BLOCK_DAYS)).date()} (earliest "
                f"{first.date()}), which cannot be moved back four years without leaving the "
                "calendar range where four years are 1461 days; correct those dates (a "
                "placeholder like 1900-01-01?) or leave them empty"
            )
        earliest = first if earliest is None else min(earliest, first)
    if earliest is None:
        return wanted
    room = (earliest - _EARLIEST).days // _BLOCK_DAYS
    return max(1, min(wanted, room))


# ---------------------------------------------------------------------------- the key


@dataclass(frozen=True)
class AnonymizationKey:
    """What one secret makes of one dataset: the aliases, the factors and the date shift.

    It is the key to map results of the copy back to the original; it is never
    written into the copy. Rebuild it with :func:`anonymization_key` from the original
    data and the secret.

    Attributes
    ----------
    aliases : pandas.DataFrame
        ``kind`` (see :data:`KINDS`), ``original``, ``alias``: one row per original value.
    factors : Mapping of str to float
        Per group of :data:`FACTOR_GROUPS` (``money``, ``quantity``, ``annual_sales``,
        ``headcount``, ``proposal_value``): the columns of the group in the copy are the
        original times this factor.
    shift_days : int
        Every date of the copy is the original minus this many days (a multiple of 1461).
    """

    aliases: pd.DataFrame
    factors: Mapping[str, float]
    shift_days: int

    @property
    def money_factor(self) -> float:
        """Money columns (transactions, invoices) of the copy are the original times this."""
        return self.factors["money"]

    @property
    def quantity_factor(self) -> float:
        """``transactions.quantity`` of the copy is the original times this factor."""
        return self.factors["quantity"]

    def __repr__(self) -> str:  # the factors stay out of logs and notebook outputs
        counts = self.aliases["kind"].value_counts()
        listed = ", ".join(f"{counts[k]} {k}" for k in KINDS if k in counts)
        return f"AnonymizationKey({listed}; factors and shift hidden)"

    def alias_map(self, kind: str) -> dict[str, str]:
        """Original value → alias for one kind (e.g. ``"account"``)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        rows = self.aliases[self.aliases["kind"] == kind]
        return dict(zip(rows["original"], rows["alias"], strict=True))

    def original_map(self, kind: str) -> dict[str, str]:
        """Alias → original value for one kind: to map results of the copy back."""
        return {alias: original for original, alias in self.alias_map(kind).items()}

    def shift(self, date) -> pd.Timestamp:
        """Where a date of the original (e.g. its ``as_of``) lies in the copy."""
        return pd.Timestamp(date) - pd.Timedelta(days=self.shift_days)


def anonymization_key(dataset: Dataset, *, secret: str) -> AnonymizationKey:
    """The aliases, factors and date shift that ``secret`` gives ``dataset``.

    Parameters
    ----------
    dataset : Dataset
        The original data (:func:`kamlib.load_dataset`).
    secret : str
        At least :data:`MIN_SECRET_LENGTH` characters.

    Returns
    -------
    AnonymizationKey

    Raises
    ------
    ValueError
        Without a usable secret, or when dates lie outside 1904-03-01 … 2100-02-28.
    """
    key = _secret_key(secret)
    rows = []
    for kind, values in _originals(dataset).items():
        prefix = KINDS[kind][0]
        for value, code in _codes(key, kind, values).items():
            rows.append((kind, value, prefix + code))
    aliases = pd.DataFrame(rows, columns=["kind", "original", "alias"], dtype=object)
    wanted = 1 + int(_unit(key, "date shift") * _MAX_BLOCKS)
    return AnonymizationKey(
        aliases=aliases,
        factors=MappingProxyType(_factors(key)),
        shift_days=_BLOCK_DAYS * _blocks(dataset, wanted),
    )


# ---------------------------------------------------------------------------- columns


def _decimals(values: pd.Series) -> int:
    """Decimals the original column is written with: at least 2, at most 6."""
    x = values.dropna().to_numpy(dtype=float)
    for d in range(2, 7):
        scaled = x * 10**d
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6):
            return d
    return 6


def _scale(values: pd.Series, factor: float, extra_decimals: int = 0) -> pd.Series:
    decimals = _decimals(values) + extra_decimals
    out = np.round(values.to_numpy(dtype=float) * factor, decimals)
    return pd.Series(out + 0.0, index=values.index, name=values.name)  # no -0.0


def _headcount(values: pd.Series, factor: float) -> pd.Series:
    x = values.astype("Float64")
    scaled = (x * factor).round()
    scaled = scaled.mask((x >= 1) & (scaled < 1), 1.0)
    return scaled.astype("Int64")


def _replace(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    """Each value by its alias; missing stays missing."""
    codes, uniques = pd.factorize(values)
    aliases = np.array([mapping[str(u)] for u in uniques], dtype=object)
    out = np.full(len(values), np.nan, dtype=object)
    known = codes >= 0
    out[known] = aliases[codes[known]]
    return pd.Series(out, index=values.index, name=values.name)


def _text(values: pd.Series, placeholder: str) -> pd.Series:
    given = (values.astype("string").str.strip().fillna("") != "").to_numpy(dtype=bool)
    out = np.full(len(values), np.nan, dtype=object)
    out[given] = placeholder
    return pd.Series(out, index=values.index, name=values.name)


def _fold(words: pd.Series) -> pd.Series:
    """Words as compared with names: case, accents and common spelling variants folded.

    Lower case (``casefold``: ß is ss), accents removed (NFKD without combining marks, and
    ø ł đ ð þ ı by hand), ae/oe/ue as a/o/u (Mueller = Müller = Muller) and doubled letters
    single (Strauss = Strauß = Straus, Schmitt = Schmit).
    """
    out = words.astype(str).str.casefold().str.translate(_LETTERS).str.normalize("NFKD")
    out = out.str.replace(_COMBINING, "", regex=True)
    out = out.str.replace(r"([aou])e", r"\1", regex=True)
    return out.str.replace(r"(\w)\1+", r"\1", regex=True)


def _words(values: pd.Series) -> pd.DataFrame:
    """One row per word of each text: ``row`` (the index label), ``word``, ``folded``."""
    words = values.dropna().astype(str).str.findall(_WORD.pattern).explode().dropna()
    frame = pd.DataFrame({"row": words.index, "word": words.to_numpy(dtype=object)})
    return frame.assign(folded=_fold(frame["word"]).to_numpy(dtype=object))


def _name_words(values: pd.Series) -> set[str]:
    """Folded words of names that can point at someone: 3+ characters, no run of 3 digits.

    A word with three digits in a row (``K10001``) never survives the numbers pattern,
    so it need not be looked for.
    """
    words = pd.Series(
        values.dropna().astype(str).str.findall(_WORD.pattern).explode().dropna().unique(),
        dtype=object,
    )
    usable = words[(words.str.len() >= 3) & ~words.str.contains(r"\d{3}", regex=True)]
    return set(_fold(usable))


def _held(frame: pd.DataFrame, entity: str, columns: Iterable[str]) -> pd.DataFrame:
    """``entity``, ``folded``: the folded words of ``columns`` per entity (account, product)."""
    parts = [
        _words(frame.set_index(entity)[column])[["row", "folded"]]
        for column in columns
        if column in frame
    ]
    if not parts:
        return pd.DataFrame({entity: [], "folded": []}, dtype=object)
    return pd.concat(parts).rename(columns={"row": entity}).drop_duplicates()


def _category_words(dataset: Dataset) -> set[str]:
    """Words of account, group and product names that are category words, not names.

    A word of a country, region, industry or segment is one where at least two accounts
    have it and at least one of them does not have it in its own name or group
    ("Automotive" of "Müller Automotive GmbH", which other accounts' industry is too); a
    word of a product group or unit where at least two products have it (the family word
    "Hot" of a product "Hot S-100" in the group "Hot melt").
    """
    words: set[str] = set()
    accounts = dataset.tables.get("accounts")
    if accounts is not None and "account_id" in accounts:
        held = _held(accounts, "account_id", ("country", "region", "industry", "segment"))
        own = _held(accounts, "account_id", ("name", "group")).assign(own=True)
        held = held.merge(own, on=["account_id", "folded"], how="left")
        count = held.groupby("folded").agg(accounts=("account_id", "nunique"), own=("own", "count"))
        words |= set(count.index[(count["accounts"] >= 2) & (count["own"] < count["accounts"])])
    products = dataset.tables.get("products")
    if products is not None and "product_id" in products:
        held = _held(products, "product_id", ("product_group", "unit"))
        count = held.groupby("folded")["product_id"].nunique()
        words |= set(count.index[count >= 2])
    return words


def _kit_words() -> set[str]:
    """Folded words the kit's analyses read: the model's categories, loss reasons, cash."""
    from kamlib.loss import WIN_BACK_APPROACHES

    values = [*_KIT_WORDS, *WIN_BACK_APPROACHES["reason"]]
    values += [v for table in MODEL.values() for c in table.columns for v in c.values]
    return set(_words(pd.Series(values, dtype=object))["folded"]) | set(
        _fold(pd.Series(values, dtype=object))
    )


class _Scrubber:
    """Cleans kept text: markup, e-mails, URLs, phones, numbers and names.

    A whole known name (four characters or more, any case) becomes its alias ("lost to
    Adhexa" → "lost to Competitor 4F2A"); any other word that folds (:func:`_fold`) to
    a word of a name becomes ``[name]``.
    """

    def __init__(self, whole: Mapping[str, str], names: Iterable[str]):
        self._whole = {str(o).strip().lower(): a for o, a in whole.items()}
        self._whole = {o: a for o, a in self._whole.items() if len(o) >= 4 and _WORD.search(o)}
        self._first: dict[str, list[str]] = defaultdict(list)
        for original in self._whole:
            self._first[_WORD.findall(original)[0]].append(original)
        self._names = pd.Index(sorted(set(names)), dtype=object)  # a hash table for isin

    def clean(self, texts: pd.Series) -> pd.Series:
        """Each text (a Series of ``str``) scrubbed."""
        out = texts.astype(object)
        for pattern, token in _PATTERNS:
            out = out.str.replace(pattern, token, regex=True)
        words = _words(out).drop_duplicates("word")
        hidden = set(words.loc[words["folded"].astype(object).isin(self._names), "word"])
        candidates = sorted(
            {o for w in words["word"].str.lower() for o in self._first.get(w, ())},
            key=lambda o: (-len(o), o),
        )
        if not hidden and not candidates:
            return out
        whole = "|".join(re.escape(o) for o in candidates)
        pattern = re.compile(
            (rf"(?<!\w)(?:{whole})(?!\w)|" if whole else "") + _WORD.pattern, re.IGNORECASE
        )

        def swap(match: re.Match) -> str:
            text = match.group(0)
            alias = self._whole.get(text.lower())
            if alias is not None:
                return alias
            return "[name]" if text in hidden else text

        return out.str.replace(pattern, swap, regex=True)

    def series(self, values: pd.Series, keep: Iterable[str] = ()) -> pd.Series:
        """``values`` scrubbed (each distinct text once); those in ``keep`` stay as they are."""
        codes, uniques = pd.factorize(values)
        texts = pd.Series(uniques, dtype=object).astype(str)
        cleaned = self.clean(texts).where(~texts.isin(list(keep)), texts).to_numpy(dtype=object)
        out = np.full(len(values), np.nan, dtype=object)
        known = codes >= 0
        out[known] = cleaned[codes[known]]
        return pd.Series(out, index=values.index, name=values.name)


def _name_codes(maps: Mapping[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Per kind: original id → its hex code (the alias without its prefix)."""
    return {
        kind: {o: a[len(KINDS[kind][0]) :] for o, a in maps[kind].items()}
        for kind in ("account", "contact", "product")
    }


_NAMED = (
    ("accounts", "account", "account_id", "Account"),
    ("contacts", "contact", "contact_id", "Contact"),
    ("products", "product", "product_id", "Product"),
)


def _scrubber(dataset: Dataset, key: AnonymizationKey, maps, codes) -> _Scrubber:
    """The scrubber of this dataset: its whole names → aliases, its name words → [name].

    Name words come from everything the copy replaces: every aliased value (ids, groups,
    managers, competitors) and the account, contact and product names, less the
    :data:`STOPWORDS`, the words the kit reads and, for account, group and product names
    only, their category words (:func:`_category_words`). Words of people's names,
    competitors and ids are always scrubbed.
    """
    whole: dict[str, str] = {}
    for kind in ("group", "manager", "competitor", "account"):
        whole.update(maps[kind])
    loose = key.aliases["kind"].isin(["group"])
    strict = _name_words(key.aliases.loc[~loose, "original"])
    company = _name_words(key.aliases.loc[loose, "original"])
    for table, kind, id_column, label in _NAMED:
        frame = dataset.tables.get(table)
        if frame is None or "name" not in frame:
            continue
        named = frame[frame["name"].notna()]
        labels = named[id_column].astype(str).map(codes[kind])
        for name, code in zip(named["name"].astype(str), labels, strict=True):
            whole.setdefault(name, f"{label} {code}")
        words = _name_words(named["name"])
        if kind == "contact":
            strict |= words
        else:
            company |= words
    company -= _category_words(dataset)
    skip = _kit_words() | set(_fold(pd.Series(sorted(STOPWORDS), dtype=object)))
    return _Scrubber(whole, (strict | company) - skip)


def _anonymize_table(
    table: str, frame: pd.DataFrame, key: AnonymizationKey, maps, codes, scrub: _Scrubber
) -> pd.DataFrame:
    rules = COLUMN_RULES[table]
    shift = pd.Timedelta(days=key.shift_days)
    columns: dict[str, pd.Series] = {}
    for column in frame.columns:
        values = frame[column]
        rule = rules.get(column, ("drop",))
        action = rule[0]
        if action == "alias":
            columns[column] = _replace(values, maps[rule[1]])
        elif action == "name":
            _, kind, id_column, label = rule
            named = values.notna()
            labels = np.char.add(
                f"{label} ", _replace(frame[id_column], codes[kind]).to_numpy(dtype=str)
            ).astype(object)
            columns[column] = pd.Series(
                np.where(named.to_numpy(), labels, np.nan), index=values.index, dtype=object
            )
        elif action == "text":
            columns[column] = _text(values, rule[1])
        elif action == "scale":
            columns[column] = _scale(values, key.factors[rule[1]])
        elif action == "price":
            columns[column] = _scale(values, key.money_factor / key.quantity_factor, 2)
        elif action == "headcount":
            columns[column] = _headcount(values, key.factors[rule[1]])
        elif action == "date":
            columns[column] = values - shift
        elif action == "scrub":
            columns[column] = scrub.series(values)
        elif action == "category":
            columns[column] = scrub.series(values, keep=MODEL[table].column(column).values)
        elif action == "keep":
            columns[column] = values.copy()
        # anything else is not a column of the model: not copied
    out = pd.DataFrame(columns, index=frame.index)
    kept = [c for c in out.columns if rules[c][0] in ("scrub", "category", "keep")]
    if kept:  # aliases, generated names, numbers and dates cannot start a formula
        out[kept] = neutralise_formulas(out[kept])
    order = [c for c in _ORDER[table] if c in out]
    if order:
        out = out.sort_values(order, kind="stable", na_position="last")
    return out.reset_index(drop=True)


def anonymize_dataset(dataset: Dataset, *, secret: str) -> Dataset:
    """An anonymized copy of a dataset: pseudonyms, no free text, scaled amounts, shifted dates.

    See the module text for what happens to each column and why the analyses give
    the same findings on the copy.

    Parameters
    ----------
    dataset : Dataset
        The original data, as :func:`kamlib.load_dataset` returns it; not modified.
    secret : str
        Decides the aliases, the factors and the date shift; at least
        :data:`MIN_SECRET_LENGTH` characters. The same data and secret always give the
        same copy.

    Returns
    -------
    Dataset
        A new dataset named "Anonymized copy", with the same tables and the model's
        columns only (columns outside the model are not copied); ``files`` is empty and
        ``source`` is ``anonymized`` until :func:`write_anonymized` writes it.

    Raises
    ------
    ValueError
        Without a usable secret, or when dates lie outside 1904-03-01 … 2100-02-28.
    """
    key = anonymization_key(dataset, secret=secret)
    maps = {kind: key.alias_map(kind) for kind in KINDS}
    codes = _name_codes(maps)
    scrub = _scrubber(dataset, key, maps, codes)
    tables = {
        name: _anonymize_table(name, frame, key, maps, codes, scrub)
        for name, frame in dataset.tables.items()
        if name in COLUMN_RULES
    }
    return Dataset(
        name="Anonymized copy",
        source=Path("anonymized"),
        tables=MappingProxyType(tables),
        currency=dataset.currency,
        quantity_unit=dataset.quantity_unit,
        files=MappingProxyType({}),
        ignored_columns=MappingProxyType({name: () for name in tables}),
    )


# ---------------------------------------------------------------------------- writing


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_apart(target: Path, folders: Iterable[Path]) -> None:
    out = target.resolve()
    for folder in sorted({f.resolve() for f in folders}):
        if _inside(out, folder) or _inside(folder, out):
            raise ValueError(
                f"{target} is or overlaps the folder of the original data ({folder}); write the "
                "anonymized copy to a folder of its own, outside the original's"
            )


def write_anonymized(
    source: str | os.PathLike[str], out: str | os.PathLike[str], *, secret: str
) -> Path:
    """Load a dataset, anonymize it and write the copy as a dataset folder.

    The folder gets ``kam.yaml`` and one CSV per table (the model's column names, so
    no mapping is needed); it is written in a temporary folder next to ``out`` and
    moved into place when complete. It never holds the secret, the factors or the
    shift, nor a timestamp: the same data and secret give byte-identical files.

    Parameters
    ----------
    source : path-like
        The dataset, as for :func:`kamlib.load_dataset` (folder, kam.yaml, ``"sample"``).
    out : path-like
        Folder to write: new, empty, or an earlier anonymized copy (replaced). Never the
        original's folder, a folder inside it, or one holding it.
    secret : str
        See :func:`anonymize_dataset`.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    DatasetError
        When the source dataset is not valid (a ``ValueError``; run ``kam check``).
    ValueError
        Without a usable secret, or when ``out`` is not a folder it may write.
    """
    _secret_key(secret)
    target = Path(out).expanduser()
    check_target(target, written_by=_WRITTEN_BY, replace=True)  # before any work
    where = resolve_dataset(source)
    _check_apart(target, [where if where.is_dir() else where.parent])
    dataset = load_dataset(source)
    _check_apart(target, [f.parent for f in dataset.files.values()])
    copy = anonymize_dataset(dataset, secret=secret)
    with folder_written_whole(target, written_by=_WRITTEN_BY) as tmp:
        listing = []
        for table in MODEL:
            if table not in copy.tables:
                continue
            file = f"{table}.csv"
            text = csv_text(copy.tables[table])  # shortest exact numbers: 0.0035 stays
            (tmp / file).write_text(text, encoding="utf-8", newline="")
            listing.append(f"  {table}: {file}")
        config = _YAML.format(
            currency=_yaml_text(copy.currency),
            quantity_unit=_yaml_text(copy.quantity_unit),
            tables="\n".join(listing),
        )
        (tmp / "kam.yaml").write_text(config, encoding="utf-8", newline="")
    return target


def _yaml_text(value: str) -> str:
    import json

    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML string
