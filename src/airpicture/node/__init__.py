"""The national node: the composition root that wires sources, tracker, policy, bus and fusion.

:class:`Node` is one nation's node; :mod:`airpicture.node.embedded` runs several in one
process on a simulated scenario (the demo), :mod:`airpicture.node.summary` scores their
pictures against the truth.
"""

from airpicture.node.config import (
    DEFAULT_AUDIENCE,
    NodeConfig,
    default_policies,
    demo_keys,
    load_keys,
    load_policy_file,
)
from airpicture.node.core import LinkState, Node, NodeStatus, split_by_nation

__all__ = [
    "DEFAULT_AUDIENCE",
    "LinkState",
    "Node",
    "NodeConfig",
    "NodeStatus",
    "default_policies",
    "demo_keys",
    "load_keys",
    "load_policy_file",
    "split_by_nation",
]
