"""Universality classes of avalanche exponents and the nearest one to a measurement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from crackle._validation import check_real, param_error

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


def _dp_from_spreading(
    delta: float, eta: float, d_err: float, e_err: float
) -> tuple[float, float, float, float, float, float]:
    # Avalanches of directed percolation from its spreading exponents (survival
    # P(t) ~ t^-delta, activity N(t) ~ t^eta): alpha = 1 + delta,
    # 1/(sigma nu z) = 1 + eta + delta, tau = 1 + delta / (1 + eta + delta); the
    # published errors of delta and eta propagated linearly (independent).
    inv = 1.0 + eta + delta
    tau = 1.0 + delta / inv
    dtau_dd = (1.0 + eta) / inv**2
    dtau_de = -delta / inv**2
    tau_err = float(np.hypot(dtau_dd * d_err, dtau_de * e_err))
    return tau, 1.0 + delta, inv, tau_err, d_err, float(np.hypot(d_err, e_err))


def _from_relation_errors(
    tau: float, tau_err: float, alpha: float, inv: float
) -> tuple[float, float]:
    # Where only tau's uncertainty was published, the other two exponents are pinned no
    # better than the scaling relation (alpha - 1) = (tau - 1) / (sigma nu z) carries it:
    # alpha_err = inv * tau_err, inv_err = (alpha - 1) tau_err / (tau - 1)^2.
    return inv * tau_err, (alpha - 1.0) * tau_err / (tau - 1.0) ** 2


_DP2 = _dp_from_spreading(0.4505, 0.2295, 0.0010, 0.0010)
_DP3 = _dp_from_spreading(0.732, 0.114, 0.004, 0.004)
_BK_ALPHA_ERR, _BK_INV_ERR = _from_relation_errors(1.27, 0.03, 1.5, 1.77)

#: The reference table: exact classes with zero uncertainty, measured ones with the
#: uncertainty of their literature values (``docs/crackling.md`` gives the sources).
UNIVERSALITY_CLASSES: tuple[UniversalityClass, ...] = (
    UniversalityClass(
        "mean-field directed percolation / critical branching / MF Barkhausen (ABBM)",
        1.5,
        2.0,
        2.0,
        "exact: Sethna, Dahmen & Myers, Nature 410, 242 (2001); di Santo et al., PRE 95, "
        "032115 (2017)",
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
        "Durin & Zapperi, PRL 84, 4705 (2000) (tau = 1.27 +- 0.03); Bohn et al., PRE 90, "
        "032821 (2014) (alpha ~ 1.5, 1/(sigma nu z) ~ 1.77, no uncertainty given: the "
        "uncertainty tau's carries through the scaling relation)",
        tau_err=0.03,
        alpha_err=_BK_ALPHA_ERR,
        inv_snz_err=_BK_INV_ERR,
    ),
    UniversalityClass(
        "directed percolation, 2+1 dimensions",
        *_DP2[:3],
        "from spreading exponents delta = 0.4505(10), eta = 0.2295(10): Hinrichsen, Adv. "
        "Phys. 49, 815 (2000); Munoz et al., PRE 59, 6175 (1999)",
        tau_err=_DP2[3],
        alpha_err=_DP2[4],
        inv_snz_err=_DP2[5],
    ),
    UniversalityClass(
        "directed percolation, 3+1 dimensions",
        *_DP3[:3],
        "from spreading exponents delta = 0.732(4), eta = 0.114(4): Hinrichsen, Adv. Phys. "
        "49, 815 (2000)",
        tau_err=_DP3[3],
        alpha_err=_DP3[4],
        inv_snz_err=_DP3[5],
    ),
)

#: A measurement is consistent with a class below this distance.
CONSISTENT_DISTANCE = 2.0


@dataclass(frozen=True)
class ClassMatch:
    """The class nearest to a measurement, with the distance to every class.

    ``distance`` is sqrt(chi^2 / k) over the k exponents given: each exponent's
    difference from the class value in units of the combined uncertainty, the
    measurement's (statistical and systematic) and the class's own (its literature
    values'). ``consistent`` is ``distance < CONSISTENT_DISTANCE``; when no class is
    consistent, ``name`` is still the closest one and ``consistent`` is False: "no
    class" is a valid answer.
    """

    name: str
    distance: float
    consistent: bool
    distances: dict[str, float]
    reference: UniversalityClass

    @property
    def consistent_classes(self) -> tuple[str, ...]:
        """Every class within the consistency distance, nearest first."""
        return tuple(
            n
            for n, d in sorted(self.distances.items(), key=lambda kv: kv[1])
            if d < CONSISTENT_DISTANCE
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distance": self.distance,
            "consistent": self.consistent,
            "consistent_classes": list(self.consistent_classes),
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
    floor: float = 0.0,
    classes: tuple[UniversalityClass, ...] = UNIVERSALITY_CLASSES,
) -> ClassMatch:
    """Find the universality class closest to measured exponents.

    Parameters
    ----------
    tau, alpha, inv_snz : float, optional
        Measured size exponent, duration exponent and 1/(sigma nu z); any subset
        (at least one).
    tau_err, alpha_err, inv_snz_err : float
        Their uncertainties (statistical and systematic combined, as the crackling
        report gives them).
    floor : float
        Least uncertainty assumed for any difference (default none: the measurement's
        and the class's own uncertainties decide).
    classes : tuple of UniversalityClass
        The candidates; default :data:`UNIVERSALITY_CLASSES`.

    Examples
    --------
    >>> import crackle as ck
    >>> m = ck.nearest_class(tau=1.50, alpha=2.02, inv_snz=1.98, tau_err=0.01,
    ...                      alpha_err=0.03, inv_snz_err=0.03)
    >>> m.name.startswith("mean-field"), m.consistent
    (True, True)
    """
    func = "nearest_class"
    floor = check_real(floor, "floor", func, low=0.0)
    if (
        not isinstance(classes, tuple | list)
        or len(classes) == 0
        or not all(isinstance(c, UniversalityClass) for c in classes)
    ):
        raise param_error("classes", func, "a non-empty tuple of UniversalityClass", classes)
    given = [
        (v, check_real(e, f"{n}_err", func, low=0.0), n)
        for v, e, n in (
            (tau, tau_err, "tau"),
            (alpha, alpha_err, "alpha"),
            (inv_snz, inv_snz_err, "inv_snz"),
        )
        if v is not None
    ]
    if not given:
        raise param_error(
            "tau", func, "given: nearest_class needs at least one of tau, alpha, inv_snz"
        )
    given = [(check_real(v, n, func), e, n) for v, e, n in given]
    dist = {}
    for c in classes:
        chi2 = 0.0
        for v, e, n in given:
            sd = max(float(np.hypot(e, getattr(c, f"{n}_err"))), floor)
            diff = v - getattr(c, n)
            chi2 += (diff / sd) ** 2 if sd > 0 else (0.0 if diff == 0 else np.inf)
        dist[c.name] = float(np.sqrt(chi2 / len(given)))
    best = min(dist, key=dist.__getitem__)
    ref = next(c for c in classes if c.name == best)
    return ClassMatch(best, dist[best], dist[best] < CONSISTENT_DISTANCE, dist, ref)
