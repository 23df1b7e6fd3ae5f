"""Planted twins: two Instagram creators who post the same things in other words (the twin
writes in English, or rephrases the Portuguese), on a subject no other sandbox creator touches
(birdwatching), so a lookalike search from one must find the other first
(SandboxConfig.planted_twins).

Like the planted truths they draw from their own random source: a world with them has the very
same default (and planted) accounts, posts and evolution as one without."""

from __future__ import annotations

from sandbox.world.planted import PlantedTruths, _Plant

ORIGINAL, TWIN = "planted.birder", "planted.birder.twin"

_ORIGINAL = (
    ("Avistei um tucano-toco no parque hoje cedo, que sorte", "#aves #natureza"),
    ("Minha lente nova para fotografar aves de longe", "#fotografiadeaves"),
    ("Trilha de madrugada para ouvir o canto dos pássaros", "#birdwatching"),
    ("Beija-flor tomando água no bebedouro da varanda", "#aves"),
    ("Guia de campo: como identificar gaviões pelo voo", "#observacaodeaves"),
)
# Each line says what the original's line at the same position says.
_TWIN = (
    ("Spotted a toco toucan in the park early this morning, so lucky", "#birds #nature"),
    ("My new lens for photographing birds from far away", "#birdphotography"),
    ("Caminhada antes do amanhecer só para escutar os passarinhos cantando", "#birdwatching"),
    ("A hummingbird drinking from the feeder on my balcony", "#birds"),
    ("Field guide: telling hawks apart by the way they fly", "#birding"),
)

TWIN_PLANTS = (
    _Plant(ORIGINAL, 12_000, _ORIGINAL, niche="natureza"),
    _Plant(TWIN, 15_000, _TWIN, niche="natureza"),
)


class PlantedTwins(PlantedTruths):
    """The twin creators: same making and evolution as the planted truths, own source."""

    plants = TWIN_PLANTS
    source = "twins"
