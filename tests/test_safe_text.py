"""The one escaping rule for text from data (charts.safe_text), checked on what it must defeat.

Markdown is rendered with markdown-it-py (CommonMark + GFM tables/strikethrough + linkify, as
close to Streamlit's remark-gfm as Python offers): an escaped text must render to no link, no
image and no HTML element, and read back as the original characters.
"""
from __future__ import annotations

import html as htmllib
import re

import plotly.graph_objects as go
import pytest

from charts.safe_text import WORD_JOINER, figure, html, labels, markdown

HOSTILE = [
    "x![fn](http://127.0.0.1:9/fn.png).csv",
    "![o](http://127.0.0.1:9/o.png)",
    "[click](http://127.0.0.1:9/x)",
    "<a href=http://127.0.0.1:9/a>link</a>",
    "<img src=http://127.0.0.1:9/i.png>",
    "<http://127.0.0.1:9/auto>",
    "see http://127.0.0.1:9/bare and www.example.org and mail a@example.org",
    ":red[alarm] :material/warning: :smile:",
    "$x^2$ **bold** `code` ~~gone~~",
    "# heading\n> quote\n- item\n1. one\n| a | b |\n|---|---|",
    "&lt;b&gt; &amp; &#60;script&#62;",
    "[ref]\n\n[ref]: http://127.0.0.1:9/ref",
]


def _render(text: str) -> str:
    md = pytest.importorskip("markdown_it").MarkdownIt("gfm-like", {"linkify": True})
    return md.render(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_markdown_renders_no_link_image_or_element(text):
    out = _render(markdown(text))
    assert not re.search(r"<(a|img|script|h\d|blockquote|ul|ol|table|code|strong|del)\b", out), out
    # Only the paragraph markup the renderer adds; the text itself comes back unchanged.
    body = re.sub(r"</?p>|<br\s*/?>", "", out).strip()
    assert htmllib.unescape(body).replace(WORD_JOINER, "").split() == text.split()


# remark-gfm (Streamlit) links bare addresses in the text left after escapes are resolved,
# with these two expressions from mdast-util-gfm-autolink-literal (as in Streamlit's bundle).
_GFM_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I)
_GFM_EMAIL = re.compile(r"(?:(?<=^)|(?<=[\s\W]))([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)")


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_leaves_no_bare_address_for_remark_gfm_to_link(text):
    resolved = htmllib.unescape(re.sub(r"</?p>", "", _render(markdown(text))))
    assert not _GFM_URL.search(resolved) and not _GFM_EMAIL.search(resolved), resolved
    assert _GFM_URL.search(text) or _GFM_EMAIL.search(text) or "http" not in text


@pytest.mark.parametrize("text", HOSTILE)
def test_unescaped_hostile_text_would_have_rendered_markup(text):
    """The cases are real: without the escape most of them do become elements."""
    if text.startswith((":red", "$x", "&lt;")):
        pytest.skip("Streamlit-only directives / entities: the renderer here has no such rule")
    assert re.search(r"<(a|img|h\d|blockquote|ul|ol|table|code|strong|del)\b|&lt;(a|img)",
                     _render(text))


def test_streamlit_directives_are_escaped_at_their_colon_and_bracket():
    assert markdown(":red[x]") == r"\:red\[x\]"
    assert markdown(":material/home:") == r"\:material\/home\:"


def test_plain_words_and_numbers_pass_unchanged():
    assert markdown("Riverton 2024 calls") == "Riverton 2024 calls"
    assert html("Riverton") == "Riverton"


def test_html_escapes_the_three_characters_plotly_reads():
    assert html("<a href='x'>l</a> & b") == "&lt;a href='x'&gt;l&lt;/a&gt; &amp; b"


def test_labels_keeps_numbers_dates_and_none():
    assert labels([1, None, "<b>"]) == [1, None, "&lt;b&gt;"]
    assert labels((1.5, 2)) == (1.5, 2)
    assert labels(None) is None


def test_figure_escapes_categories_names_axes_and_annotation_positions_in_a_copy():
    area = "<a href=http://127.0.0.1:9/a>link</a>"
    fig = go.Figure(go.Bar(x=[3, 4], y=[area, "B & C"], orientation="h", name="<img src=x>"))
    fig.update_yaxes(categoryorder="array", categoryarray=[area, "B & C"])
    fig.update_xaxes(tickvals=[1], ticktext=["<i>t</i>"])
    fig.add_annotation(x=0, y=area, text="<b>ours</b>", showarrow=False)
    safe = figure(fig)
    assert list(safe.data[0].y) == ["&lt;a href=http://127.0.0.1:9/a&gt;link&lt;/a&gt;",
                                    "B &amp; C"]
    assert list(safe.data[0].x) == [3, 4]
    assert safe.data[0].name == "&lt;img src=x&gt;"
    assert list(safe.layout.yaxis.categoryarray) == list(safe.data[0].y)
    assert list(safe.layout.xaxis.ticktext) == ["&lt;i&gt;t&lt;/i&gt;"]
    assert safe.layout.annotations[0].y == safe.data[0].y[0]
    assert safe.layout.annotations[0].text == "<b>ours</b>"  # the chart's own markup stays
    assert fig.data[0].y[0] == area  # the cached figure is left as it was
