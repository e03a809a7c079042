"""What a floor plan upload must be, and how its size is read."""

import struct
import zlib

import pytest

from gateway.floor_plans import MAX_BYTES, PNG, SVG, BadPlan, measure

pytestmark = pytest.mark.unit


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_png_size_comes_from_its_header():
    assert measure(PNG, png(1200, 800)) == (1200.0, 800.0)


def test_svg_size_from_view_box_else_width_and_height():
    assert measure(SVG, b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 900 600"><rect width="10" height="10"/></svg>') == (900.0, 600.0)
    assert measure(SVG, b'<svg xmlns="http://www.w3.org/2000/svg" width="640px" height="480"></svg>') == (640.0, 480.0)


@pytest.mark.parametrize("body", [
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)"></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
    b'<image x:href="https://example.org/a.png"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><foreignObject/></svg>',
    b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">&a;</svg>',
])
def test_an_svg_that_could_run_or_fetch_anything_is_refused(body):
    with pytest.raises(BadPlan) as refused:
        measure(SVG, body)
    assert refused.value.reason == "plan_unsafe"


@pytest.mark.parametrize("content_type, body, reason", [
    (SVG, b"", "plan_empty"),
    (SVG, b"<svg", "plan_unreadable"),
    (SVG, b'<html xmlns="http://www.w3.org/1999/xhtml"/>', "plan_unreadable"),
    (SVG, b'<svg xmlns="http://www.w3.org/2000/svg"/>', "plan_no_size"),
    (PNG, b"GIF89a" + b"\0" * 30, "plan_unreadable"),
    ("image/gif", b"GIF89a", "plan_type"),
    (PNG, b"\0" * (MAX_BYTES + 1), "plan_too_large"),
])
def test_bad_uploads_say_why(content_type, body, reason):
    with pytest.raises(BadPlan) as refused:
        measure(content_type, body)
    assert refused.value.reason == reason
