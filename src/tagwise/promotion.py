"""The promotion gate: may a challenger replace the champion? A pure decision with reasons."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateDecision:
    """Whether to promote, and every reason checked (passed or not)."""

    promote: bool
    reasons: tuple[str, ...]

    def summary(self) -> str:
        """One line for logs and version tags."""
        verdict = "PROMOTE" if self.promote else "REFUSE"
        return f"{verdict}: " + "; ".join(self.reasons)


def gate(
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    *,
    f1_tolerance: float,
    p99_latency_ms: float,
    behavioural_tolerance: float = 0.0,
    challenger_mode: str | None = None,
    champion_mode: str | None = None,
) -> GateDecision:
    """Compare test micro-F1, behavioural pass rate and p99 latency.

    A challenger passes if its F1 is not worse than the champion's by more than
    ``f1_tolerance``, its behavioural pass rate is not lower, and its p99 single-prediction
    latency is within ``p99_latency_ms``. With no champion only the latency budget and
    the presence of the metrics are checked. A challenger of another label mode
    (single- vs multi-label) is refused outright: its metrics come from other data and
    another task, so no comparison means anything, and it would change what the
    service answers.
    """
    reasons: list[str] = []
    ok = True
    modes_differ = bool(challenger_mode and champion_mode and challenger_mode != champion_mode)
    if champion is not None and modes_differ:
        return GateDecision(
            False,
            (
                f"{challenger_mode}-label challenger vs {champion_mode}-label champion: "
                "not comparable (use --force to switch the service on purpose)",
            ),
        )
    for key in ("test_micro_f1", "behavioural_pass_rate", "p99_latency_ms"):
        if key not in challenger:
            return GateDecision(False, (f"challenger has no {key} metric",))
    lat = challenger["p99_latency_ms"]
    if lat <= p99_latency_ms:
        reasons.append(f"p99 latency {lat:.2f} ms ≤ budget {p99_latency_ms:.2f} ms")
    else:
        ok = False
        reasons.append(f"p99 latency {lat:.2f} ms exceeds budget {p99_latency_ms:.2f} ms")
    if champion is None:
        reasons.append("no champion yet")
        return GateDecision(ok, tuple(reasons))
    f1_new, f1_old = challenger["test_micro_f1"], champion.get("test_micro_f1", 0.0)
    if f1_new >= f1_old - f1_tolerance:
        reasons.append(f"micro-F1 {f1_new:.4f} vs champion {f1_old:.4f} (tolerance {f1_tolerance})")
    else:
        ok = False
        reasons.append(
            f"micro-F1 {f1_new:.4f} worse than champion {f1_old:.4f} by more than {f1_tolerance}"
        )
    b_new, b_old = challenger["behavioural_pass_rate"], champion.get("behavioural_pass_rate", 0.0)
    if b_new >= b_old - behavioural_tolerance:
        reasons.append(f"behavioural pass rate {b_new:.3f} ≥ champion {b_old:.3f}")
    else:
        ok = False
        reasons.append(f"behavioural pass rate {b_new:.3f} below champion {b_old:.3f}")
    return GateDecision(ok, tuple(reasons))
