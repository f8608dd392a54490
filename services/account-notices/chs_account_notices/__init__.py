"""The account-notice processor (个人账户收支实时告知): the personal accounts' notices, the
ledger's continuity checked, the low-balance alert."""
