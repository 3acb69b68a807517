"""Every procedural answer against an independent solution (brute force / fractions), ids, difficulty."""

from __future__ import annotations

import itertools
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from hicra_env.sources.arithmetic import ARITHMETIC_LEVELS, MULTIPLICATION_DIGITS
from hicra_env.sources.base import UnknownProblemError
from hicra_env.sources.procedural import FAMILIES, ProceduralSource, parse_problem_id

N_PER_LEVEL = 40


def gold_value(answer: str) -> Fraction:
    match = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", answer)
    if match:
        value = Fraction(int(match.group(2)), int(match.group(3)))
        return -value if match.group(1) else value
    return Fraction(int(answer))


def solve_expression(expr: str) -> Fraction:
    """Evaluate ``7 + 5 - 3``, ``(1/2 + 1/3) / 4/5`` or ``47 * 36`` exactly (a/b read as one fraction)."""
    code = re.sub(r"(\d+)/(\d+)", r"Fraction(\1, \2)", expr)
    code = re.sub(r"(?<![\w(, ])(\d+)(?![\d,)])", r"Fraction(\1)", code)
    return Fraction(eval(code, {"Fraction": Fraction}))


def solve_arithmetic(text: str) -> Fraction:
    return solve_expression(re.fullmatch(r"What is (.+)\?", text).group(1))


def solve_compute(text: str) -> Fraction:
    return solve_expression(re.match(r"Compute (.+?)\.( Give the answer.*)?$", text).group(1))


def _side(expr: str):
    code = compile(re.sub(r"(\d)([xy])", r"\1*\2", expr), "<side>", "eval")
    return lambda x, y: eval(code, {"x": x, "y": y})


def solve_linear(text: str) -> Fraction:
    one = re.fullmatch(r"Solve for x: (.+) = (.+)\.", text)
    if one:
        left, right = _side(one.group(1)), _side(one.group(2))
        roots = [x for x in range(-60, 61) if left(x, 0) == right(x, 0)]
    else:
        m = re.fullmatch(r"Solve the system (.+) = (-?\d+) and (.+) = (-?\d+)\. What is x\?", text)
        first, second = _side(m.group(1)), _side(m.group(3))
        pairs = [
            (x, y)
            for x, y in itertools.product(range(-20, 21), repeat=2)
            if first(x, y) == int(m.group(2)) and second(x, y) == int(m.group(4))
        ]
        roots = [x for x, _ in pairs]
    assert len(roots) == 1, (text, roots)
    return Fraction(roots[0])


def solve_modular(text: str) -> Fraction:
    m = re.fullmatch(r"What is the remainder when (\d+)(?: \* (\d+)|\^(\d+))? is divided by (\d+)\?", text)
    a, b, k, mod = m.groups()
    if b:
        return Fraction(int(a) * int(b) % int(mod))
    value = 1
    for _ in range(int(k) if k else 1):  # brute force: k multiplications
        value = value * int(a) % int(mod)
    return Fraction(value)


WORD_PATTERNS = [
    (r".* has (\d+) \w+ and gets (\d+) more\..*", lambda a, b: a + b),
    (r".* has (\d+) \w+ and gives away (\d+)\..*", lambda a, b: a - b),
    (r".* buys (\d+) packs of (\d+) \w+ and finds (\d+) more\..*", lambda p, q, e: p * q + e),
    (r".* buys (\d+) packs of (\d+) \w+ and gives (\d+) away\..*", lambda p, q, e: p * q - e),
    (r".* buys (\d+) \w+ at \$(\d+) each and pays with a \$(\d+) bill\..*", lambda c, p, b: b - c * p),
    (
        r".* has \$(\d+), buys (\d+) \w+ at \$(\d+) each, and shares .* among (\d+) friends\..*",
        lambda s, c, p, f: Fraction(s - c * p, f),
    ),
]


def solve_word(text: str) -> Fraction:
    for pattern, fn in WORD_PATTERNS:
        m = re.fullmatch(pattern, text)
        if m:
            return Fraction(fn(*map(int, m.groups())))
    raise AssertionError(f"no pattern for {text!r}")


def solve_series(text: str) -> Fraction:
    tele = re.fullmatch(r"What is 1/\(1\*2\) \+ .* \+ 1/\((\d+)\*\d+\)\?", text)
    if tele:
        return sum(Fraction(1, k * (k + 1)) for k in range(1, int(tele.group(1)) + 1))
    a, b, _, last = map(int, re.fullmatch(r"What is (\d+) \+ (\d+) \+ (\d+) \+ \.\.\. \+ (\d+)\?", text).groups())
    return Fraction(sum(range(a, last + 1, b - a)))


