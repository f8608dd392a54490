"""``python -m chs_accounts api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8106);
- ``relay``: publishes the outbox (``chs.account.events``);
- ``consume``: the ledger's consumer of ``chs.enrollment.events`` and ``chs.transfer.events``
  (``accounts-ledger``).
"""

from chs_accounts.settings import AccountsSettings
from chs_events.runtime import run_service

if __name__ == "__main__":
    run_service(
        "chs_accounts",
        AccountsSettings(),
        app="chs_accounts.api:create_app",
        subscriptions="chs_accounts.consumers:subscriptions",
    )
