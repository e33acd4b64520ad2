"""Scale-out on Ray: batch prediction, serving replicas and tuning trials on a cluster.

This package is the only place that imports Ray, and it does so lazily inside
functions (:func:`tagwise.distributed.runtime.import_ray`), so ``import tagwise`` and
every command without ``--backend ray`` work without the ``tagwise[ray]`` extra. The
Ray-free parts (shard planning, the resumable manifest) live in :mod:`.shards` so they
are testable without a cluster.
"""

from __future__ import annotations

RAY_EXTRA = "pip install 'tagwise[ray]'"
