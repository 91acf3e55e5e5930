"""Rollout Studio's training engine: GRPO for tool-calling policies, scored by the TypeScript reward host."""
