"""Templates of the reimbursement business area (一站式结算 and 手工报销).

A settlement tells how the total split between the funds and the person; a reversal (冲正) tells
which settlement was undone and why. A manual claim is acknowledged, then approved with what the
funds pay or rejected with the reason, then paid. Invoice numbers are shown so that a person
with several claims knows which one a message is about.
"""

from chs_notification.templates.model import BusinessArea, Category, Template

TEMPLATES = (
    Template(
        template_id="reimbursement.settled",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REIMBURSEMENT,
        text=(
            "尊敬的{name}，您{date}在{institution}的医疗费用已结算：总费用{total}元，"
            "基本医保统筹支付{pooled_fund}元，大病保险支付{critical_illness}元，"
            "医疗救助支付{medical_assistance}元{personal_account}，个人支付{personal_cash}元。"
        ),
        elderly_text="{name}在{institution}看病共{total}元，已结算，自己付{personal_cash}元。",
        params=(
            "name",
            "date",
            "institution",
            "total",
            "pooled_fund",
            "critical_illness",
            "medical_assistance",
            "personal_account",
            "personal_cash",
        ),
    ),
    Template(
        template_id="reimbursement.reversed",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REIMBURSEMENT,
        text=(
            "尊敬的{name}，您在{institution}总费用{total}元的医疗费用结算（发票号{invoice_no}）"
            "已于{reversed_on}冲正撤销，原因：{reason}。"
            "如有疑问请咨询该医疗机构或当地医保经办机构。"
        ),
        elderly_text="{name}在{institution}的{total}元结算已撤销。原因：{reason}。",
        params=("name", "institution", "total", "invoice_no", "reversed_on", "reason"),
    ),
    Template(
        template_id="reimbursement.claim_submitted",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REIMBURSEMENT,
        text=(
            "尊敬的{name}，您的手工报销申请（发票号{invoice_no}）已受理，正在审核，"
            "审核结果将以短信告知。"
        ),
        elderly_text="{name}的报销申请收到了，正在审核，结果会发短信告诉您。",
        params=("name", "invoice_no"),
    ),
    Template(
        template_id="reimbursement.claim_approved",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REIMBURSEMENT,
        text=(
            "尊敬的{name}，您的手工报销申请（发票号{invoice_no}）已审核通过：总费用{total}元，"
            "医保基金支付{payable}元，将发放到您登记的收款账户，发放后将短信告知。"
        ),
        elderly_text="{name}的报销批了，医保给您报{payable}元。",
        params=("name", "invoice_no", "total", "payable"),
    ),
    Template(
        template_id="reimbursement.claim_rejected",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REIMBURSEMENT,
        text=(
            "尊敬的{name}，您的手工报销申请（发票号{invoice_no}）未通过审核，原因：{reason}。"
            "如有疑问请咨询当地医保经办机构。"
        ),
        elderly_text="{name}的报销申请没有通过。原因：{reason}。",
        params=("name", "invoice_no", "reason"),
    ),
    Template(
        template_id="reimbursement.claim_paid",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REIMBURSEMENT,
        text=(
            "尊敬的{name}，您的手工报销款{amount}元（发票号{invoice_no}）已于{paid_on}发放，"
            "请注意查收。"
        ),
        elderly_text="{name}的报销款{amount}元{paid_on}发了，请查收。",
        params=("name", "amount", "invoice_no", "paid_on"),
    ),
)
