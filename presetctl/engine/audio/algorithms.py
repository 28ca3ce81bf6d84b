"""The 32 DX7 algorithms: which operator modulates which, the carriers, and the feedback loop.

Written from the algorithm chart printed on the DX7's front panel (and in its owner's manual).
Operators are numbered 1-6 as on the panel. In every algorithm a modulator has a higher number
than the operators it modulates, so computing operators 6 down to 1 always has each operator's
modulators ready. An operator that modulates nothing is a carrier: it is heard.

Feedback is a loop from one operator's output back into the phase of an operator at the top of
its stack. In 30 algorithms the loop is one operator feeding itself; in algorithm 4 operator 4
feeds operator 6 (through 6 -> 5 -> 4), in algorithm 6 operator 5 feeds operator 6 (6 -> 5).
No numpy here (the rules import the chart when every command starts); the renderer builds its
arrays from it.
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = 6


@dataclass(frozen=True, slots=True)
class Algorithm:
    number: int  # 1-32, as on the panel
    edges: tuple[tuple[int, int], ...]  # (modulator, target), operator numbers 1-6
    feedback_from: int  # the operator whose output is fed back
    feedback_to: int  # the operator whose phase receives it (the top of the loop)

    @property
    def carriers(self) -> frozenset[int]:
        modulators = {m for m, _ in self.edges}
        return frozenset(op for op in range(1, OPERATORS + 1) if op not in modulators)

    def modulators_of(self, target: int) -> tuple[int, ...]:
        return tuple(sorted(m for m, t in self.edges if t == target))

    @property
    def loop(self) -> tuple[int, ...]:
        """The operators of the feedback loop, from its top down to the one fed back."""
        chain = [self.feedback_to]
        while chain[-1] != self.feedback_from:
            below = [t for m, t in self.edges if m == chain[-1]]
            chain.append(below[0])  # loops in the DX7 chart never branch
        return tuple(chain)


def _alg(number: int, edges: str, feedback: str) -> Algorithm:
    pairs = tuple((int(e[0]), int(e[2])) for e in edges.split())
    source, target = (int(x) for x in feedback.split(">"))
    return Algorithm(number, pairs, source, target)


# "m>t": operator m modulates operator t. Feedback "a>b": a's output feeds b's phase.
ALGORITHMS: tuple[Algorithm, ...] = (
    _alg(1, "2>1 6>5 5>4 4>3", "6>6"),
    _alg(2, "2>1 6>5 5>4 4>3", "2>2"),
    _alg(3, "3>2 2>1 6>5 5>4", "6>6"),
    _alg(4, "3>2 2>1 6>5 5>4", "4>6"),
    _alg(5, "2>1 4>3 6>5", "6>6"),
    _alg(6, "2>1 4>3 6>5", "5>6"),
    _alg(7, "2>1 4>3 5>3 6>5", "6>6"),
    _alg(8, "2>1 4>3 5>3 6>5", "4>4"),
    _alg(9, "2>1 4>3 5>3 6>5", "2>2"),
    _alg(10, "3>2 2>1 5>4 6>4", "3>3"),
    _alg(11, "3>2 2>1 5>4 6>4", "6>6"),
    _alg(12, "2>1 4>3 5>3 6>3", "2>2"),
    _alg(13, "2>1 4>3 5>3 6>3", "6>6"),
    _alg(14, "2>1 4>3 5>4 6>4", "6>6"),
    _alg(15, "2>1 4>3 5>4 6>4", "2>2"),
    _alg(16, "2>1 3>1 5>1 4>3 6>5", "6>6"),
    _alg(17, "2>1 3>1 5>1 4>3 6>5", "2>2"),
    _alg(18, "2>1 3>1 4>1 5>4 6>5", "3>3"),
    _alg(19, "3>2 2>1 6>4 6>5", "6>6"),
    _alg(20, "3>1 3>2 5>4 6>4", "3>3"),
    _alg(21, "3>1 3>2 6>4 6>5", "3>3"),
    _alg(22, "2>1 6>3 6>4 6>5", "6>6"),
    _alg(23, "3>2 6>4 6>5", "6>6"),
    _alg(24, "6>3 6>4 6>5", "6>6"),
    _alg(25, "6>4 6>5", "6>6"),
    _alg(26, "3>2 5>4 6>4", "6>6"),
    _alg(27, "3>2 5>4 6>4", "3>3"),
    _alg(28, "2>1 5>4 4>3", "5>5"),
    _alg(29, "4>3 6>5", "6>6"),
    _alg(30, "5>4 4>3", "5>5"),
    _alg(31, "6>5", "6>6"),
    _alg(32, "", "6>6"),
)
