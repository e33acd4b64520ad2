"""``tagwise serve --backend ray``: the same FastAPI app, replicated by Ray Serve.

Why a late-bound ingress (``serve.ingress()`` + ``__serve_build_asgi_app__``): each
replica calls :func:`tagwise.serving.create_app` itself, in its own process, so it gets
its own :class:`ModelHolder` (which watches the champion alias and hot-swaps), its own
metrics registry and its own feedback-store connection — exactly what one plain server
has. Nothing but the :class:`Settings` is pickled to the replicas, and Ray Serve runs
the app's lifespan, so startup and shutdown behave as under uvicorn. Endpoints, errors
(problem+json), limits and the UI are therefore the plain server's, unchanged.

Replicas of one machine can share the default SQLite feedback store (WAL); replicas
spread over a cluster need ``database_url`` pointing at PostgreSQL and a tracking URI
every node reaches.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from tagwise.config import Settings
from tagwise.distributed.runtime import LOCAL_HOST, import_ray, ray_session

FEATURE = "tagwise serve --backend ray"
APP_NAME = "tagwise"


def build_deployment(settings: Settings, *, replicas: int, model_ref: str | None = None) -> Any:
    """A bound Ray Serve application of ``replicas`` copies of the tagwise app."""
    serve = import_ray(FEATURE, "serve")

    class TagwiseIngress:
        """One replica: holds the settings; the app is built in the replica process."""

        def __init__(self, settings: Settings, model_ref: str | None) -> None:
            self.settings = settings
            self.model_ref = model_ref

        def __serve_build_asgi_app__(self) -> Any:
            from tagwise.serving import create_app

            return create_app(self.settings, model_ref=self.model_ref)

    ingress = serve.ingress()(TagwiseIngress)
    deployment = serve.deployment(
        ingress,
        name="TagwiseIngress",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": 0.5},  # I/O-bound app: two replicas per core
        health_check_period_s=5,
    )
    return deployment.bind(settings, model_ref)


def start(
    settings: Settings,
    *,
    replicas: int,
    model_ref: str | None = None,
    host: str = LOCAL_HOST,
    port: int | None = None,
) -> str:
    """Deploy on the current Ray instance and return the base URL once replicas are up.

    The HTTP proxy binds ``host`` (loopback by default, as the plain server does).
    """
    serve = import_ray(FEATURE, "serve")
    port = settings.serving.port if port is None else port
    _warm_registry_cache(settings, model_ref or settings.serving.model)
    serve.start(http_options={"host": host, "port": port}, detached=False)
    serve.run(
        build_deployment(settings, replicas=replicas, model_ref=model_ref),
        name=APP_NAME,
        route_prefix="/",
        blocking=False,
    )
    return f"http://{host}:{port}"


def _warm_registry_cache(settings: Settings, ref: str) -> None:
    """Download a registry model once on the driver, before the replicas start.

    Replicas on this machine then find it in the registry cache instead of all
    downloading the same version into the same temporary folder at once. Without a
    champion yet, nothing happens: the replicas answer 503 until their watcher finds one.
    """
    if not ref.startswith("models:/"):
        return
    from tagwise.errors import TagwiseError
    from tagwise.tracking import Tracker

    with contextlib.suppress(TagwiseError):
        Tracker.from_settings(settings).resolve(ref)


def stop() -> None:
    """Remove the deployment and the Serve controller (Ray itself keeps running)."""
    serve = import_ray(FEATURE, "serve")
    serve.shutdown()


def serve_forever(
    settings: Settings,
    *,
    replicas: int,
    address: str | None = None,
    model_ref: str | None = None,
    on_ready: Any = None,
) -> None:
    """Start Ray (or join ``address``), deploy, and block until interrupted."""
    cfg = settings.serving
    with ray_session(FEATURE, address=address):
        url = start(settings, replicas=replicas, model_ref=model_ref, host=cfg.host)
        if on_ready is not None:
            on_ready(url)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
