"""GRPO learns: on a small task the tiny policy can solve (four fixed Arithmetic problems), the success rate
rises from its starting level to a seeded threshold within a bounded number of steps."""

from __future__ import annotations

from hicra.agents import TrainConfig, Trainer, make_agent

MAX_STEPS = 40
WINDOW = 5


def test_grpo_raises_the_success_rate_on_a_small_task():
    config = TrainConfig(
        env_kwargs={"num_problems": 4},  # a fixed training set of four problems
        prompts_per_step=4,
        group_size=8,
        max_new_tokens=40,
        lr=2e-4,  # the tiny policy's arithmetic breaks under larger Adam steps (1e-3 loses it within 3 steps)
        seed=0,
    )
    trainer = Trainer(make_agent("grpo"), config)
    accuracy = [trainer.train_step().accuracy for _ in range(WINDOW)]
    start = sum(accuracy) / WINDOW  # the first 5 steps: ~0.3 for the default tiny policy
    threshold = max(0.5, start + 0.25)
    while trainer.step < MAX_STEPS and sum(accuracy[-WINDOW:]) / WINDOW < threshold:
        accuracy.append(trainer.train_step().accuracy)
    reached = sum(accuracy[-WINDOW:]) / WINDOW
    assert reached >= threshold, f"success rate {start:.2f} -> {reached:.2f} after {trainer.step} steps: {accuracy}"
