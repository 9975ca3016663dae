import codecs

import pytest

from govwatch.errors import DecodeError
from govwatch.parsers.decode import Utf8Text, decode_html

TEXT = "<html><head><title>通知</title></head><body><p>靖江市教育局关于做好2024年招生工作的通知，请镕、堃知悉。</p></body></html>"


def test_utf8_without_declaration() -> None:
    assert decode_html(TEXT.encode("utf-8")).text == TEXT


def test_bom_wins_over_declarations() -> None:
    data = codecs.BOM_UTF8 + TEXT.encode("utf-8")
    assert decode_html(data, "text/html; charset=gbk").text == TEXT


def test_utf16_with_bom() -> None:
    decoded = decode_html(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"))
    assert decoded.text == TEXT


def test_utf16_without_bom() -> None:
    assert decode_html(TEXT.encode("utf-16-le")).text == TEXT


def test_gb2312_declared_holds_gbk_only_characters() -> None:
    page = TEXT.replace("<head>", '<head><meta charset="gb2312">')
    decoded = decode_html(page.encode("gb18030"))
    assert decoded.encoding == "gb18030"
    assert "镕、堃" in decoded.text


def test_http_header_charset_is_honoured() -> None:
    decoded = decode_html(TEXT.encode("gbk"), "text/html; charset=GBK")
    assert decoded.text == TEXT


def test_declared_gbk_but_sent_utf8() -> None:
    page = TEXT.replace(
        "<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
    )
    assert decode_html(page.encode("utf-8")).text == page


def test_declared_utf8_but_sent_gbk() -> None:
    page = TEXT.replace("<head>", '<head><meta charset="utf-8">') * 3
    assert decode_html(page.encode("gbk"), "text/html; charset=utf-8").text == page


def test_undeclared_gbk_uses_the_detector() -> None:
    page = TEXT * 5
    assert decode_html(page.encode("gbk")).text == page


def test_binary_garbage_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode_html(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)


def test_utf8_text_keeps_its_bytes_for_the_parser() -> None:
    """Text strictly decoded from UTF-8 carries those bytes (the HTML parser reads them
    as they are); text that would not encode back to the same bytes carries none."""
    data = TEXT.encode("utf-8")
    for decoded in (
        decode_html(data),
        decode_html(data, "text/html; charset=utf-8"),
        decode_html(data, "text/html; charset=gbk"),  # sent UTF-8 all the same
    ):
        assert isinstance(decoded.text, Utf8Text)
        assert decoded.text.utf8 == data
        assert decoded.text.utf8.decode("utf-8") == decoded.text == TEXT
    for other in (
        decode_html(codecs.BOM_UTF8 + data),  # the BOM is no part of the text
        decode_html(TEXT.encode("gbk"), "text/html; charset=GBK"),
        decode_html(data, override="utf-8"),  # decoded with replacement, not strictly
    ):
        assert not isinstance(other.text, Utf8Text)
        assert other.text == TEXT
