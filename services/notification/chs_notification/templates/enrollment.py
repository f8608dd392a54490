"""Templates of the enrollment business area (参保登记)."""

from chs_notification.templates.model import BusinessArea, Category, Template

TEMPLATES = (
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
    Template(
        template_id="enrollment.contact_confirmation",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.ENROLLMENT,
        text=(
            "您正在变更医保登记的手机号，验证码为{code}，10分钟内有效。"
            "请勿将验证码告诉他人；如非本人操作，请忽略本短信。"
        ),
        elderly_text="验证码{code}，10分钟内有效，用于更换医保手机号，别告诉别人。",
        params=("code",),
        secret_params=("code",),
    ),
)
