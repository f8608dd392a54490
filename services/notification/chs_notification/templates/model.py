"""What a template is. Each business area keeps its templates in a module of this package."""

import string
from dataclasses import dataclass
from enum import StrEnum

from chs_notification.rules import RULES


class Category(StrEnum):
    BROADCAST = "broadcast"  # 重要信息全量
    BUSINESS_RESULT = "business_result"  # 办理结果即时
    ACCOUNT = "account"  # 个人账户收支实时
    PUSH = "push"  # 个性化精准推送


class BusinessArea(StrEnum):
    ENROLLMENT = "enrollment"
    TRANSFER = "transfer"
    REMOTE_CARE = "remote_care"
    CHRONIC = "chronic"
    REIMBURSEMENT = "reimbursement"
    MATERNITY = "maternity"
    ACCOUNT = "account"
    GENERAL = "general"


class UnknownTemplate(KeyError):
    pass


@dataclass(frozen=True)
class Template:
    template_id: str
    category: Category
    business_area: BusinessArea
    text: str
    elderly_text: str
    params: tuple[str, ...]
    # Sent to the phone only: the stored and shown text has them masked (a one-time code).
    secret_params: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for variant in (self.text, self.elderly_text):
            undeclared = placeholders(variant) - set(self.params)
            if undeclared:
                raise ValueError(
                    f"template {self.template_id} uses undeclared params: {sorted(undeclared)}"
                )
        if not set(self.secret_params) <= set(self.params):
            raise ValueError(f"template {self.template_id} has undeclared secret params")
        wording = RULES.opt_out_wording
        if not RULES.is_service(self.category) and not (
            self.text.endswith(wording) and self.elderly_text.endswith(wording)
        ):
            raise ValueError(
                f"template {self.template_id} ({self.category}) must end both variants with the "
                f"opt-out wording {wording!r}"
            )


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
