"""Templates of the outpatient chronic / special disease business area (门诊慢特病)."""

from chs_notification.templates.model import BusinessArea, Category, Template

TEMPLATES = (
    Template(
        template_id="chronic.certified",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，您申请的门诊慢特病“{condition_name}”已认定通过，有效期{valid_from}"
            "至{valid_until}，可在定点医药机构按规定享受门诊慢特病待遇。"
        ),
        elderly_text="{name}的慢病“{condition_name}”办好了，{valid_until}前看门诊能报销。",
        params=("name", "condition_name", "valid_from", "valid_until"),
    ),
    Template(
        template_id="chronic.auto_certified",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，根据您{discharge_date}在{institution_name}的出院诊断，"
            "已为您免申办理门诊慢特病“{condition_name}”认定，有效期至{valid_until}，无需另行申请。"
        ),
        elderly_text="{name}的慢病“{condition_name}”已自动办好，不用申请，{valid_until}前有效。",
        params=("name", "discharge_date", "institution_name", "condition_name", "valid_until"),
    ),
    Template(
        template_id="chronic.pending_review",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，您在{institution_name}提交的门诊慢特病{condition_name}申请已受理，"
            "正在审核，审核结果将以短信告知。"
        ),
        elderly_text="{name}的慢病申请收到了，正在审核，结果会发短信告诉您。",
        params=("name", "institution_name", "condition_name"),
    ),
    Template(
        template_id="chronic.rejected",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，您的门诊慢特病{condition_name}申请未通过，原因：{reason}。"
            "如有疑问请咨询就诊医院或当地医保经办机构。"
        ),
        elderly_text="{name}的慢病申请没有通过。原因：{reason}。",
        params=("name", "condition_name", "reason"),
    ),
    Template(
        template_id="chronic.expired",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，您的门诊慢特病“{condition_name}”认定有效期已于{ended_on}届满，"
            "如需继续享受待遇，请到定点医院重新申请。"
        ),
        elderly_text="{name}的慢病“{condition_name}”到期了（{ended_on}），还要用请到医院重新办。",
        params=("name", "condition_name", "ended_on"),
    ),
    Template(
        template_id="chronic.revoked",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，您的门诊慢特病“{condition_name}”认定已于{ended_on}撤销，"
            "原因：{reason}。如有疑问请咨询当地医保经办机构。"
        ),
        elderly_text="{name}的慢病“{condition_name}”从{ended_on}起停了。原因：{reason}。",
        params=("name", "condition_name", "ended_on", "reason"),
    ),
    Template(
        template_id="chronic.auto_revoked",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，为您免申办理的门诊慢特病“{condition_name}”认定所依据的住院结算已冲正，"
            "该认定已于{ended_on}撤销。如仍需认定，请到定点医院申请；如有疑问请咨询当地医保经办机构。"
        ),
        elderly_text="{name}的慢病“{condition_name}”因住院结算撤销，从{ended_on}起停了。",
        params=("name", "condition_name", "ended_on"),
    ),
    # A push (个性化精准推送) to the insured with hypertension: fixed text, the name from the
    # directory; opt-out, caps and quiet hours apply (``rules``).
    Template(
        template_id="chronic.hypertension_policy",
        category=Category.PUSH,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，高血压门诊用药保障政策：在定点医药机构购买降压药可按规定报销，"
            "无需办理门诊慢特病认定。详情请咨询当地医保经办机构。回TD退订"
        ),
        elderly_text="{name}，买降压药能用医保报销，不用办慢病。回TD退订",
        params=("name",),
    ),
    # Pushes of push's event-triggered rules (``chs_push/rules/triggers.json``), once per
    # person: a certification of type 2 diabetes; a discharge diagnosis of a chronic condition
    # the person has not applied for (智能推荐), the condition's name from chronic's catalog.
    Template(
        template_id="chronic.diabetes_policy",
        category=Category.PUSH,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，2型糖尿病门诊保障政策：认定后在定点医药机构购买降糖药、"
            "做血糖检测可按规定报销，请按医嘱规律用药、定期复查。"
            "详情请咨询当地医保经办机构。回TD退订"
        ),
        elderly_text="{name}，糖尿病买药、测血糖能用医保报销，记得按时吃药复查。回TD退订",
        params=("name",),
    ),
    Template(
        template_id="chronic.recommendation",
        category=Category.PUSH,
        business_area=BusinessArea.CHRONIC,
        text=(
            "尊敬的{name}，根据您近期就医的出院诊断，您可能符合门诊慢特病“{condition_name}”"
            "的认定条件，可到定点医院申请认定，认定后门诊费用可按规定报销。"
            "详情请咨询当地医保经办机构。回TD退订"
        ),
        elderly_text="{name}，您的“{condition_name}”可以办慢病，办了看门诊能报销。回TD退订",
        params=("name", "condition_name"),
    ),
)
