"""hicra's losses against TRL's own: the same batch (log-probs, old log-probs, advantages, masks, entropies) through
``GRPOTrainer._compute_loss`` (trl 1.16.0, the project's bench pin) and through ``Agent.loss``; the losses and their
gradients with respect to the log-probs (hence, by the chain rule, to any model's weights) agree to float rounding.

TRL's ``_compute_loss`` is called unbound on a minimal stand-in for the trainer: the attributes it reads, an
accelerator of one process, and a model forward that returns the batch's log-probs and entropies. Everything the loss
computes is TRL's code. Where hicra differs on purpose, a test shows the difference (see each docstring).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from hicra.agents import make_agent
from hicra.agents.rollout import RolloutBatch

trl_grpo = pytest.importorskip("trl.trainer.grpo_trainer", reason="TRL parity needs trl (the bench extra)")

N, T, MAX_NEW = 6, 7, 9
LENGTHS = [7, 3, 5, 1, 6, 4]


class _Accelerator:
    num_processes = 1

    def gather(self, x):
        return x

    def reduce(self, x, reduction="sum"):
        return x

    def pad_across_processes(self, x, dim=0, pad_index=0):
        return x


def trl_loss(loss_type: str, logprobs, entropy, inputs: dict, **options) -> torch.Tensor:
    """TRL's ``GRPOTrainer._compute_loss`` for ``loss_type`` on a stand-in trainer whose model forward returns
    ``logprobs`` and ``entropy``; ``options`` set TRL arguments (``epsilon_low``, ``top_entropy_quantile``...)."""
    steps = options.get("accumulation", 1)
    fake = SimpleNamespace(
        loss_type=loss_type, epsilon_low=options.get("epsilon_low", 0.2),
        epsilon_high=options.get("epsilon_high", 0.28),
        importance_sampling_level=options.get("importance_sampling_level", "token"),
        top_entropy_quantile=options.get("top_entropy_quantile", 1.0), beta=options.get("beta", 0.0),
        off_policy_mask_threshold=None, use_vllm=options.get("use_vllm", False),
        vllm_importance_sampling_correction=options.get("use_vllm", False), max_completion_length=MAX_NEW,
        current_gradient_accumulation_steps=steps, accelerator=_Accelerator(),
        args=SimpleNamespace(delta=None, use_bias_correction_kl=False, steps_per_generation=steps),
        model=SimpleNamespace(training=True), _entropy_bonus_enabled=False, aux_loss_enabled=False,
        _metrics=defaultdict(lambda: defaultdict(list)),
        _get_per_token_logps_and_entropies=lambda *a, **k: (logprobs, entropy, None),
    )  # fmt: skip
    fake.get_high_entropy_mask = functools.partial(trl_grpo.GRPOTrainer.get_high_entropy_mask, fake)
    return trl_grpo.GRPOTrainer._compute_loss(fake, None, inputs)


def make_case(seed: int = 0, spread: float = 0.8):
    """Log-probs (a leaf), old and sampler log-probs ``spread`` away, advantages with both signs, entropies."""
    gen = torch.Generator().manual_seed(seed)
    mask = torch.arange(T)[None, :] < torch.tensor(LENGTHS)[:, None]
    logprobs = (-torch.rand(N, T, generator=gen) * 3).masked_fill(~mask, 0.0).requires_grad_()
    old = (logprobs.detach() + spread * torch.randn(N, T, generator=gen)).masked_fill(~mask, 0.0)
    old[0, 1] = logprobs[0, 1].detach() - 2.0 * spread / 0.8  # one ratio of e^2: over CISPO's cap of 5
    sampler = (old + 0.6 * torch.randn(N, T, generator=gen)).masked_fill(~mask, 0.0)
    adv = torch.tensor([0.9, -0.4, -0.5, 0.7, 0.0, -1.2])
    entropy = (torch.rand(N, T, generator=gen) * 4).masked_fill(~mask, 0.0)
    return SimpleNamespace(mask=mask, logprobs=logprobs, old=old, sampler=sampler, adv=adv, entropy=entropy)


def trl_inputs(case, **extra) -> dict:
    return {
        "prompt_ids": torch.zeros(N, 2, dtype=torch.long), "prompt_mask": torch.ones(N, 2, dtype=torch.long),
        "completion_ids": torch.zeros(N, T, dtype=torch.long), "completion_mask": case.mask.long(),
        "advantages": case.adv, "old_per_token_logps": case.old,
        "num_items_in_batch": case.mask.sum().float(), **extra,
    }  # fmt: skip


def hicra_batch(case, **changes) -> RolloutBatch:
    values = dict(
        input_ids=torch.zeros(N, 2 + T, dtype=torch.long), attention_mask=torch.ones(N, 2 + T, dtype=torch.long),
        prompt_length=2, response_ids=torch.zeros(N, T, dtype=torch.long), response_mask=case.mask,
        group_ids=torch.arange(N) // 2, rewards=torch.zeros(N), correct=torch.zeros(N, dtype=torch.bool),
        sampler_logprobs=case.old, planning_mask=torch.zeros(N, T, dtype=torch.bool), texts=("",) * N,
        problem_ids=("p",) * N, old_logprobs=case.old, entropy=case.entropy, max_new_tokens=MAX_NEW,
    )  # fmt: skip
    return RolloutBatch(**{**values, **changes})


def hicra_loss(agent, case, batch=None, token_mask=None):
    batch = batch or hicra_batch(case)
    advantages = case.adv[:, None].expand(N, T)
    return agent.loss(batch, case.logprobs, advantages, case.entropy, token_mask=token_mask)[0]


def assert_same(ours: torch.Tensor, theirs: torch.Tensor, case) -> None:
    (g_ours,) = torch.autograd.grad(ours, case.logprobs, retain_graph=True)
    (g_theirs,) = torch.autograd.grad(theirs, case.logprobs)
    assert float(ours.detach()) == pytest.approx(float(theirs.detach()), rel=1e-6, abs=1e-7)
    torch.testing.assert_close(g_ours, g_theirs, rtol=1e-5, atol=1e-7)
    assert g_ours.abs().sum() > 0  # a case with a gradient to compare


# (hicra agent, its AgentConfig changes, TRL loss_type, TRL options): the same objective on both sides
PAIRS = {
    "grpo=bnpo": ("grpo", {}, "bnpo", {}),
    "grpo=dapo": ("grpo", {}, "dapo", {}),
    "grpo seq_mean_token_mean=grpo": ("grpo", {"aggregation": "seq_mean_token_mean"}, "grpo", {}),
    "dr_grpo": ("dr_grpo", {}, "dr_grpo", {"epsilon_high": 0.2}),
    "dapo": ("dapo", {}, "dapo", {}),
    "cispo": ("cispo", {}, "cispo", {"epsilon_high": 5.0}),
    "hicra on dapo": ("hicra", {"base": "dapo"}, "dapo", {}),
}


@pytest.mark.parametrize("pair", PAIRS, ids=list(PAIRS))
def test_the_loss_and_its_gradient_equal_trls(pair):
    name, changes, loss_type, options = PAIRS[pair]
    case = make_case()
    agent = make_agent(name, tis_cap=0.0, **changes)
    ours, theirs = (
        hicra_loss(agent, case),
        trl_loss(loss_type, case.logprobs, case.entropy, trl_inputs(case), **options),
    )
    assert_same(ours, theirs, case)


def test_clipping_happens_in_the_parity_case():
    """The parity cases exercise the clip: some ratios leave [0.8, 1.28] (else a wrong clip would pass unseen)."""
    case = make_case()
    ratio = torch.exp(case.logprobs.detach() - case.old)[case.mask]
    assert (ratio < 0.8).any() and (ratio > 1.28).any() and (ratio > 5.0).any()


def test_gspo_equals_trls_sequence_level_importance_sampling():
    case = make_case(seed=1, spread=3e-4)  # sequence ratios around the tiny clip range: some in, some out
    ours = hicra_loss(make_agent("gspo", tis_cap=0.0), case)
    options = {"importance_sampling_level": "sequence", "epsilon_low": 3e-4, "epsilon_high": 4e-4}
    theirs = trl_loss("grpo", case.logprobs, case.entropy, trl_inputs(case), **options)
    assert_same(ours, theirs, case)
    seq = ((case.logprobs.detach() - case.old) * case.mask).sum(1) / case.mask.sum(1)
    assert ((seq.exp() - 1).abs() < 3e-4).any() and ((seq.exp() - 1).abs() > 4e-4).any()


def test_forking_tokens_equal_trls_top_entropy_quantile():
    case = make_case(seed=2)
    agent = make_agent("forking_tokens", tis_cap=0.0)
    batch = hicra_batch(case)
    credit = agent.credit(batch, torch.Generator())
    assert 0 < credit.loss_mask.sum() < case.mask.sum()
    ours = hicra_loss(agent, case, batch, token_mask=credit.loss_mask)
    theirs = trl_loss("dapo", case.logprobs, case.entropy, trl_inputs(case), top_entropy_quantile=0.2)
    assert_same(ours, theirs, case)


def test_truncated_importance_sampling_and_kl_equal_trls():
    """hicra's ``tis_cap`` is TRL's vLLM importance-sampling correction (token_truncate, the ratio of trainer to
    sampler probabilities capped), and ``kl_coef`` its ``beta`` (k3 estimator, not importance-weighted)."""
    case = make_case(seed=3)
    ref = (case.old + 0.1).masked_fill(~case.mask, 0.0)
    agent = make_agent("grpo", tis_cap=2.0, kl_coef=0.05)
    ours = hicra_loss(agent, case, hicra_batch(case, sampler_logprobs=case.sampler, ref_logprobs=ref))
    ratio = torch.exp(case.old - case.sampler).clamp(max=2.0)  # TRL's token_truncate correction, computed as TRL does
    inputs = trl_inputs(case, importance_sampling_ratio=ratio, ref_per_token_logps=ref)
    theirs = trl_loss("dapo", case.logprobs, case.entropy, inputs, use_vllm=True, beta=0.05)
    assert (ratio[case.mask] == 2.0).any()
    assert_same(ours, theirs, case)


def test_dapos_global_token_mean_over_micro_batches_equals_trls_num_items_normaliser():
    """hicra weighs each micro-batch's token mean by its share of the batch's tokens; TRL divides each micro-batch's
    token sum by the accumulated batch's token count. The summed gradients agree."""
    case = make_case(seed=4)
    full = hicra_loss(make_agent("dapo", tis_cap=0.0), case)
    theirs = 0.0
    for rows in (torch.arange(0, 4), torch.arange(4, N)):
        part = {
            k: (v[rows] if torch.is_tensor(v) and v.dim() and v.shape[0] == N else v)
            for k, v in trl_inputs(case).items()
        }
        theirs = theirs + trl_loss("dapo", case.logprobs[rows], case.entropy[rows], part, accumulation=2)
    assert_same(full, theirs, case)


