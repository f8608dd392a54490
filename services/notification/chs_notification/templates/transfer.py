"""Templates of the relationship-transfer business area (关系转移接续).

Within one province a transfer completes at once and only ``transfer.completed`` is sent;
across provinces each step is told. Enrollment's PoolingRegionChanged sends nothing: the
completion message already says where the person is insured now.
"""

from chs_notification.templates.model import BusinessArea, Category, Template

TEMPLATES = (
    Template(
        template_id="transfer.requested",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.TRANSFER,
        text=(
            "尊敬的{name}，您的{insutype_name}关系转移申请已受理：由{from_region_name}"
            "转往{to_region_name}，请等待转出地确认。"
        ),
        elderly_text="{name}的医保转移申请已受理：{from_region_name}转{to_region_name}。",
        params=("name", "insutype_name", "from_region_name", "to_region_name"),
    ),
    Template(
        template_id="transfer.out_confirmed",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.TRANSFER,
        text=(
            "尊敬的{name}，{from_region_name}已确认您的医保关系转出：累计缴费{contribution_months}"
            "个月，请等待{to_region_name}办理转入，个人账户余额届时随之转移。"
        ),
        elderly_text="{name}的医保已转出：缴费{contribution_months}个月。",
        params=("name", "from_region_name", "to_region_name", "contribution_months"),
    ),
    Template(
        template_id="transfer.completed",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.TRANSFER,
        text=(
            "尊敬的{name}，您的{insutype_name}关系已由{from_region_name}转入{to_region_name}，"
            "{completed_on}起在{to_region_name}参保，可按规定享受医保待遇。"
        ),
        elderly_text="{completed_on}起，{name}的医保转到{to_region_name}了。",
        params=("name", "insutype_name", "from_region_name", "to_region_name", "completed_on"),
    ),
    Template(
        template_id="transfer.rejected",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.TRANSFER,
        text=(
            "尊敬的{name}，您由{from_region_name}转往{to_region_name}的医保关系转移未能办理，"
            "原因：{reason}。如有疑问请咨询当地医保经办机构。"
        ),
        elderly_text="{name}的医保转移没办成。原因：{reason}。",
        params=("name", "from_region_name", "to_region_name", "reason"),
    ),
)
