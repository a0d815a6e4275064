"""The embedded broker (filequeue://) hands over whole messages only and survives a bad file."""

import json
import logging
import os
import subprocess
import threading
import time
from pathlib import Path

from kombu import Connection

from backoffice.celery import app
from tests.processes import ROOT, wait_for, worker_argv

BURST = 500


def connect(folder: Path) -> Connection:
    return Connection("filequeue://", transport_options={"folder": str(folder)})


def test_messages_arrive_whole_and_in_order(tmp_path):
    with connect(tmp_path) as connection:
        queue = connection.SimpleQueue("orders")
        for number in range(5):
            queue.put({"number": number})
        received = [queue.get(timeout=1) for _ in range(5)]
        for message in received:
            message.ack()
        assert [m.payload["number"] for m in received] == list(range(5))
        assert not list((tmp_path / "queue").iterdir())
        queue.close()


def test_an_empty_or_garbage_file_is_set_aside_and_the_queue_goes_on(tmp_path, caplog):
    with connect(tmp_path) as connection:
        queue = connection.SimpleQueue("orders")
        # Older than anything the producer writes, so the consumer meets them first.
        (tmp_path / "queue" / "00000000000000000001_a.orders.msg").write_bytes(b"")
        (tmp_path / "queue" / "00000000000000000002_b.orders.msg").write_bytes(b'{"body": "tru')
        queue.put({"number": 1})
        queue.put({"number": 2})

        with caplog.at_level(logging.ERROR, logger="backoffice.broker"):
            received = [queue.get(timeout=1) for _ in range(2)]
        for message in received:
            message.ack()
        queue.close()

    assert [m.payload["number"] for m in received] == [1, 2]
    rejected = sorted(p.name for p in (tmp_path / "rejected").iterdir())
    assert rejected == ["00000000000000000001_a.orders.msg", "00000000000000000002_b.orders.msg"]
    assert (tmp_path / "rejected" / rejected[1]).read_bytes() == b'{"body": "tru'
    logged = [r.getMessage() for r in caplog.records]
    assert any("00000000000000000001_a.orders.msg" in line and "empty" in line for line in logged)
    assert any("00000000000000000002_b.orders.msg" in line and "JSON" in line for line in logged)


def test_a_message_file_is_never_seen_half_written(tmp_path):
    """While a producer writes large messages, every file in the queue folder is complete."""
    with connect(tmp_path) as connection:
        connection.SimpleQueue("orders").close()
    body = "x" * 200_000
    done = threading.Event()

    def produce() -> None:
        with connect(tmp_path) as connection:
            queue = connection.SimpleQueue("orders")
            for number in range(200):
                queue.put({"number": number, "body": body})
            queue.close()
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    seen = 0
    while not done.is_set() or seen == 0:
        for path in (tmp_path / "queue").iterdir():
            try:
                content = path.read_bytes()
            except FileNotFoundError:
                continue
            json.loads(content)  # raises on a half-written file
            seen += 1
    producer.join()
    assert seen


def test_a_worker_loses_no_task_of_a_burst(tmp_path):
    """A real worker on the embedded broker runs every task of a burst exactly once.

    An empty file left at the head of the queue (a message an older writer left half done)
    is set aside on the way, with a log line.
    """
    folder, delivered = tmp_path / "broker", tmp_path / "delivered"
    delivered.mkdir()
    connection = connect(folder)
    default_queue = app.amqp.queues[app.conf.task_default_queue]
    default_queue(connection.default_channel).declare()
    (folder / "queue" / f"00000000000000000001_empty.{default_queue.name}.msg").touch()

    log = tmp_path / "worker.log"
    worker = start_worker(folder=folder, database=tmp_path / "db.sqlite3", log=log)
    try:
        wait_for(lambda: "ready." in read(log), timeout=60, what=f"the worker\n{read(log)}")

        def send(numbers: range) -> None:
            with connect(folder) as own:
                for number in numbers:
                    app.send_task(
                        "tests.record_delivery", args=[str(delivered), number], connection=own
                    )

        senders = [
            threading.Thread(target=send, args=(range(start, BURST, 4),)) for start in range(4)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()

        wait_for(
            lambda: len(list(delivered.iterdir())) >= BURST or worker.poll() is not None,
            timeout=120,
            what=f"{BURST} deliveries\n{read(log)[-3000:]}",
        )
        time.sleep(0.5)  # a duplicate would show up now
        assert worker.poll() is None, read(log)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        connection.release()

    names = {p.name for p in delivered.iterdir()}
    assert names == {str(n) for n in range(BURST)}, f"missing or repeated: {read(log)[-3000:]}"
    assert [p.name for p in (folder / "rejected").iterdir()] == [
        f"00000000000000000001_empty.{default_queue.name}.msg"
    ]
    assert "set aside" in read(log)
    assert "Traceback" not in read(log)


def start_worker(*, folder: Path, database: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "CELERY_BROKER_URL": "filequeue://",
        "CELERY_BROKER_FOLDER": str(folder),
    }
    return subprocess.Popen(
        worker_argv(
            concurrency=8,
            hostname=f"file-broker-{os.getpid()}@%h",
            extra=["--without-heartbeat", "--include", "tests.backoffice.delivery_tasks"],
        ),
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""
