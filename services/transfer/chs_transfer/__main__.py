"""``python -m chs_transfer api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8105);
- ``relay``: publishes the outbox (``chs.transfer.events``);
- ``consume``: the read model of ``chs.enrollment.events`` (``transfer-enrollments``) and the
  amounts the ledger moved, from ``chs.account.events`` (``transfer-ledger``).
"""

from chs_events.runtime import run_service
from chs_transfer.settings import TransferSettings

if __name__ == "__main__":
    run_service(
        "chs_transfer",
        TransferSettings(),
        app="chs_transfer.api:create_app",
        subscriptions="chs_transfer.consumers:SUBSCRIPTIONS",
    )
