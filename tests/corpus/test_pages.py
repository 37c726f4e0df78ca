"""Page-dump reconstruction: the sample page of 工人日报 and synthetic layouts."""

from __future__ import annotations

from collections import Counter

import pytest

from corpus import BODY, GUIDE, SUBHEAD, ParsedArticle, parse_page
from tests.conftest import SAMPLE_HEADLINES


def _chars(text: str) -> Counter[str]:
    return Counter(c for c in text if not c.isspace())


def assert_nothing_dropped(page: str, articles: list[ParsedArticle]) -> None:
    out = _chars("".join(a.fields_text() for a in articles))
    assert out == _chars(page), f"missing {_chars(page) - out}, extra {out - _chars(page)}"


@pytest.fixture
def sample(sample_text: str) -> list[ParsedArticle]:
    return parse_page(sample_text)


def by_headline(articles: list[ParsedArticle], part: str) -> ParsedArticle:
    (found,) = [a for a in articles if part in a.headline]
    return found


def body(a: ParsedArticle) -> list[str]:
    return [p.text for p in a.paragraphs if p.kind == BODY]


def test_sample_page_has_the_six_articles_in_page_order(sample: list[ParsedArticle]) -> None:
    assert tuple(a.headline for a in sample) == SAMPLE_HEADLINES


def test_sample_page_drops_no_character(sample_text: str, sample: list[ParsedArticle]) -> None:
    assert_nothing_dropped(sample_text, sample)


def test_displaced_body_goes_back_to_the_bodiless_headline(sample: list[ParsedArticle]) -> None:
    anji = by_headline(sample, "安吉")
    assert anji.subtitle == "“数字游民”、咖啡师、露营从业者找到“娘家”"
    paragraphs = body(anji)
    assert paragraphs[0].startswith("更好地服务这部分人群")
    assert "孔虹介绍" in paragraphs[-1]
    pingshan = by_headline(sample, "坪山")
    assert len(body(pingshan)) == 2
    assert all("安吉" not in p and "数字游民" not in p for p in body(pingshan))


def test_kickers_subtitles_and_bylines(sample: list[ParsedArticle]) -> None:
    tianjin = by_headline(sample, "天津")
    assert (tianjin.kicker, tianjin.subtitle, tianjin.byline) == ("", "", "本报讯(记者张奎 通讯员程志会)")
    assert body(tianjin)[0].startswith("日前,天津市总工会")

    xiangzhou = by_headline(sample, "象州")
    assert xiangzhou.kicker == "团结奋斗开新局 喜迎工会十八大 扎实推进“县级工会加强年”专项工作"
    assert xiangzhou.subtitle == "阵地多了 力量强了 品牌亮了"
    assert xiangzhou.byline == "本报讯(记者庞慧敏 通讯员蒋少莹)"

    assert by_headline(sample, "坪山").byline == "本报讯(记者刘雯婷)"

    daanshan = by_headline(sample, "清淤战")
    assert daanshan.kicker == "北京环卫集团组织220余名职工赶赴受灾地区,支援重建——"
    assert daanshan.byline == "本报记者 王伟伟 本报通讯员 钟静"

    heilongjiang = by_headline(sample, "工力量")
    assert heilongjiang.kicker.splitlines() == [
        "团结奋斗开新局 喜迎工会十八大 工会工作巡礼",
        "黑龙江工会创新形式、丰富载体宣讲党的创新理论,教育引导职工听党话、跟党走——",
    ]
    assert heilongjiang.byline == "本报记者 张世光"
    assert heilongjiang.guide_label == "阅读提示"
    guide = [p.text for p in heilongjiang.paragraphs if p.kind == GUIDE]
    assert len(guide) == 1 and guide[0].startswith("近年来,黑龙江工会将过去“课桌式”宣讲")


def test_subheads_stay_inside_their_article(sample: list[ParsedArticle]) -> None:
    def subheads(a: ParsedArticle) -> list[str]:
        return [p.text for p in a.paragraphs if p.kind == SUBHEAD]

    assert subheads(by_headline(sample, "清淤战")) == ["和时间赛跑", "走村入户清淤", "吃住在深山"]
    assert subheads(by_headline(sample, "工力量")) == [
        "顶层设计 夯实基础",
        "与时俱进 活化载体",
        "丰富形式 深入基层",
    ]
    others = [a for a in sample if "清淤战" not in a.headline and "工力量" not in a.headline]
    assert all(not subheads(a) for a in others)


def test_paragraphs_broken_at_column_ends_are_rejoined(sample: list[ParsedArticle]) -> None:
    all_body = [p for a in sample for p in body(a)]
    assert any("却从不缺席工会举办的技能培训。“民宿行业" in p for p in all_body)
    assert any("黑龙江顺丰速运有限公司工会干事郭彦亮说。" in p for p in all_body)
    assert any("部分低洼地带的居民房屋内外被淤泥覆盖。" in p for p in all_body)
    assert not any(p.startswith(("能培训", "司工会干事", "职工听党话", "强思想政治")) for p in all_body)


