"""Settings of the accounts service (env prefix ``CHS_``)."""

from pathlib import Path

from chs_events.settings import PlatformSettings

DEFAULT_RULE = Path(__file__).with_name("allocation_rule.json")


class AccountsSettings(PlatformSettings):
    service_name: str = "accounts"
    database_name: str = "chs_accounts"
    http_port: int = 8106

    # The allocation rule, as data (CHS_ACCOUNT_ALLOCATION_RULE: a JSON file, validated at load).
    account_allocation_rule: Path = DEFAULT_RULE
    # The province this platform serves (GB/T 2260): a transfer completed out of it moves the
    # balance out, one into it moves the stated balance in.
    home_province: str = "370000"
