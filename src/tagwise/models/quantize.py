"""Dynamic int8 for the ``Linear`` layers of a torch encoder on CPU (needs torch).

Weights are quantized once, symmetrically per output channel; activations are
quantized on every call over the full uint8 range. On all-MiniLM-L6-v2 this halves the
single-text forward on a 2-core x86 machine and keeps the embeddings at cosine ≈ 0.99
of the float ones (min ≈ 0.98 on the bundled projects). The stock
``torch.ao.quantization.quantize_dynamic`` keeps per-tensor weights and 7-bit
activations (``reduce_range=True``), which costs ~0.06 of cosine on the same model.

An activation's scale is taken over the whole input tensor, so a row's result would
depend on the other rows of its batch: an encoder using these layers must encode one
text at a time (:class:`tagwise.models.embedding.Encoder` does). Results depend on the
int8 kernels (:func:`int8_kernels`); a saved model records them and loading warns
when they differ.
"""

from __future__ import annotations

import warnings

import torch


class Int8Linear(torch.nn.Module):
    """A frozen ``torch.nn.Linear`` as int8 weights with dynamically quantized inputs."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        from torch.ao.quantization.observer import PerChannelMinMaxObserver

        self.in_features, self.out_features = linear.in_features, linear.out_features
        weight = linear.weight.detach().float()
        bias = linear.bias.detach().float() if linear.bias is not None else None
        observer = PerChannelMinMaxObserver(
            ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric
        )
        observer(weight)
        scale, zero_point = observer.calculate_qparams()
        with warnings.catch_warnings():  # recent torch flags the quantized-tensor API
            warnings.simplefilter("ignore")
            qweight = torch.quantize_per_channel(
                weight, scale.double(), zero_point.long(), 0, torch.qint8
            )
            self._packed = torch.ops.quantized.linear_prepack(qweight, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T + b`` with ``x`` quantized to uint8 over its own range."""
        return torch.ops.quantized.linear_dynamic(x, self._packed, reduce_range=False)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


def quantize_linears(module: torch.nn.Module) -> int:
    """Replace every ``Linear`` inside ``module`` by an :class:`Int8Linear`, in place.

    Returns how many layers were replaced.
    """
    count = 0
    for name, child in list(module.named_children()):
        if isinstance(child, torch.nn.Linear):
            setattr(module, name, Int8Linear(child))
            count += 1
        else:
            count += quantize_linears(child)
    return count


def int8_kernels() -> str:
    """Which int8 kernels run here: quantized engine and CPU capability (``x86/AVX512``)."""
    return f"{torch.backends.quantized.engine}/{torch.backends.cpu.get_cpu_capability()}"
