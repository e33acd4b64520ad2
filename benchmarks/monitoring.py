"""Monitoring benchmark: (a) the replay simulation, (b) prediction-log overhead.

(a) ``tagwise simulate`` on the bundled data (train before 2020-05-01, weekly windows,
    retrain on alert at most every 3 weeks): when each statistic first fired, F1 on the
    most recent window with vs without retraining, the false-alarm rate on 100
    reference windows.
(b) p50/p99 of ``POST /v1/suggest`` through the in-process app (httpx ASGI transport,
    the same path a server runs minus the socket) with the prediction log on vs off,
    alternating rounds in one run; medians over rounds.

    .venv/bin/python benchmarks/monitoring.py [--skip-sim] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import header, pin_threads, replace_section

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = ROOT / "datasets" / "projects.json"
TAGS = ROOT / "datasets" / "tags.json"


def run_simulation(home: Path) -> dict:
    from tagwise.config import load_settings
    from tagwise.simulate import simulate

    settings = load_settings(
        home=home,
        eval={"baselines": [], "temporal": False, "n_boot": 200},
        split={"method": "temporal"},
        gate={"behavioural_tolerance": 0.1},
    )
    t0 = time.perf_counter()
    res = simulate(
        settings, PROJECTS, TAGS, cutoff=datetime(2020, 5, 1, tzinfo=UTC), far_windows=100,
        progress=lambda s: print(s, file=sys.stderr),
    )  # fmt: skip
    out = res.to_dict()
    out["seconds"] = time.perf_counter() - t0
    return out


async def _latency(app, texts: list[dict], n: int) -> list[float]:
    import httpx

    samples = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for i in range(n):
            t0 = time.perf_counter()
            r = await client.post("/v1/suggest", json=texts[i % len(texts)])
            samples.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
    return samples[n // 10 :]


def run_overhead(home: Path, rounds: int, n: int) -> dict:
    from fastapi.testclient import TestClient  # noqa: F401  (lifespan via the portal)

    from tagwise.config import load_settings
    from tagwise.pipeline import train
    from tagwise.serving import create_app

    base = load_settings(home=home, tracking={"enabled": False}, eval={"temporal": False})
    model = home / "model"
    train(base, PROJECTS, TAGS, out=model)
    data = json.loads(PROJECTS.read_text())
    texts = [{"title": p["title"], "description": p["description"]} for p in data[:300]]
    apps = {}
    for on in (True, False):
        s = base.model_copy(
            update={
                "database_url": f"sqlite:///{home / f'db-{on}.sqlite'}",
                "monitoring": base.monitoring.model_copy(update={"log_predictions": on}),
            }
        )
        apps[on] = create_app(s, model_ref=str(model))
    results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}

    async def main() -> None:
        ctxs = {on: app.router.lifespan_context(app) for on, app in apps.items()}
        for c in ctxs.values():
            await c.__aenter__()
        try:
            for _ in range(rounds):
                for on in (True, False):
                    xs = await _latency(apps[on], texts, n)
                    qs = statistics.quantiles(xs, n=100)
                    results[on].append((statistics.median(xs), qs[98]))
        finally:
            for c in ctxs.values():
                await c.__aexit__(None, None, None)

    asyncio.run(main())
    med = {
        on: (statistics.median(p for p, _ in r), statistics.median(q for _, q in r))
        for on, r in results.items()
    }
    return {
        "rounds": rounds,
        "requests_per_round": n,
        "p50_on": med[True][0],
        "p99_on": med[True][1],
        "p50_off": med[False][0],
        "p99_off": med[False][1],
        "p50_overhead": med[True][0] - med[False][0],
        "p99_overhead": med[True][1] - med[False][1],
    }


def _failed(decision: str) -> str:
    """The gate reasons that refused (the ones saying worse / exceeds / below)."""
    parts = decision.split(": ", 1)[-1].split("; ")
    bad = [x for x in parts if any(w in x for w in ("worse", "exceeds", "below"))]
    return "; ".join(bad) or decision


def render(sim: dict | None, lat: dict, command: str) -> str:
    lines = [header("Monitoring", command), ""]
    if sim:
        far = sim["far"]
        fw = sim["final_window"]
        lines += [
            "### Replay simulation (`tagwise simulate`)",
            "",
            f"Trained on {sim['n_initial']} projects before 2020-05-01 (temporal "
            f"train/val/test 70/15/15; reference = validation), then {sim['n_streamed']} "
            "projects streamed through the in-process service in `created_on` order, "
            "feedback = the author's P1 tags; weekly windows; retrain on an alert at most "
            "every 3 weeks (first after week 3); gate behavioural tolerance 0.1 "
            f"(replay took {sim['seconds']:.0f} s).",
            "",
            "| statistic | first fired (week starting) |",
            "|---|---|",
            *[f"| {k} | {v} |" for k, v in sim["first_fired"].items()],
            "",
            "| week | n | served | F1 served | F1 never retrained | fired | event |",
            "|---|---|---|---|---|---|---|",
            *[
                f"| {w['label']} | {w['n']} | v{w['version']} | "
                f"{(w['f1_served'] or 0):.3f} | {(w['f1_first'] or 0):.3f} | "
                f"{', '.join(w['fired']) or '-'} | {w['event']} |"
                for w in sim["weeks"]
            ],
            "",
            "Retrains (recent window = the last 7 days of feedback, held out of training):",
            "",
            *[
                f"- after {r['after_window']} ({r['trigger']}: {', '.join(r['fired'])}): "
                f"v{r['version']} {'promoted' if r['promoted'] else 'refused'}; recent-window "
                f"F1 champion {r['recent'].get('champion_f1', 0):.3f} → challenger "
                f"{r['recent'].get('challenger_f1', 0):.3f}; test split F1 "
                f"{r['test'].get('champion_f1', 0):.3f} → {r['test'].get('challenger_f1', 0):.3f}"
                + ("" if r["promoted"] else f" — gate: {_failed(r['decision'])}")
                for r in sim["retrains"]
            ],
            "",
            f"**Most recent window** ({fw.get('label')}, {fw.get('n')} labelled projects): "
            f"micro-F1 {fw.get('f1_served', 0):.3f} with retraining (v{fw.get('version')}) vs "
            f"{fw.get('f1_never_retrained', 0):.3f} never retrained "
            f"(**{fw.get('gain', 0):+.3f}**). F1 here is against the author's full P1 "
            "closure (every vocabulary tag), so a model that learned new tags gets credit.",
            "",
            f"**False-alarm rate** on {far['windows']} windows of {far['size']} drawn from "
            f"the reference data (pool {far.get('pool')}, leave-window-out): "
            f"**{far['rate']:.2f}** ({far['alerts']} alerts: {far['by_test']}).",
            "",
        ]
    lines += [
        "### Prediction-log overhead",
        "",
        f"`POST /v1/suggest`, in-process app (httpx ASGI transport), TF-IDF model on the "
        f"bundled data; {lat['rounds']} alternating rounds × {lat['requests_per_round']} "
        "requests, medians over rounds.",
        "",
        "| prediction log | p50 ms | p99 ms |",
        "|---|---|---|",
        f"| on | {lat['p50_on']:.3f} | {lat['p99_on']:.3f} |",
        f"| off | {lat['p50_off']:.3f} | {lat['p99_off']:.3f} |",
        f"| overhead | **{lat['p50_overhead']:+.3f}** | {lat['p99_overhead']:+.3f} |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    pin_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-sim", action="store_true")
    ap.add_argument("--sim-json", type=Path, help="reuse a `tagwise simulate --json` summary")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--requests", type=int, default=400)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        sim = None
        if args.sim_json:
            sim = json.loads(args.sim_json.read_text())
            sim.setdefault("seconds", 0)
        elif not args.skip_sim:
            sim = run_simulation(home / "sim")
            (ROOT / "docs" / "monitoring-replay.json").write_text(
                json.dumps(sim, indent=1, default=str)
            )
        lat = run_overhead(home / "lat", args.rounds, args.requests)
    print(json.dumps({"simulation": sim and {k: sim[k] for k in ("far", "first_fired",
          "final_window")}, "latency": lat}, indent=1, default=str))  # fmt: skip
    cmd = "python benchmarks/monitoring.py " + " ".join(sys.argv[1:])
    replace_section(ROOT / "docs" / "benchmarks.md", "Monitoring", render(sim, lat, cmd.strip()))


if __name__ == "__main__":
    main()
