"""``python -m chs_accounts api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8106);
- ``relay``: publishes the outbox (``chs.account.events``);
- ``consume``: the ledger's consumer of ``chs.enrollment.events`` and ``chs.transfer.events``
  (``accounts-ledger``).
"""

from chs_accounts.api import create_app
from chs_accounts.consumers import LEDGER_CONSUMER, LEDGER_TOPICS, ledger_handlers
from chs_accounts.settings import AccountsSettings
from chs_events.consumer import Subscription
from chs_events.runtime import consumer_worker, main, relay_worker

PACKAGE = "chs_accounts"

if __name__ == "__main__":
    settings = AccountsSettings()
    subscriptions = [Subscription(LEDGER_CONSUMER, LEDGER_TOPICS, ledger_handlers(settings))]
    main(
        PACKAGE,
        settings,
        app=create_app,  # main wants a Callable[[PlatformSettings], ...]
        workers={
            "relay": relay_worker(PACKAGE),
            "consume": consumer_worker(PACKAGE, subscriptions),
        },
    )
