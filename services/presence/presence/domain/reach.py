"""How to reach a person now: their contact channels, best first.

The person's preferred channel always comes first; the others follow in
the order that suits the status (at the desk: the phone; remote or on
mission: softphone, video, chat; do not disturb or in a meeting: written
channels first). Only channels the directory knows are listed.
"""

from __future__ import annotations

from urllib.parse import quote

CHANNELS = ("phone", "softphone", "video", "chat", "email")

ORDER_BY_STATUS = {
    "on_site": ("phone", "chat", "softphone", "video", "email"),
    "remote": ("softphone", "video", "chat", "phone", "email"),
    "mission": ("softphone", "chat", "video", "email", "phone"),
    "in_meeting": ("chat", "email", "softphone", "phone", "video"),
    "do_not_disturb": ("chat", "email", "softphone", "phone", "video"),
    "away": ("chat", "email", "softphone", "phone", "video"),
    "off": ("email", "chat", "softphone", "phone", "video"),
}
DEFAULT_ORDER = ("phone", "softphone", "chat", "video", "email")


def channels(contacts: dict) -> dict[str, dict]:
    """Each known channel of a directory entry as ``{channel, value, href}``."""
    out: dict[str, dict] = {}
    ext = (contacts.get("phone_extension") or "").strip()
    if ext:
        out["phone"] = {"channel": "phone", "value": ext, "href": "tel:" + _dial(ext)}
    soft = (contacts.get("softphone") or "").strip()
    if soft:
        out["softphone"] = {"channel": "softphone", "value": soft, "href": _softphone_href(soft)}
    video = (contacts.get("video_url") or "").strip()
    if video.startswith("https://"):
        out["video"] = {"channel": "video", "value": video, "href": video}
    chat = (contacts.get("chat_handle") or "").strip()
    if chat:
        out["chat"] = {"channel": "chat", "value": chat, "href": _chat_href(chat)}
    email = (contacts.get("email") or "").strip()
    if email:
        out["email"] = {"channel": "email", "value": email, "href": "mailto:" + quote(email, safe="@.+-_")}
    return out


def reach(contacts: dict, status: str | None) -> list[dict]:
    known = channels(contacts)
    order = list(ORDER_BY_STATUS.get(status or "", DEFAULT_ORDER))
    preferred = contacts.get("preferred_channel") or ""
    if preferred in order:
        order.remove(preferred)
        order.insert(0, preferred)
    return [known[c] for c in order if c in known]


def _dial(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit() or ch == "+")


def _softphone_href(value: str) -> str:
    if value.startswith(("sip:", "tel:")):
        return value
    if "@" in value:
        return "sip:" + value
    return "tel:" + _dial(value)


def _chat_href(handle: str) -> str | None:
    # A Matrix id (@user:server) opens through matrix.to; other handles have no universal link.
    if handle.startswith("@") and ":" in handle:
        return "https://matrix.to/#/" + handle
    if handle.startswith("https://"):
        return handle
    return None
