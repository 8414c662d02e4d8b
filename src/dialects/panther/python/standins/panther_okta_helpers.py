"""oktopus stand-in for Panther's panther_okta_helpers: okta_alert_context(event)."""
import json
from collections.abc import Mapping

from oktopus_event import deep_get


def pantherflow_investigation(event, interval="30m"):
    """A PantherFlow query for the events around this one (+/- interval) sharing an indicator."""
    log_type = deep_get(event, "p_log_type") or "Okta.SystemLog"
    when = deep_get(event, "p_event_time") or ""
    table = "panther_logs.public." + str(log_type).lower().replace(".", "_")
    lines = [
        f"union {table}",
        f"| where p_event_time between time.parse_timestamp('{when}') - time.parse_timespan('{interval}')"
        f" .. time.parse_timestamp('{when}') + time.parse_timespan('{interval}')",
    ]
    overlaps = []
    if isinstance(event, Mapping):
        for key in event:
            value = event.get(key)
            if not str(key).startswith("p_any_") or key == "p_any_aws_account_ids":
                continue
            if isinstance(value, (list, tuple)) or hasattr(value, "to_list"):
                overlaps.append(f"arrays.overlap({key}, {json.dumps(list(value), separators=(',', ':'))})")
    if overlaps:
        lines.append("| where " + "\n    or ".join(overlaps))
    lines.append("| sort p_event_time")
    return "\n".join(lines)


def okta_alert_context(event):
    return {
        "event_type": deep_get(event, "eventtype"),
        "severity": deep_get(event, "severity"),
        "actor": deep_get(event, "actor", default={}),
        "client": deep_get(event, "client", default={}),
        "request": deep_get(event, "request", default={}),
        "outcome": deep_get(event, "outcome", default={}),
        "target": deep_get(event, "target", default=[]),
        "debug_context": deep_get(event, "debugcontext", default={}),
        "authentication_context": deep_get(event, "authenticationcontext", default={}),
        "security_context": deep_get(event, "securitycontext", default={}),
        "ips": deep_get(event, "p_any_ip_addresses", default=[]),
        "PantherFlow Investigation": pantherflow_investigation(event),
    }
