"""Whether the enrichment runs: ANALISA_ENRICHMENT=on|off|auto (auto: on when the model library
is installed). `on` without the library is a configuration error, said as such."""

from __future__ import annotations

from analisa.core.settings import Settings
from enrichment.model import LIBRARY, EnrichmentUnavailable, library_installed


def enrichment_enabled(settings: Settings) -> bool:
    if settings.enrichment == "off":
        return False
    if settings.enrichment == "on" and not library_installed():
        raise EnrichmentUnavailable(
            f"ANALISA_ENRICHMENT=on but {LIBRARY} is not installed: "
            "pip install -c constraints.txt -e '.[enrichment]', or set ANALISA_ENRICHMENT=off"
        )
    return library_installed()
