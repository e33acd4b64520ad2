"""Dynamic int8 Linear layers (skipped without torch)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tagwise.models.quantize import Int8Linear, int8_kernels, quantize_linears  # noqa: E402


def test_int8_linear_is_close_to_the_float_layer():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 32)
    x = torch.randn(5, 64)
    with torch.inference_mode():
        want, got = linear(x), Int8Linear(linear)(x)
    assert got.shape == want.shape and got.dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(got, want, dim=1)
    assert cos.min() > 0.999


def test_quantize_linears_replaces_nested_layers_in_place():
    net = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Sequential(torch.nn.Linear(8, 4)))
    assert quantize_linears(net) == 2
    assert isinstance(net[0], Int8Linear) and isinstance(net[1][0], Int8Linear)
    assert "int8" in repr(net)
    assert "/" in int8_kernels()
