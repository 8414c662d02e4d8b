"""oktopus stand-in for panther_detection_helpers.caching: the key-value cache rules use for
state, kept in this worker's memory (each rule always runs in the same worker; the cache is
lost when the worker restarts). "Now" is the time of the event being evaluated; an
`epoch_seconds` below 1e9 is relative to it; an entry past its expiry reads as absent."""
import time

import oktopus_event

_store = {}


def _now():
    t = oktopus_event.current_time()
    return time.time() if t is None else t


def _expiry(epoch_seconds):
    if epoch_seconds is None:
        return None
    epoch_seconds = float(epoch_seconds)
    return _now() + epoch_seconds if epoch_seconds < 1e9 else epoch_seconds


def _get(key):
    entry = _store.get(key)
    if entry is None:
        return None
    if entry["expires"] is not None and entry["expires"] <= _now():
        del _store[key]
        return None
    return entry


def _put(key, value, epoch_seconds=None):
    old = _get(key)
    expires = _expiry(epoch_seconds) if epoch_seconds is not None else (old["expires"] if old else None)
    _store[key] = {"value": value, "expires": expires}


def get_counter(key, force_ttl_check=False):  # noqa: ARG001
    entry = _get(key)
    return int(entry["value"]) if entry and isinstance(entry["value"], (int, float)) else 0


def increment_counter(key, val=1, epoch_seconds=None):
    count = get_counter(key) + int(val)
    _put(key, count, epoch_seconds)
    return count


def reset_counter(key):
    _store.pop(key, None)


def set_key_expiration(key, epoch_seconds):
    entry = _get(key)
    if entry is not None:
        entry["expires"] = _expiry(epoch_seconds)


def get_dictionary(key, force_ttl_check=False):  # noqa: ARG001
    entry = _get(key)
    return dict(entry["value"]) if entry and isinstance(entry["value"], dict) else {}


def put_dictionary(key, val, epoch_seconds=None):
    _put(key, dict(val), epoch_seconds)


def get_string_set(key, force_ttl_check=False):  # noqa: ARG001
    entry = _get(key)
    return set(entry["value"]) if entry and isinstance(entry["value"], set) else set()


def put_string_set(key, val, epoch_seconds=None):
    values = {val} if isinstance(val, str) else set(str(v) for v in val)
    _put(key, values, epoch_seconds)


def add_to_string_set(key, val, epoch_seconds=None):
    values = get_string_set(key) | ({val} if isinstance(val, str) else set(str(v) for v in val))
    _put(key, values, epoch_seconds)
    return values


def remove_from_string_set(key, val):
    values = get_string_set(key) - ({val} if isinstance(val, str) else set(str(v) for v in val))
    _put(key, values)
    return values


def reset_string_set(key):
    _store.pop(key, None)


def evaluate_threshold(key, threshold=10, expiry_seconds=3600):
    hits = increment_counter(key, epoch_seconds=_now() + expiry_seconds if get_counter(key) == 0 else None)
    if hits >= threshold:
        reset_counter(key)
        return True
    return False
