"""Floor plan images: what an upload must be, and its size (no I/O).

A plan is the backdrop of a floor in the web app; desks are placed on it in
the image's own units. Two formats, both drawn by every browser without a
plug-in: PNG (its size is in the IHDR chunk) and SVG (its ``viewBox``, else
its ``width``/``height`` in user units). An SVG must be a plain drawing:
scripts, event handler attributes, foreign objects and external references
are refused, and the gateway serves plans with a sandboxing CSP as well, so
a plan can never run code in anyone's session.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET

MAX_BYTES = 5 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "image/svg+xml"
PNG = "image/png"
_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")
_FORBIDDEN_TAGS = {"script", "foreignobject", "iframe", "embed", "object"}


class BadPlan(ValueError):
    """The upload is not a usable plan; ``reason`` is an i18n message key."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def measure(content_type: str, data: bytes) -> tuple[float, float]:
    """``(width, height)`` of a plan, or :class:`BadPlan`."""
    if not data:
        raise BadPlan("plan_empty")
    if len(data) > MAX_BYTES:
        raise BadPlan("plan_too_large")
    if content_type == PNG:
        return _png_size(data)
    if content_type == SVG:
        return _svg_size(data)
    raise BadPlan("plan_type")


def _png_size(data: bytes) -> tuple[float, float]:
    if len(data) < 24 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        raise BadPlan("plan_unreadable")
    width, height = struct.unpack(">II", data[16:24])
    if not width or not height:
        raise BadPlan("plan_unreadable")
    return float(width), float(height)


def _svg_size(data: bytes) -> tuple[float, float]:
    if b"<!ENTITY" in data or b"<!DOCTYPE" in data.upper():
        raise BadPlan("plan_unsafe")  # no entity expansion, no external DTDs
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise BadPlan("plan_unreadable") from None
    if _local(root.tag) != "svg":
        raise BadPlan("plan_unreadable")
    for element in root.iter():
        if _local(element.tag).lower() in _FORBIDDEN_TAGS:
            raise BadPlan("plan_unsafe")
        for name, value in element.attrib.items():
            local = _local(name).lower()
            if local.startswith("on"):
                raise BadPlan("plan_unsafe")
            if local == "href" and not value.startswith(("#", "data:image/")):
                raise BadPlan("plan_unsafe")
    view_box = root.get("viewBox")
    if view_box:
        parts = re.split(r"[\s,]+", view_box.strip())
        try:
            width, height = float(parts[2]), float(parts[3])
        except (IndexError, ValueError):
            raise BadPlan("plan_unreadable") from None
    else:
        width, height = _length(root.get("width")), _length(root.get("height"))
    if not (width and height and width > 0 and height > 0):
        raise BadPlan("plan_no_size")
    return width, height


def _length(value: str | None) -> float | None:
    match = _NUMBER.match(value or "")
    return float(match.group(1)) if match else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
