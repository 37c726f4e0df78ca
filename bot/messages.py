"""Every user-facing Chinese string, in one place."""

from __future__ import annotations

# --- answers -----------------------------------------------------------------------------------------
ANSWER_HEADER = "关于「{question}」，找到这些内容："
SHORT_ANSWER = "答：{answer}"  # the one-line answer above the quotes
UNDERSTOOD = "（接着上一个问题，按「{question}」理解）"  # a follow-up, completed
ANSWER_PAGE = "第 {page}/{pages} 页"
SOURCE_PARAGRAPH = "第{n}段"
SOURCE_PAGE = "第{page}版"
GUIDE_LABEL = "导读"  # a guide paragraph's label when the article gives none
NO_TITLE = "（无标题）"
DERIVED_TITLE = "〔无标题〕{headline}"  # an untitled article, named by its first sentence
NOT_FOUND = "没有找到与「{question}」相关的内容。"
NOT_FOUND_EMPTY = "请输入一个问题，例如：{example}"
NOT_FOUND_HINT = "可以换个说法，或用更具体的关键词再问一次。"
NOT_FOUND_SUGGEST = "可以试试这些关键词或文章："
NOT_FOUND_OUT_OF_RANGE = (
    "资料库收录的是 {first} 至 {last} 的报道，没有「{period}」的，所以回答不了「{question}」。"
)
NOT_FOUND_WRONG_TIME = "没有找到「{period}」的相关报道，所以回答不了「{question}」。"
NOT_FOUND_FOCUS = "找到了相关报道，但都没有提到「{focus}」，所以回答不了「{question}」。"
NOT_FOUND_RELATED = "相近的报道（不是答案）："
QUESTION_TOO_LONG = "问题太长了（{length} 字），请控制在 {limit} 字以内。"
EXAMPLE_QUESTION = "象州县投入多少钱加强实体平台建设？"
MORE = "更多"
FULL_TEXT = "全文"
FULL_TEXT_N = "全文 {n}"
PREVIOUS = "上一页"
NEXT = "下一页"
NO_MORE = "没有更多结果了。"

# --- terminal chat -------------------------------------------------------------------------------------
CHAT_WELCOME = (
    "newsbot 终端对话 · 共 {articles} 篇文章、{paragraphs} 个段落。\n"
    "直接输入问题；输入“更多”看下一页，/article 编号 读全文，/timeline 关键词 看话题时间线，/quit 退出。"
)
CHAT_PROMPT = "问题> "
CHAT_BYE = "再见。"
CHAT_NOTHING_MORE = "没有上一个问题的更多结果了，请先提问。"
CHAT_UNKNOWN_COMMAND = "不认识的命令 {command}。可用：更多、/article 编号、/timeline 关键词、/quit"
ARTICLE_NOT_FOUND = "没有编号为 {ref} 的文章。"
ARTICLE_USAGE = "用法：/article 文章编号"

# --- Telegram -----------------------------------------------------------------------------------------
START = (
    "你好！我是新闻问答机器人。直接发给我一个问题，我会从新闻稿中找出回答它的原文段落，并注明出处。\n\n"
    "库里现在有 {articles} 篇文章。试试下面的例子，或发送 /help 查看全部用法。"
)
HELP = (
    "<b>怎么用</b>\n"
    "• 直接发送问题，例如：象州县投入多少钱加强实体平台建设？能确定时，第一行就是简短的答案\n"
    "• 接着问：回复我的回答（私聊里几分钟内直接发也行），例如「那去年呢？」「他是哪里人？」\n"
    "• 回答下方的按钮：「更多」看下一页，「全文」读整篇文章，👍/👎 告诉我回答是否有用\n"
    "• /latest 最新文章 · /article 编号 阅读全文\n"
    "• 群组里：/ask 问题，或 @我 提问，或回复我的消息\n"
    "• 在任意聊天输入 @{username} 问题，可以直接引用段落\n"
    "• /digest 今日摘要 · /subscribe 08:00 关键词 订阅每日摘要（-词 排除，source:报纸名 只看这家报纸）· "
    "/trend 关键词 看趋势\n"
    "• /timeline 关键词 看一个话题的来龙去脉：首次和最近一次提到、每月篇数、各时段的关键段落"
)
EXAMPLES = (
    "象州县投入多少钱加强实体平台建设？",
    "大安山乡中心幼儿园的园长是谁？",
    "黑龙江各级工会组建了多少支宣讲队伍？",
)
SESSION_EXPIRED = "这条结果已过期，请重新提问"
RATE_LIMITED = "提问太频繁了，请稍等一会儿再问（每分钟最多 {limit} 个问题）。"
ASK_USAGE = "用法：/ask 你的问题，例如 /ask {example}"
APOLOGY = "抱歉，出了点问题，请稍后再试。"
THANKS_FEEDBACK = "谢谢反馈！"
ADMIN_ONLY = "抱歉，这个功能只对管理员开放。"
UPLOAD_TYPE = "只接受 .txt、.md、.jsonl 或 .jsonl.gz 文件。"
UPLOAD_TOO_BIG = "文件太大（{size} MB），上限是 {limit} MB。"
UPLOAD_RECEIVED = "收到文件，正在导入……"
UPLOAD_DONE = "已导入「{name}」：{articles} 篇文章、{paragraphs} 个段落（{status}）。"
UPLOAD_UNCHANGED = "「{name}」的内容以前导入过，没有变化。"
UPLOAD_FAILED = "「{name}」没有导入：{reason}"
UPLOAD_PROBLEMS = "有 {count} 处问题："
STATUS_NAMES = {"added": "新增", "replaced": "替换了旧版本"}
RELOADED = "索引已重新载入：{paragraphs} 个段落。"
STATS = (
    "<b>统计</b>\n文章：{articles}\n段落：{paragraphs}\n今天的提问：{questions}（回答了 {answered_share}）\n"
    "反馈：👍 {helpful} · 👎 {not_helpful}\n订阅：{subscribers}\n屏蔽了机器人的聊天：{blocked}"
)
STATS_CLUSTER = "\n索引分片：{shards} 个 · 分片检索 {searches} 次，缺分片的 {partial} 次"
LATEST_HEADER = "<b>最新文章</b>"
LATEST_EMPTY = "还没有文章。"
NOT_TEXT = "我只能回答文字问题。请把问题打出来发给我。"
UNKNOWN_COMMAND = "不认识的命令 {command}。发送 /help 查看用法，或直接发送问题。"
INLINE_NOTHING = "没有找到相关内容"
INLINE_LATEST = "最新：{headline}"
COMMANDS = (
    ("start", "开始使用"),
    ("help", "帮助"),
    ("ask", "提问：/ask 问题"),
    ("latest", "最新文章"),
    ("article", "阅读全文：/article 编号"),
    ("digest", "今日摘要：/digest [今天|昨天|日期]"),
    ("subscribe", "订阅每日摘要：/subscribe [HH:MM] [关键词]"),
    ("subscriptions", "查看和修改订阅"),
    ("unsubscribe", "取消订阅"),
    ("trend", "关键词趋势图：/trend 关键词"),
    ("timeline", "话题时间线：/timeline 关键词"),
)

