"""The consumers of the remote-care service: the read model its rules need.

``remote-care-enrollments`` on ``chs.enrollment.events``: the shared enrollment read model
(``chs_events.read_models.enrollments``: enrolled on a day, insured type, pooling region).
"""

from chs_events.consumer import Subscription
from chs_events.read_models import enrollments

ENROLLMENTS_CONSUMER = "remote-care-enrollments"
ENROLLMENTS_TOPICS = enrollments.TOPICS
ENROLLMENTS_HANDLERS = enrollments.SUBSCRIPTION_HANDLERS
SUBSCRIPTIONS = [Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS)]
