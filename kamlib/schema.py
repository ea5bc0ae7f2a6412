"""The kit's data model: one table per concept, its columns, types and units.

Everything the loader validates and ``docs/data-model.md`` documents comes from
:data:`MODEL`, so the code and the documentation cannot drift apart.

Only ``transactions`` is required; every analysis works with it alone and uses
the other tables where a dataset has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MODEL", "Column", "ForeignKey", "Table", "render_markdown", "table_names"]

#: Column types the loader understands.
TYPES = ("string", "date", "number", "integer", "boolean", "category")


@dataclass(frozen=True)
class Column:
    """One column of the model.

    Attributes
    ----------
    name : str
        The model's name for the column (map yours to it in ``kam.yaml``).
    type : str
        One of ``string``, ``date``, ``number``, ``integer``, ``boolean``, ``category``.
    required : bool
        A dataset that has the table must have this column.
    description : str
        What the column means.
    unit : str
        Unit or scale, e.g. ``currency``, ``kg``, ``1-5``.
    values : tuple of str
        Allowed values of a ``category`` column.
    minimum, maximum : float or None
        Allowed range of a numeric column (inclusive).
    """

    name: str
    type: str
    required: bool = False
    description: str = ""
    unit: str = ""
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must name a row of ``table`` (by its key column)."""

    column: str
    table: str


