"""The console commands beside ``lit-kgns`` (:mod:`lit_kgns.cli`): ``lit-kgns-run-many``, ``lit-kgns-tune``,
``lit-kgns-export``, and the pool-statistics script (``python -m lit_kgns.commands.pool_statistics``)."""
