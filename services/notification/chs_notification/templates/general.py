"""Templates of no single business area: the broadcasts (重要信息全量) every insured person of a
region gets. Fixed text; the params are the platform's own (the directory's name, the dates of
the campaign), never a caller's words. Opt-out, caps and quiet hours apply (``rules``)."""

from chs_notification.templates.model import BusinessArea, Category, Template

TEMPLATES = (
    Template(
        template_id="general.resident_contribution_period",
        category=Category.BROADCAST,
        business_area=BusinessArea.GENERAL,
        text=(
            "尊敬的{name}，{year}年度城乡居民基本医疗保险集中缴费期至{deadline}截止，"
            "请及时缴费，以免影响医保待遇。回TD退订"
        ),
        elderly_text="{name}，{year}年居民医保请在{deadline}前交费。回TD退订",
        params=("name", "year", "deadline"),
    ),
)