def solve_backwards(text: str) -> Fraction:
    said, result = re.fullmatch(r"I think of a number\. I (.+)\. The result is (-?\d+)\..*", text).groups()
    ops = [re.fullmatch(r"(add|subtract|multiply by|divide by) (\d+)", s).groups() for s in said.split(", then ")]
    apply = {
        "add": lambda v, c: v + c,
        "subtract": lambda v, c: v - c,
        "multiply by": lambda v, c: v * c,
        "divide by": lambda v, c: v / c,
    }
    starts = []
    for start in range(-200, 201):
        value = Fraction(start)
        for op, c in ops:
            value = apply[op](value, int(c))
        if value == int(result):
            starts.append(start)
    assert len(starts) == 1, (text, starts)
    return Fraction(starts[0])


def solve_counting(text: str) -> Fraction:
    if m := re.fullmatch(r"How many integers from 1 to (\d+) are not multiples of (\d+)\?", text):
        n, k = map(int, m.groups())
        return Fraction(sum(1 for i in range(1, n + 1) if i % k))
    if m := re.fullmatch(r"How many integers from 1 to (\d+) are multiples of neither (\d+) nor (\d+)\?", text):
        n, a, b = map(int, m.groups())
        return Fraction(sum(1 for i in range(1, n + 1) if i % a and i % b))
    if m := re.fullmatch(r"How many (\d)-digit numbers have at least one digit equal to 7\?", text):
        k = int(m.group(1))
        return Fraction(sum(1 for i in range(10 ** (k - 1), 10**k) if "7" in str(i)))
    m = re.fullmatch(r"A set has (\d+) elements, (\d+) of which are marked\..*", text)
    n, marked = map(int, m.groups())
    subsets = itertools.chain.from_iterable(itertools.combinations(range(n), r) for r in range(n + 1))
    return Fraction(sum(1 for s in subsets if any(e < marked for e in s)))


def _add_subtract(said: str) -> list[int]:
    return [int(c) if op == "add" else -int(c) for op, c in re.findall(r"(add|subtract) (\d+)", said)]


def solve_chain(text: str) -> Fraction:
    start, said = re.fullmatch(r"Start with (\d+), (.+)\. What is the result\?", text).groups()
    return Fraction(int(start) + sum(_add_subtract(said)))


def solve_undo(text: str) -> Fraction:
    said, result = re.fullmatch(r"I think of a number, (.+), and get (\d+)\. What was my number\?", text).groups()
    starts = [x for x in range(-100, 201) if x + sum(_add_subtract(said)) == int(result)]  # brute force
    assert len(starts) == 1, (text, starts)
    return Fraction(starts[0])


def solve_cycle(text: str) -> Fraction:
    block, n = re.fullmatch(r"The digits ([\d, ]+) repeat forever: .* What is digit number (\d+)\?", text).groups()
    digits = block.split(", ") * 100  # brute force: write the sequence out
    return Fraction(int(digits[int(n) - 1]))


def solve_seats(text: str) -> Fraction:
    total, empty = re.fullmatch(r"A row has (\d+) seats\. Seats? ([\d, and]+) (?:is|are) empty.*", text).groups()
    empty_seats = {int(s) for s in re.findall(r"\d+", empty)}
    return Fraction(sum(1 for seat in range(1, int(total) + 1) if seat not in empty_seats))


SOLVERS = {
    "arithmetic": solve_arithmetic,
    "multiplication": solve_compute,
    "fractions": solve_compute,
    "linear": solve_linear,
    "modular": solve_modular,
    "word": solve_word,
    "shortcuts": solve_compute,
    "series": solve_series,
    "backwards": solve_backwards,
    "counting": solve_counting,
    "chain": solve_chain,
    "undo": solve_undo,
    "cycle": solve_cycle,
    "seats": solve_seats,
    "march": solve_chain,  # the second miniature poses its problems as the first one does
    "rewind": solve_undo,
    "digits": solve_cycle,
    "taken": solve_seats,
}


def test_every_family_has_an_independent_solver():
    assert set(SOLVERS) == set(FAMILIES)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_answers_match_an_independent_solution_at_every_difficulty(name):
    family = FAMILIES[name]
    for difficulty in range(1, family.max_difficulty + 1):
        for seed in range(N_PER_LEVEL):
            p = family.make(difficulty, seed)
            assert gold_value(p.answer) == SOLVERS[name](p.problem), p
            assert p.solution.endswith(f"The answer is \\boxed{{{p.answer}}}."), p.solution
            assert (p.id, p.level, p.subject) == (f"{name}-d{difficulty}-{seed}", str(difficulty), name)


