"""The figures GAN papers compare models by, from their papers, on feature vectors.

* **FID** (Heusel et al. 2017): the Fréchet distance between Gaussians fitted to two feature
  sets, ``|mu1 - mu2|² + tr(S1 + S2 - 2 (S1^½ S2 S1^½)^½)``; the matrix square root is taken
  through symmetric eigendecompositions in float64 (the inner product is symmetric PSD, so
  this equals ``tr sqrtm(S1 S2)`` without a complex detour).
* **KID** (Bińkowski et al. 2018): the unbiased estimator of the squared MMD with the cubic
  polynomial kernel ``k(x, y) = (x·y / d + 1)³``, averaged over random subsets (mean and
  standard deviation reported).
* **Precision / recall** (Kynkäänniemi et al. 2019): each set's manifold is the union of balls
  around its points with the radius to their k-th nearest neighbour; precision is the share of
  generated points inside the real manifold, recall the share of real points inside the
  generated one.

Features come from :class:`.inception.InceptionFeatures` (pool3) for the standard figures, or
from any network for tests.  Perceptual path length: .ppl (`installation ppl MODEL`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, covariance) in float64 of ``[N, D]`` features (unbiased covariance, N-1)."""
    f = features.double()
    mu = f.mean(0)
    c = f - mu
    return mu, c.T @ c / max(f.shape[0] - 1, 1)


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh((m + m.T) / 2)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def frechet_distance(mu1, s1, mu2, s2) -> float:
    root1 = _sqrt_psd(s1.double())
    inner = root1 @ s2.double() @ root1
    tr_cross = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum()
    d = float(
        ((mu1.double() - mu2.double()) ** 2).sum() + torch.trace(s1.double()) + torch.trace(s2.double()) - 2 * tr_cross
    )
    return max(0.0, d)  # a distance: round-off below zero is zero


def fid(a: torch.Tensor, b: torch.Tensor) -> float:
    return frechet_distance(*stats(a), *stats(b))


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased squared MMD with the KID kernel (diagonal terms left out of the within-set sums)."""
    x, y = x.double(), y.double()
    d = x.shape[1]
    kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
    m, n = x.shape[0], y.shape[0]
    return float(
        (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
        + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def kid(
    a: torch.Tensor, b: torch.Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """(mean, standard deviation) of the unbiased MMD² over ``subsets`` random subsets of both sets."""
    size = min(subset_size, a.shape[0], b.shape[0])
    if size < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    g = torch.Generator().manual_seed(seed)
    vals = torch.tensor(
        [
            mmd2_unbiased(
                a[torch.randperm(a.shape[0], generator=g)[:size]], b[torch.randperm(b.shape[0], generator=g)[:size]]
            )
            for _ in range(subsets)
        ]
    )
    return float(vals.mean()), float(vals.std()) if subsets > 1 else 0.0


def _radii(f: torch.Tensor, k: int) -> torch.Tensor:
    d = torch.cdist(f.double(), f.double())
    return d.kthvalue(k + 1, dim=1).values  # +1: each point is its own nearest neighbour


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    return (torch.cdist(points.double(), centres.double()) <= radii.unsqueeze(0)).any(1)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    if min(real.shape[0], fake.shape[0]) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples in each set")
    precision = float(_inside(fake, real, _radii(real, k)).double().mean())
    recall = float(_inside(real, fake, _radii(fake, k)).double().mean())
    return precision, recall


@dataclass
class Report:
    n_a: int
    n_b: int
    fid: float
    kid: float
    kid_std: float
    precision: float
    recall: float

    def lines(self) -> list[str]:
        return [
            f"images: {self.n_a} vs {self.n_b}",
            f"FID {self.fid:.6g}",
            f"KID {self.kid:.6g} ± {self.kid_std:.3g}",
            f"precision {self.precision:.3f}  recall {self.recall:.3f} (k=3)",
        ]


def compare(a: torch.Tensor, b: torch.Tensor, subsets: int = 100, subset_size: int = 1000) -> Report:
    """All figures for features ``a`` (the reference, e.g. real) against ``b`` (e.g. generated)."""
    k_mean, k_std = kid(a, b, subsets, subset_size)
    p, r = precision_recall(a, b)
    return Report(a.shape[0], b.shape[0], fid(a, b), k_mean, k_std, p, r)
