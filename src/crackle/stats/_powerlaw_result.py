"""The results of a power-law fit: :class:`PowerLawFit` and its follow-ups
(:class:`PowerLawComparison`, :class:`PowerLawGof`); public through
:mod:`crackle.stats.powerlaw`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from crackle._random import SeedLike, as_generator, seed_repr
from crackle._validation import (
    check_choice,
    check_int,
    param_error,
)
from crackle.stats import _powerlaw_core as core
from crackle.stats._powerlaw_alternatives import (
    ALTERNATIVES,
    fit_alternative,
    power_law_loglik,
    vuong,
)
from crackle.stats._powerlaw_gof import ks_fixed_window, ks_refit_procedure

__all__ = ["PowerLawComparison", "PowerLawFit", "PowerLawGof"]

FloatArray = core.FloatArray

# Points of the empirical CCDF that plot() draws at most.
_PLOT_POINTS = 5000


@dataclass(frozen=True)
class PowerLawComparison:
    """Log-likelihood ratio test of the power law against one alternative tail.

    Unpacks as ``R, p = fit.compare("lognormal")``. ``R`` is Vuong's normalised ratio
    sum(l_pl - l_alt) / (sqrt(n) * std(l_pl - l_alt)): positive favours the power law.
    For the non-nested alternatives ``p = erfc(|R| / sqrt(2))`` (two-sided: is the sign
    of R significant?). The truncated power law nests the power law, so its ``p``
    comes from the likelihood-ratio test, 2 |loglik_ratio| ~ chi^2(1), as in Clauset et
    al. (2009); a small p there means the truncation (cut-off) is significant.
    """

    distribution: str
    R: float
    p: float
    loglik_ratio: float
    nested: bool
    n_tail: int
    params: dict[str, float] = field(default_factory=dict)
    converged: bool = True

    def __iter__(self) -> Any:
        return iter((self.R, self.p))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {
            "distribution": self.distribution,
            "R": self.R,
            "p": self.p,
            "loglik_ratio": self.loglik_ratio,
            "nested": self.nested,
            "n_tail": self.n_tail,
            "params": dict(self.params),
            "converged": self.converged,
        }


@dataclass(frozen=True)
class PowerLawGof:
    """Semi-parametric bootstrap goodness of fit (Clauset et al. 2009, section 4.1).

    ``p`` is the fraction of synthetic data sets, each refitted with the same xmin
    procedure, whose KS distance is at least the observed ``ks``. Small p (< 0.1)
    rules the power law out. ``ks_boot`` has shape (n_boot,); entries of refits that
    failed (too few distinct values) are NaN and counted in ``n_failed``.
    """

    p: float
    n_boot: int
    ks: float
    ks_boot: FloatArray = field(repr=False, compare=False)
    seed: int | str | None
    n_failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (the bootstrap distances are summarised, not dumped)."""
        ok = self.ks_boot[np.isfinite(self.ks_boot)]
        return {
            "p": self.p,
            "n_boot": self.n_boot,
            "ks": self.ks,
            "ks_boot_mean": float(ok.mean()) if ok.size else None,
            "seed": self.seed,
            "n_failed": self.n_failed,
        }


