"""The maternity service's migrations; it keeps the shared enrollment read model beside its own
tables (the staff's contribution bases are in ``0001_init.sql``)."""

READ_MODELS = ("enrollments",)