def test_hicras_default_token_mean_differs_from_trls_grpo_sequence_mean_on_purpose():
    """TRL's ``loss_type="grpo"`` averages each response's tokens, then the responses, so a token of a short response
    weighs more; hicra's agents aggregate with ``token_mean`` (DAPO's token-level loss, as the HICRA paper trains).
    The same batch gives different losses unless every response has the same length."""
    case = make_case(seed=5)
    ours = hicra_loss(make_agent("grpo", tis_cap=0.0), case)
    theirs = trl_loss("grpo", case.logprobs, case.entropy, trl_inputs(case))
    assert abs(float(ours.detach()) - float(theirs.detach())) > 1e-3


def test_dr_grpos_normaliser_is_the_generation_budget_not_the_longest_response():
    """TRL and hicra divide by responses x max_completion_length (``max_new_tokens``); the padded width T of a batch
    (here 7 < 9) would make the loss depend on the batch's longest response."""
    case = make_case(seed=6)
    agent = make_agent("dr_grpo", tis_cap=0.0)
    budget = hicra_loss(agent, case)
    width = hicra_loss(agent, case, hicra_batch(case, max_new_tokens=None))
    assert float(width.detach()) == pytest.approx(float(budget.detach()) * MAX_NEW / T, rel=1e-6)


def test_overlong_shaping_equals_trls_soft_overlong_punishment():
    """DAPO's eq. 13 on both sides: hicra's ``overlong_penalty`` and TRL's ``get_soft_overlong_punishment`` reward."""
    from trl.rewards import get_soft_overlong_punishment

    from hicra.agents.batch_shaping import overlong_penalty

    lengths = list(range(0, 23))
    theirs = get_soft_overlong_punishment(max_completion_len=20, soft_punish_cache=4)([[1] * n for n in lengths])
    ours = overlong_penalty(torch.tensor(lengths), max_length=20, buffer=4).tolist()
    assert ours == pytest.approx(theirs, abs=1e-7) and min(theirs) == -1.0 and theirs.count(0.0) == 17
