"""Mean-field signal propagation in deep Gaussian networks: fixed points and phase diagrams.

A network ``z^l = W^l phi(z^{l-1}) + b^l`` with ``W_ij ~ N(0, sigma_w^2 / N)`` and
``b_i ~ N(0, sigma_b^2)`` has, as N -> infinity, the length map
``q^l = sigma_w^2 E[phi(sqrt(q^{l-1}) z)^2] + sigma_b^2``. This module computes, exactly
(to ~1e-13) and vectorised over whole grids, its fixed point ``q*``, the slopes
``chi_q`` (length map) and ``chi_1`` (order to chaos), the correlation fixed point
``c*``, the depth scales ``xi_q``, ``xi_c``, and the susceptibilities ``chi_w``,
``chi_b`` and the responses of the signal strength sqrt(q*) to sigma_w^2 and to
sigma_w; plus the edge of chaos, the Widom line (either derivative) and the critical
exponents.
See docs/meanfield.md for the numerical choices and their measured accuracy.

References
----------
Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli, "Exponential expressivity in deep
neural networks through transient chaos", NeurIPS 2016.
Schoenholz, Gilmer, Ganguli & Sohl-Dickstein, "Deep information propagation",
ICLR 2017.
Ghavasieh et al., "Toward a Physics of Deep Learning and Brains", arXiv 2509.22649
(2025).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_1d, check_int, check_memory, check_real, param_error
from crackle.theory._activations import ACTIVATIONS, Activation, Func, resolve_activation
from crackle.theory._fixedpoint import (
    CRITICAL,
    MARGINAL,
    OK,
    SERIES,
    STATUS,
    UNSTABLE,
    ZERO,
    solve_c_star,
    solve_q_star,
)
from crackle.theory._lines import (
    WIDOM_SUSCEPTIBILITIES,
    CriticalExponents,
    EdgeOfChaos,
    WidomLine,
    critical_exponents,
    edge_of_chaos,
    widom_line,
)
from crackle.theory._quadrature import moments

Array = NDArray[np.float64]
ActivationLike = str | Activation | Func

__all__ = [
    "ACTIVATIONS",
    "WIDOM_SUSCEPTIBILITIES",
    "Activation",
    "CriticalExponents",
    "EdgeOfChaos",
    "MeanFieldPoint",
    "WidomLine",
    "critical_exponents",
    "edge_of_chaos",
    "fixed_point",
    "length_map_trajectory",
    "phase_diagram",
    "widom_line",
]

_VARIABLES: dict[str, str] = {
    "q_star": "fixed point q* of the length map (mean squared pre-activation)",
    "chi_q": "slope of the length map at q*: sigma_w^2 E[phi'(u)^2 + phi(u) phi''(u)]",
    "chi_1": "order-to-chaos slope: sigma_w^2 E[phi'(u)^2]; edge of chaos at chi_1 = 1",
    "c_star": "fixed point of the correlation map (1 in the ordered phase)",
    "chi_c": "slope of the correlation map at c*: sigma_w^2 E[phi'(u1) phi'(u2)]",
    "xi_q": "depth scale of q: -1/ln(chi_q) (layers)",
    "xi_c": "depth scale of correlations: -1/ln(chi_c) (layers)",
    "chi_w": "dq*/d(sigma_w^2) = E[phi(u)^2] / (1 - chi_q)",
    "chi_b": "dq*/d(sigma_b^2) = 1 / (1 - chi_q)",
    "chi_w_strength": "d sqrt(q*)/d(sigma_w^2) = chi_w / (2 sqrt(q*)): response of the "
    "signal strength sqrt(q*); its ridge is the Widom line",
    "chi_w_strength_sigma_w": "d sqrt(q*)/d sigma_w = 2 sigma_w d sqrt(q*)/d(sigma_w^2): "
    "the same response per unit sigma_w; its ridge is the other reading of the Widom line",
}


@dataclass(frozen=True)
class MeanFieldPoint:
    """Every mean-field quantity at one (sigma_w^2, sigma_b^2); see ``phase_diagram``."""

    sigma_w2: float
    sigma_b2: float
    activation: str
    q_star: float
    chi_q: float
    chi_1: float
    c_star: float
    chi_c: float
    xi_q: float
    xi_c: float
    chi_w: float
    chi_b: float
    chi_w_strength: float
    chi_w_strength_sigma_w: float
    status: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN and inf stay floats; crackle's JSON writer nulls them)."""
        return asdict(self)


