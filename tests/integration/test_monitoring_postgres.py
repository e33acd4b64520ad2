"""The prediction log + feedback against a real PostgreSQL server.

``scripts/start-postgres.sh`` installs (apt) and starts a throwaway server on
127.0.0.1:54329; each test gets its own database. Skipped, with the script's output
as the reason, only if that script fails.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "api"))
from api_support import TAGS, TINY, tiny_settings  # noqa: E402

T0 = datetime(2020, 6, 1, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_server() -> str:
    pytest.importorskip("psycopg", reason="needs psycopg[binary]")
    try:
        out = subprocess.run(
            ["bash", str(ROOT / "scripts" / "start-postgres.sh")],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"could not start PostgreSQL: {exc}")
    if out.returncode != 0:
        pytest.skip(f"could not start PostgreSQL: {out.stderr.strip()[-500:]}")
    return out.stdout.strip().splitlines()[-1].replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture()
def pg_url(pg_server):
    import sqlalchemy as sa

    name = f"tagwise_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"CREATE DATABASE {name}"))
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from tagwise.pipeline import train

    home = tmp_path_factory.mktemp("pg-home")
    settings = tiny_settings(home, tracking={"enabled": False})
    train(settings, TINY, TAGS, out=home / "model")
    return home / "model"


def test_prediction_log_and_feedback_on_postgres(pg_url, model_dir, tmp_path):
    from fastapi.testclient import TestClient

    from tagwise.feedback.store import make_engine
    from tagwise.monitoring.predictions import prune, read_feedback, read_predictions
    from tagwise.monitoring.windows import observations
    from tagwise.serving import create_app

    now = {"t": T0}
    settings = tiny_settings(tmp_path, database_url=pg_url, tracking={"enabled": False})
    app = create_app(settings, model_ref=str(model_dir), clock=lambda: now["t"])
    with TestClient(app) as client:
        ids = []
        for i in range(30):
            now["t"] = T0 + timedelta(hours=i)
            body = {"title": f"BERT question answering {i}", "description": "transformers"}
            r = client.post("/v1/suggest", json=body)
            assert r.status_code == 200
            ids.append(r.json()["prediction_id"])
            tags = [t["tag"] for t in r.json()["tags"]]
            fb = {**body, "suggested": tags, "accepted": tags, "added": []}
            if i % 2 == 0:
                fb["prediction_id"] = r.json()["prediction_id"]  # odd ones link by digest
            assert client.post("/v1/feedback", json=fb).status_code == 201
        assert app.state.predictions.flush(10)

    engine = make_engine(pg_url)
    try:
        preds = read_predictions(engine)
        feedback = read_feedback(engine)
        assert [p.id for p in preds] == ids  # time order, all 30 written before shutdown
        assert preds[3].created == T0 + timedelta(hours=3)
        assert len(feedback) == 30 and feedback[0].created == T0
        assert sum(p.feedback_id is not None for p in preds) == 15
        obs = observations(preds, feedback)
        assert all(o.feedback_id is not None for o in obs)  # the rest matched by digest
        # `tagwise monitor` on the served directory finds these predictions (same version
        # label as the server's: directory name @ config hash), not zero of them
        from tagwise.monitoring.monitor import run_monitor

        served = settings.model_copy(
            update={"serving": settings.serving.model_copy(update={"model": str(model_dir)})}
        )
        res = run_monitor(served, notify=False)
        assert res.state["n_predictions"] == 30 and "@" in res.state["model_version"]
        assert prune(engine, before=T0 + timedelta(hours=10), max_rows=15) == 15
        assert len(read_predictions(engine)) == 15
    finally:
        engine.dispose()


def test_an_older_prediction_table_gains_the_long_tail_column_on_postgres(pg_url):
    """``ALTER TABLE … ADD COLUMN`` in place: rows logged by an older tagwise stay."""
    import sqlalchemy as sa

    from tagwise.feedback.store import make_engine
    from tagwise.monitoring.predictions import Prediction, PredictionLog, read_predictions

    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE predictions (id VARCHAR(32) PRIMARY KEY, created TIMESTAMPTZ "
                    "NOT NULL, digest VARCHAR(64) NOT NULL, title TEXT NOT NULL, description "
                    "TEXT NOT NULL, tags JSON NOT NULL, top_score FLOAT NOT NULL, model_version "
                    "VARCHAR(100), latency_ms FLOAT NOT NULL, feedback_id INTEGER)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO predictions VALUES ('old', :t, 'd', 'BERT', '', "
                    "'[[\"transformers\", 0.9]]', 0.9, '1', 2.0, NULL)"
                ),
                {"t": T0},
            )
        log = PredictionLog(engine, flush_ms=10, clock=lambda: T0).create().start()
        tail = (("spiking-neural-networks", 0.2, "zero-shot"),)
        log.record(
            Prediction("new", T0 + timedelta(hours=1), "SNN", "", (("deep-learning", 0.8),),
                       0.8, "1", 1.0, long_tail=tail)
        )  # fmt: skip
        log.close()
        old, new = read_predictions(engine)
        assert old.id == "old" and old.long_tail == () and old.tags == (("transformers", 0.9),)
        assert new.id == "new" and new.long_tail == tail
    finally:
        engine.dispose()
