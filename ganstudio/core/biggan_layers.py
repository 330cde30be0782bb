"""Building blocks of BigGAN (Brock et al. 2019): spectral norm, conditional BatchNorm, attention.

Parameter and buffer names follow BigGAN-PyTorch's state dicts, so their `G.pth` files load through
an identity name map: an SN layer holds `weight`, `bias` (optional) and the buffers `u0`… (left
singular vector estimates, `[1, out]`) and `sv0`… (last training sigma, `[1]`, logging only).

Spectral norm semantics (see ../shared/reference/BIGGAN_FORMAT.md §3):
- eval: one power-iteration step from the stored `u0`, nothing written back; sigma = v·Wᵀ·uᵀ;
- train: `num_itrs` steps, the new u written back to `u0` and sigma to `sv0`; the gradient flows
  through W in sigma (u and v are constants).
With several singular vectors (`num_svs > 1`) Gram–Schmidt keeps them apart; only the first sigma
divides the weight.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _orthogonalize(x: torch.Tensor, basis: list[torch.Tensor]) -> torch.Tensor:
    """Remove from row vector x `[1, D]` its projection onto each (unit) row vector in basis."""
    for y in basis:
        x = x - (x @ y.t()) / (y @ y.t()) * y
    return x


def power_iteration(W: torch.Tensor, us: list[torch.Tensor], eps: float, update: bool
                    ) -> list[torch.Tensor]:
    """One power-iteration step for each stored u (`[1, out]`) of W `[out, in]`; returns sigmas.

    With `update`, each new u is copied into its buffer (in place). The returned sigmas carry the
    gradient with respect to W.
    """
    new_us: list[torch.Tensor] = []
    new_vs: list[torch.Tensor] = []
    with torch.no_grad():
        for u in us:
            v = F.normalize(_orthogonalize(u @ W, new_vs), eps=eps)          # [1, in]
            new_vs.append(v)
            u_new = F.normalize(_orthogonalize(v @ W.t(), new_us), eps=eps)  # [1, out]
            new_us.append(u_new)
            if update:
                u.copy_(u_new)
    return [((v @ W.t()) @ u.t()).squeeze() for u, v in zip(new_us, new_vs)]


class SNLayer(nn.Module):
    """Base of the spectrally normalised layers: owns `weight`, `bias`, `u*` and `sv*`."""

    def _init_sn(self, weight_shape, bias: bool, num_svs: int, num_itrs: int, eps: float) -> None:
        self.weight = nn.Parameter(torch.empty(weight_shape))
        nn.init.orthogonal_(self.weight)
        self.bias = nn.Parameter(torch.zeros(weight_shape[0])) if bias else None
        self.num_svs, self.num_itrs, self.eps = num_svs, num_itrs, eps
        for i in range(num_svs):
            self.register_buffer(f"u{i}", torch.randn(1, weight_shape[0]))
            self.register_buffer(f"sv{i}", torch.ones(1))

    def _us(self) -> list[torch.Tensor]:
        return [getattr(self, f"u{i}") for i in range(self.num_svs)]

    def sigma(self) -> torch.Tensor:
        """The eval-mode sigma: one step from the stored u0, nothing written (a 0-d tensor)."""
        with torch.no_grad():
            W = self.weight.flatten(1)                                       # [out, in·kh·kw]
            return power_iteration(W, [self.u0.clone()], self.eps, update=False)[0]

    def normalized_weight(self) -> torch.Tensor:
        W = self.weight.flatten(1)
        if not self.training:
            sigma = power_iteration(W, [self.u0], self.eps, update=False)[0]
            return self.weight / sigma
        for _ in range(self.num_itrs):
            svs = power_iteration(W, self._us(), self.eps, update=True)
        with torch.no_grad():
            for i, sv in enumerate(svs):
                getattr(self, f"sv{i}").copy_(sv.detach())
        return self.weight / svs[0]


class SNLinear(SNLayer):
    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 num_svs: int = 1, num_itrs: int = 1, eps: float = 1e-6):
        super().__init__()
        self._init_sn((out_features, in_features), bias, num_svs, num_itrs, eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.normalized_weight(), self.bias)


class SNConv2d(SNLayer):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True,
                 *, num_svs: int = 1, num_itrs: int = 1, eps: float = 1e-6):
        super().__init__()
        self._init_sn((out_channels, in_channels, kernel_size, kernel_size), bias, num_svs,
                      num_itrs, eps)
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.normalized_weight(), self.bias, padding=self.padding)


class SNEmbedding(SNLayer):
    """Class embedding `[n_classes, dim]` with spectral norm (the projection discriminator's)."""

    def __init__(self, n_classes: int, dim: int, *, num_svs: int = 1, num_itrs: int = 1,
                 eps: float = 1e-6):
        super().__init__()
        self._init_sn((n_classes, dim), False, num_svs, num_itrs, eps)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        """c: one-hot (or soft) `[N, n_classes]` → `[N, dim]`."""
        return c @ self.normalized_weight()


def sn_layers(module: nn.Module) -> dict[str, SNLayer]:
    """Every spectrally normalised layer of a module, by its state-dict prefix."""
    return {name: m for name, m in module.named_modules() if isinstance(m, SNLayer)}


class ConditionalBatchNorm(nn.Module):
    """BatchNorm without affine, then `· (1 + gain(c)) + bias(c)` with SN-linear gain/bias (`ccbn`)."""

    def __init__(self, channels: int, cond_dim: int, *, eps: float = 1e-5, momentum: float = 0.1,
                 sn: dict | None = None):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.register_buffer("stored_mean", torch.zeros(channels))
        self.register_buffer("stored_var", torch.ones(channels))
        self.gain = SNLinear(cond_dim, channels, bias=False, **(sn or {}))
        self.bias = SNLinear(cond_dim, channels, bias=False, **(sn or {}))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x `[N, C, H, W]`, cond `[N, cond_dim]`."""
        gain = (1 + self.gain(cond)).view(x.shape[0], -1, 1, 1)                # [N, C, 1, 1]
        bias = self.bias(cond).view(x.shape[0], -1, 1, 1)
        out = F.batch_norm(x, self.stored_mean, self.stored_var, None, None, self.training,
                           self.momentum, self.eps)
        return out * gain + bias


class BatchNorm(nn.Module):
    """Unconditional BatchNorm with learned affine named `gain`/`bias` and stats `stored_*`."""

    def __init__(self, channels: int, *, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gain = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("stored_mean", torch.zeros(channels))
        self.register_buffer("stored_var", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.stored_mean, self.stored_var, self.gain, self.bias,
                            self.training, self.momentum, self.eps)


class SelfAttention(nn.Module):
    """SAGAN non-local block: keys/values 2×2 max-pooled, no 1/√d scaling, `x + gamma · o(·)`."""

    def __init__(self, channels: int, sn: dict | None = None):
        super().__init__()
        sn = sn or {}
        self.gamma = nn.Parameter(torch.zeros([]))
        self.theta = SNConv2d(channels, channels // 8, 1, bias=False, **sn)
        self.phi = SNConv2d(channels, channels // 8, 1, bias=False, **sn)
        self.g = SNConv2d(channels, channels // 2, 1, bias=False, **sn)
        self.o = SNConv2d(channels // 2, channels, 1, bias=False, **sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape                                                   # [N, C, H, W]
        theta = self.theta(x).view(n, c // 8, h * w)                           # [N, C/8, HW]
        phi = F.max_pool2d(self.phi(x), 2).view(n, c // 8, h * w // 4)         # [N, C/8, HW/4]
        g = F.max_pool2d(self.g(x), 2).view(n, c // 2, h * w // 4)             # [N, C/2, HW/4]
        beta = F.softmax(theta.transpose(1, 2) @ phi, dim=-1)                  # [N, HW, HW/4]
        attended = (g @ beta.transpose(1, 2)).view(n, c // 2, h, w)            # [N, C/2, H, W]
        return x + self.gamma * self.o(attended)


class GBlock(nn.Module):
    """Generator residual block: ccbn-ReLU-up-conv3 / ccbn-ReLU-conv3, shortcut up-conv1 (`blocks.i.0`)."""

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int, *, bn_eps: float,
                 sn: dict):
        super().__init__()
        self.conv1 = SNConv2d(in_channels, out_channels, 3, **sn)
        self.conv2 = SNConv2d(out_channels, out_channels, 3, **sn)
        self.conv_sc = SNConv2d(in_channels, out_channels, 1, **sn)
        self.bn1 = ConditionalBatchNorm(in_channels, cond_dim, eps=bn_eps, sn=sn)
        self.bn2 = ConditionalBatchNorm(out_channels, cond_dim, eps=bn_eps, sn=sn)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x `[N, C_in, H, W]`, cond `[N, cond_dim]` → `[N, C_out, 2H, 2W]`."""
        h = F.relu(self.bn1(x, cond))
        h = F.interpolate(h, scale_factor=2)                                   # nearest
        x = F.interpolate(x, scale_factor=2)
        h = self.conv1(h)
        h = self.conv2(F.relu(self.bn2(h, cond)))
        return h + self.conv_sc(x)


class DBlock(nn.Module):
    """Discriminator residual block: [ReLU]-conv3-ReLU-conv3-[avgpool], learnable shortcut."""

    def __init__(self, in_channels: int, out_channels: int, *, preactivation: bool,
                 downsample: bool, sn: dict):
        super().__init__()
        self.preactivation, self.downsample = preactivation, downsample
        self.conv1 = SNConv2d(in_channels, out_channels, 3, **sn)
        self.conv2 = SNConv2d(out_channels, out_channels, 3, **sn)
        self.learnable_sc = in_channels != out_channels or downsample
        if self.learnable_sc:
            self.conv_sc = SNConv2d(in_channels, out_channels, 1, **sn)

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.preactivation:
            if self.learnable_sc:
                x = self.conv_sc(x)
            return F.avg_pool2d(x, 2) if self.downsample else x
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        return self.conv_sc(x) if self.learnable_sc else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return h + self._shortcut(x)
