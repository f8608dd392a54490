"""The consumers of the reimbursement service: the read models its audits need.

``reimbursement-enrollments`` on ``chs.enrollment.events``: the shared enrollment read model
(enrolled on the service date, insured type, pooling region).

``reimbursement-filings`` on ``chs.remote-care.events``: the shared remote-care filing read
model (a filing covers care in a place on a day).
"""

from chs_events.consumer import Subscription
from chs_events.read_models import enrollments, filings

ENROLLMENTS_CONSUMER = "reimbursement-enrollments"
ENROLLMENTS_TOPICS = enrollments.TOPICS
ENROLLMENTS_HANDLERS = enrollments.SUBSCRIPTION_HANDLERS

FILINGS_CONSUMER = "reimbursement-filings"
FILINGS_TOPICS = filings.TOPICS
FILINGS_HANDLERS = filings.SUBSCRIPTION_HANDLERS
SUBSCRIPTIONS = [
    Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS, unhurried=True),
    Subscription(FILINGS_CONSUMER, FILINGS_TOPICS, FILINGS_HANDLERS),
]
