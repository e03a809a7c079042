"""The Escale bot on Matrix (and Tchap, which is Matrix): ``python -m notify.matrix_bot``.

It accepts every invitation to a room, and answers the messages addressed
to it: every message in a direct room (two members), and in larger rooms
those that start with or mention its name ("Escale, où est Marie ?",
"@escale:server qui est là demain ?"). The question goes to the notify
service (``notify.bot_answer``) with the sender's Matrix id, which notify
maps to a person (``chat_identity`` table, or the Tchap rule); the reply is
sent as an ``m.notice`` (bots do not answer notices, so two bots never
loop). Messages older than the bot's start are not answered.

An asyncio process (matrix-nio), separate from the eventlet service; it
speaks nameko's RPC protocol with the gateway's asyncio client. End-to-end
encrypted rooms are not supported (no olm): invite the bot to rooms
without encryption.

Configuration: ``ESCALE_MATRIX_HOMESERVER``, ``ESCALE_MATRIX_USER_ID``,
``ESCALE_MATRIX_ACCESS_TOKEN`` or ``ESCALE_MATRIX_PASSWORD``,
``ESCALE_AMQP_URI``, ``ESCALE_MATRIX_BOT_HTTP`` (health, default
127.0.0.1:8104), ``ESCALE_RPC_TIMEOUT``, ``ESCALE_LOG_LEVEL``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field

from aiohttp import web
from nio import AsyncClient, InviteMemberEvent, LoginResponse, MatrixRoom, RoomMessageText

from gateway.rpc import RpcClient, RpcError

log = logging.getLogger("notify.matrix_bot")

SORRY = ("Escale ne peut pas répondre pour le moment ; réessayez dans un instant. / "
         "Escale cannot answer right now; try again in a moment.")


@dataclass(frozen=True)
class BotConfig:
    homeserver: str
    user_id: str
    access_token: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
    http: str = "127.0.0.1:8104"
    rpc_timeout: float = 10.0

    @classmethod
    def from_env(cls, env=None) -> "BotConfig":
        env = os.environ if env is None else env
        missing = [n for n in ("ESCALE_MATRIX_HOMESERVER", "ESCALE_MATRIX_USER_ID") if not env.get(n)]
        if not (env.get("ESCALE_MATRIX_ACCESS_TOKEN") or env.get("ESCALE_MATRIX_PASSWORD")):
            missing.append("ESCALE_MATRIX_ACCESS_TOKEN (or ESCALE_MATRIX_PASSWORD)")
        if missing:
            raise SystemExit("the Matrix bot needs: " + ", ".join(missing))
        try:
            timeout = float(env.get("ESCALE_RPC_TIMEOUT") or 10)
        except ValueError:
            raise SystemExit("ESCALE_RPC_TIMEOUT must be a number of seconds") from None
        return cls(
            homeserver=env["ESCALE_MATRIX_HOMESERVER"].rstrip("/"),
            user_id=env["ESCALE_MATRIX_USER_ID"],
            access_token=env.get("ESCALE_MATRIX_ACCESS_TOKEN") or "",
            password=env.get("ESCALE_MATRIX_PASSWORD") or "",
            amqp_uri=env.get("ESCALE_AMQP_URI") or cls.amqp_uri,
            http=env.get("ESCALE_MATRIX_BOT_HTTP") or cls.http,
            rpc_timeout=timeout,
        )


def addressed_text(body: str, room_members: int, user_id: str, display_name: str | None) -> str | None:
    """The question if the message is for the bot, else None."""
    text = (body or "").strip()
    if not text:
        return None
    localpart = user_id.lstrip("@").split(":", 1)[0]
    names = {user_id.lower(), localpart.lower(), "escale"}
    if display_name:
        names.add(display_name.lower())
    pattern = r"^\s*(?:@?(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) \
        + r")\b[\s:,!]*)"
    stripped = re.sub(pattern, "", text, count=1, flags=re.IGNORECASE)
    mentioned = stripped != text or user_id.lower() in text.lower()
    if room_members <= 2:
        return stripped.replace(user_id, "").strip() or text
    if mentioned:
        return stripped.replace(user_id, "").strip() or None
    return None


class MatrixBot:
    def __init__(self, config: BotConfig):
        self.config = config
        self.client = AsyncClient(config.homeserver, config.user_id)
        self.rpc = RpcClient(config.amqp_uri, timeout=config.rpc_timeout, name="matrix-bot")
        self.ready = False
        self.started_ms = int(time.time() * 1000)
        self.answered = 0

    async def login(self) -> None:
        if self.config.access_token:
            self.client.access_token = self.config.access_token
            self.client.user_id = self.config.user_id
            return
        response = await self.client.login(self.config.password, device_name="Escale bot")
        if not isinstance(response, LoginResponse):
            raise SystemExit(f"Matrix login failed: {getattr(response, 'status_code', response)}")

    async def on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        result = await self.client.join(room.room_id)
        log.info("joined room", extra={"room_id": room.room_id, "ok": not hasattr(result, "message")})

    async def on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id or event.server_timestamp < self.started_ms:
            return
        display_name = room.user_name(self.client.user_id) if room else None
        question = addressed_text(event.body, room.member_count, self.client.user_id, display_name)
        if question is None:
            return
        try:
            reply = await self.rpc.call("notify", "bot_answer",
                                        asker={"platform": "matrix", "external_id": event.sender},
                                        text=question[:500])
            text = str(reply.get("text") or "")
        except RpcError as exc:
            log.warning("bot answer unavailable", extra={"error": type(exc).__name__})
            text = SORRY
        await self.client.room_send(room.room_id, "m.room.message",
                                    {"msgtype": "m.notice", "body": text},
                                    ignore_unverified_devices=True)
        self.answered += 1

    async def run(self) -> None:
        await self.login()
        while True:
            try:
                await self.rpc.connect()
                break
            except Exception as exc:  # noqa: BLE001 - broker not up yet: keep trying
                log.warning("broker not reachable yet", extra={"error": type(exc).__name__})
                await asyncio.sleep(1)
        first = await self.client.sync(timeout=0, full_state=True)
        if hasattr(first, "status_code") and not hasattr(first, "next_batch"):
            raise SystemExit(f"Matrix sync failed: {first}")
        # Invitations that arrived while the bot was away.
        for room_id in list(self.client.invited_rooms):
            await self.client.join(room_id)
        self.client.add_event_callback(self.on_invite, InviteMemberEvent)
        self.client.add_event_callback(self.on_message, RoomMessageText)
        self.ready = True
        log.info("Matrix bot ready", extra={"user_id": self.client.user_id})
        await self.client.sync_forever(timeout=30000, full_state=False)

    async def close(self) -> None:
        await self.rpc.close()
        await self.client.close()


async def _health(bot: MatrixBot, address: str) -> web.AppRunner:
    async def healthz(request):
        return web.json_response({"status": "ok"})

    async def readyz(request):
        ready = bot.ready and bot.rpc.connected
        return web.json_response({"status": "ready" if ready else "not_ready",
                                  "answered": bot.answered}, status=200 if ready else 503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, _, port = address.rpartition(":")
    await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
    return runner


async def main() -> None:
    config = BotConfig.from_env()
    bot = MatrixBot(config)
    runner = await _health(bot, config.http)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(bot.run())
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception) as exc:  # noqa: BLE001
        if task in done and not isinstance(exc, asyncio.CancelledError):
            log.error("Matrix bot stopped", extra={"error": repr(exc)})
    await bot.close()
    await runner.cleanup()
    if task in done and not stop.is_set():
        sys.exit(1)


if __name__ == "__main__":
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level",
                                                      "name": "logger"}))
    logging.basicConfig(level=os.environ.get("ESCALE_LOG_LEVEL", "INFO"), handlers=[handler])
    logging.getLogger("nio").setLevel(logging.WARNING)
    asyncio.run(main())