@dataclass(frozen=True)
class Table:
    """One table of the model."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    required: bool = False
    aliases: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        """The column called ``name`` (KeyError if the model has none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


_ACC = ForeignKey("account_id", "accounts")

CONTACT_ROLES = ("decision_maker", "influencer", "user", "buyer", "champion", "blocker")
INTERACTION_TYPES = ("visit", "call", "email", "meeting", "complaint", "service")
PROPOSAL_OUTCOMES = ("won", "lost", "open")
PROPOSAL_KINDS = ("offer", "tender")

MODEL: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "transactions",
            "Invoice lines: what each account bought, when, for how much. "
            "The only table every dataset must have.",
            (
                Column("account_id", "string", True, "Customer number of the buying account."),
                Column("date", "date", True, "Invoice (or delivery) date of the line."),
                Column(
                    "amount",
                    "number",
                    True,
                    "Net amount of the line, after discounts, without VAT. "
                    "Negative for credit notes and returns.",
                    "currency",
                ),
                Column(
                    "quantity",
                    "number",
                    False,
                    "Quantity in a physical unit (the dataset's `quantity_unit`, e.g. kg). "
                    "Negative for returns.",
                    "quantity unit",
                ),
                Column("cost", "number", False, "Cost of goods sold for the line.", "currency"),
                Column(
                    "margin",
                    "number",
                    False,
                    "Gross margin of the line (amount minus cost). Derived from `cost` "
                    "when only `cost` is given.",
                    "currency",
                ),
                Column("product_id", "string", False, "Product (article) number."),
                Column("invoice_id", "string", False, "Invoice number the line belongs to."),
            ),
            foreign_keys=(_ACC, ForeignKey("product_id", "products")),
            required=True,
        ),
        Table(
            "accounts",
            "Master data of the customers: one row per account.",
            (
                Column("account_id", "string", True, "Customer number (the key)."),
                Column("name", "string", False, "Company name."),
                Column("country", "string", False, "Country (ISO code or name)."),
                Column("region", "string", False, "Sales region or territory."),
                Column("industry", "string", False, "The customer's industry."),
                Column("segment", "string", False, "Your segmentation, e.g. OEM, distributor."),
                Column("account_manager", "string", False, "Who owns the account at your company."),
                Column("first_order_date", "date", False, "Date of the first ever order."),
                Column(
                    "headcount", "integer", False, "Employees of the customer.", "people", (), 0
                ),
                Column(
                    "annual_sales",
                    "number",
                    False,
                    "The customer's own annual sales (its size, not what it buys from you).",
                    "currency",
                    (),
                    0,
                ),
                Column(
                    "is_distributor", "boolean", False, "Distributor or representative of yours."
                ),
                Column(
                    "is_multinational",
                    "boolean",
                    False,
                    "Part of a multinational that can open doors in other cities or countries.",
                ),
                Column("group", "string", False, "Corporate group the account belongs to."),
                Column(
                    "is_prestige",
                    "boolean",
                    False,
                    "Prestige / reference customer whose name positions you in the market.",
                ),
                Column(
                    "is_test_partner",
                    "boolean",
                    False,
                    "Tests new products, gives evaluations you learn from.",
                ),
            ),
            key=("account_id",),
        ),
        Table(
            "products",
            "Product master data: one row per product.",
            (
                Column("product_id", "string", True, "Product (article) number (the key)."),
                Column("name", "string", False, "Product name."),
                Column("product_group", "string", False, "Product group or family."),
                Column("unit", "string", False, "Unit the quantity is counted in, e.g. kg."),
                Column(
                    "is_slow_moving",
                    "boolean",
                    False,
                    "Slow-moving, secondary or non-conforming stock you want to sell off.",
                ),
                Column("list_price", "number", False, "List price per unit.", "currency per unit"),
            ),
            key=("product_id",),
        ),
        Table(
            "invoices",
            "Invoices and their payment: when each was due and when it was paid.",
            (
                Column("invoice_id", "string", True, "Invoice number (the key)."),
                Column("account_id", "string", True, "Customer number of the invoiced account."),
                Column("invoice_date", "date", False, "Date of the invoice."),
                Column("due_date", "date", True, "Date the payment was due."),
                Column("paid_date", "date", False, "Date it was paid; empty while it is open."),
                Column("amount", "number", False, "Invoice total.", "currency"),
                Column(
                    "payment_method",
                    "string",
                    False,
                    "How it was paid, e.g. transfer, direct_debit, cash. `cash` marks cash payers.",
                ),
            ),
            key=("invoice_id",),
            foreign_keys=(_ACC,),
            aliases=("payments",),
        ),
        Table(
            "contacts",
            "The people at each account and their part in the buying decision.",
            (
                Column("contact_id", "string", True, "Contact number (the key)."),
                Column("account_id", "string", True, "Account the person works for."),
                Column("name", "string", False, "Name of the person."),
                Column("job_title", "string", False, "Job title."),
                Column(
                    "role",
                    "category",
                    False,
                    "Role in the buying decision.",
                    "",
                    CONTACT_ROLES,
                ),
                Column(
                    "influence",
                    "integer",
                    False,
                    "Influence on the decision: 1 none … 5 decisive.",
                    "1-5",
                    (),
                    1,
                    5,
                ),
                Column(
                    "attitude",
                    "integer",
                    False,
                    "Attitude towards us: -2 hostile, 0 neutral, +2 strong supporter.",
                    "-2..+2",
                    (),
                    -2,
                    2,
                ),
                Column("last_contact", "date", False, "Date of the last personal contact."),
            ),
            key=("contact_id",),
            foreign_keys=(_ACC,),
        ),
        Table(
            "interactions",
            "Visits, calls, complaints and service events, with their outcome.",
            (
                Column("interaction_id", "string", True, "Interaction number (the key)."),
                Column("account_id", "string", True, "Account concerned."),
                Column("date", "date", True, "Date of the interaction."),
                Column("type", "category", True, "Kind of interaction.", "", INTERACTION_TYPES),
                Column("contact_id", "string", False, "Contact met or called."),
                Column("outcome", "string", False, "Result, e.g. order, follow-up, account lost."),
                Column(
                    "reason",
                    "string",
                    False,
                    "Reason recorded, e.g. price, quality, service, delivery, relationship, "
                    "customer_closed.",
                ),
                Column("note", "string", False, "Free-text note."),
            ),
            key=("interaction_id",),
            foreign_keys=(_ACC, ForeignKey("contact_id", "contacts")),
        ),
        Table(
            "proposals",
            "Offers and tenders, with what came of them.",
            (
                Column("proposal_id", "string", True, "Proposal number (the key)."),
                Column("account_id", "string", True, "Account the proposal went to."),
                Column("date", "date", True, "Date the proposal was sent."),
                Column("kind", "category", False, "Offer or tender.", "", PROPOSAL_KINDS),
                Column("value", "number", False, "Value of the proposal.", "currency", (), 0),
                Column(
                    "outcome", "category", True, "Won, lost or still open.", "", PROPOSAL_OUTCOMES
                ),
                Column("decided_date", "date", False, "Date of the decision."),
                Column("reason", "string", False, "Why it was won or lost, e.g. price, quality."),
                Column("competitor", "string", False, "Competitor who won it (lost proposals)."),
            ),
            key=("proposal_id",),
            foreign_keys=(_ACC,),
        ),
        Table(
            "competitors",
            "Competitors present at each account.",
            (
                Column("account_id", "string", True, "Account concerned."),
                Column("competitor", "string", True, "Name of the competitor."),
                Column("since", "date", False, "Since when the competitor supplies the account."),
                Column(
                    "estimated_share",
                    "number",
                    False,
                    "Estimated share of the account's purchases in our product range.",
                    "fraction 0-1",
                    (),
                    0,
                    1,
                ),
            ),
            key=("account_id", "competitor"),
            foreign_keys=(_ACC,),
        ),
        Table(
            "surveys",
            "Satisfaction survey answers.",
            (
                Column("account_id", "string", True, "Account that answered."),
                Column("date", "date", True, "Date of the answer."),
                Column(
                    "score",
                    "number",
                    True,
                    "Overall satisfaction, 0 (very dissatisfied) to 10 (very satisfied).",
                    "0-10",
                    (),
                    0,
                    10,
                ),
                Column("comment", "string", False, "Free-text comment."),
            ),
            foreign_keys=(_ACC,),
        ),
    ]
}


