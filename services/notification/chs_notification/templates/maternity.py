"""Templates of the maternity business area (生育待遇)."""

from chs_notification.templates.model import BusinessArea, Category, Template

TEMPLATES = (
    Template(
        template_id="maternity.auto_approved",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.MATERNITY,
        text=(
            "尊敬的{name}，根据您{event_date}的生育医疗结算，已为您免申办理生育津贴：{leave_days}天，"
            "共{amount}元，无需另行申请，发放后将短信告知。"
        ),
        elderly_text="{name}的生育津贴已自动办好，{leave_days}天共{amount}元，不用申请。",
        params=("name", "event_date", "leave_days", "amount"),
    ),
    Template(
        template_id="maternity.approved",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.MATERNITY,
        text=(
            "尊敬的{name}，您申请的生育津贴已核准：{leave_days}天，共{amount}元，发放后将短信告知。"
        ),
        elderly_text="{name}的生育津贴批了，{leave_days}天共{amount}元。",
        params=("name", "leave_days", "amount"),
    ),
    Template(
        template_id="maternity.applied",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.MATERNITY,
        text="尊敬的{name}，您的生育津贴申请已受理，正在审核，审核结果将以短信告知。",
        elderly_text="{name}的生育津贴申请收到了，正在审核，结果会发短信告诉您。",
        params=("name",),
    ),
    Template(
        template_id="maternity.paid",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.MATERNITY,
        text="尊敬的{name}，您的生育津贴{amount}元已于{paid_on}发放，请注意查收。",
        elderly_text="{name}的生育津贴{amount}元{paid_on}发了，请查收。",
        params=("name", "amount", "paid_on"),
    ),
    Template(
        template_id="maternity.cancelled",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.MATERNITY,
        text=(
            "尊敬的{name}，您{event_date}的生育医疗结算已冲正，据此免申办理的生育津贴{amount}元"
            "已取消。如医院重新结算，将据新的结算重新办理；如有疑问请咨询当地医保经办机构。"
        ),
        elderly_text="{name}的生育结算撤销了，生育津贴{amount}元取消了。",
        params=("name", "event_date", "amount"),
    ),
    Template(
        template_id="maternity.recovery_raised",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.MATERNITY,
        text=(
            "尊敬的{name}，您{event_date}的生育医疗结算已冲正，已发放的生育津贴{amount}元需退回，"
            "当地医保经办机构将与您联系办理。如有疑问请咨询当地医保经办机构。"
        ),
        elderly_text="{name}的生育结算撤销了，已发的生育津贴{amount}元要退回，医保经办机构会联系您。",
        params=("name", "event_date", "amount"),
    ),
)
