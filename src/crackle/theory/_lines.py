"""Lines and exponents of the mean-field phase diagram: edge of chaos, Widom line, beta, gamma.

Both lines are computed along the fixed-point curve, parametrised by q* itself, so no
root finding is nested inside another:

- edge of chaos: chi_1 = sigma_w^2 D(q) = 1 and q = sigma_w^2 V(q) + sigma_b^2 give
  sigma_w^2 = 1/D(q) and sigma_b^2 = B(q) = q - V(q)/D(q); one 1-D root of B(q) = sigma_b^2.
- Widom line: at fixed sigma_b^2, sigma_w^2(q) = (q - sigma_b^2)/V(q), hence
  chi_w = dq*/d(sigma_w^2) = V^2 / (V - (q - sigma_b^2) V'(q)), maximised over q.

V = E[phi^2], D = E[phi'^2] at variance q.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_choice, check_int, check_real, param_error, real_array
from crackle.theory._activations import Activation, Func, resolve_activation
from crackle.theory._quadrature import moments

Array = NDArray[np.float64]
ActivationLike = str | Activation | Func

__all__ = [
    "WIDOM_SUSCEPTIBILITIES",
    "CriticalExponents",
    "EdgeOfChaos",
    "WidomLine",
    "critical_exponents",
    "edge_of_chaos",
    "widom_line",
]


def _as_variances(x: ArrayLike, name: str, func: str) -> tuple[Array, bool]:
    arr = np.array(real_array(x, name, func, "a number or an array of real numbers"), float)
    if arr.ndim > 1:
        raise param_error(name, func, "a scalar or one-dimensional", f"shape {arr.shape}")
    if arr.size == 0:
        raise param_error(name, func, "a number or a non-empty array", "an empty array")
    if not np.isfinite(arr).all():
        raise param_error(name, func, "finite (no NaN or inf)", f"{arr!r}")
    if (arr < 0).any() or (arr > 1e8).any():
        raise param_error(
            name, func, "a variance in [0, 1e8]", f"values from {arr.min():g} to {arr.max():g}"
        )
    return np.atleast_1d(arr), arr.ndim == 0


def _out(x: Array, scalar: bool) -> Any:
    return float(x[0]) if scalar else x


def _listify(x: Any) -> Any:
    return x.tolist() if isinstance(x, np.ndarray) else x


@dataclass(frozen=True)
class EdgeOfChaos:
    """The edge of chaos chi_1 = 1: ``sigma_w2`` at each ``sigma_b2`` (and ``q_star`` there).

    Scalars when a scalar was given, else arrays of the input's shape. NaN where
    no such point exists (``note`` says why).
    """

    sigma_b2: Any
    sigma_w2: Any
    q_star: Any
    activation: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {k: _listify(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class WidomLine:
    """The Widom line: where the susceptibility peaks in sigma_w^2 at fixed sigma_b^2.

    ``sigma_w2`` is the peak position, ``peak`` its height, ``q_star`` the fixed point
    there; ``susceptibility`` names the response maximised.
    """

    sigma_b2: Any
    sigma_w2: Any
    peak: Any
    q_star: Any
    susceptibility: str
    activation: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {k: _listify(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class CriticalExponents:
    """beta and gamma read off the mean-field solution at sigma_b^2 = 0.

    ``beta``: slope of log q* against log(sigma_w^2 - sigma_w2_c) above the
    transition; ``gamma_above``/``gamma_below``: minus the slope of log chi_b against
    log|sigma_w^2 - sigma_w2_c| on each side; ``gamma`` their mean. ``eps_range`` is the
    fitted range of |sigma_w^2/sigma_w2_c - 1|.
    """

    beta: float
    gamma: float
    gamma_above: float
    gamma_below: float
    sigma_w2_c: float
    eps_range: tuple[float, float]
    activation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {k: _listify(v) for k, v in self.__dict__.items()}


def _slope0(act: Activation) -> float:
    """phi'(0)^2 as the q -> 0 limit of E[phi'^2] (one-sided mean at a kink)."""
    return float(moments(act, np.zeros(1)).d[0])


def edge_of_chaos(sigma_b2: ArrayLike, activation: ActivationLike = "tanh") -> EdgeOfChaos:
    """sigma_w^2 on the edge of chaos (chi_1 = 1) for each sigma_b^2.

    Parameters
    ----------
    sigma_b2 : float or array_like of shape (n,)
        Bias variances, finite and >= 0.
    activation : str, Activation or callable
        See :func:`crackle.meanfield.fixed_point`.

    Returns
    -------
    EdgeOfChaos
        ``sigma_w2`` and ``q_star`` of the same shape as ``sigma_b2``. For a
        positively homogeneous phi (ReLU, linear) chi_1 does not depend on q, so
        the edge is sigma_w^2 = 1/E[phi'^2] at every sigma_b^2; for sigma_b^2 > 0
        q* diverges there (q_star = inf).

    Notes
    -----
    Solved along the fixed-point curve: sigma_b^2 = q - V(q)/D(q) is one root in q
    (bisection to machine precision), then sigma_w^2 = 1/D(q).

    References
    ----------
    Poole et al. (2016); Schoenholz et al. (2017).

    Examples
    --------
    >>> import crackle as ck
    >>> round(ck.meanfield.edge_of_chaos(0.05).sigma_w2, 5)
    1.76095
    >>> ck.meanfield.edge_of_chaos([0.0, 0.5], "relu").sigma_w2
    array([2., 2.])
    """
    func = "edge_of_chaos"
    b, scalar = _as_variances(sigma_b2, "sigma_b2", func)
    act = resolve_activation(activation, func)
    s = np.full(b.size, np.nan)
    q = np.full(b.size, np.nan)
    note = "ok"
    if act.homogeneous:
        s[:] = 1.0 / float(moments(act, np.ones(1)).d[0])
        q[:] = np.where(b == 0, 0.0, np.inf)
        note = "homogeneous activation: chi_1 = sigma_w^2 E[phi'^2] for every q"
        return EdgeOfChaos(_out(b, scalar), _out(s, scalar), _out(q, scalar), act.name, note)
    d0 = _slope0(act)
    phi0 = float(act.phi(np.zeros(1))[0])

    def bfun(x: Array) -> Array:
        m = moments(act, x)
        return np.asarray(x - m.v / m.d)

    at0 = (b == 0) & (phi0 == 0.0)
    s[at0] = 1.0 / d0 if d0 > 0 else np.nan
    q[at0] = 0.0
    rest = np.flatnonzero(~at0)
    if rest.size:
        lo = np.zeros(rest.size)
        hi = np.maximum(1.0, 2.0 * b[rest])
        bhi = bfun(hi)
        while True:
            grow = np.flatnonzero((bhi < b[rest]) & (hi < 1e12))
            if grow.size == 0:
                break
            hi[grow] *= 4.0
            bhi[grow] = bfun(hi[grow])
        found = bhi >= b[rest]
        blo = bfun(lo)
        found &= blo <= b[rest]
        for _ in range(1100):
            mid = 0.5 * (lo + hi)
            up = bfun(mid) < b[rest]
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
            if np.all(hi - lo <= 2 * np.finfo(float).eps * hi):
                break
        qq = 0.5 * (lo + hi)
        m = moments(act, qq)
        s[rest] = np.where(found, 1.0 / m.d, np.nan)
        q[rest] = np.where(found, qq, np.nan)
        if not found.all():
            note = "NaN where sigma_b^2 = q - E[phi^2]/E[phi'^2] has no root for q in [0, 1e12]"
    return EdgeOfChaos(_out(b, scalar), _out(s, scalar), _out(q, scalar), act.name, note)


#: The susceptibilities whose ridge (maximum over sigma_w^2 at fixed sigma_b^2) is a
#: Widom line, by ``widom_line``'s ``susceptibility`` name.
WIDOM_SUSCEPTIBILITIES: dict[str, str] = {
    "strength": "d sqrt(q*)/d sigma_w^2",
    "strength_sigma_w": "d sqrt(q*)/d sigma_w",
    "q": "d q*/d sigma_w^2",
}


def _widom_objective(act: Activation, q: Array, b: Array, kind: str) -> Array:
    """The susceptibility ``kind`` along the fixed-point curve at fixed b, as a function
    of q* = q (there sigma_w^2 = (q - b)/V(q)):

    - "q": chi_w = dq*/d sigma_w^2 = V^2 / (V - (q - b) V'(q));
    - "strength": d sqrt(q*)/d sigma_w^2 = chi_w / (2 sqrt(q));
    - "strength_sigma_w": d sqrt(q*)/d sigma_w = 2 sigma_w d sqrt(q*)/d sigma_w^2
      = chi_w sqrt(sigma_w^2 / q).
    """
    m = moments(act, q)
    denom = m.v - (q - b) * m.dv
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = np.where(denom > 0, m.v**2 / denom, np.inf)
        if kind == "q":
            return np.asarray(chi)
        if kind == "strength":
            return np.asarray(chi / (2.0 * np.sqrt(q)))
        return np.asarray(chi * np.sqrt((q - b) / (m.v * q)))


def widom_line(
    sigma_b2: ArrayLike,
    activation: ActivationLike = "tanh",
    *,
    susceptibility: Literal["strength", "strength_sigma_w", "q"] = "strength",
    sigma_w2_max: float = 50.0,
) -> WidomLine:
    """The Widom line: the sigma_w^2 where the sigma_w-susceptibility peaks, and the peak.

    Parameters
    ----------
    sigma_b2 : float or array_like of shape (n,)
        Bias variances, finite and >= 0.
    activation : str, Activation or callable
        See :func:`crackle.meanfield.fixed_point`.
    susceptibility : {"strength", "strength_sigma_w", "q"}
        Which response's ridge is the Widom line. Ghavasieh et al. 2025 (Methods 0.10,
        Eq. 9) define their sigma_w-susceptibility on the signal strength sqrt(q*), but
        the derivative variable (sigma_w^2 or sigma_w) is lost with the equation in the
        text that survives, so both readings are offered:

        - ``"strength"`` (default): d sqrt(q*)/d(sigma_w^2). For tanh it diverges at
          (1, 0) and has a finite ridge for every sigma_b^2 > 0, which turns back to
          smaller sigma_w^2 beyond sigma_b^2 ~ 0.5.
        - ``"strength_sigma_w"``: d sqrt(q*)/d sigma_w = 2 sigma_w d sqrt(q*)/d(sigma_w^2).
          The factor 2 sigma_w moves the ridge to larger sigma_w^2 (never smaller); for
          tanh the ridge runs off to large sigma_w^2 as sigma_b^2 grows and there is no
          interior peak from sigma_b^2 ~ 0.3 on (the response tends to 1 from below as
          sigma_w^2 -> inf): NaN with a note.
        - ``"q"``: chi_w = dq*/d(sigma_w^2); for tanh it rises monotonically in
          sigma_w^2 (no interior peak, so NaN with a note).
    sigma_w2_max : float
        Largest sigma_w^2 searched.

    Returns
    -------
    WidomLine
        ``sigma_w2``, ``peak`` and ``q_star`` shaped like ``sigma_b2``. At sigma_b^2 = 0
        the peak is the critical point itself (sigma_w^2 = 1/phi'(0)^2, peak inf for
        "strength"). NaN where the maximum sits on the search boundary.

    References
    ----------
    Ghavasieh et al. (2025), arXiv 2509.22649, sections 0.4 and 0.10.

    Examples
    --------
    >>> import crackle as ck
    >>> w = ck.meanfield.widom_line([0.01, 0.1])
    >>> [round(float(x), 3) for x in w.sigma_w2], [round(float(x), 3) for x in w.peak]
    ([1.186, 1.511], [0.597, 0.369])
    >>> w = ck.meanfield.widom_line([0.0, 0.01, 0.1], susceptibility="strength_sigma_w")
    >>> [round(float(x), 3) for x in w.sigma_w2], w.susceptibility
    ([1.0, 1.3, 3.521], 'd sqrt(q*)/d sigma_w')
    """
    func = "widom_line"
    b, scalar = _as_variances(sigma_b2, "sigma_b2", func)
    kind = check_choice(susceptibility, "susceptibility", func, list(WIDOM_SUSCEPTIBILITIES))
    smax = check_real(sigma_w2_max, "sigma_w2_max", func, low=0.0, low_open=True, high=1e8)
    act = resolve_activation(activation, func)
    s = np.full(b.size, np.nan)
    peak = np.full(b.size, np.nan)
    q = np.full(b.size, np.nan)
    notes = []
    phi0 = float(act.phi(np.zeros(1))[0])
    at0 = (b == 0) & (phi0 == 0.0) & (not act.homogeneous)
    if at0.any() and kind != "q":
        d0 = _slope0(act)
        s[at0], peak[at0], q[at0] = 1.0 / d0, np.inf, 0.0
        notes.append("sigma_b^2 = 0: the critical point, where the susceptibility diverges")
    rest = np.flatnonzero(~at0 & (b > 0))
    if rest.size:
        # Coarse log-grid in (q - b), then golden-section refinement around the best.
        bb = b[rest][:, None]
        grid = np.geomspace(1e-12, 1.0, 241)[None, :] * (smax + bb + 1.0)
        qg = bb + grid
        vals = _widom_objective(act, qg.ravel(), np.repeat(b[rest], grid.shape[1]), kind)
        vals = vals.reshape(qg.shape)
        sw_g = (qg - bb) / moments(act, qg.ravel()).v.reshape(qg.shape)
        vals = np.where((sw_g <= smax) & np.isfinite(vals), vals, -np.inf)
        best = np.argmax(vals, axis=1)
        inside = (best > 0) & (best < grid.shape[1] - 1) & np.isfinite(vals.max(axis=1))
        inside &= sw_g[np.arange(rest.size), np.minimum(best + 1, grid.shape[1] - 1)] <= smax
        lo = np.log(np.take_along_axis(grid, np.maximum(best - 1, 0)[:, None], 1)[:, 0])
        hi = np.log(np.take_along_axis(grid, np.minimum(best + 1, grid.shape[1] - 1)[:, None], 1))
        hi = hi[:, 0]
        gr = (np.sqrt(5.0) - 1.0) / 2.0
        br = b[rest]

        def f(t: Array) -> Array:
            return -_widom_objective(act, br + np.exp(t), br, kind)

        x1, x2 = hi - gr * (hi - lo), lo + gr * (hi - lo)
        f1, f2 = f(x1), f(x2)
        for _ in range(80):
            left = f1 < f2
            hi = np.where(left, x2, hi)
            lo = np.where(left, lo, x1)
            x2n = np.where(left, x1, lo + gr * (hi - lo))
            x1n = np.where(left, hi - gr * (hi - lo), x2)
            f2 = np.where(left, f1, np.nan)
            f1 = np.where(left, np.nan, f2)
            x1, x2 = x1n, x2n
            f1 = np.where(np.isnan(f1), f(x1), f1)
            f2 = np.where(np.isnan(f2), f(x2), f2)
        t = 0.5 * (lo + hi)
        qq = br + np.exp(t)
        pk = _widom_objective(act, qq, br, kind)
        sw = (qq - br) / moments(act, qq).v
        s[rest] = np.where(inside, sw, np.nan)
        peak[rest] = np.where(inside, pk, np.nan)
        q[rest] = np.where(inside, qq, np.nan)
        if not inside.all():
            notes.append(
                f"NaN where the maximum lies on the search boundary (no interior peak "
                f"for sigma_w^2 <= {smax:g})"
            )
    if (~at0 & (b == 0)).any():
        notes.append("sigma_b^2 = 0 without a continuous transition (or kind 'q'): NaN")
    return WidomLine(
        _out(b, scalar),
        _out(s, scalar),
        _out(peak, scalar),
        _out(q, scalar),
        WIDOM_SUSCEPTIBILITIES[kind],
        act.name,
        "; ".join(notes) or "ok",
    )


def critical_exponents(
    activation: ActivationLike = "tanh",
    *,
    eps_range: tuple[float, float] = (1e-5, 1e-3),
    n_points: int = 9,
) -> CriticalExponents:
    """beta and gamma of the sigma_b^2 = 0 transition, read off the exact solution.

    Parameters
    ----------
    activation : str, Activation or callable
        Needs phi(0) = 0 and a continuous transition (tanh, erf, hard_tanh, ...).
    eps_range : (float, float)
        Fitted range of the reduced distance |sigma_w^2 / sigma_w2_c - 1|.
    n_points : int
        Log-spaced points per side, at least 3 (two points fit any line exactly and
        would test nothing).

    Returns
    -------
    CriticalExponents
        Mean-field directed percolation predicts beta = gamma = 1.

    References
    ----------
    Ghavasieh et al. (2025), arXiv 2509.22649, Methods
    ("Mean-field susceptibility").

    Examples
    --------
    >>> import crackle as ck
    >>> e = ck.meanfield.critical_exponents("tanh")
    >>> round(e.beta, 3), round(e.gamma_below, 3), round(e.gamma_above, 3)
    (1.0, 1.0, 1.0)
    """
    from crackle.theory._fixedpoint import solve_q_star

    func = "critical_exponents"
    act = resolve_activation(activation, func)
    n_points = check_int(n_points, "n_points", func, low=3, high=10_000)
    if not isinstance(eps_range, tuple | list) or len(eps_range) != 2:
        raise param_error("eps_range", func, "(lo, hi) with 0 < lo < hi < 1", eps_range)
    lo_e = check_real(eps_range[0], "eps_range", func)
    hi_e = check_real(eps_range[1], "eps_range", func)
    if not (0 < lo_e < hi_e < 1):
        raise param_error("eps_range", func, "(lo, hi) with 0 < lo < hi < 1", eps_range)
    if float(act.phi(np.zeros(1))[0]) != 0.0 or act.homogeneous:
        raise param_error(
            "activation",
            func,
            "an activation with phi(0) = 0 and a continuous transition (not ReLU/linear)",
            act.name,
        )
    sc = 1.0 / _slope0(act)
    eps = np.geomspace(lo_e, hi_e, n_points)
    above = sc * (1.0 + eps)
    below = sc * (1.0 - eps)
    sw = np.concatenate([above, below])
    sol = solve_q_star(act, sw, np.zeros(sw.size))
    m = moments(act, sol.q)
    chi_b = 1.0 / (1.0 - sw * m.dv)
    x = np.log(eps)
    beta = float(np.polyfit(x, np.log(sol.q[:n_points]), 1)[0])
    g_above = -float(np.polyfit(x, np.log(chi_b[:n_points]), 1)[0])
    g_below = -float(np.polyfit(x, np.log(chi_b[n_points:]), 1)[0])
    return CriticalExponents(
        beta, 0.5 * (g_above + g_below), g_above, g_below, sc, (lo_e, hi_e), act.name
    )
