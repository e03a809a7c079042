"""The presence service's outbox relay: the shared relay (``escale_common.outbox``)
bound to the ``presence.events`` exchange."""

from escale_common.outbox import OutboxRelay as _SharedRelay

from ..domain.events import EXCHANGE


class OutboxRelay(_SharedRelay):
    exchange_name = EXCHANGE
