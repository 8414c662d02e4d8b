"""oktopus stand-in for Panther's panther_event_type_helpers: standard event-type names."""


class event_type:  # noqa: N801 - the name rules import
    FAILED_LOGIN = "failed_login"
    SUCCESSFUL_LOGIN = "successful_login"
    MFA_DISABLED = "mfa_disabled"
    ADMIN_MFA_DISABLED = "admin_mfa_disabled"
    MFA_RESET = "mfa_reset"
