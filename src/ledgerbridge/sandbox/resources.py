"""The entities the sandbox serves: their fields, types, flags and rules.

Each field is written as `Name:Type[:flags]` where Type is the Edm type and
flags are `R` (read-only: ignored silently on POST and PUT, API.md §6.6),
`M` (mandatory on POST) and `K` (the key). Field lists follow API.md §5 and
§7 (which took them from Exact's own reference and SDKs); only the fields an
invoice integration uses are served.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PAGE_SIZE = 60  # regular endpoints (API.md §6.3)
BULK_PAGE_SIZE = 1000  # bulk/ and sync/ endpoints

MODEL_PREFIX = "Exact.Web.Api.Models."


@dataclass(frozen=True)
class Field:
    name: str
    edm: str
    read_only: bool = False
    mandatory: bool = False


@dataclass(frozen=True)
class Entity:
    """One entity type; several endpoints (regular, bulk, sync) may serve it."""

    name: str  # the __metadata type, e.g. SalesEntry
    key: str
    fields: Mapping[str, Field]
    lines: str | None = None  # navigation collection of lines, e.g. SalesEntryLines
    line_entity: str | None = None

    @property
    def types(self) -> dict[str, str]:
        return {name: f.edm for name, f in self.fields.items()}

    def writable(self) -> set[str]:
        return {name for name, f in self.fields.items() if not f.read_only}

    def mandatory(self) -> set[str]:
        return {name for name, f in self.fields.items() if f.mandatory}


@dataclass(frozen=True)
class Endpoint:
    path: str  # after /api/v1/{division}/, e.g. salesentry/SalesEntries
    entity: str
    collection: str  # which division collection holds its records
    methods: frozenset[str]
    page_size: int = PAGE_SIZE
    select_required: bool = False  # bulk/ and sync/ (API.md §6.4, §8)
    unrestricted_refused: bool = False  # "Please add a $select or a $top=1 ..."
    mandatory_filter: frozenset[str] = field(default_factory=frozenset)
    counts_errors: bool = True


def _fields(spec: str) -> dict[str, Field]:
    result = {}
    for item in spec.split():
        name, edm, *flags = item.split(":")
        marks = flags[0] if flags else ""
        result[name] = Field(
            name,
            f"Edm.{edm}",
            read_only="R" in marks or "K" in marks,
            mandatory="M" in marks,
        )
    return result


_ENTRY_HEADER = """
    EntryID:Guid AmountDC:Double:R AmountFC:Double:R Created:DateTime:R
    Currency:String Description:String Division:Int32:R Document:Guid
    DueDate:DateTime EntryDate:DateTime EntryNumber:Int32 ExternalLinkReference:String
    InvoiceNumber:Int32 Journal:String:M JournalDescription:String:R
    Modified:DateTime:R PaymentCondition:String PaymentReference:String
    Rate:Double ReportingPeriod:Int16 ReportingYear:Int16 Reversal:Boolean
    Status:Int16:R StatusDescription:String:R Type:Int32:R TypeDescription:String:R
    VATAmountDC:Double:R VATAmountFC:Double YourRef:String
"""
_ENTRY_LINE = """
    ID:Guid:K AmountDC:Double:R AmountFC:Double:M CostCenter:String
    CostUnit:String Description:String Division:Int32:R EntryID:Guid
    GLAccount:Guid:M GLAccountCode:String:R LineNumber:Int32:R Notes:String
    Quantity:Double VATAmountDC:Double:R VATAmountFC:Double VATBaseAmountFC:Double:R
    VATCode:String VATPercentage:Double:R
