"""Universality classes of avalanche exponents and the nearest one to a measurement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from crackle._validation import check_real

__all__ = ["UNIVERSALITY_CLASSES", "ClassMatch", "UniversalityClass", "nearest_class"]


@dataclass(frozen=True)
class UniversalityClass:
    """Avalanche exponents of one universality class.

    ``inv_snz`` is 1/(sigma nu z), the exponent of <S>(T); for every row
    ``(alpha - 1)/(tau - 1) = inv_snz`` within the published uncertainties (``*_err``,
    zero where the values are exact or no uncertainty was published).
    """

    name: str
    tau: float
    alpha: float
    inv_snz: float
    source: str
    tau_err: float = 0.0
    alpha_err: float = 0.0
    inv_snz_err: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tau": self.tau,
            "alpha": self.alpha,
            "inv_snz": self.inv_snz,
            "source": self.source,
            "tau_err": self.tau_err,
            "alpha_err": self.alpha_err,
            "inv_snz_err": self.inv_snz_err,
        }


def _dp_from_spreading(delta: float, eta: float) -> tuple[float, float, float]:
    # Avalanches of directed percolation from its spreading exponents (survival
    # P(t) ~ t^-delta, activity N(t) ~ t^eta): alpha = 1 + delta,
    # 1/(sigma nu z) = 1 + eta + delta, tau = 1 + delta / (1 + eta + delta).
    inv = 1.0 + eta + delta
    return 1.0 + delta / inv, 1.0 + delta, inv


_DP2 = _dp_from_spreading(0.4505, 0.2295)
_DP3 = _dp_from_spreading(0.732, 0.114)

#: The reference table (SCIENCE.md section 2, plus directed percolation below its upper
#: critical dimension).
UNIVERSALITY_CLASSES: tuple[UniversalityClass, ...] = (
    UniversalityClass(
        "mean-field directed percolation / critical branching / MF Barkhausen (ABBM)",
        1.5,
        2.0,
        2.0,
        "Sethna, Dahmen & Myers, Nature 410, 242 (2001); di Santo et al., PRE 95, 032115 (2017)",
    ),
    UniversalityClass(
        "random-walk excursions (first return)",
        4.0 / 3.0,
        1.5,
        1.5,
        "exact: first-return time and area of an unbiased random walk",
    ),
    UniversalityClass(
        "Barkhausen, short-range elasticity (amorphous films)",
        1.27,
        1.5,
        1.77,
        "Durin & Zapperi, PRL 84, 4705 (2000) (tau = 1.27 +- 0.03); Bohn et al., "
        "Sci. Rep. 8, 1 (2018)",
        tau_err=0.03,
    ),
    UniversalityClass(
        "directed percolation, 2+1 dimensions",
        *_DP2,
        "from spreading exponents delta = 0.4505, eta = 0.2295: Hinrichsen, Adv. Phys. 49, "
        "815 (2000); Munoz et al., PRE 59, 6175 (1999)",
    ),
    UniversalityClass(
        "directed percolation, 3+1 dimensions",
        *_DP3,
        "from spreading exponents delta = 0.732, eta = 0.114: Hinrichsen, Adv. Phys. 49, "
        "815 (2000)",
    ),
)


@dataclass(frozen=True)
class ClassMatch:
    """The class nearest to a measurement, with the distance to every class.

    ``distance`` is sqrt(chi^2 / k) over the k exponents given: each exponent's
    difference from the class value in units of its uncertainty (uncertainties below
    ``floor`` are raised to it, so a tiny statistical error does not let one exponent
    decide alone). Below about 2 the measurement is consistent with the class.
    """

    name: str
    distance: float
    consistent: bool
    distances: dict[str, float]
    reference: UniversalityClass

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distance": self.distance,
            "consistent": self.consistent,
            "distances": dict(self.distances),
            "reference": self.reference.to_dict(),
        }


def nearest_class(
    tau: float | None = None,
    alpha: float | None = None,
    inv_snz: float | None = None,
    *,
    tau_err: float = 0.0,
    alpha_err: float = 0.0,
    inv_snz_err: float = 0.0,
    floor: float = 0.03,
    classes: tuple[UniversalityClass, ...] = UNIVERSALITY_CLASSES,
) -> ClassMatch:
    """Find the universality class closest to measured exponents.

    Parameters
    ----------
    tau, alpha, inv_snz : float, optional
        Measured size exponent, duration exponent and 1/(sigma nu z); any subset
        (at least one).
    tau_err, alpha_err, inv_snz_err : float
        Their uncertainties.
    floor : float
        Least uncertainty assumed for any exponent (systematic errors of fitting ranges
        are rarely below a few hundredths).
    classes : tuple of UniversalityClass
        The candidates; default :data:`UNIVERSALITY_CLASSES`.

    Examples
    --------
    >>> import crackle as ck
    >>> ck.nearest_class(tau=1.50, alpha=2.02, inv_snz=1.98).name.startswith("mean-field")
    True
    """
    func = "nearest_class"
    floor = check_real(floor, "floor", func, low=0.0, low_open=True)
    given = [
        (v, max(check_real(e, f"{n}_err", func, low=0.0), floor), n)
        for v, e, n in (
            (tau, tau_err, "tau"),
            (alpha, alpha_err, "alpha"),
            (inv_snz, inv_snz_err, "inv_snz"),
        )
        if v is not None
    ]
    if not given:
        raise ValueError("nearest_class needs at least one of tau, alpha, inv_snz")
    given = [(check_real(v, n, func), e, n) for v, e, n in given]
    dist = {}
    for c in classes:
        chi2 = sum(((v - getattr(c, n)) / e) ** 2 for v, e, n in given)
        dist[c.name] = float(np.sqrt(chi2 / len(given)))
    best = min(dist, key=dist.__getitem__)
    ref = next(c for c in classes if c.name == best)
    return ClassMatch(best, dist[best], dist[best] < 2.0, dist, ref)
