"""Settings of the transfer service (env prefix ``CHS_``)."""

from pydantic import Field

from chs_events.settings import PlatformSettings


class TransferSettings(PlatformSettings):
    service_name: str = "transfer"
    database_name: str = "chs_transfer"
    http_port: int = 8105

    # The personal-account allocation rule, as data (CHS_ACCOUNT_PERSONAL_PART_PERCENT,
    # CHS_ACCOUNT_EMPLOYER_PART_PERCENT): the share of each contribution's personal and employer
    # parts counted as the personal-account balance a transfer moves, when the out-region states
    # none. Since the 2021 reform the whole personal part goes to the account and the employer
    # part to the pooled fund. The accounts service keeps the real ledger (chs_accounts, with its
    # own age-banded rule); until transfer takes the balance from accounts' events, this count
    # from the contributions stands in for it.
    account_personal_part_percent: int = Field(default=100, ge=0, le=100)
    account_employer_part_percent: int = Field(default=0, ge=0, le=100)
