"""The function app the devhost integration tests serve (copied into a tmp dir per test).

Every invocation writes one JSON record into RECORD_DIR, so tests assert on what the functions
actually received. Behaviour is steered by the payload ("fail..." raises) and by env settings.
"""

import json
import os
import pathlib
import time

import azure.functions as func

app = func.FunctionApp()
RECORDS = pathlib.Path(os.environ["RECORD_DIR"])


def record(kind: str, **fields: object) -> None:
    path = RECORDS / f"{kind}-{time.time_ns()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(fields))
    tmp.rename(path)


def _hold(name: str, data: bytes) -> int | None:
    """`hold-N`: stay running until N invocations run at once (or one has finished); return the most
    seen running together. `block`: stay running until the test writes RECORD_DIR/release."""
    if data.startswith(b"block"):
        (RECORDS / "blocked").write_text(name)
        for _ in range(400):
            if (RECORDS / "release").exists():
                break
            time.sleep(0.05)
        return None
    if not data.startswith(b"hold-"):
        return None
    target = int(data.split(b"-")[1])
    mine = RECORDS / f"running-{name.replace('/', '_')}"
    mine.write_text("")
    peak = 0
    try:
        for _ in range(400):
            running = len(list(RECORDS.glob("running-*")))
            peak = max(peak, running)
            if running >= target or list(RECORDS.glob("finished-*")):
                break
            time.sleep(0.05)
        time.sleep(0.3)  # an invocation over the bound would start meanwhile
        peak = max(peak, len(list(RECORDS.glob("running-*"))))
    finally:
        mine.unlink()
        (RECORDS / f"finished-{name.replace('/', '_')}").write_text("")
    return peak


@app.blob_trigger(arg_name="blob", path="%TEST_CONTAINER%/{name}", connection="FORMS_STORAGE")
def on_blob(blob: func.InputStream) -> None:
    if "read-late" in (blob.name or ""):  # the test changes the blob before the function reads it
        _hold(blob.name or "", b"block")
    data = blob.read()
    peak = _hold(blob.name or "", data)
    record(
        "blob",
        input_stream=isinstance(blob, func.InputStream),
        md5=(blob.blob_properties or {}).get("ContentMD5"),
        name=blob.name,
        length=blob.length,
        uri=blob.uri,
        etag=(blob.blob_properties or {}).get("ETag"),
        metadata=blob.metadata,
        data=data.decode("utf-8", errors="replace"),
        peak=peak,
    )
    if data.startswith(b"fail"):
        raise RuntimeError(f"blob {blob.name} asked to fail")


@app.queue_trigger(arg_name="msg", queue_name="%TEST_QUEUE%", connection="FORMS_STORAGE")
async def on_message(msg: func.QueueMessage) -> None:
    body = msg.get_body().decode("utf-8", errors="replace")
    partner = None
    if body.startswith("pair-"):
        # Each of two messages waits for the other to start: only parallel workers get both through.
        (RECORDS / f"started-{body}").write_text("")
        import asyncio

        for _ in range(200):
            if len(list(RECORDS.glob("started-pair-*"))) >= 2:
                partner = True
                break
            await asyncio.sleep(0.05)
        else:
            partner = False
    if body.startswith("sleep"):
        import asyncio

        await asyncio.sleep(60)
    record(
        "queue",
        type=type(msg).__name__,
        id=msg.id,
        body=body,
        dequeue_count=msg.dequeue_count,
        inserted=msg.insertion_time.isoformat() if msg.insertion_time else None,
        partner=partner,
    )
    if body.startswith("fail") or partner is False:
        raise ValueError(f"message {body!r} asked to fail")


_first_tick = {"pending": True}


@app.timer_trigger(
    arg_name="timer",
    schedule="%TEST_SCHEDULE%",
    run_on_startup=os.environ.get("TEST_RUN_ON_STARTUP") == "1",
    use_monitor=os.environ.get("TEST_USE_MONITOR") == "1",
)
def on_timer(timer: func.TimerRequest) -> None:
    record("timer", type=type(timer).__name__, past_due=timer.past_due, status=timer.schedule_status)
    if _first_tick["pending"]:
        _first_tick["pending"] = False
        time.sleep(float(os.environ.get("TEST_FIRST_TICK_SLEEP", "0")))
    if os.environ.get("TEST_TIMER_FAIL") == "1":
        raise RuntimeError("timer asked to fail")
