import pytest

from chs_notification.domain import CHS_TAG, render
from chs_notification.templates import (
    TEMPLATES,
    BusinessArea,
    Category,
    Template,
    UnknownTemplate,
    get_template,
    placeholders,
)

pytestmark = pytest.mark.unit

ENROLLMENT_IDS = {
    "enrollment.registered",
    "enrollment.terminated",
    "enrollment.newborn_enrolled",
    "enrollment.contribution_paid",
    "enrollment.contact_changed",
}


def sample_params(template: Template) -> dict[str, str]:
    return {name: f"<{name}>" for name in template.params}


def test_registry_holds_the_enrollment_result_templates() -> None:
    assert set(TEMPLATES) >= ENROLLMENT_IDS
    for template_id in ENROLLMENT_IDS:
        assert TEMPLATES[template_id].business_area is BusinessArea.ENROLLMENT
        assert TEMPLATES[template_id].category is Category.BUSINESS_RESULT


def test_every_area_module_keeps_to_its_own_area() -> None:
    for template in TEMPLATES.values():
        area = template.template_id.split(".")[0].replace("-", "_")
        assert template.business_area.value == area, template.template_id


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
@pytest.mark.parametrize("age", [30, 75])
def test_every_template_renders_in_both_variants_with_the_tag(template_id: str, age: int) -> None:
    template = get_template(template_id)

    message = render(template, sample_params(template), age=age)

    assert message.startswith(CHS_TAG)
    assert "{" not in message and "}" not in message


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_standard_text_uses_every_declared_param(template_id: str) -> None:
    template = get_template(template_id)

    assert placeholders(template.text) == set(template.params)


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_elderly_text_is_shorter(template_id: str) -> None:
    template = get_template(template_id)

    assert len(template.elderly_text) < len(template.text)


def test_registered_message_text() -> None:
    message = render(
        get_template("enrollment.registered"),
        {
            "name": "张三",
            "insutype_name": "城乡居民基本医疗保险",
            "region_name": "青岛市",
            "start_date": "2024年1月1日",
        },
        age=35,
    )

    assert message == (
        "【中国医疗保障】尊敬的张三，您已在青岛市成功参加城乡居民基本医疗保险，"
        "参保开始日期为2024年1月1日。如有疑问请咨询当地医保经办机构。"
    )


def test_contribution_paid_elderly_message_puts_the_amount_first() -> None:
    message = render(
        get_template("enrollment.contribution_paid"),
        {
            "name": "李四",
            "period": "2024年度",
            "amount_yuan": "380.00",
            "insutype_name": "城乡居民基本医疗保险",
        },
        age=72,
    )

    assert message == "【中国医疗保障】380.00元医保费已到账（2024年度），李四缴费成功。"


def test_newborn_notice_addresses_the_guardian() -> None:
    message = render(
        get_template("enrollment.newborn_enrolled"),
        {
            "guardian_name": "王芳",
            "newborn_name": "王小宝",
            "region_name": "寿光市",
            "start_date": "2024年3月5日",
        },
        age=29,
    )

    assert message == (
        "【中国医疗保障】尊敬的王芳，您的孩子王小宝已在寿光市办理出生即参保，"
        "参保开始日期为2024年3月5日，可按规定享受医保待遇。"
    )


def test_unknown_template_id_raises_a_key_error() -> None:
    with pytest.raises(UnknownTemplate) as raised:
        get_template("enrollment.no_such_thing")

    assert isinstance(raised.value, KeyError)
    assert "enrollment.no_such_thing" in str(raised.value)


def test_undeclared_placeholder_is_rejected_when_the_template_is_defined() -> None:
    with pytest.raises(ValueError, match="balance"):
        Template(
            template_id="account.debited",
            category=Category.ACCOUNT,
            business_area=BusinessArea.ACCOUNT,
            text="您的个人账户支出{amount_yuan}元，余额{balance}元。",
            elderly_text="支出{amount_yuan}元。",
            params=("amount_yuan",),
        )


def test_undeclared_placeholder_in_the_elderly_text_is_rejected() -> None:
    with pytest.raises(ValueError, match="balance"):
        Template(
            template_id="account.debited",
            category=Category.ACCOUNT,
            business_area=BusinessArea.ACCOUNT,
            text="您的个人账户支出{amount_yuan}元。",
            elderly_text="余额{balance}元。",
            params=("amount_yuan",),
        )


def test_registry_cannot_be_modified() -> None:
    with pytest.raises(TypeError):
        TEMPLATES["enrollment.x"] = get_template("enrollment.terminated")  # type: ignore[index]
