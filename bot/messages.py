"""Every user-facing Chinese string, in one place."""

from __future__ import annotations

# --- answers -----------------------------------------------------------------------------------------
ANSWER_HEADER = "关于「{question}」，找到这些内容："
ANSWER_PAGE = "第 {page}/{pages} 页"
SOURCE_PARAGRAPH = "第{n}段"
SOURCE_PAGE = "第{page}版"
NO_TITLE = "（无标题）"
NOT_FOUND = "没有找到与「{question}」相关的内容。"
NOT_FOUND_EMPTY = "请输入一个问题，例如：{example}"
NOT_FOUND_HINT = "可以换个说法，或用更具体的关键词再问一次。"
NOT_FOUND_SUGGEST = "可以试试这些关键词或文章："
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
    "直接输入问题；输入“更多”看下一页，/article 编号 读全文，/quit 退出。"
)
CHAT_PROMPT = "问题> "
CHAT_BYE = "再见。"
CHAT_NOTHING_MORE = "没有上一个问题的更多结果了，请先提问。"
CHAT_UNKNOWN_COMMAND = "不认识的命令 {command}。可用：更多、/article 编号、/quit"
ARTICLE_NOT_FOUND = "没有编号为 {ref} 的文章。"
ARTICLE_USAGE = "用法：/article 文章编号"
