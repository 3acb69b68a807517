"""Short word problems (``word`` family) with integer answers.

Difficulty d (1-3) is the number of arithmetic steps: d=1 one addition or subtraction; d=2 a multiplication
then an addition or subtraction; d=3 three steps (buy packs, pay, get change / share equally). Each problem
comes with a solution that first breaks the problem down.
"""

from __future__ import annotations

import random

from .draft import Draft, finish

NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jia", "Kofi", "Lena")
ITEMS = ("apples", "pencils", "stickers", "marbles", "cookies", "books", "shells", "cards")


def _one_step(rng: random.Random, name: str, item: str) -> Draft:
    a, b = rng.randint(5, 40), rng.randint(2, 20)
    if rng.random() < 0.5:
        problem = f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
        return Draft(problem, str(a + b), finish(f"{a} + {b} = {a + b}.", a + b))
    a += b
    problem = f"{name} has {a} {item} and gives away {b}. How many {item} are left?"
    return Draft(problem, str(a - b), finish(f"{a} - {b} = {a - b}.", a - b))


def _two_step(rng: random.Random, name: str, item: str) -> Draft:
    packs, per, extra = rng.randint(2, 9), rng.randint(3, 12), rng.randint(1, 15)
    total = packs * per
    if rng.random() < 0.5:
        problem = f"{name} buys {packs} packs of {per} {item} and finds {extra} more. How many {item} is that?"
        steps = f"The packs hold {packs} * {per} = {total} {item}, and {total} + {extra} = {total + extra}."
        return Draft(problem, str(total + extra), finish(steps, total + extra))
    extra = min(extra, total - 1)
    problem = f"{name} buys {packs} packs of {per} {item} and gives {extra} away. How many {item} are left?"
    steps = f"The packs hold {packs} * {per} = {total} {item}, and {total} - {extra} = {total - extra}."
    return Draft(problem, str(total - extra), finish(steps, total - extra))


def _three_step(rng: random.Random, name: str, item: str) -> Draft:
    count, price = rng.randint(2, 9), rng.randint(2, 15)
    cost = count * price
    if rng.random() < 0.5:
        bill = next(b for b in (10, 20, 50, 100, 200) if b > cost)
        problem = (
            f"{name} buys {count} {item} at ${price} each and pays with a ${bill} bill. "
            f"How many dollars of change does {name} get?"
        )
        steps = f"Let's break down the problem. The {item} cost {count} * {price} = {cost} dollars, "
        steps += f"so the change is {bill} - {cost} = {bill - cost}."
        return Draft(problem, str(bill - cost), finish(steps, bill - cost))
    friends, each = rng.randint(2, 6), rng.randint(2, 9)
    start = friends * each + cost
    problem = (
        f"{name} has ${start}, buys {count} {item} at ${price} each, and shares the remaining money equally "
        f"among {friends} friends. How many dollars does each friend get?"
    )
    steps = f"Let's break down the problem. The {item} cost {count} * {price} = {cost} dollars, "
    steps += f"{start} - {cost} = {start - cost} dollars remain, and {start - cost} / {friends} = {each}."
    return Draft(problem, str(each), finish(steps, each))


def word(rng: random.Random, difficulty: int) -> Draft:
    """A word problem of ``difficulty`` arithmetic steps."""
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    return (_one_step, _two_step, _three_step)[difficulty - 1](rng, name, item)
