"""The assistant's actions: one module per operation, each registering its handler (base.HANDLERS,
action type -> handler) or its order operation (operations.OPERATIONS, name -> OrderOperation).

Importing this package registers them all; bot.services runs them through base.Executor.
"""

from . import (  # noqa: F401 — imported to register their handlers
    cancel,
    change_address,
    change_order,
    feedback,
    followup,
    handoff,
    knowledge,
    newsletter,
    order_info,
    products,
    returns,
    say,
    shipping,
    verify,
)
from .base import HANDLERS, Executor, Reply, dry_run, handles
from .operations import OPERATIONS, OrderOperation

__all__ = ["HANDLERS", "OPERATIONS", "Executor", "OrderOperation", "Reply", "dry_run", "handles"]
