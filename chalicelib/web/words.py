"""Every word the pages show, in both languages: one table, one key per meaning.

The templates get ``L = words(lang)`` and name the keys (``L.raised``,
``L['state_' ~ state]``); a key means one thing on every page. ``county`` is
the county column of the impact tables (县 / County); a pick's county badge is
``county_badge`` (脱贫县 / Poverty county). Both languages have the same keys
(``tests/unit/test_words.py`` checks that, and that every key is shown
somewhere).
"""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.domain.model import DEFAULT_LANG

WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        # the layout
        "site": "扶贫好物商城",
        "home": "首页",
        "charity": "公益频道",
        "impact": "助农成效",
        "language": "English",
        "skip": "跳到正文",
        "nav": "主导航",
        "switch_hint": "切换语言：",
        "tagline": "来自脱贫县的好物，每一单都帮到农户",
        "footer": "扶贫好物商城 · 每一单都直接带动脱贫县农户增收",
        # the homepage
        "home_heading": "助农好物 · 产地直供",
        "home_intro": "从全国脱贫县的合作社精选当季农产品，价格透明，政府与行业协会背书。",
        "picks": "今日精选",
        "live_campaigns": "正在进行的活动",
        "no_slots": "暂无推荐商品",
        "no_campaigns": "暂无进行中的活动",
        "products_count": "{n} 件好物",
        "product_one": "1 件好物",
        # a campaign page
        "state_teaser": "即将开始",
        "state_live": "进行中",
        "state_ended": "已结束",
        "kind_featured": "精选活动",
        "kind_charity_sale": "公益义卖",
        "kind_regional_store": "地方特色馆",
        "period": "活动时间",
        "open_since": "开馆时间",
        "starts_in": "距开始还有",
        "ends_in": "距结束还有",
        "ended": "活动已结束",
        "ended_note": "感谢每一位参与的朋友。看看正在进行的活动吧。",
        "see_live": "查看正在进行的活动",
        "products": "精选好物",
        "no_prices_yet": "价格将在活动开始时公布",
        "price_soon": "敬请期待",
        "buy": "去商城购买",
        "buy_hint": "在商城打开商品页",
        "share_starts": "{when} 开始",
        "list_price": "原价",
        "merchant": "商家",
        "merchants": "入驻商家",
        "county_badge": "脱贫县",
        "endorsed_government": "政府背书",
        "endorsed_association": "协会背书",
        "pledge": "商家捐",
        "tourism": "旅游景点",
        # a charity goal (campaign page, /charity, the ledger)
        "progress": "公益进度",
        "final_result": "最终结果",
        "goal": "目标",
        "raised": "已筹",
        "percent_of_goal": "完成 {p}%",
        "from_sales": "来自销售",
        "from_points": "来自积分",
        "sales": "销售额",
        "beneficiary": "受益对象",
        "beneficiaries": "受益人数",
        "partner": "合作方",
        "rate": "捐赠比例",
        "points": "积分捐赠",
        "points_rate": "{n} 积分 = 1 元",
        "charity_intro": "公益义卖中，每笔订单实付金额的固定比例捐给指定对象；会员也可以捐积分。进度实时更新。",
        "view_ledger": "查看公开捐赠明细",
        # the ledger
        "ledger": "公开捐赠明细",
        "ledger_intro": "每一笔捐赠与退款冲减，按时间从新到旧排列。订单号已部分隐藏。",
        "at": "时间",
        "kind": "类型",
        "ref": "编号",
        "amount": "金额",
        "kind_sale": "销售捐赠",
        "kind_refund": "退款冲减",
        "kind_points": "积分捐赠",
        "older": "更早的记录",
        "first_page": "最新记录",
        "no_entries": "暂无捐赠记录",
        # /impact
        "impact_intro": "各活动已记录的销售额（扣除退款），按县和商家统计，以及公益活动的筹款总额。",
        "charity_totals": "公益筹款",
        "by_county": "按县统计的销售额",
        "by_merchant": "按商家统计的销售额",
        "campaign": "活动",
        "orders": "订单数",
        "county": "县",
        "all_campaigns": "全部活动合计",
        "no_sales": "暂无销售记录",
        # error pages: a title per error code (else "error"), a hint per status
        "not_found": "页面不存在",
        "gone": "活动已结束",
        "unavailable": "服务暂时不可用，请稍后再试",
        "error": "出错了",
        "not_found_hint": "您要找的页面不存在，或活动尚未开始。",
        "gone_hint": "这个活动已经结束了。",
        "unavailable_hint": "我们正在处理，请稍等片刻后刷新页面。",
        "error_hint": "请稍后再试。",
        "back_home": "返回首页",
        "status": "状态码",
    },
    "en": {
        # the layout
        "site": "Poverty Alleviation Mall",
        "home": "Home",
        "charity": "Public benefit",
        "impact": "Impact",
        "language": "中文",
        "skip": "Skip to content",
        "nav": "Main",
        "switch_hint": "Language: ",
        "tagline": "Goods from formerly poor counties: every order helps the farmers",
        "footer": "Poverty Alleviation Mall · every order goes straight to farmers in formerly poor counties",
        # the homepage
        "home_heading": "Farm goods, straight from the counties",
        "home_intro": (
            "Seasonal products from cooperatives in formerly poverty-stricken counties, with clear prices "
            "and endorsements by county governments and industry associations."
        ),
        "picks": "Today's picks",
        "live_campaigns": "Live campaigns",
        "no_slots": "No picks right now",
        "no_campaigns": "No live campaigns right now",
        "products_count": "{n} products",
        "product_one": "1 product",
        # a campaign page
        "state_teaser": "Coming soon",
        "state_live": "Live now",
        "state_ended": "Ended",
        "kind_featured": "Featured",
        "kind_charity_sale": "Charity sale",
        "kind_regional_store": "Regional store",
        "period": "When",
        "open_since": "Open since",
        "starts_in": "Starts in",
        "ends_in": "Ends in",
        "ended": "This campaign has ended",
        "ended_note": "Thank you to everyone who took part. Have a look at the live campaigns.",
        "see_live": "See the live campaigns",
        "products": "Products",
        "no_prices_yet": "Prices are announced when the campaign starts",
        "price_soon": "Price at launch",
        "buy": "Buy in the mall",
        "buy_hint": "opens the product page in the mall",
        "share_starts": "Starts {when}",
        "list_price": "List price",
        "merchant": "Merchant",
        "merchants": "Merchants",
        "county_badge": "Poverty county",
        "endorsed_government": "Government-endorsed",
        "endorsed_association": "Association-endorsed",
        "pledge": "Merchant gives",
        "tourism": "Sights",
        # a charity goal (campaign page, /charity, the ledger)
        "progress": "Progress",
        "final_result": "Final result",
        "goal": "Goal",
        "raised": "Raised",
        "percent_of_goal": "{p}% of the goal",
        "from_sales": "from sales",
        "from_points": "from points",
        "sales": "Sales",
        "beneficiary": "Beneficiary",
        "beneficiaries": "Beneficiaries",
        "partner": "Partner",
        "rate": "Donation rate",
        "points": "Point donations",
        "points_rate": "{n} points = 1 yuan",
        "charity_intro": (
            "In a charity sale a fixed share of every order's paid amount goes to a named cause, and members "
            "can donate loyalty points too. Totals update as orders come in."
        ),
        "view_ledger": "See the public donation ledger",
        # the ledger
        "ledger": "Public donation ledger",
        "ledger_intro": "Every donation and refund reversal, newest first. Order numbers are partly hidden.",
        "at": "Time",
        "kind": "Kind",
        "ref": "Reference",
        "amount": "Amount",
        "kind_sale": "Sale donation",
        "kind_refund": "Refund reversal",
        "kind_points": "Point donation",
        "older": "Older entries",
        "first_page": "Newest entries",
        "no_entries": "No donations yet",
        # /impact
        "impact_intro": "Recorded sales of every campaign (net of refunds) by county and by merchant, and the charity totals.",
        "charity_totals": "Charity totals",
        "by_county": "Sales by county",
        "by_merchant": "Sales by merchant",
        "campaign": "Campaign",
        "orders": "Orders",
        "county": "County",
        "all_campaigns": "All campaigns",
        "no_sales": "No sales recorded yet",
        # error pages: a title per error code (else "error"), a hint per status
        "not_found": "Page not found",
        "gone": "This campaign has ended",
        "unavailable": "The service is briefly unavailable. Please try again shortly.",
        "error": "Something went wrong",
        "not_found_hint": "The page you are looking for does not exist, or the campaign has not started yet.",
        "gone_hint": "This campaign has ended.",
        "unavailable_hint": "We are on it. Please wait a moment and reload the page.",
        "error_hint": "Please try again later.",
        "back_home": "Back to the homepage",
        "status": "Status",
    },
}

# The error codes (chalicelib/errors.py) whose page has a title of its own; any other is titled "error".
ERROR_TITLES = frozenset({"not_found", "gone", "unavailable"})


def words(lang: str) -> Mapping[str, str]:
    """The words in ``lang`` (``zh-CN`` for any other value)."""
    return WORDS.get(lang, WORDS[DEFAULT_LANG])


def error_title(code: str, lang: str) -> str:
    """The title of the error page for ``code`` (``"not_found"``: 页面不存在 / Page not found)."""
    table = words(lang)
    return table[code] if code in ERROR_TITLES else table["error"]
