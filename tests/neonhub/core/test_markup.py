from django.template import Context, Template

from neonhub.core.markup import markdown_html, sanitize_html


def test_headings_lists_and_tables_render():
    html = markdown_html("## Spring\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<h2>Spring</h2>" in html
    assert "<li>one</li>" in html
    assert "<table>" in html and "<td>1</td>" in html


def test_raw_html_and_scripts_never_survive():
    html = markdown_html('Hi <script>alert(1)</script> <img src=x onerror="alert(2)">')
    assert "<script" not in html
    assert "<img" not in html  # shown as text, never as a tag


def test_javascript_links_are_dropped_and_links_get_noopener():
    html = markdown_html("[bad](javascript:alert(1)) [good](https://example.com)")
    assert 'href="javascript' not in html
    assert 'href="https://example.com"' in html
    assert "noopener" in html


def test_sanitize_drops_javascript_urls_in_html():
    assert "javascript" not in sanitize_html('<a href="javascript:alert(1)">x</a>')


def test_sanitize_strips_styles_and_handlers():
    html = sanitize_html('<p style="color:red" onclick="x()">ok</p><style>p{}</style>')
    assert html.startswith("<p>ok</p>")
    assert "style" not in html and "onclick" not in html


def test_template_filter_marks_the_sanitised_html_safe():
    out = Template("{% load neonhub_ui %}{{ body|markdown }}").render(
        Context({"body": "**bold** <b>raw</b>"})
    )
    assert "<strong>bold</strong>" in out
    assert "&lt;b&gt;raw&lt;/b&gt;" in out  # markdown-it escapes raw HTML (html=False)


def test_markdown_as_plain_text_drops_the_marks_and_keeps_the_words():
    from neonhub.core.markup import markdown_text

    text = markdown_text(
        "# Spring\n\nSome **bold** and [a link](https://x.y).\n\n## Why\n\n- one\n- two *it*\n"
    )
    assert text == "Spring\n\nSome bold and a link.\n\nWhy\n\n• one\n\n• two it"
    assert "#" not in text and "*" not in text
    assert markdown_text("") == ""