# --- synthetic layouts ------------------------------------------------------------------------------

DISPLACED = """\
青岛港自动化码头吞吐量创新高

智能调度系统让集装箱装卸效率提升三成

成都举办社区运动会

本报讯(记者李明)近日,成都市武侯区举办首届社区运动会,来自20个社区的600余名居民参加比赛。

运动会设置了拔河、跳绳等10个项目,社区居民在比赛中增进了邻里感情。

今年上半年,青岛港自动化码头完成集装箱吞吐量超过300万标准箱,同比增长12%。

码头工程师王磊介绍,新一代智能调度系统投入使用后,岸桥平均作业效率提升30%,集装箱装卸更加高效。
"""


def test_displaced_body_on_another_layout() -> None:
    articles = parse_page(DISPLACED)
    assert [a.headline for a in articles] == ["青岛港自动化码头吞吐量创新高", "成都举办社区运动会"]
    qingdao, chengdu = articles
    assert qingdao.subtitle == "智能调度系统让集装箱装卸效率提升三成"
    assert [p.text[:6] for p in qingdao.paragraphs] == ["今年上半年,", "码头工程师王"]
    assert len(chengdu.paragraphs) == 2 and chengdu.byline == "本报讯(记者李明)"
    assert_nothing_dropped(DISPLACED, articles)


NO_BYLINE = """\
宁波举办港口职工技能大赛

本报讯(记者陈静)近日,宁波舟山港举办第五届职工技能大赛,来自12家单位的300余名职工同台竞技。

大赛设置岸桥司机、电工等6个工种,获奖职工将被授予“技术能手”称号。

西安城墙新春灯会吸引游客十万人次

春节期间,西安城墙景区举办新春灯会,大型彩灯组沿城墙一字排开。

灯会期间,景区累计接待游客十万余人次,夜间游览人数同比增长两成。
"""


def test_an_article_without_byline_is_its_own_article() -> None:
    articles = parse_page(NO_BYLINE)
    assert [a.headline for a in articles] == ["宁波举办港口职工技能大赛", "西安城墙新春灯会吸引游客十万人次"]
    assert articles[1].byline == ""
    assert len(body(articles[1])) == 2
    assert_nothing_dropped(NO_BYLINE, articles)


SINGLE = """\
长江禁渔成效显现

本报记者 刘洋

长江十年禁渔实施以来,江豚等珍稀物种出现频次明显增加。

监测显示,长江干流鱼类资源量较禁渔前有所恢复,

部分江段鱼类种类数增加了十余种。

渔民上岸

退捕渔民通过技能培训转岗就业,不少人成为护渔员,守护一江碧水。
"""


def test_single_article_page_with_a_subhead_and_a_broken_paragraph() -> None:
    (article,) = parse_page(SINGLE)
    assert article.headline == "长江禁渔成效显现"
    assert article.byline == "本报记者 刘洋"
    assert [(p.kind, p.text[:4]) for p in article.paragraphs] == [
        (BODY, "长江十年"),
        (BODY, "监测显示"),
        (SUBHEAD, "渔民上岸"),
        (BODY, "退捕渔民"),
    ]
    assert article.paragraphs[1].text.endswith("部分江段鱼类种类数增加了十余种。")
    assert_nothing_dropped(SINGLE, [article])


JUMPS = """\
(上接第1版)

城市更新行动稳步推进

本报讯(记者周琳)今年以来,全市改造老旧小区120个,惠及居民5万余户。(下转第4版)
"""


def test_jump_markers_leave_the_text_but_stay_as_metadata() -> None:
    (article,) = parse_page(JUMPS)
    assert article.jumps == ("(上接第1版)", "(下转第4版)")
    assert all("版)" not in p.text for p in article.paragraphs)
    assert body(article) == ["今年以来,全市改造老旧小区120个,惠及居民5万余户。"]
    assert_nothing_dropped(JUMPS, [article])


HEADLINE_ONLY = """\
图片新闻

秋收时节稻谷飘香

本报讯(记者吴迪)金秋时节,黑龙江五常市百万亩水稻进入收获期,农民抢抓晴好天气收割。
"""


def test_headline_only_blocks_are_kept() -> None:
    articles = parse_page(HEADLINE_ONLY)
    assert_nothing_dropped(HEADLINE_ONLY, articles)
    main = by_headline(articles, "秋收")
    assert body(main)[0].startswith("金秋时节")
    assert "图片新闻" in "".join(a.fields_text() for a in articles)


@pytest.mark.parametrize("page", ["", "\n\n  \n", "\ufeff"])
def test_empty_pages_give_no_articles(page: str) -> None:
    assert parse_page(page) == []
