"""Applications for assistance (办件): numbers, records, stage texts, lookup by residents, CSV import, notices.

Every function that touches the database takes a keyword-only ``session`` and never commits: the
caller frames the transaction.
"""
