"""The embedded broker: Celery's messages as files in one folder, for a machine with no server.

kombu's own file-system transport (`filesystem://`) writes each message file in place, so
a worker polling the folder could read a file still being written and crash on it. This
transport, `filequeue://`, only ever hands over whole messages:

- a message is written under `staging/` and renamed into `queue/` (one atomic step on one
  file system), so a file in `queue/` is always complete;
- a consumer claims a message by renaming it into `processed/` (only one consumer wins),
  reads it, and deletes it;
- a file that does not decode as a message (empty, truncated, garbage) is moved to
  `rejected/` beside the queue and logged, and the next message is consumed;
- exchange tables in `control/` are rewritten the same way, under a lock.

Options (CELERY_BROKER_TRANSPORT_OPTIONS): `folder`, the broker's folder, which the
transport creates with its subfolders; and kombu's `polling_interval`.
"""

import logging
import os
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from time import monotonic_ns
from typing import Any, ClassVar

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

SCHEME = "filequeue"
SUBFOLDERS = ("queue", "staging", "processed", "rejected", "control")

ExchangeTable = list[filesystem.exchange_queue_t]


class Channel(filesystem.Channel):
    """kombu's file-system channel, with whole-message writes and a reader that never crashes."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in SUBFOLDERS:
            (self.folder / name).mkdir(parents=True, exist_ok=True)

    # --- messages ---------------------------------------------------------------------------

    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        """Write the message beside the queue, then move it in whole."""
        # The zero-padded clock first: consumers take messages in name order.
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        try:
            self._write_whole(self.queue_folder / name, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the queue.") from exc

    def _get(self, queue: str) -> dict[str, Any]:  # type: ignore[override]
        """Claim, read and return the oldest whole message of `queue`; set aside what is not one."""
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.queue_folder)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = self.processed_folder / name
            try:
                os.rename(self.queue_folder / name, claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            except OSError as exc:
                raise ChannelError(f"Cannot claim message {name!r} from the queue.") from exc
            try:
                content = claimed.read_bytes()
            except OSError as exc:
                raise ChannelError(f"Cannot read message {name!r}.") from exc
            message, problem = _decode(content)
            if problem:
                self._reject(claimed, problem)
                continue
            claimed.unlink()
            return message
        raise Empty()

    def _reject(self, claimed: Path, problem: str) -> None:
        rejected = self.rejected_folder / claimed.name
        os.replace(claimed, rejected)
        logger.error(
            "The broker set aside %s: %s. Moved to %s; the queue goes on.",
            claimed.name,
            problem,
            rejected,
        )

    def _write_whole(self, target: Path, content: bytes) -> None:
        staged = self.staging_folder / f"{uuid.uuid4()}.part"
        try:
            with staged.open("wb") as file:
                file.write(content)
            # No fsync: the file survives a crash of this process, only not one of the machine,
            # and the embedded broker is for a developer's machine.
            os.replace(staged, target)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise

    # --- exchange tables --------------------------------------------------------------------

    def get_table(self, exchange: str) -> ExchangeTable:  # type: ignore[override]
        file = self._exchange_file(exchange)  # type: ignore[attr-defined]  # not in the stubs
        try:
            table = loads(bytes_to_str(file.read_bytes()))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        except ValueError:
            # Only a writer without whole-file writes (kombu's own) leaves one like this; it
            # is read as empty until its queues bind again, as their consumers start.
            logger.error("The broker's exchange table %s is unreadable: read as empty.", file)
            return []
        return [filesystem.exchange_queue_t(*entry) for entry in table]

    def _queue_bind(self, exchange, routing_key, pattern, queue) -> None:
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")

        def bind(table: ExchangeTable) -> ExchangeTable:
            return table if binding in table else [binding, *table]

        self._change_table(exchange, bind)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs) -> None:
        # kombu's virtual channel forgets the queue; the file channel would rewrite the table
        # in place, so its part is done here instead.
        super(filesystem.Channel, self)._delete(
            queue, exchange, routing_key, pattern, *args, **kwargs
        )
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: [b for b in table if b != binding])

    def _change_table(
        self, exchange: str, change: Callable[[ExchangeTable], ExchangeTable]
    ) -> None:
        """Read, change and replace an exchange table whole, one process at a time."""
        file = self._exchange_file(exchange)  # type: ignore[attr-defined]  # not in the stubs
        with self._tables_locked():
            table = self.get_table(exchange)
            changed = change(table)
            if changed != table or not file.exists():
                self._write_whole(file, str_to_bytes(dumps(changed)))

    @contextmanager
    def _tables_locked(self):
        with (self.control_folder / ".lock").open("a") as lock_file:
            filesystem.lock(lock_file, filesystem.LOCK_EX)  # type: ignore[attr-defined]
            try:
                yield
            finally:
                filesystem.unlock(lock_file)

    # --- folders ----------------------------------------------------------------------------

    @cached_property
    def folder(self) -> Path:
        return broker_folder(self.transport_options)

    @cached_property
    def queue_folder(self) -> Path:
        return self.folder / "queue"

    @cached_property
    def staging_folder(self) -> Path:
        return self.folder / "staging"

    @cached_property
    def processed_folder(self) -> Path:
        return self.folder / "processed"

    @cached_property
    def rejected_folder(self) -> Path:
        return self.folder / "rejected"

    @property
    def control_folder(self) -> Path:
        return self.folder / "control"

    # kombu's names, for the methods inherited unchanged (_size, _purge).
    @cached_property
    def data_folder_in(self) -> str:
        return str(self.queue_folder)

    @cached_property
    def data_folder_out(self) -> str:
        return str(self.queue_folder)


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = SCHEME
    driver_name = SCHEME

    # What a process has declared (exchanges, bindings), per broker folder: kombu keeps one
    # for all its file-system connections, so a second folder would miss its bindings.
    states: ClassVar[dict[Path, virtual.BrokerState]] = {}

    def __init__(self, client, **kwargs) -> None:
        super().__init__(client, **kwargs)
        self.state = self.states.setdefault(
            broker_folder(client.transport_options), virtual.BrokerState()
        )


def broker_folder(transport_options: dict) -> Path:
    return Path(transport_options.get("folder", "broker")).resolve()


def _decode(content: bytes) -> tuple[dict, str]:
    """Return the message in `content`, or why it is not one."""
    if not content:
        return {}, "the file is empty"
    try:
        message = loads(bytes_to_str(content))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        return {}, f"not a JSON message ({exc})"
    if not isinstance(message, dict) or not isinstance(message.get("properties"), dict):
        return {}, "not a kombu message (no properties)"
    return message, ""


TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
