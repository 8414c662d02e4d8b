"""The event object oktopus gives Panther Python rule bodies (written for oktopus from the
behaviour described in its reference notes, panther-okta.md section 1.3; not Panther's code).

What a rule sees, as with Panther's PantherEvent (an immutable case-insensitive dict):
  - key lookup is case-insensitive at every level (the exact spelling first), because nested
    mappings and lists are wrapped when read: event["eventType"], event.get("eventtype"),
    event["actor"]["ALTERNATEID"] all work whatever the log's casing;
  - the event is read-only (item assignment raises TypeError);
  - get(key, default=None), deep_get(*keys, default=None), deep_walk(*keys, default=None,
    return_val="all"|"first"|"last"), udm(*keys, default=None) through the Okta data model,
    event_time_epoch(), to_dict();
  - PantherEvent.json_encoder: a `default=` for json.dumps that unwraps these objects.
Standard library only.
"""
from collections.abc import Mapping, Sequence

_MISSING = object()

# The time (epoch seconds) of the event being evaluated: the caching stand-ins use it as "now"
# (event time is oktopus's only clock, so a replay behaves as the live run would have).
_current_time = None


def set_current_time(seconds):
    global _current_time
    _current_time = seconds


def current_time():
    return _current_time


def wrap(value):
    if isinstance(value, dict):
        return ImmutableCaseInsensitiveDict(value)
    if isinstance(value, list):
        return ImmutableList(value)
    return value


def unwrap(value):
    """The plain value (dicts and lists) behind a wrapped one."""
    if isinstance(value, (ImmutableCaseInsensitiveDict, ImmutableList)):
        return value._data
    return value


class ImmutableList(Sequence):
    """A read-only list whose elements are wrapped when read."""

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ImmutableList(self._data[index])
        return wrap(self._data[index])

    def __len__(self):
        return len(self._data)

    def __eq__(self, other):
        if isinstance(other, (list, tuple, ImmutableList)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __add__(self, other):
        return list(self) + list(other)

    def __radd__(self, other):
        return list(other) + list(self)

    def __repr__(self):
        return repr(self._data)

    def to_list(self):
        import copy

        return copy.deepcopy(self._data)


class ImmutableCaseInsensitiveDict(Mapping):
    """A read-only mapping with case-insensitive keys (exact spelling first)."""

    __slots__ = ("_data", "_lower")

    def __init__(self, data):
        self._data = data
        self._lower = None

    def _key(self, key):
        if key in self._data:
            return key
        if not isinstance(key, str):
            return _MISSING
        if self._lower is None:
            lower = {}
            for k in self._data:
                if isinstance(k, str):
                    lower.setdefault(k.lower(), k)
            self._lower = lower
        return self._lower.get(key.lower(), _MISSING)

    def __getitem__(self, key):
        k = self._key(key)
        if k is _MISSING:
            raise KeyError(key)
        return wrap(self._data[k])

    def __contains__(self, key):
        return self._key(key) is not _MISSING

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def get(self, key, default=None):
        k = self._key(key)
        if k is _MISSING:
            return default
        return wrap(self._data[k])

    def __repr__(self):
        return repr(self._data)

    __hash__ = None

    def to_dict(self):
        import copy

        return copy.deepcopy(self._data)

    def deep_get(self, *keys, default=None):
        return deep_get(self, *keys, default=default)

    def deep_walk(self, *keys, default=None, return_val="all"):
        return deep_walk(self, *keys, default=default, return_val=return_val)


def deep_get(obj, *keys, default=None):
    """Each key literal (no dot splitting); a non-mapping on the way or a final None gives default."""
    cur = obj
    for key in keys:
        if not isinstance(cur, Mapping):
            return default
        cur = cur.get(key, default)
    return default if cur is None else cur


def _is_list(value):
    return isinstance(value, (list, tuple, ImmutableList))


def _empty_list(value):
    return _is_list(value) and all(_empty_list(x) for x in value)


def deep_walk(obj, *keys, default=None, return_val="all"):
    """Walks through lists too; unique values in first-seen order; one value alone; default when none."""

    def walk(o, ks):
        if not ks:
            return default if _empty_list(o) else o
        if isinstance(o, Mapping):
            nxt = o.get(ks[0])
            return default if nxt is None else walk(nxt, ks[1:])
        if _is_list(o):
            found = []
            for element in o:
                value = walk(element, ks)
                if value is None:
                    continue
                for x in value if _is_list(value) else [value]:
                    if x not in found:
                        found.append(x)
            if not found:
                return default
            if return_val == "first":
                return found[0]
            if return_val == "last":
                return found[-1]
            return found[0] if len(found) == 1 else found
        return default

    return walk(obj, keys)


# The Okta data model (Panther's Standard.Okta.SystemLog, from the reference's description).
FAILED_LOGIN = "failed_login"
SUCCESSFUL_LOGIN = "successful_login"
MFA_DISABLED = "mfa_disabled"
ADMIN_MFA_DISABLED = "admin_mfa_disabled"
MFA_RESET = "mfa_reset"


def _okta_event_type(event):
    kind = event.deep_get("eventType")
    result = event.deep_get("outcome", "result")
    reason = event.deep_get("outcome", "reason") or ""
    if kind == "user.session.start":
        if result == "FAILURE":
            return FAILED_LOGIN
        if result == "SUCCESS":
            return SUCCESSFUL_LOGIN
        return None
    if kind == "system.mfa.factor.deactivate":
        return ADMIN_MFA_DISABLED
    if kind in ("user.mfa.factor.deactivate", "user.mfa.factor.suspend"):
        return MFA_RESET if isinstance(reason, str) and reason.startswith("User reset") else MFA_DISABLED
    return None


def _okta_actor_user(event):
    value = event.deep_get("actor", "alternateId")
    return event.deep_get("actor", "displayName") if value is None else value


OKTA_DATA_MODEL = {
    "actor_user": _okta_actor_user,
    "event_type": _okta_event_type,
    "source_ip": lambda e: e.deep_get("client", "ipAddress"),
    "user_agent": lambda e: e.deep_get("client", "userAgent", "rawUserAgent"),
}


class PantherEvent(ImmutableCaseInsensitiveDict):
    """The event a rule receives: a case-insensitive read-only Okta LogEvent."""

    __slots__ = ("_time_ms",)

    def __init__(self, data, time_ms=None):
        super().__init__(data)
        self._time_ms = time_ms

    def udm(self, *keys, default=None):
        if len(keys) == 1 and keys[0] in OKTA_DATA_MODEL:
            value = OKTA_DATA_MODEL[keys[0]](self)
            return default if value is None else value
        # A name the data model lacks: the field of that name.
        return self.deep_get(*keys, default=default)

    def event_time_epoch(self):
        if self._time_ms is None:
            return None
        return int(self._time_ms // 1000)

    @staticmethod
    def json_encoder(value):
        if isinstance(value, (ImmutableCaseInsensitiveDict, ImmutableList)):
            return value._data
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
