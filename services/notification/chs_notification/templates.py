"""The SMS template registry, kept as data.

Each business area contributes a tuple of templates; `TEMPLATES` indexes them all by id.
A template is checked when it is constructed, so a placeholder missing from `params`
fails at import rather than when the first person should have received the message.
"""

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


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

    def __post_init__(self) -> None:
        for variant in (self.text, self.elderly_text):
            undeclared = placeholders(variant) - set(self.params)
            if undeclared:
                raise ValueError(
                    f"template {self.template_id} uses undeclared params: {sorted(undeclared)}"
                )


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


_ENROLLMENT = (
    Template(
        template_id="enrollment.registered",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.ENROLLMENT,
        text=(
            "尊敬的{name}，您已在{region_name}成功参加{insutype_name}，"
            "参保开始日期为{start_date}。如有疑问请咨询当地医保经办机构。"
        ),
        elderly_text="{start_date}起，{name}参保成功，看病可以用医保了。",
        params=("name", "insutype_name", "region_name", "start_date"),
    ),
    Template(
        template_id="enrollment.terminated",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.ENROLLMENT,
        text=(
            "尊敬的{name}，您的{insutype_name}已于{end_date}终止参保，原因：{reason}。"
            "如有疑问请咨询当地医保经办机构。"
        ),
        elderly_text="{end_date}起，{name}的医保停了。原因：{reason}。",
        params=("name", "insutype_name", "end_date", "reason"),
    ),
    Template(
        template_id="enrollment.newborn_enrolled",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.ENROLLMENT,
        text=(
            "尊敬的{guardian_name}，您的孩子{newborn_name}已在{region_name}办理出生即参保，"
            "参保开始日期为{start_date}，可按规定享受医保待遇。"
        ),
        elderly_text="{start_date}起，孩子{newborn_name}参保成功，看病可以用医保了。",
        params=("guardian_name", "newborn_name", "region_name", "start_date"),
    ),
    Template(
        template_id="enrollment.contribution_paid",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.ENROLLMENT,
        text="尊敬的{name}，您{period}的{insutype_name}缴费{amount_yuan}元已到账。",
        elderly_text="{amount_yuan}元医保费已到账（{period}），{name}缴费成功。",
        params=("name", "period", "amount_yuan", "insutype_name"),
    ),
    Template(
        template_id="enrollment.contact_changed",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.ENROLLMENT,
        text=(
            "尊敬的{name}，您在医保登记的手机号已变更为{mobile_masked}。"
            "如非本人操作，请及时联系当地医保经办机构。"
        ),
        elderly_text="{mobile_masked}是{name}新的医保手机号。不是您本人改的，请马上找医保局。",
        params=("name", "mobile_masked"),
    ),
)


def _index(*areas: Iterable[Template]) -> Mapping[str, Template]:
    registry: dict[str, Template] = {}
    for templates in areas:
        for template in templates:
            if template.template_id in registry:
                raise ValueError(f"duplicate template id {template.template_id}")
            registry[template.template_id] = template
    return MappingProxyType(registry)


TEMPLATES: Mapping[str, Template] = _index(_ENROLLMENT)


def get_template(template_id: str) -> Template:
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise UnknownTemplate(template_id) from None
