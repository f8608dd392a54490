"""Read models kept from other services' events, in the using service's own database.

A service opts into one by listing it in its migrations package (``READ_MODELS`` in
``<package>/migrations/__init__.py``) or passing ``read_models=`` to ``chs_events.db``: its
table is then created from ``read_models/migrations/NNNN_<name>.sql`` under the namespace
``chs_events.read_models.<name>``. The service subscribes the module's ``SUBSCRIPTION_HANDLERS``
under its own consumer name.
"""
