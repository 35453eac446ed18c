"""ledgerbridge: book a business application's invoices in Exact Online."""

__version__ = "0.1.0"
