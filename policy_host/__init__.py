"""Policies and how the arena finds them: the `Policy` port, the registry, scripted baselines."""

from schemas.policy import ActionSpace, CameraSpec, Observation, Policy, PolicyMetadata

__all__ = ["ActionSpace", "CameraSpec", "Observation", "Policy", "PolicyMetadata"]
