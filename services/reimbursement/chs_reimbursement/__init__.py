"""The reimbursement service (手工报销 and one-stop settlement). For now only its calculator."""
