# Read models of other services' events this database keeps (chs_events.read_models): none; the
# accounts service keeps only what it needs of persons (birth date, resident) in its own tables.
READ_MODELS = ()
