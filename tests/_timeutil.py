"""Time helpers shared by the cron tests: ISO-8601 UTC strings to virtual ms and back."""

from datetime import datetime, timezone


def ms(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def iso(value: float) -> str:
    dt = datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond // 1000:03d}"
    return text + "Z"
