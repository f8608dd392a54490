"""Templates of the remote-care business area (异地就医备案).

A refused filing sends no SMS: it changes nothing and is answered at once to the request.
"""

from chs_notification.templates.model import BusinessArea, Category, Template

TEMPLATES = (
    Template(
        template_id="remote_care.filed",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REMOTE_CARE,
        text=(
            "尊敬的{name}，您的{filing_type_name}异地就医备案（{category_name}）已办理成功，"
            "就医地{destination_name}，有效期{validity}。在就医地定点医药机构就医可直接结算。"
        ),
        elderly_text="{name}去{destination_name}看病的医保备案办好了，{validity}。",
        params=("name", "filing_type_name", "category_name", "destination_name", "validity"),
    ),
    Template(
        template_id="remote_care.revoked",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REMOTE_CARE,
        text=(
            "尊敬的{name}，您在{destination_name}的异地就医备案（{category_name}）已于"
            "{revoked_on}撤销，此后在该地就医不再按备案直接结算。如有疑问请咨询参保地医保经办机构。"
        ),
        elderly_text="{revoked_on}起，{name}去{destination_name}看病的医保备案撤销了。",
        params=("name", "destination_name", "category_name", "revoked_on"),
    ),
    Template(
        template_id="remote_care.expired",
        category=Category.BUSINESS_RESULT,
        business_area=BusinessArea.REMOTE_CARE,
        text=(
            "尊敬的{name}，您在{destination_name}的临时异地就医备案（{category_name}）已于"
            "{valid_until}到期。如仍需在该地就医，请重新办理备案。"
        ),
        elderly_text="{name}去{destination_name}看病的医保备案{valid_until}到期了。",
        params=("name", "destination_name", "category_name", "valid_until"),
    ),
)