# --- digests ------------------------------------------------------------------------------------------
DIGEST_TITLE = "📰 {day} 新闻摘要"
DIGEST_SCHEDULED_TITLE = "📰 {day} 新闻摘要（订阅 #{id}{keywords}）"
DIGEST_TOPIC = "{n}. {name}"
DIGEST_OTHER = "其他"
DIGEST_MORE_ARTICLES = "……等 {n} 篇"
DIGEST_EMPTY = "{day} 没有文章。"
DIGEST_USAGE = "用法：/digest [今天|昨天|YYYY-MM-DD]"
DIGEST_BAD_DAY = "看不懂日期「{text}」。用法：/digest [今天|昨天|YYYY-MM-DD]"
DIGEST_CONTINUED = "（续）"
SUBSCRIBED = "已订阅 #{id}：每天 {at} 发送{what}。/subscriptions 查看或修改。"
SUBSCRIBED_ALL = "全部话题的摘要"
SUBSCRIBED_KEYWORDS = "与「{keywords}」有关的摘要"
SUBSCRIBE_LIMIT = "每个聊天最多 {limit} 个订阅。请先用 /unsubscribe 取消一个。"
SUBSCRIBE_BAD_TIME = "时间「{text}」不对，请用 24 小时制 HH:MM，例如 08:00。"
SUBSCRIBE_GROUP_ADMINS = "在群组里，只有群管理员可以管理订阅。"
SUBSCRIPTIONS_NONE = "还没有订阅。用 /subscribe [HH:MM] [关键词] 订阅每日摘要。"
SUBSCRIPTIONS_HEADER = "<b>订阅</b>"
SUBSCRIPTION_LINE = "#{id} · 每天 {at} · {what}"
SUBSCRIPTION_DELETE = "🗑 #{id}"
SUBSCRIPTION_TIME = "#{id} 改为 {at}"
UNSUBSCRIBED = "已取消订阅 {ids}。"
UNSUBSCRIBE_NONE = "没有找到这个订阅。/subscriptions 查看全部。"
SUBSCRIPTION_MOVED = "订阅 #{id} 改为每天 {at}。"
TREND_USAGE = "用法：/trend 关键词 [30|90]"
TREND_CAPTION = "「{keyword}」近 {days} 天每日提及的文章数（{first} 至 {last}），共 {total} 篇。"
TREND_NONE = "近 {days} 天没有文章提到「{keyword}」。"

# --- timelines ----------------------------------------------------------------------------------------
TIMELINE_USAGE = "用法：/timeline 关键词，例如 /timeline 工会"
TIMELINE_TITLE = "📈「{keyword}」时间线"
TIMELINE_SPAN = "首次提到 {first} · 最近一次 {last} · 共 {total} 篇"
TIMELINE_MONTHS = "每月篇数（█ = {peak} 篇，{month}）"
TIMELINE_PERIOD = "{n}. {months} · {count} 篇"
TIMELINE_MONTH_RANGE = "{first} 至 {last}"
TIMELINE_UNDATED = "{day}（未注明日期，按收录日）"
TIMELINE_NO_PASSAGE = "（这一时段没有可以引用的段落）"
TIMELINE_MORE = "另有 {n} 个提到较少的时段没有列出。"
TIMELINE_NONE = "资料库里没有文章提到「{keyword}」。"
TIMELINE_NO_WORDS = "「{keyword}」里没有可以查的词。请换一个关键词，例如 /timeline 工会"