def _evaluate(act: Activation, sw: Array, sb: Array, n_hermite: int) -> dict[str, Array]:
    """All quantities on flat arrays; the shared kernel of every public function."""
    sol = solve_q_star(act, sw, sb)
    q, status = sol.q, sol.status.copy()
    n = sw.size
    out = {name: np.full(n, np.nan) for name in _VARIABLES}
    out["q_star"] = q.copy()
    fin = np.flatnonzero(np.isfinite(q))
    m = moments(act, q[fin])
    chi_q = sw[fin] * m.dv
    chi_1 = sw[fin] * m.d
    unstable = chi_q > 1.0 + 1e-9
    status[fin[unstable]] = UNSTABLE
    out["q_star"][fin[unstable]] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        one_minus = 1.0 - chi_q
        chi_b = np.where(one_minus > 0, 1.0 / one_minus, np.inf)
        chi_w = np.where(one_minus > 0, m.v / one_minus, np.inf)
        st = status[fin]
        chi_w = np.where(st == ZERO, 0.0, chi_w)
        chi_w = np.where(st == CRITICAL, np.nan, chi_w)
        strength = np.where(q[fin] > 0, chi_w / (2.0 * np.sqrt(q[fin])), 0.0)
        strength = np.where(st == CRITICAL, np.inf, strength)
        strength_sigma = 2.0 * np.sqrt(sw[fin]) * strength
        xi_q = np.where(chi_q <= 0, 0.0, np.where(chi_q >= 1, np.inf, -1.0 / np.log(chi_q)))
    for name, val in (
        ("chi_q", chi_q),
        ("chi_1", chi_1),
        ("chi_b", chi_b),
        ("chi_w", chi_w),
        ("chi_w_strength", strength),
        ("chi_w_strength_sigma_w", strength_sigma),
        ("xi_q", xi_q),
    ):
        col = out[name]
        col[fin] = val
        col[fin[unstable]] = np.nan
    # chi_1 is q-independent for a homogeneous phi: defined even when q* is not.
    if act.homogeneous:
        d_any = float(moments(act, np.ones(1)).d[0])
        rest = np.flatnonzero(~np.isfinite(q) | (status == MARGINAL))
        out["chi_1"][rest] = sw[rest] * d_any
    # Correlation map: only where q* is finite and positive (q* = 0 is ordered: c* = 1).
    good = fin[~unstable]
    pos = good[q[good] > 0]
    zero = good[q[good] == 0]
    out["c_star"][zero] = 1.0
    out["chi_c"][zero] = out["chi_1"][zero]
    if pos.size:
        c, chic, conv = solve_c_star(act, sw[pos], sb[pos], q[pos], out["chi_1"][pos], n_hermite)
        out["c_star"][pos] = np.where(conv, c, np.nan)
        out["chi_c"][pos] = np.where(conv, chic, np.nan)
        status[pos[~conv & (status[pos] == OK)]] = SERIES
    cc = out["chi_c"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["xi_c"] = np.where(cc <= 0, 0.0, np.where(cc >= 1, np.inf, -1.0 / np.log(cc)))
    out["xi_c"][np.isnan(cc)] = np.nan
    out["status"] = status.astype(np.float64)
    return out


def fixed_point(
    sigma_w2: float, sigma_b2: float, activation: ActivationLike = "tanh", *, n_hermite: int = 256
) -> MeanFieldPoint:
    """Mean-field quantities at one point (sigma_w^2, sigma_b^2).

    Parameters
    ----------
    sigma_w2, sigma_b2 : float
        Weight and bias variances, finite and >= 0.
    activation : str, Activation or callable
        One of ``crackle.meanfield.ACTIVATIONS`` ("tanh", "erf", "relu", "hard_tanh",
        "linear", "selu", "gelu"), an :class:`Activation`, or a plain callable
        (differentiated numerically).
    n_hermite : int
        Terms of the Mehler series for the correlation map.

    Returns
    -------
    MeanFieldPoint
        The quantities of :func:`phase_diagram` as floats, and ``status`` in words.

    References
    ----------
    Poole et al. (2016); Schoenholz et al. (2017); Ghavasieh et al. (2025),
    arXiv 2509.22649.

    Examples
    --------
    >>> import crackle as ck
    >>> p = ck.meanfield.fixed_point(2.0, 0.0, "relu")
    >>> p.chi_1, p.status[:8]
    (1.0, 'marginal')
    >>> p = ck.meanfield.fixed_point(1.5, 0.05, "tanh")
    >>> round(p.q_star, 6), round(p.chi_1, 6), p.status
    (0.418037, 0.938636, 'ok')
    """
    func = "fixed_point"
    sw = check_real(sigma_w2, "sigma_w2", func, low=0.0)
    sb = check_real(sigma_b2, "sigma_b2", func, low=0.0)
    kk = check_int(n_hermite, "n_hermite", func, low=1, high=4096)
    act = resolve_activation(activation, func)
    out = _evaluate(act, np.array([sw]), np.array([sb]), kk)
    code = int(out.pop("status")[0])
    vals = {k: float(v[0]) for k, v in out.items()}
    return MeanFieldPoint(sw, sb, act.name, status=STATUS[code].split(":")[0], **vals)


def phase_diagram(
    sigma_w2: ArrayLike,
    sigma_b2: ArrayLike,
    activation: ActivationLike = "tanh",
    *,
    n_hermite: int = 256,
) -> xr.Dataset:
    """Mean-field phase diagram on the grid ``sigma_w2 x sigma_b2``.

    Parameters
    ----------
    sigma_w2 : array_like of shape (n_w,)
        Weight variances, finite and >= 0.
    sigma_b2 : array_like of shape (n_b,)
        Bias variances, finite and >= 0.
    activation : str, Activation or callable
        See :func:`fixed_point`.
    n_hermite : int
        Terms of the Mehler series for the correlation map (c*, chi_c, xi_c).

    Returns
    -------
    xarray.Dataset
        Coordinates ``sigma_w2`` (n_w,) and ``sigma_b2`` (n_b,); variables of shape
        (n_w, n_b): ``q_star``, ``chi_q``, ``chi_1``, ``c_star``, ``chi_c``, ``xi_q``,
        ``xi_c``, ``chi_w``, ``chi_b``, ``chi_w_strength``, ``chi_w_strength_sigma_w``
        and ``status`` (int8 flags,
        CF ``flag_values``/``flag_meanings``). NaN and inf are never silent: the
        status of the point and the Dataset attribute ``nonfinite_reasons`` say why.

    References
    ----------
    Poole et al. (2016); Schoenholz et al. (2017); Ghavasieh et al. (2025),
    arXiv 2509.22649.

    Examples
    --------
    >>> import numpy as np, crackle as ck
    >>> ds = ck.meanfield.phase_diagram(np.linspace(0.5, 3.0, 6), [0.0, 0.1])
    >>> ds.q_star.shape
    (6, 2)
    >>> corner = ds.sel(sigma_w2=0.5, sigma_b2=0.0)
    >>> float(corner.q_star), int(corner.status)
    (0.0, 1)
    >>> round(float(ds.chi_1.sel(sigma_w2=2.0, sigma_b2=0.1)), 6)
    1.003007
    """
    func = "phase_diagram"
    sw = check_1d(sigma_w2, "sigma_w2", func, nonnegative=True)
    sb = check_1d(sigma_b2, "sigma_b2", func, nonnegative=True)
    for name, arr in (("sigma_w2", sw), ("sigma_b2", sb)):
        if arr.max() > 1e8:
            raise param_error(name, func, "variances in [0, 1e8]", f"max {arr.max():g}")
    kk = check_int(n_hermite, "n_hermite", func, low=1, high=4096)
    act = resolve_activation(activation, func)
    # Measured peak (tracemalloc): about 3.3 kB per grid point at 300 x 300 (the
    # quadrature nodes of every point are held at once).
    check_memory(
        3300.0 * float(sw.size) * float(sb.size),
        f"a {sw.size} x {sb.size} grid",
        func,
        hint="Use fewer points in sigma_w2 or sigma_b2 (a few hundred each resolve the lines).",
    )
    gw, gb = np.meshgrid(sw, sb, indexing="ij")
    out = _evaluate(act, gw.ravel(), gb.ravel(), kk)
    dims = ("sigma_w2", "sigma_b2")
    status = out.pop("status").reshape(gw.shape).astype(np.int8)
    data: dict[str, Any] = {
        name: (dims, out[name].reshape(gw.shape), {"long_name": desc, "units": "1"})
        for name, desc in _VARIABLES.items()
    }
    codes = np.array(sorted(STATUS), dtype=np.int8)
    data["status"] = (
        dims,
        status,
        {
            "long_name": "how each point was obtained; non-zero explains NaN/inf or exact zeros",
            "flag_values": codes,
            "flag_meanings": " ".join(STATUS[int(c)].split(":")[0] for c in codes),
        },
    )
    present = [int(c) for c in np.unique(status) if int(c) not in (OK, ZERO)]
    reasons = "; ".join(f"{int((status == c).sum())} point(s) {STATUS[c]}" for c in present)
    n_zero = int((status == ZERO).sum())
    attrs = {
        "title": "crackle mean-field phase diagram",
        "activation": act.name,
        "quadrature": "composite Gauss-Legendre against the Gaussian (octave panels near 0, "
        "12 nodes per panel); exact closed forms for relu, linear, hard_tanh",
        "n_hermite": kk,
        "root_finder": "safeguarded Newton in a bracket (q*), monotone Newton on the "
        "convex Mehler correlation map (c*)",
        "nonfinite_reasons": reasons or "none: every value is finite",
        "exact_zeros": f"{n_zero} point(s) {STATUS[ZERO]}; there chi_w = chi_w_strength = 0 "
        "and c_star = 1 (limits)",
        "references": "Poole et al. 2016; Schoenholz et al. 2017; Ghavasieh et al. 2025 "
        "(arXiv 2509.22649)",
    }
    try:
        from importlib.metadata import version

        attrs["crackle_version"] = version("crackle")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        attrs["crackle_version"] = "unknown"
    coords = {
        "sigma_w2": ("sigma_w2", sw, {"long_name": "weight variance sigma_w^2"}),
        "sigma_b2": ("sigma_b2", sb, {"long_name": "bias variance sigma_b^2"}),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def length_map_trajectory(
    q0: float,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    activation: ActivationLike = "tanh",
) -> NDArray[np.float64]:
    """Iterates of the length map q^l = sigma_w^2 E[phi(sqrt(q^{l-1}) z)^2] + sigma_b^2.

    Parameters
    ----------
    q0 : float
        Signal strength of the input, >= 0.
    sigma_w2, sigma_b2 : float
        Weight and bias variances, >= 0.
    depth : int
        Number of layers.
    activation : str, Activation or callable
        See :func:`fixed_point`.

    Returns
    -------
    numpy.ndarray of shape (depth + 1,)
        ``q^0 = q0, q^1, ..., q^depth`` (the mean-field prediction for a finite depth).

    Examples
    --------
    >>> import crackle as ck
    >>> ck.meanfield.length_map_trajectory(1.0, 2.0, 0.0, 3, "relu")
    array([1., 1., 1., 1.])
    """
    func = "length_map_trajectory"
    q = check_real(q0, "q0", func, low=0.0)
    sw = check_real(sigma_w2, "sigma_w2", func, low=0.0)
    sb = check_real(sigma_b2, "sigma_b2", func, low=0.0)
    n = check_int(depth, "depth", func, low=0)
    act = resolve_activation(activation, func)
    out = np.empty(n + 1)
    out[0] = q
    for layer in range(1, n + 1):
        out[layer] = sw * float(moments(act, out[layer - 1 : layer]).v[0]) + sb
    return out
