-- The personal-account balance a transfer moves is the ledger's, never this service's count:
-- each movement the accounts service reports on chs.account.events (a transfer within or out of
-- the province, a contribution forwarded after it, a transfer in), keyed by its ledger
-- transaction; transfers.account_balance_fen is their sum.
create table ledger_movements (
    transaction_id text primary key,
    transfer_id    text not null,
    amount_fen     bigint not null check (amount_fen >= 0)
);
create index ledger_movements_transfer on ledger_movements (transfer_id);

-- A transfer into the province: the balance the out-province confirmed through the national
-- transfer platform, the platform's reference and the receiving region's staff who entered it.
alter table transfers add column confirmed_balance_fen bigint check (confirmed_balance_fen >= 0);
alter table transfers add column platform_reference text;
alter table transfers add column confirmed_by text;
alter table transfers add check (
    (confirmed_balance_fen is null) = (platform_reference is null)
    and (platform_reference is null) = (confirmed_by is null)
);
