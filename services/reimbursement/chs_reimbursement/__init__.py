"""The reimbursement service (手工报销 and one-stop settlement 一站式结算) and its benefit
calculator."""
