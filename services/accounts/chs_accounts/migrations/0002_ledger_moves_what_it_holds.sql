-- Transfers move what the ledger holds, and a client's key never meets the ledger's own ids.

-- A transfer within the province is one movement of the whole balance (the account re-homed).
alter table ledger_transactions drop constraint ledger_transactions_kind_check;
alter table ledger_transactions add constraint ledger_transactions_kind_check
    check (kind in ('credit', 'debit', 'transfer_out', 'transfer_in', 'transfer_within',
                    'withdrawal'));

-- A transfer movement's other region: where the balance went (out, within) or came from (in).
alter table ledger_transactions add column region text;
-- A transfer into the province: the national transfer platform's reference of the confirmed
-- balance and the receiving region's agency staff who entered it.
alter table ledger_transactions add column platform_reference text;
alter table ledger_transactions add column entered_by text;
alter table ledger_transactions add constraint ledger_transactions_transfer_in_confirmed
    check (kind <> 'transfer_in' or (platform_reference is not null and entered_by is not null))
    not valid;  -- the transfers in before it took a stated balance without either
-- A window's debit: the key the client sent. Its transaction id is client:<merchant>:<key>, so
-- it can never be one of the ledger's own (contribution:…, transfer-out:…, withdrawal:…).
alter table ledger_transactions add column client_key text;
alter table ledger_transactions add constraint ledger_transactions_client_namespace
    check ((client_key is null) = (transaction_id not like 'client:%'));
