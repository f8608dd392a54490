"""The reimbursement service's migrations; it keeps the shared enrollment and remote-care filing
read models beside its own tables (the audits read them)."""

READ_MODELS = ("enrollments", "filings")