def test_problems_regenerate_from_their_id_and_differ_across_seeds():
    source = ProceduralSource(list(FAMILIES), difficulty=2)
    first = [source.get(i) for i in range(30)]
    assert [source.lookup(p.id) for p in first] == first
    assert [source.get(i) for i in range(30)] == first
    assert len({p.problem for p in first}) >= 25
    assert {p.subject for p in first} == set(FAMILIES)  # index i is family i % k


def test_ids_may_name_another_difficulty_of_the_family():
    source = ProceduralSource("arithmetic", difficulty=1)
    assert source.lookup("arithmetic-d4-7") == FAMILIES["arithmetic"].make(4, 7)


@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ("arithmetc-d1-5", "its family 'arithmetc'; expected one of: arithmetic"),
        ("arithmetic-5", "arithmetic-d1-12345"),
        ("arithmetic-d9-1", "1..5"),
    ],
)
def test_bad_procedural_ids_explain_the_format(bad, hint):
    with pytest.raises(UnknownProblemError, match=re.escape(hint)):
        parse_problem_id(bad, ["arithmetic"])


def test_difficulty_out_of_range_is_rejected():
    with pytest.raises(ValueError, match=r"difficulty of family 'word' must be in 1\.\.3, got 4"):
        ProceduralSource("word", difficulty=4)
    with pytest.raises(ValueError, match="unknown procedural families"):
        ProceduralSource("algebra")


def _operands(problem: str) -> list[int]:
    return [int(t) for t in re.findall(r"\d+", problem)]


def test_arithmetic_difficulty_sets_term_count_and_operand_range():
    mean_terms = []
    for d, (low, high, largest) in ARITHMETIC_LEVELS.items():
        problems = [FAMILIES["arithmetic"].make(d, s) for s in range(200)]
        terms = [len(_operands(p.problem)) for p in problems]
        assert min(terms) == low and max(terms) == high
        assert max(max(_operands(p.problem)) for p in problems) <= largest
        assert max(max(_operands(p.problem)) for p in problems) > largest // 2
        mean_terms.append(sum(terms) / len(terms))
        if d == 1:  # no negative intermediate results at the default level
            assert all("-" not in p.solution.replace(" - ", "") for p in problems)
    assert mean_terms == sorted(mean_terms) and mean_terms[0] < mean_terms[-1]


def test_arithmetic_default_level_is_short_for_a_tiny_model():
    problems = [FAMILIES["arithmetic"].make(1, s) for s in range(200)]
    assert max(len(p.problem) for p in problems) <= 30
    assert max(len(p.solution) for p in problems) <= 80


def test_multiplication_difficulty_sets_digit_counts():
    for d, (da, db) in MULTIPLICATION_DIGITS.items():
        for s in range(30):
            a, b = _operands(FAMILIES["multiplication"].make(d, s).problem)
            assert (len(str(a)), len(str(b))) == (da, db)


def test_fraction_denominators_grow_with_difficulty():
    def largest_denominator(d: int) -> int:
        return max(int(q) for s in range(100) for q in re.findall(r"/(\d+)", FAMILIES["fractions"].make(d, s).problem))

    assert largest_denominator(1) <= 6 < largest_denominator(2) <= 12


def test_backwards_difficulty_is_the_number_of_operations_minus_one():
    for d in range(1, 5):
        for s in range(10):
            said = FAMILIES["backwards"].make(d, s).problem.split(". The result")[0]
            assert said.count(", then ") == d


def test_modular_exponents_grow_with_difficulty():
    def exponents(d: int) -> list[int]:
        return [int(re.search(r"\^(\d+)", FAMILIES["modular"].make(d, s).problem).group(1)) for s in range(100)]

    assert max(exponents(3)) <= 60 < max(exponents(4)) <= 2000


def test_strategy_solutions_use_strategic_grams():
    lexicon = Path(__file__).resolve().parents[3] / "agents" / "data" / "strategic_grams.json"  # the paper's list
    grams = json.loads(lexicon.read_text())
    pattern = re.compile("|".join(r"\b" + re.escape(g) + r"(?!\w)" for g in sorted(grams, key=len, reverse=True)))
    for family in (f for f in FAMILIES.values() if f.strategy and f.name != "march"):  # march works with no gram
        for d in range(2 if family.name == "modular" else 1, family.max_difficulty + 1):
            for s in range(5):
                solution = family.make(d, s).solution.lower().replace("\u2019", "'")
                assert pattern.search(solution), (family.name, d, solution)
