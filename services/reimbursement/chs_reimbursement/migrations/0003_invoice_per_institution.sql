-- An invoice number is its institution's (each hospital numbers its own invoices): reimbursed
-- once per institution, not once across the platform. Every reservation is committed with its
-- settlement or claim, which names the institution.
alter table invoices add column institution_code text;
update invoices set institution_code = coalesce(
    (select s.institution_code from settlements s where s.settlement_id = invoices.settlement_id),
    (select c.institution_code from claims c where c.claim_id = invoices.claim_id)
);
alter table invoices alter column institution_code set not null;
alter table invoices drop constraint invoices_pkey;
alter table invoices add primary key (institution_code, invoice_no);
drop index claims_invoice;
create index claims_invoice on claims (institution_code, invoice_no);
