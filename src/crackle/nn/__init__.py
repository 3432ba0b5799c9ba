"""Model-side code (torch): recorders and perturbation probes. Filled in by later issues."""

__all__: list[str] = []
