-- A reversal's reason is a code of the closed list (chs_events.events.reimbursement), never a
-- caller's text: the SMS renders the code's text.
alter table settlements rename column reversal_reason to reversal_reason_code;
