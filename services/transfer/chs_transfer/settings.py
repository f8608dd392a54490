"""Settings of the transfer service (env prefix ``CHS_``)."""

from chs_events.settings import PlatformSettings


class TransferSettings(PlatformSettings):
    service_name: str = "transfer"
    database_name: str = "chs_transfer"
    http_port: int = 8105

    # The province this platform serves (GB/T 2260, CHS_HOME_PROVINCE, as accounts'): a transfer
    # into it takes the balance the out-province confirmed through the national transfer
    # platform; every other transfer moves what the ledger of the accounts service holds, which
    # reports the amount on chs.account.events (this service never counts a balance).
    home_province: str = "370000"
