"""Rollout Studio inside other trainers: rewards scored by the reward host, and run directories written as
those trainers train (docs/trl.md). Each module imports its trainer lazily: this package imports without it.
"""