"""

ENTITIES: dict[str, Entity] = {
    "Me": Entity(
        "Me",
        "UserID",
        _fields(
            "UserID:Guid:K CurrentDivision:Int32:R UserName:String:R FullName:String:R "
            "Email:String:R LanguageCode:String:R Legislation:Int64:R "
            "ServerTime:String:R ServerUtcOffset:Double:R"
        ),
    ),
    "SystemDivision": Entity(
        "SystemDivision",
        "Code",
        _fields(
            "Code:Int32:K Description:String:R HID:Int64:R Country:String:R "
            "Currency:String:R Status:Int32:R Current:Boolean:R"
        ),
    ),
    "Account": Entity(
        "Account",
        "ID",
        _fields(
            "ID:Guid:K Code:String Name:String:M Status:String IsSupplier:Boolean "
            "IsSales:Boolean:R Blocked:Boolean Type:String:R VATNumber:String "
            "ChamberOfCommerce:String Email:String AddressLine1:String "
            "Postcode:String City:String Country:String "
            "PaymentConditionSales:String PaymentConditionPurchase:String "
            "SalesVATCode:String PurchaseVATCode:String GLAccountSales:Guid "
            "GLAccountPurchase:Guid SalesCurrency:String PurchaseCurrency:String "
            "Division:Int32:R Created:DateTime:R Modified:DateTime:R"
        ),
    ),
    "GLAccount": Entity(
        "GLAccount",
        "ID",
        _fields(
            "ID:Guid:K Code:String:M Description:String:M Type:Int32 "
            "TypeDescription:String:R BalanceSide:String BalanceType:String "
            "VATCode:String IsBlocked:Boolean Division:Int32:R "
            "Created:DateTime:R Modified:DateTime:R"
        ),
    ),
    "VATCode": Entity(
        "VATCode",
        "ID",
        _fields(
            "ID:Guid:K Code:String:M Description:String:M Percentage:Double:R "
            "Type:String VATTransactionType:String Charged:Boolean "
            "EUSalesListing:String IntraStat:Boolean GLToPay:Guid GLToClaim:Guid "
            "CalculationBasis:Int16 IsBlocked:Boolean LegalText:String "
            "Division:Int32:R Created:DateTime:R Modified:DateTime:R"
        ),
    ),
    "Journal": Entity(
        "Journal",
        "ID",
        _fields(
            "ID:Guid:K Code:String:M Description:String:M Type:Int32 "
            "GLAccount:Guid AllowVAT:Boolean AllowVariableCurrency:Boolean "
            "Currency:String IsBlocked:Boolean Division:Int32:R"
        ),
    ),
    "PaymentCondition": Entity(
        "PaymentCondition",
        "ID",
        _fields(
            "ID:Guid:K Code:String:M Description:String:M PaymentDays:Int32 "
            "PaymentEndOfMonths:Int32 PaymentMethod:String "
            "DiscountPercentage:Double DiscountPaymentDays:Int32 Division:Int32:R"
        ),
    ),
    "SalesEntry": Entity(
        "SalesEntry",
        "EntryID",
        _fields(
            _ENTRY_HEADER
            + " Customer:Guid:M CustomerName:String:R SalesEntryLines:Guid:M"
        ),
        lines="SalesEntryLines",
        line_entity="SalesEntryLine",
    ),
    "SalesEntryLine": Entity("SalesEntryLine", "ID", _fields(_ENTRY_LINE)),
    "PurchaseEntry": Entity(
        "PurchaseEntry",
        "EntryID",
        _fields(
            _ENTRY_HEADER
            + " Supplier:Guid:M SupplierName:String:R PurchaseEntryLines:Guid:M"
        ),
        lines="PurchaseEntryLines",
        line_entity="PurchaseEntryLine",
    ),
    "PurchaseEntryLine": Entity(
        "PurchaseEntryLine",
        "ID",
        _fields(
            _ENTRY_LINE
            + " VATNonDeductiblePercentage:Double PrivateUsePercentage:Double"
        ),
    ),
    "Document": Entity(
        "Document",
        "ID",
        _fields(
            "ID:Guid:K Subject:String:M Type:Int32:M TypeDescription:String:R "
            "DocumentDate:DateTime Account:Guid HID:Int32:R Category:Guid:R "
            "CategoryDescription:String:R DocumentViewUrl:String:R "
            "FinancialTransactionEntryID:Guid Division:Int32:R "
            "Created:DateTime:R Modified:DateTime:R"
        ),
    ),
    "DocumentAttachment": Entity(
        "DocumentAttachment",
        "ID",
        _fields(
            "ID:Guid:K Document:Guid:M FileName:String:M Attachment:Binary:M "
            "FileSize:Double:R Url:String:R Division:Int32:R"
        ),
    ),
    "Receivable": Entity(
        "Receivable",
        "ID",
        _fields(
            "ID:Guid:K EntryID:Guid:R TransactionEntryID:Guid:R TransactionID:Guid:R "
            "EntryNumber:Int32:R InvoiceNumber:Int32:R Journal:String:R "
            "YourRef:String:R InvoiceDate:DateTime:R DueDate:DateTime:R "
            "Account:Guid:R AccountCode:String:R AccountName:String:R "
            "AmountDC:Double:R AmountFC:Double:R Currency:String:R RateFC:Double:R "
            "TransactionAmountDC:Double:R TransactionAmountFC:Double:R "
            "IsFullyPaid:Boolean:R Status:Int16:R LastPaymentDate:DateTime:R "
            "EndDate:DateTime:R EndYear:Int16:R EndPeriod:Int16:R "
            "PaymentMethod:String PaymentReference:String Description:String "
            "TransactionIsReversal:Boolean:R TransactionType:Int32:R "
            "TransactionStatus:Int16:R Division:Int32:R"
        ),
    ),
    "OutstandingItem": Entity(
        "OutstandingItem",
        "HID",
        _fields(
            "HID:Int64:K AccountId:Guid:R AccountCode:String:R AccountName:String:R "
            "Amount:Double:R AmountInTransit:Double:R CurrencyCode:String:R "
            "Description:String:R DueDate:DateTime:R InvoiceDate:DateTime:R "
            "EntryNumber:Int32:R InvoiceNumber:Int32:R JournalCode:String:R "
            "JournalDescription:String:R YourRef:String:R"
        ),
    ),
    "TransactionLine": Entity(
        "TransactionLine",
        "ID",
        _fields(
            "ID:Guid:K EntryID:Guid:R EntryNumber:Int32:R JournalCode:String:R "
            "Date:DateTime:R FinancialYear:Int16:R FinancialPeriod:Int16:R "
            "GLAccount:Guid:R GLAccountCode:String:R Account:Guid:R "
            "AccountCode:String:R AmountDC:Double:R AmountFC:Double:R "
            "AmountVATFC:Double:R AmountVATBaseFC:Double:R VATCode:String:R "
            "VATPercentage:Double:R InvoiceNumber:Int32:R YourRef:String:R "
            "DueDate:DateTime:R PaymentReference:String:R CostCenter:String:R "
            "Status:Int16:R Type:Int32:R LineType:Int16:R Description:String:R "
            "Timestamp:Int64:R Division:Int32:R Modified:DateTime:R"
        ),
    ),
    "PaymentTerm": Entity(
        "PaymentTerm",
        "ID",
        _fields(
            "ID:Guid:K Timestamp:Int64:R EntryID:Guid:R TransactionEntryID:Guid:R "
            "LineType:Int16:R Account:Guid:R AmountDC:Double:R AmountFC:Double:R "
            "IsFullyPaid:Boolean:R Status:Int16:R LastPaymentDate:DateTime:R "
            "EndDate:DateTime:R EndYear:Int16:R EndPeriod:Int16:R "
            "EntryNumber:Int32:R InvoiceNumber:Int32:R YourRef:String:R "
            "DueDate:DateTime:R Division:Int32:R"
        ),
    ),
    "Deleted": Entity(
        "Deleted",
        "ID",
        _fields(
            "ID:Guid:K Timestamp:Int64:R EntityKey:Guid:R EntityType:Int16:R "
            "DeletedBy:Guid:R DeletedDate:DateTime:R Division:Int32:R"
        ),
    ),
}

# crm/Accounts refuses a GET without one of these in $filter (API.md §6.4).
ACCOUNT_FILTER_FIELDS = frozenset(
    {
        "ID",
        "Code",
        "Name",
        "Status",
        "IsSupplier",
        "Blocked",
        "VATNumber",
        "ChamberOfCommerce",
        "Email",
        "Created",
        "Modified",
    }
)

_ALL = frozenset({"GET", "POST", "PUT", "DELETE"})
_GET = frozenset({"GET"})

ENDPOINTS: dict[str, Endpoint] = {
    e.path: e
    for e in (
        Endpoint("system/Divisions", "SystemDivision", "divisions", _GET),
        Endpoint(
            "crm/Accounts",
            "Account",
            "accounts",
            _ALL,
            mandatory_filter=ACCOUNT_FILTER_FIELDS,
        ),
        Endpoint(
            "bulk/CRM/Accounts",
            "Account",
            "accounts",
            _GET,
            page_size=BULK_PAGE_SIZE,
            select_required=True,
        ),
        Endpoint("financial/GLAccounts", "GLAccount", "gl_accounts", _GET),
        Endpoint("vat/VATCodes", "VATCode", "vat_codes", _GET),
        Endpoint("financial/Journals", "Journal", "journals", _GET),
        Endpoint(
            "cashflow/PaymentConditions", "PaymentCondition", "payment_conditions", _GET
        ),
        Endpoint(
            "salesentry/SalesEntries",
            "SalesEntry",
            "sales_entries",
            _ALL,
            unrestricted_refused=True,
        ),
        Endpoint("salesentry/SalesEntryLines", "SalesEntryLine", "sales_lines", _ALL),
        Endpoint(
            "purchaseentry/PurchaseEntries",
            "PurchaseEntry",
            "purchase_entries",
            _ALL,
            unrestricted_refused=True,
        ),
        Endpoint(
            "purchaseentry/PurchaseEntryLines",
            "PurchaseEntryLine",
            "purchase_lines",
            _ALL,
        ),
        Endpoint(
            "documents/Documents",
            "Document",
            "documents",
            frozenset({"GET", "POST", "PUT", "DELETE"}),
        ),
        Endpoint(
            "documents/DocumentAttachments",
            "DocumentAttachment",
            "attachments",
            frozenset({"GET", "POST", "DELETE"}),
        ),
        Endpoint(
            "cashflow/Receivables",
            "Receivable",
            "receivables",
            frozenset({"GET", "PUT"}),
        ),
        Endpoint("cashflow/Payments", "Payment", "payables", frozenset({"GET", "PUT"})),
        Endpoint(
            "bulk/Cashflow/Receivables",
            "Receivable",
            "receivables",
            _GET,
            page_size=BULK_PAGE_SIZE,
            select_required=True,
        ),
        Endpoint(
            "bulk/Cashflow/Payments",
            "Payment",
            "payables",
            _GET,
            page_size=BULK_PAGE_SIZE,
            select_required=True,
        ),
        Endpoint(
            "read/financial/ReceivablesList",
            "OutstandingItem",
            "receivables_list",
            _GET,
        ),
        Endpoint(
            "read/financial/PayablesList", "OutstandingItem", "payables_list", _GET
        ),
        Endpoint(
            "financialtransaction/TransactionLines",
            "TransactionLine",
            "transaction_lines",
            _GET,
            unrestricted_refused=True,
        ),
        Endpoint(
            "bulk/Financial/TransactionLines",
            "TransactionLine",
            "transaction_lines",
            _GET,
            page_size=BULK_PAGE_SIZE,
            select_required=True,
        ),
        Endpoint(
            "sync/Financial/TransactionLines",
            "TransactionLine",
            "transaction_lines",
            _GET,
            page_size=BULK_PAGE_SIZE,
            select_required=True,
        ),
        Endpoint(
            "sync/Cashflow/PaymentTerms",
            "PaymentTerm",
            "payment_terms",
            _GET,
            page_size=BULK_PAGE_SIZE,
            select_required=True,
        ),
        Endpoint(
            "sync/Deleted",
            "Deleted",
            "deleted",
            _GET,
            page_size=BULK_PAGE_SIZE,
            select_required=True,
        ),
    )
}

# cashflow/Payments: the shape of Receivables for supplier invoices, without
# IsFullyPaid (API.md §7.11).
ENTITIES["Payment"] = Entity(
    "Payment",
    "ID",
    {k: v for k, v in ENTITIES["Receivable"].fields.items() if k != "IsFullyPaid"},
)
