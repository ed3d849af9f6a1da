"""Charset decisions on small pages written for these tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from fupin.tasks.acquire.decode import DecodeError, decode_bytes, normalize_label, read_page_bytes

SIMPLIFIED = ("<html><body><p>今年春天，村里的合作社种下了三百亩茶树，"
              "贫困户每月多了一份工资。</p></body></html>")
TRADITIONAL = ("<html><body><p>這個村子的學校去年擴建了兩間教室，"
               "孩子們不必再走山路上學。</p></body></html>")
# 镕 and 堃 are GBK characters outside GB2312.
GBK_ONLY = "<p>朱镕基当年考察过这个县，王堃说那时的路还是土路。</p>"


def _meta_page(charset: str, body: str) -> str:
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; '
            f'charset={charset}"></head><body><p>{body}</p></body></html>')


def test_gbk_without_any_declaration() -> None:
    text, enc = decode_bytes(SIMPLIFIED.encode("gbk"))
    assert text == SIMPLIFIED
    assert enc == "gb18030"


def test_big5_without_declaration_is_not_read_as_gb() -> None:
    text, enc = decode_bytes(TRADITIONAL.encode("big5"))
    assert text == TRADITIONAL
    assert enc == "big5"


def test_big5_declared_in_meta() -> None:
    page = _meta_page("big5", "這個村子的學校去年擴建了兩間教室。")
    text, enc = decode_bytes(page.encode("big5"))
    assert "擴建了兩間教室" in text and enc == "big5"


def test_utf8_with_bom() -> None:
    text, enc = decode_bytes(b"\xef\xbb\xbf" + SIMPLIFIED.encode("utf-8"))
    assert text == SIMPLIFIED
    assert enc == "utf-8"


def test_gb2312_label_with_gbk_only_characters() -> None:
    page = _meta_page("gb2312", GBK_ONLY)
    text, enc = decode_bytes(page.encode("gbk"))
    assert "朱镕基" in text and "王堃" in text
    assert enc == "gb18030"


def test_lying_meta_declaration_gb2312_on_utf8_bytes() -> None:
    page = _meta_page("gb2312", "合作社的茶叶今年卖到了北京和上海。")
    text, enc = decode_bytes(page.encode("utf-8"))
    assert "合作社的茶叶今年卖到了北京和上海。" in text
    assert enc == "utf-8"


def test_lying_http_header_utf8_on_gbk_bytes() -> None:
    text, enc = decode_bytes(SIMPLIFIED.encode("gbk"), declared="utf-8")
    assert text == SIMPLIFIED
    assert enc == "gb18030"


def test_http_header_wins_over_missing_meta() -> None:
    text, enc = decode_bytes(TRADITIONAL.encode("big5"), declared="Big5")
    assert text == TRADITIONAL and enc == "big5"


def test_latin1_label_on_gbk_bytes() -> None:
    page = _meta_page("iso-8859-1", "扶贫车间里有四十个工位。")
    text, enc = decode_bytes(page.encode("gbk"))
    assert "扶贫车间里有四十个工位。" in text and enc == "gb18030"


def test_pdf_is_binary() -> None:
    with pytest.raises(DecodeError) as err:
        decode_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    assert err.value.reason == "binary_content"


def test_png_and_nul_heavy_data_are_binary() -> None:
    for data in (b"\x89PNG\r\n\x1a\n" + bytes(64), b"abc\x00\x00\x00\x00\x00\x00def" * 20):
        with pytest.raises(DecodeError) as err:
            decode_bytes(data)
        assert err.value.reason == "binary_content"


@pytest.mark.parametrize("data", [b"", b"  \n\t "])
def test_empty(data: bytes) -> None:
    with pytest.raises(DecodeError) as err:
        decode_bytes(data)
    assert err.value.reason == "empty"


def test_undecodable_bytes() -> None:
    # Lone continuation bytes and invalid lead bytes: no CJK codec reads these cleanly.
    junk = bytes([0x80, 0xFF, 0x81, 0x20, 0xFE, 0xFF, 0x7F, 0xA0]) * 200
    with pytest.raises(DecodeError) as err:
        decode_bytes(junk)
    assert err.value.reason == "undecodable"


def test_gz_round_trip(tmp_path: Path) -> None:
    raw = SIMPLIFIED.encode("gbk")
    path = tmp_path / "page.html.gz"
    path.write_bytes(gzip.compress(raw))
    assert read_page_bytes(path) == raw
    assert decode_bytes(read_page_bytes(path))[0] == SIMPLIFIED
    plain = tmp_path / "page.html"
    plain.write_bytes(raw)
    assert read_page_bytes(str(plain)) == raw


def test_corrupt_gz_is_a_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.html.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    with pytest.raises(DecodeError) as err:
        read_page_bytes(path)
    assert err.value.reason == "bad_compression"


def test_gz_file_that_inflates_past_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.html.gz"
    path.write_bytes(gzip.compress(SIMPLIFIED.encode("utf-8") * 200))
    with pytest.raises(DecodeError) as err:
        read_page_bytes(path, max_bytes=5000)
    assert err.value.reason == "too_large"


@pytest.mark.parametrize("label", ["idna", "punycode", "undefined", "rot13", "base64",
                                   "utf-8\x00", "x-no-such"])
def test_a_hostile_charset_label_is_ignored(label: str) -> None:
    # the header's charset is the server's to choose; one that cannot decode text
    # leaves the choice to the page's own declaration and to detection
    page = _meta_page(label, "合作社的茶叶今年卖到了北京和上海。").encode("gbk")
    text, enc = decode_bytes(page, declared=label)
    assert "合作社的茶叶今年卖到了北京和上海。" in text and enc == "gb18030"


def test_gzip_bytes_passed_to_decode_are_binary() -> None:
    with pytest.raises(DecodeError) as err:
        decode_bytes(gzip.compress(SIMPLIFIED.encode("utf-8")))
    assert err.value.reason == "binary_content"


@pytest.mark.parametrize(
    ("label", "codec"),
    [("GB2312", "gb18030"), ("gbk", "gb18030"), ("x-gbk", "gb18030"), ("UTF8", "utf-8"),
     ("big5", "big5hkscs"), ("no-such-charset", None), (None, None)],
)
def test_label_normalisation(label: str | None, codec: str | None) -> None:
    assert normalize_label(label) == codec
