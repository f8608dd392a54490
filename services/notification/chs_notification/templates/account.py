"""Templates of the personal-account business area (个人账户收支实时告知).

Income and expense reach the holder at once with the balance after; a family member's spending
(家庭共济) is told to the holder, whose account paid. No message on a withdrawal at death (the
holder is gone; the heirs are paid through the agency). A balance that falls below the region's
threshold (the account-notice processor's policy data) is told once, until it is back above.
Where the policy coalesces them, a burst of small debits is told as one message.
"""

from chs_notification.templates.model import BusinessArea, Category, Template

TEMPLATES = (
    Template(
        template_id="account.credited",
        category=Category.ACCOUNT,
        business_area=BusinessArea.ACCOUNT,
        text=(
            "尊敬的{name}，您的职工医保个人账户{posted_on}划入{amount_yuan}元（{period_text}缴费），"
            "当前余额{balance_yuan}元。"
        ),
        elderly_text="{name}医保账户进账{amount_yuan}元，余额{balance_yuan}元。",
        params=("name", "posted_on", "amount_yuan", "period_text", "balance_yuan"),
    ),
    Template(
        template_id="account.debited",
        category=Category.ACCOUNT,
        business_area=BusinessArea.ACCOUNT,
        text=(
            "尊敬的{name}，您的职工医保个人账户{posted_on}由{spender}在{merchant_kind_name}"
            "支出{amount_yuan}元，当前余额{balance_yuan}元。"
        ),
        elderly_text="{name}医保账户支出{amount_yuan}元，余额{balance_yuan}元。",
        params=(
            "name",
            "posted_on",
            "spender",
            "merchant_kind_name",
            "amount_yuan",
            "balance_yuan",
        ),
    ),
    Template(
        template_id="account.transferred_out",
        category=Category.ACCOUNT,
        business_area=BusinessArea.ACCOUNT,
        text=(
            "尊敬的{name}，您的职工医保关系已转往{to_region_name}，个人账户余额{amount_yuan}元"
            "已随之转出，本省账户余额为0元。"
        ),
        elderly_text="{name}医保账户{amount_yuan}元已转到{to_region_name}。",
        params=("name", "to_region_name", "amount_yuan"),
    ),
    Template(
        template_id="account.transferred_in",
        category=Category.ACCOUNT,
        business_area=BusinessArea.ACCOUNT,
        text=(
            "尊敬的{name}，您由{from_region_name}转入的个人账户余额{amount_yuan}元已到账，"
            "当前余额{balance_yuan}元。"
        ),
        elderly_text="{name}医保账户转入{amount_yuan}元，余额{balance_yuan}元。",
        params=("name", "from_region_name", "amount_yuan", "balance_yuan"),
    ),
    Template(
        template_id="account.family_member_authorized",
        category=Category.ACCOUNT,
        business_area=BusinessArea.ACCOUNT,
        text=(
            "尊敬的{name}，您已授权{relation_name}共济使用您的职工医保个人账户（家庭共济），"
            "如非本人操作请及时联系医保经办机构。"
        ),
        elderly_text="{name}已授权{relation_name}用医保账户。",
        params=("name", "relation_name"),
    ),
    Template(
        template_id="account.family_member_revoked",
        category=Category.ACCOUNT,
        business_area=BusinessArea.ACCOUNT,
        text="尊敬的{name}，您已取消{relation_name}共济使用您的职工医保个人账户的授权。",
        elderly_text="{name}已取消{relation_name}用医保账户。",
        params=("name", "relation_name"),
    ),
    Template(
        template_id="account.low_balance",
        category=Category.ACCOUNT,
        business_area=BusinessArea.ACCOUNT,
        text=(
            "尊敬的{name}，您的职工医保个人账户当前余额{balance_yuan}元，已低于{threshold_yuan}元，"
            "请合理安排使用。"
        ),
        elderly_text="{name}医保账户余额{balance_yuan}元，已不足{threshold_yuan}元。",
        params=("name", "balance_yuan", "threshold_yuan"),
    ),
    Template(
        template_id="account.debits_coalesced",
        category=Category.ACCOUNT,
        business_area=BusinessArea.ACCOUNT,
        text=(
            "尊敬的{name}，您的职工医保个人账户自{posted_on}起小额支出{count}笔，共{total_yuan}元，"
            "当前余额{balance_yuan}元。"
        ),
        elderly_text="{name}医保账户小额支出{count}笔共{total_yuan}元，余额{balance_yuan}元。",
        params=("name", "posted_on", "count", "total_yuan", "balance_yuan"),
    ),
)
