"""Training StyleGAN2 through the shared loop (``installation train stylegan2 DATA``).

The recipe is the paper's, sized for small data and small machines:

* non-saturating logistic loss for G and D;
* lazy R1 penalty on real images every ``r1_every`` steps (γ from the resolution and batch size
  unless given), scaled by the interval so its average strength is unchanged, with Adam's
  learning rate and betas corrected for the lazy interval as in the paper;
* style mixing regularisation (two z per image with probability ``mixing``);
* an exponential moving average of G (half-life ``ema_kimg`` thousand images, ramped up early
  in training) which is what gets sampled and exported;
* on CUDA: automatic mixed precision (fp16 convolutions, fp32 master weights, a gradient
  scaler), channels_last tensors and conv clamping at ±256 so fp16 activations stay finite.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from installation.api import WeightsMeta, read_torch_checkpoint, save_weights

from .discriminator import Discriminator
from .network import G2Config, StyleGAN2, mix_styles

EXPORT_NAME = "stylegan2"
MODEL = "stylegan2"  # the ``model`` of the weights metadata


class StyleGAN2Task:
    """:class:`installation.train.loop.TrainTask` for StyleGAN2."""

    name = "stylegan2"

    def __init__(
        self,
        z_dim: int = 128,
        w_dim: int = 128,
        mapping_layers: int = 4,
        channel_base: int = 4096,
        channel_max: int = 256,
        d_channel_base: int | None = None,
        d_channel_max: int | None = None,
        lr: float = 0.0025,
        r1_gamma: float | None = None,
        r1_every: int = 16,
        mixing: float = 0.9,
        ema_kimg: float = 5.0,
        ema_rampup: float = 0.05,
        mapping_lr: float = 0.01,
        conv_clamp: float | None = None,
        amp: bool = True,
    ):
        self.opts = dict(
            z_dim=z_dim,
            w_dim=w_dim,
            mapping_layers=mapping_layers,
            channel_base=channel_base,
            channel_max=channel_max,
            mapping_lr=mapping_lr,
            conv_clamp=conv_clamp,
        )
        self.d_base = d_channel_base or channel_base
        self.d_max = d_channel_max or channel_max
        self.lr, self.r1_gamma, self.r1_every = float(lr), r1_gamma, int(r1_every)
        self.mixing, self.ema_kimg, self.ema_rampup = float(mixing), float(ema_kimg), ema_rampup
        self.amp = bool(amp)
        self.images_seen = 0

    # -- TrainTask ---------------------------------------------------------------------------
    def setup(self, device: torch.device, resolution: int) -> None:
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        opts: dict[str, Any] = dict(self.opts)
        if self.cuda and opts["conv_clamp"] is None:
            opts["conv_clamp"] = 256.0  # fp16 activations must stay finite
        self.cfg = G2Config(resolution=int(resolution), **opts)
        self.G = StyleGAN2(self.cfg).to(self.device)
        self.D = Discriminator(self.cfg.resolution, self.d_base, self.d_max, clamp=self.cfg.conv_clamp).to(self.device)
        if self.cuda:
            # Module.to takes memory_format; torch's stub omits it
            self.G = self.G.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            self.D = self.D.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        c = self.r1_every / (self.r1_every + 1)  # lazy regularisation correction (paper, appendix B)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.0, 0.99), eps=1e-8)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr * c, betas=(0.0, 0.99**c), eps=1e-8)
        self.use_amp = self.cuda and self.amp
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        if self.r1_gamma is None:  # NVIDIA's heuristic for small data: 0.0002 · res² / batch (batch filled later)
            self.r1_gamma = 0.0002 * resolution**2 / 16

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.float16, enabled=self.use_amp)

    def _ws(self, n: int, update_w_avg: bool) -> torch.Tensor:
        z = torch.randn(n, self.cfg.z_dim, device=self.device)
        ws = self.G.mapping(z, update_w_avg=update_w_avg)
        if self.mixing > 0 and torch.rand(()) < self.mixing:
            ws2 = self.G.mapping(torch.randn_like(z))
            cross = torch.randint(1, self.cfg.num_ws, (n,), device=self.device)
            ws = mix_styles(ws, ws2, cross)
        return ws

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        n = batch.shape[0]
        real = batch.to(self.device) * 2 - 1
        if self.cuda:
            real = real.contiguous(memory_format=torch.channels_last)
        do_r1 = self.r1_every > 0 and step % self.r1_every == 0

        # one generator pass serves both phases: D learns from it detached, then G's loss
        # back-propagates through the same graph against the updated D (saves a third of G's work)
        self.G.requires_grad_(True)
        with self._autocast():
            fake = self.G.synthesis(self._ws(n, True), "random")

        # discriminator: logistic loss on real and fake, plus the lazy R1 penalty
        self.D.requires_grad_(True)
        real_in = real.detach().requires_grad_(do_r1)
        with self._autocast():
            logits_fake = self.D(fake.detach())
            logits_real = self.D(real_in)
            loss_d = F.softplus(logits_fake).mean() + F.softplus(-logits_real).mean()
        r1 = torch.zeros((), device=self.device)
        if do_r1:
            (grad,) = torch.autograd.grad(self.scaler_d.scale(logits_real.float().sum()), real_in, create_graph=True)
            grad = grad / self.scaler_d.get_scale() if self.use_amp else grad
            r1 = grad.float().square().sum(dim=[1, 2, 3]).mean()
            assert self.r1_gamma is not None  # set in setup
            loss_d = loss_d + r1 * (self.r1_gamma / 2) * self.r1_every
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss_d).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()

        # generator: non-saturating logistic loss
        self.D.requires_grad_(False)
        with self._autocast():
            loss_g = F.softplus(-self.D(fake)).mean()
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss_g).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()

        self.images_seen += n
        self._update_ema(n)
        out = {"loss_g": float(loss_g.detach()), "loss_d": float(loss_d.detach())}
        if do_r1:
            out["r1"] = float(r1.detach())
        return out

    @torch.no_grad()
    def _update_ema(self, n: int) -> None:
        half_life = self.ema_kimg * 1000
        if self.ema_rampup:
            half_life = min(half_life, self.images_seen * self.ema_rampup)
        beta = 0.5 ** (n / max(half_life, 1e-8))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.copy_(p.detach().lerp(p_ema, beta))
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    def state_dict(self) -> dict[str, Any]:
        return {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "images_seen": self.images_seen,
            "config": self.cfg.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = G2Config.from_dict(dict(state["config"]))
        if saved.to_dict() != self.cfg.to_dict():
            raise ValueError(f"checkpoint was trained with a different configuration: {saved.to_dict()}")
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        # the learning rate given now wins over the saved one (a resumed run may change it)
        c = self.r1_every / (self.r1_every + 1)
        for opt, lr in ((self.opt_g, self.lr), (self.opt_d, self.lr * c)):
            for group in opt.param_groups:
                group["lr"] = lr
        self.images_seen = int(state.get("images_seen", 0))

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, self.cfg.z_dim, generator=g).to(self.device)
        img = self.G_ema(z, noise_mode="const")
        return ((img.float() + 1) / 2).clamp(0, 1)

    def export(self, out_dir: Path) -> Path:
        meta = WeightsMeta(model=MODEL, config=self.cfg.to_dict(), provenance={"images_seen": self.images_seen})
        return save_weights(Path(out_dir) / EXPORT_NAME, self.G_ema.state_dict(), meta)


def make_task(**options) -> StyleGAN2Task:
    return StyleGAN2Task(**options)


def export_from_checkpoint(checkpoint: Path | str, dest: Path | str) -> Path:
    """Write the EMA generator of a training checkpoint (``OUT/checkpoint.pt``) as native weights.

    Lets a run that is still going (or was stopped) ship its current weights:
    ``python -m plugins.stylegan2.train runs/stylegan2/checkpoint.pt plugins/stylegan2/weights/waves64``.
    """
    state = read_torch_checkpoint(checkpoint)
    task = state["task"]
    cfg = G2Config.from_dict(dict(task["config"]))
    net = StyleGAN2(cfg)
    net.load_state_dict(task["G_ema"])  # validates names and shapes
    meta = WeightsMeta(
        model=MODEL,
        config=cfg.to_dict(),
        provenance={"images_seen": int(task.get("images_seen", 0)), "step": int(state.get("step", 0))},
    )
    return save_weights(dest, net.state_dict(), meta)


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python -m plugins.stylegan2.train CHECKPOINT.pt DEST (writes DEST.safetensors + DEST.json)")
    print(export_from_checkpoint(sys.argv[1], sys.argv[2]))