def table_names() -> list[str]:
    """Names of the model's tables, ``transactions`` first."""
    return list(MODEL)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown() -> str:
    """The model as Markdown tables (the generated part of ``docs/data-model.md``)."""
    out: list[str] = []
    for table in MODEL.values():
        status = "required" if table.required else "optional"
        out.append(f"### `{table.name}` ({status})\n")
        out.append(table.description + "\n")
        if table.key:
            out.append("Key: " + ", ".join(f"`{k}`" for k in table.key) + " (unique).\n")
        if table.aliases:
            out.append("Also accepted as: " + ", ".join(f"`{a}`" for a in table.aliases) + ".\n")
        out.append("| column | type | required | unit / values | meaning |")
        out.append("| --- | --- | --- | --- | --- |")
        for c in table.columns:
            unit = c.unit
            if c.values:
                unit = ", ".join(f"`{v}`" for v in c.values)
            out.append(
                f"| `{c.name}` | {c.type} | {'yes' if c.required else 'no'} | "
                f"{_md_escape(unit)} | {_md_escape(c.description)} |"
            )
        if table.foreign_keys:
            refs = ", ".join(f"`{fk.column}` → `{fk.table}`" for fk in table.foreign_keys)
            out.append(f"\nMust match (where that table is present): {refs}.")
        out.append("")
    return "\n".join(out)


_START = (
    "<!-- generated from kamlib/schema.py: do not edit by hand; tests/test_docs.py checks it -->\n"
)
_END = "<!-- end of generated part -->\n"


def update_doc(text: str) -> str:
    """``text`` (docs/data-model.md) with its generated part replaced by :func:`render_markdown`."""
    head, _, rest = text.partition(_START)
    _, _, tail = rest.partition(_END)
    return head + _START + render_markdown() + _END + tail


if __name__ == "__main__":  # python -m kamlib.schema docs/data-model.md
    import sys
    from pathlib import Path

    doc = Path(sys.argv[1])
    doc.write_text(update_doc(doc.read_text(encoding="utf-8")), encoding="utf-8")
