# Read models of other services' events this database keeps (chs_events.read_models).
READ_MODELS = ("enrollments",)
