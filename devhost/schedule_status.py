"""Timer schedule status in host storage (`azure-webjobs-hosts/timers/<hostId>/<functionId>/status`).

The real host keeps `{"Last", "Next", "LastUpdated"}` there so that, after downtime, it can tell a
scheduled beat was missed (`Next` lies in the past) and fire once with `IsPastDue`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from devhost.receipts import HOSTS_CONTAINER


@dataclass(frozen=True)
class ScheduleStatus:
    last: datetime | None
    next: datetime | None
    last_updated: datetime | None

    def as_dict(self) -> dict[str, str]:
        """The shape `TimerRequest.schedule_status` has on the real host."""
        return {
            key: value.isoformat()
            for key, value in (("Last", self.last), ("Next", self.next), ("LastUpdated", self.last_updated))
            if value is not None
        }


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class ScheduleStatusStore:
    """Reads and writes one timer function's status blob (blocking SDK calls)."""

    def __init__(self, service: BlobServiceClient, host_id: str, function_id: str) -> None:
        self.path = f"timers/{host_id}/{function_id}/status"
        self._blob = service.get_blob_client(HOSTS_CONTAINER, self.path)

    def read(self) -> ScheduleStatus | None:
        try:
            document = json.loads(self._blob.download_blob().readall())
        except ResourceNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        if not isinstance(document, dict):
            return None
        return ScheduleStatus(
            _parse(document.get("Last")), _parse(document.get("Next")), _parse(document.get("LastUpdated"))
        )

    def write(self, status: ScheduleStatus) -> None:
        self._blob.upload_blob(json.dumps(status.as_dict()).encode(), overwrite=True)
