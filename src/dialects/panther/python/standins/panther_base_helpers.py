"""oktopus stand-in for Panther's panther_base_helpers (only what Okta rules use)."""
from oktopus_event import deep_get, deep_walk  # noqa: F401
from panther_okta_helpers import okta_alert_context, pantherflow_investigation  # noqa: F401
