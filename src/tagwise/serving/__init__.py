"""The HTTP service: app factory, routes, problem details, model holder with hot swap."""

from tagwise.serving.app import create_app

__all__ = ["create_app"]