@dataclass(frozen=True)
class PowerLawFit:
    """A fitted power law p(x) ~ x^-exponent on [xmin, xmax].

    Attributes
    ----------
    exponent, exponent_err : float
        Maximum-likelihood exponent and its standard error (continuous, no xmax:
        (exponent - 1) / sqrt(n_tail); otherwise from the observed Fisher information).
        Called ``alpha`` and ``sigma`` in crackle 0.1; those names remain as deprecated
        aliases for one release (they clashed with the duration exponent alpha and
        the branching parameter sigma).
    xmin, xmax : float, float or None
        Fitted range; xmax is None for an unbounded tail.
    ks : float
        Kolmogorov-Smirnov distance between the tail data and the fitted law.
    n_tail, n : int
        Values in [xmin, xmax]; all values passed.
    n_above_xmax : int
        Values above xmax, left out of the fit (0 without xmax).
    loglik : float
        Log-likelihood of the tail at the fitted exponent.
    discrete, success, message
        Data type; whether the fit converged inside (1, 20]; what happened.
    xmin_mode : {"auto", "range", "fixed"}
        How xmin was chosen. ``xmin_candidates`` counts the values scanned.
    ks_variant : {"sup", "left"}
        The KS distance used (see :func:`fit_power_law`); ``min_tail`` the smallest
        tail a candidate xmin may leave.
    """

    exponent: float
    xmin: float
    xmax: float | None
    exponent_err: float
    ks: float
    n_tail: int
    n: int
    loglik: float
    discrete: bool
    success: bool
    message: str
    xmin_mode: str
    xmin_candidates: int
    ks_variant: str
    min_tail: int
    n_above_xmax: int = 0
    _data: FloatArray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)
    _xmin_arg: Any = field(default="auto", repr=False, compare=False)

    # ------------------------------------------------------------------ deprecated names
    @property
    def alpha(self) -> float:
        """Deprecated alias of :attr:`exponent` (removed in the next release)."""
        warnings.warn(
            "PowerLawFit.alpha is deprecated; use PowerLawFit.exponent",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.exponent

    @property
    def sigma(self) -> float:
        """Deprecated alias of :attr:`exponent_err` (removed in the next release)."""
        warnings.warn(
            "PowerLawFit.sigma is deprecated; use PowerLawFit.exponent_err",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.exponent_err

    # ------------------------------------------------------------------ views of the data
    def _used(self) -> FloatArray:
        if self.xmax is None:
            return self._data
        return self._data[: np.searchsorted(self._data, self.xmax, side="right")]

    def _tail(self) -> FloatArray:
        used = self._used()
        out: FloatArray = used[np.searchsorted(used, self.xmin, side="left") :]
        return out

    def ccdf(self) -> tuple[FloatArray, FloatArray]:
        """Empirical complementary CDF of all the data.

        Returns
        -------
        x : ndarray of shape (u,)
            The distinct values, ascending.
        p : ndarray of shape (u,)
            The fraction of values >= x.
        """
        x, first = np.unique(self._data, return_index=True)
        return x, 1.0 - first / self._data.size

    def survival(self, x: ArrayLike) -> FloatArray:
        """Fitted P(X >= x | X >= xmin) at ``x`` (array of any shape; 1 below xmin)."""
        xv = np.asarray(x, dtype=float)
        a = np.full(xv.shape, self.exponent)
        xc = np.maximum(xv, self.xmin)
        if self.discrete:
            w = np.inf if self.xmax is None else self.xmax + 1.0
            xc = np.ceil(xc)
            lz = core.log_norm_discrete(a, np.full(xv.shape, self.xmin), w)
            with np.errstate(divide="ignore"):
                out: FloatArray = np.exp(core.log_norm_discrete(a, np.minimum(xc, w), w) - lz)
            return out
        q = (xc / self.xmin) ** (1.0 - self.exponent)
        if self.xmax is not None:
            qw = (self.xmax / self.xmin) ** (1.0 - self.exponent)
            q = np.clip((q - qw) / (1.0 - qw), 0.0, 1.0)
        return q

    # ------------------------------------------------------------------ follow-ups
    def compare(self, distribution: str) -> PowerLawComparison:
        """Compare the power law with an alternative tail by log-likelihood ratio.

        Parameters
        ----------
        distribution : {"exponential", "lognormal", "truncated_power_law"}
            The alternative, fitted by maximum likelihood on the same tail.

        Returns
        -------
        PowerLawComparison
            Unpacks as ``(R, p)``; R > 0 favours the power law.
        """
        name = check_choice(distribution, "distribution", "PowerLawFit.compare", ALTERNATIVES)
        vals, counts = np.unique(self._tail(), return_counts=True)
        wts = counts.astype(float)
        ll_pl = power_law_loglik(vals, self.exponent, self.xmin, self.xmax, self.discrete)
        params, ll_alt, ok = fit_alternative(
            name, vals, wts, self.xmin, self.xmax, self.discrete, self.exponent
        )
        nested = name == "truncated_power_law"
        if nested and float(np.sum(wts * (ll_alt - ll_pl))) < 0.0:
            # The nested model can never do worse than the law it contains.
            params, ll_alt = {"alpha": self.exponent, "lambda": 0.0}, ll_pl
        r, p, lr = vuong(ll_pl, ll_alt, wts, nested)
        return PowerLawComparison(name, r, p, lr, nested, self.n_tail, params, ok)

    def gof(
        self, n_boot: int = 1000, seed: SeedLike = 0, *, fixed_xmin: bool = False
    ) -> PowerLawGof:
        """Semi-parametric bootstrap p-value of the fit (Clauset et al. 2009, sec. 4.1).

        Each synthetic data set has as many values as the fit used; each value comes,
        with probability n_tail / n_used, from the fitted law on [xmin, xmax], else it
        is resampled from the observed values below xmin. Each is refitted with the
        same xmin procedure (scan, range or fixed value), KS variant and min_tail.

        Parameters
        ----------
        n_boot : int
            Number of synthetic data sets (Clauset et al. use 2500 for p to +-0.01).
        seed : int, numpy Generator or None
        fixed_xmin : bool
            Keep xmin (and xmax) fixed: each synthetic data set is n_tail draws from the
            fitted law on [xmin, xmax], refitted by maximum likelihood at the same xmin.
            This tests the law on a window chosen beforehand (the crackling report's
            stable window) and costs one fit per replicate instead of a scan; it is
            slightly lenient when xmin was chosen by the KS distance itself.

        Returns
        -------
        PowerLawGof
        """
        n_boot = check_int(n_boot, "n_boot", "PowerLawFit.gof", low=1)
        if not isinstance(fixed_xmin, bool | np.bool_):
            raise param_error("fixed_xmin", "PowerLawFit.gof", "True or False", fixed_xmin)
        rng = as_generator(seed, "PowerLawFit.gof")
        ks_boot = (ks_fixed_window if fixed_xmin else ks_refit_procedure)(self, n_boot, rng)
        ok = np.isfinite(ks_boot)
        p = float(np.mean(ks_boot[ok] >= self.ks)) if ok.any() else float("nan")
        return PowerLawGof(p, n_boot, self.ks, ks_boot, seed_repr(seed), int((~ok).sum()))

    def _repr_html_(self) -> str:
        """The exponent ± its error, the fitted range and the KS distance (Jupyter's
        display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("exponent", "exponent", "exponent_err", None),
            "xmin",
            "xmax",
            "n_tail",
            "n",
            "ks",
            "discrete",
            "success",
            "message",
        ]
        return repr_html(self, "power-law fit p(x) ∝ x^(−exponent)", fields)

    def plot(
        self,
        ax: Any = None,
        *,
        kind: str = "ccdf",
        name: str = "value",
        symbol: str = "X",
        exponent_symbol: str = "α",
        **kwargs: Any,
    ) -> Any:
        """The data on log-log axes with the fitted law over [xmin, max]; returns the Axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; default the axes of a new pyplot figure.
        kind : {"ccdf", "pdf"}
            The complementary CDF P(X >= x), the law drawn as
            (n_tail / n_used) P(X >= x | X >= xmin) so it sits on the empirical CCDF;
            or the log-binned density (10 bins per decade) with the law's density on
            the same bins.
        name, symbol, exponent_symbol : str
            What the axes and the legend call the data and the exponent, e.g.
            ``name="avalanche size", symbol="S", exponent_symbol="τ"``.
        **kwargs
            Passed to the data's ``ax.loglog`` (``kind="ccdf"``).
        """
        from crackle.report import figures

        check_choice(kind, "kind", "PowerLawFit.plot", ("ccdf", "pdf"))
        labels: dict[str, Any] = {
            "xmin": self.xmin,
            "exponent": self.exponent,
            "exponent_err": self.exponent_err,
            "name": name,
            "symbol": symbol,
            "exponent_symbol": exponent_symbol,
        }
        used = self._used()
        scale = self.n_tail / max(used.size, 1)
        top = float(self._tail()[-1]) if self.n_tail else self.xmin
        if kind == "pdf":
            from crackle._binning import log_binned_density

            positive = used[used > 0]
            d = log_binned_density(positive, min_count=3, discrete=self.discrete)
            # The law's mass in each bin above xmin, divided by the bin's width (integers
            # inside it for discrete data), normalised like the data's bins.
            lo, hi = d.edges[:-1], d.edges[1:]
            inside = (lo >= self.xmin - (0.5 if self.discrete else 0.0)) & (lo <= top)
            if self.discrete:  # integers ceil(lo) .. floor(hi) = ceil(hi) - 1
                width = np.floor(hi) - np.floor(lo)
                mass = self.survival(np.ceil(lo[inside])) - self.survival(np.ceil(hi[inside]))
                centres = np.sqrt(np.ceil(lo) * np.floor(hi))
            else:
                width = hi - lo
                mass = self.survival(lo[inside]) - self.survival(hi[inside])
                centres = np.sqrt(lo * hi)
            law_y = scale * mass / width[inside]
            ok = law_y > 0
            return figures.plot_pdf(
                d.centres,
                d.density * positive.size / max(used.size, 1),
                law=(centres[inside][ok], law_y[ok]),
                discrete=self.discrete,
                ax=ax,
                **labels,
            )
        x, p = self.ccdf()
        if x.size > _PLOT_POINTS:
            # Millions of points draw slowly and look the same: keep points evenly spaced
            # in log of the rank from the top, so the tail, where P is small, stays whole.
            from_top = np.unique(np.geomspace(1, x.size, _PLOT_POINTS).astype(np.int64))
            x, p = x[x.size - from_top], p[x.size - from_top]
        grid = np.unique(np.geomspace(self.xmin, max(top, self.xmin * 1.0001), 200))
        if self.discrete:
            grid = np.unique(np.round(grid))
        return figures.plot_ccdf(
            x, p, law=(grid, scale * self.survival(grid)), ax=ax, **labels, **kwargs
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary of the fit (no arrays).

        ``alpha`` and ``sigma`` repeat ``exponent`` and ``exponent_err`` for readers of
        older files; they are deprecated and leave in the next release.
        """
        return {
            "exponent": self.exponent,
            "exponent_err": self.exponent_err,
            "alpha": self.exponent,
            "sigma": self.exponent_err,
            "xmin": self.xmin,
            "xmax": self.xmax,
            "ks": self.ks,
            "n_tail": self.n_tail,
            "n": self.n,
            "n_above_xmax": self.n_above_xmax,
            "loglik": self.loglik,
            "discrete": self.discrete,
            "success": self.success,
            "message": self.message,
            "xmin_mode": self.xmin_mode,
            "xmin_candidates": self.xmin_candidates,
            "ks_variant": self.ks_variant,
            "min_tail": self.min_tail,
        }
