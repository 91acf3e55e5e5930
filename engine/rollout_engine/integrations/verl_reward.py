"""The file verl's `custom_reward_function.path` names: verl loads it by its path, outside any package, so it
imports Rollout Studio's reward function absolutely (the package must be installed where verl's workers
run, or its engine/ folder on their PYTHONPATH). See integrations/verl.py and docs/verl.md."""
from rollout_engine.integrations.verl import compute_score, compute_score_async  # noqa: F401
