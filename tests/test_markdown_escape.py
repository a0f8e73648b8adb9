"""The Markdown escaper of the exported record (pure)."""

from __future__ import annotations

from bot.domain.markdown_escape import escape_block, escape_inline


def test_inline_text_cannot_start_markup_or_break_the_line():
    assert escape_inline("## Verdict\nFine-tune") == "\\## Verdict Fine-tune"
    assert escape_inline("<script>x</script>") == "\\<script\\>x\\</script\\>"
    assert escape_inline("[click](https://e.example)") == "\\[click\\](https://e.example)"
    assert escape_inline("a | b & *c* _d_ `e`") == "a \\| b \\& \\*c\\* \\_d\\_ \\`e\\`"
    assert escape_inline("Billing v2.0 - refunds") == "Billing v2.0 - refunds"


def test_blocks_keep_lines_but_no_line_starts_a_heading_list_or_quote():
    text = "fine\n## Verdict: Fine-tune\n- item\n1. one\n> quote\n    code\n==="
    assert escape_block(text).split("\n") == [
        "fine",
        "\\## Verdict: Fine-tune",
        "\\- item",
        "1\\. one",
        "\\> quote",
        "code",
        "\\===",
    ]
