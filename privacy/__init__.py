"""Data subjects' rights (principle 7): erasure, the suppression list, access (subject export)
and the audit log of the admin and data-subject actions. Imports analisa.core and connectors
only; the CLI and the API wire it in."""
