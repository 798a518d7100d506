"""The trainer for Huebrush's colorizers (``python -m training train|evaluate|export``).

Depends on ``models`` (networks, colour maths, checkpoints); nothing in ``app`` imports it.
"""
