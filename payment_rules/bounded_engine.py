"""rule-engine within limits, so that one payment rule cannot stall checkout.

rule-engine parses in two phases: a grammar pass (iterative, so any nesting) that yields a
tree of deferred nodes, then a recursive build that also folds constant parts by evaluating
them. `BoundedParser` works between the two: it measures the tree, refuses what payment
rules never need (byte strings, bit shifts, encodings), and swaps every operation for a
metered one. Each evaluation, whether folding at save or matching at checkout, runs on a
`Meter`: every operation and every character or item it produces is charged to one budget,
no single value may grow past a size, numbers stay below 1e100, and a limit on the thread's
processor time backs the budget up. Steps are counted, so the budget is the same on a busy
server as in the simulator; the time limit is the thread's own processor time, not the wall
clock, so other requests do not use it up. Regular expressions run on RE2, whose matching
time is linear in the text, never on Python's backtracking `re`.
"""

from __future__ import annotations

import collections
import contextvars
import decimal
import re
import time
from collections.abc import Callable
from typing import Any, NoReturn

import re2
import rule_engine
from django.utils.translation import gettext_noop
from rule_engine import ast, errors
from rule_engine.builtins import Builtins, BuiltinValueGenerator
from rule_engine.parser import Parser
from rule_engine.parser import _DeferredAstNode as DeferredNode  # phase one's output
from rule_engine.parser.base import ParserBase
from rule_engine.parser.utilities import parse_float
from rule_engine.types import DataType, is_integer_number

from backoffice.phrases import Phrase

MAX_LENGTH = 5_000  # characters of expression text
MAX_NESTING = 32  # brackets inside brackets
MAX_DEPTH = 100  # operations inside operations
MAX_STEPS = 100_000  # one per operation, plus one per character or item it produces
MAX_CPU_SECONDS = 0.1  # processor time of the evaluating thread
MAX_SIZE = 10_000  # characters of one string, items of one list, set or mapping
MAX_EXPONENT = 100  # numbers stay below 1e101
MAX_PATTERN_LENGTH = 1_000  # characters of one regular expression
RE2_MAX_MEMORY = 1 << 20  # bytes RE2 may use for one compiled regular expression

# Decimal arithmetic is the same in every thread, whatever the thread's own context says.
DECIMAL_CONTEXT = decimal.Context(
    prec=28,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


class Refused(errors.EvaluationError):
    """An expression this product does not run; the message is for the person who wrote it.

    The message is a `Phrase`: a compiled rule's error is cached, and read in the language of
    whoever reads it.
    """

    def __init__(self, message: Phrase) -> None:
        super().__init__(message)
        self.message = message


class LimitExceeded(Refused):
    """An expression that needs more time, memory or nesting than one rule may have."""


class BoundedContext(rule_engine.Context):
    """rule-engine's context with fixed decimal arithmetic and a `$range` that cannot run away."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(decimal_context=DECIMAL_CONTEXT, **kwargs)
        self.builtins = Builtins.from_defaults(
            values={
                "re_groups": BuiltinValueGenerator(self._regex_groups),
                "range": _bounded_range,
            },
            value_types={"re_groups": DataType.ARRAY(DataType.STRING)},
            timezone=self.default_timezone,
        )

    def _regex_groups(self, _builtins: Builtins) -> tuple[str, ...] | None:
        return self._tls.regex_groups


class BoundedParser:
    """rule-engine's own parser, with limits checked between parsing and building.

    It borrows the parser of `rule_engine.Rule` rather than building its own grammar tables,
    which takes most of a second, and takes the lock rule-engine's own `parse` takes.
    """

    def __init__(self, parser: Parser) -> None:
        self._parser = parser

    def parse(self, text: str, context: rule_engine.Context) -> ast.Statement:
        check_length(text)
        parser = self._parser
        with ParserBase._ParserBase__mutex:  # the grammar pass keeps state on the parser
            parser.context = context
            try:
                tree = parser._parser.parse(
                    text, lexer=parser._lexer, tokenfunc=_nesting_guard(parser._lexer)
                )
            finally:
                parser.context = None
        _prepare(tree)
        with decimal.localcontext(DECIMAL_CONTEXT):  # the build folds constants: arithmetic
            return within_limits(tree.build)


class BoundedRule(rule_engine.Rule):
    """A rule parsed with `BoundedParser` whose every evaluation runs on a fresh `Meter`."""

    parser = BoundedParser(rule_engine.Rule.parser)

    def evaluate(self, thing: Any) -> Any:
        return within_limits(super().evaluate, thing)


def check_length(text: str) -> None:
    """Refuse a text too long to parse, before anything reads it."""
    if len(text) > MAX_LENGTH:
        raise LimitExceeded(
            Phrase(
                gettext_noop("Expression too long: %(length)s characters, at most %(limit)s."),
                {"length": len(text), "limit": MAX_LENGTH},
            )
        )


def within_limits(function: Callable[..., Any], *args: Any) -> Any:
    """Call `function` on a fresh meter; raise LimitExceeded when it ran out, even if swallowed."""
    meter = Meter()
    token = _METER.set(meter)
    try:
        result = function(*args)
    except Exception:
        # rule-engine wraps what a function call raises; the reason that matters is ours.
        if meter.exceeded is not None:
            raise LimitExceeded(meter.exceeded) from None
        raise
    finally:
        _METER.reset(token)
    if meter.exceeded is not None:
        raise LimitExceeded(meter.exceeded)
    return result


class Meter:
    """The budget of one evaluation: steps counted, values measured, processor time watched."""

    __slots__ = ("steps_left", "deadline", "exceeded", "_until_clock")
    # Steps between two looks at the clock, which costs a system call. The clock starts at
    # the first look, so that the many expressions done in fewer steps never pay for it.
    _CLOCK_EVERY = 256

    def __init__(self) -> None:
        self.steps_left = MAX_STEPS
        self.deadline: float | None = None
        self.exceeded: Phrase | None = None
        self._until_clock = self._CLOCK_EVERY

    def charge(self, steps: int) -> None:
        self.steps_left -= steps
        if self.steps_left < 0:
            self.stop(
                Phrase(
                    gettext_noop(
                        "Stopped: the expression needs more than %(steps)s steps on this checkout."
                    ),
                    {"steps": MAX_STEPS},
                )
            )
        self._until_clock -= 1
        if self._until_clock <= 0:
            self._until_clock = self._CLOCK_EVERY
            now = time.thread_time()
            if self.deadline is None:
                self.deadline = now + MAX_CPU_SECONDS
            elif now > self.deadline:
                self.stop(
                    Phrase(
                        gettext_noop("Stopped: the expression ran longer than %(seconds)s s."),
                        {"seconds": MAX_CPU_SECONDS},
                    )
                )

    def measure(self, value: Any) -> None:
        """Charge one operation and the value it produced; stop on values too large."""
        size = 0
        if isinstance(value, decimal.Decimal):
            self._check_number(value)
        elif isinstance(value, str):
            size = len(value)
            if size > MAX_SIZE:
                self.stop(
                    Phrase(
                        gettext_noop("Stopped: a text grew past %(size)s characters."),
                        {"size": MAX_SIZE},
                    )
                )
        elif isinstance(value, _COLLECTIONS):
            size = len(value)
            if size > MAX_SIZE:
                self.stop(
                    Phrase(
                        gettext_noop("Stopped: a list, set or mapping grew past %(size)s items."),
                        {"size": MAX_SIZE},
                    )
                )
            for member in (*value.keys(), *value.values()) if isinstance(value, dict) else value:
                self._check_member(member)
        self.charge(1 + size)

    def _check_member(self, member: Any) -> None:
        if isinstance(member, decimal.Decimal):
            self._check_number(member)
        elif isinstance(member, _COLLECTIONS):
            # Comparing nested lists that share their parts costs the product of their sizes.
            self.stop(
                Phrase(
                    gettext_noop(
                        "Lists, sets and mappings cannot hold other lists, sets or mappings."
                    )
                )
            )

    def _check_number(self, value: decimal.Decimal) -> None:
        if value.is_finite() and value.adjusted() > MAX_EXPONENT:
            self.stop(
                Phrase(
                    gettext_noop("Stopped: a number grew past 1e%(exponent)s."),
                    {"exponent": str(MAX_EXPONENT)},
                )
            )

    def stop(self, reason: Phrase) -> NoReturn:
        if self.exceeded is None:
            self.exceeded = reason
        raise LimitExceeded(self.exceeded)


# What rule-engine's lists, sets and mappings are made of (coerce_value turns lists into tuples).
_COLLECTIONS = (tuple, list, set, frozenset, dict)

_METER: contextvars.ContextVar[Meter | None] = contextvars.ContextVar(
    "payment_rule_meter", default=None
)


def _current_meter() -> Meter:
    meter = _METER.get()
    if meter is None:
        raise RuntimeError("Payment rule expressions are evaluated through BoundedRule only.")
    return meter


# Between the two phases: nesting while reading, then the tree's depth and contents.

_OPENING = {"LPAREN", "LBRACKET", "LBRACE"}
_CLOSING = {"RPAREN", "RBRACKET", "RBRACE"}


def _nesting_guard(lexer: Any) -> Callable[[], Any]:
    """The lexer's tokens, refusing brackets nested deeper than MAX_NESTING."""
    depth = 0

    def next_token() -> Any:
        nonlocal depth
        token = lexer.token()
        if token is not None:
            if token.type in _OPENING:
                depth += 1
                if depth > MAX_NESTING:
                    raise LimitExceeded(
                        Phrase(
                            gettext_noop(
                                "Expression too deeply nested: brackets go more than "
                                "%(levels)s levels deep."
                            ),
                            {"levels": MAX_NESTING},
                        )
                    )
            elif token.type in _CLOSING:
                depth -= 1
        return token

    return next_token


def _prepare(tree: DeferredNode) -> None:
    """Refuse what is too deep or unsupported, and swap every operation for a metered one."""
    pending: list[tuple[Any, int]] = [(tree, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, DeferredNode):
            if depth > MAX_DEPTH:
                raise LimitExceeded(
                    Phrase(
                        gettext_noop(
                            "Expression too deeply nested: operations go more than "
                            "%(levels)s levels deep."
                        ),
                        {"levels": MAX_DEPTH},
                    )
                )
            _refuse_unsupported(item)
            if item.cls in _METERED:
                item.cls = _METERED[item.cls]
            elif not issubclass(item.cls, (ast.Statement, *_FREE_CONSTANTS)):
                # A node a later rule-engine adds would run unmetered: refuse it until vetted.
                raise Refused(
                    Phrase(
                        gettext_noop("%(operation)s is not supported in payment rules."),
                        {"operation": item.cls.__name__},
                    )
                )
            children = [*item.args, *item.kwargs.values()]
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(item, tuple | list | collections.deque):
            pending.extend((child, depth) for child in item)


def _refuse_unsupported(node: DeferredNode) -> None:
    if issubclass(node.cls, ast.BytesExpression):
        raise Refused(Phrase(gettext_noop('Byte strings (b"…") are not supported.')))
    if issubclass(node.cls, ast.BitwiseShiftExpression):
        raise Refused(Phrase(gettext_noop("Bit shifts (<< and >>) are not supported.")))
    if issubclass(node.cls, ast.GetAttributeExpression) and node.args[2] in {"encode", "decode"}:
        raise Refused(
            Phrase(
                gettext_noop("The attribute %(attribute)s is not supported."),
                {"attribute": repr(node.args[2])},
            )
        )
    if issubclass(node.cls, ast.FloatExpression):
        try:
            number = parse_float(node.args[1])
        except errors.EngineError:
            return  # the build says what is wrong with it
        if number.is_finite() and number.adjusted() > MAX_EXPONENT:
            raise Refused(
                Phrase(
                    gettext_noop("Numbers in an expression must be below 1e%(exponent)s."),
                    {"exponent": str(MAX_EXPONENT + 1)},
                )
            )


# Metered operations: every node class the grammar builds, except constants that cost nothing.


def _metered(cls: type[ast.ExpressionBase]) -> type[ast.ExpressionBase]:
    evaluate = cls.evaluate

    def metered_evaluate(self: ast.ExpressionBase, thing: Any) -> Any:
        meter = _current_meter()
        value = evaluate(self, thing)
        meter.measure(value)
        return value

    namespace = {"evaluate": metered_evaluate, "__module__": __name__}
    if issubclass(cls, ast.FuzzyComparisonExpression):
        namespace["_compile_regex"] = _compile_regex
    return type(f"Metered{cls.__name__}", (cls,), namespace)


def _compile_regex(self: ast.FuzzyComparisonExpression, pattern: str) -> Any:
    """Compile for RE2: linear-time matching, bounded memory, no back-references."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise errors.RegexSyntaxError(
            f"longer than {MAX_PATTERN_LENGTH:,} characters", error=None, value=pattern
        )
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else "cannot be compiled"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        if _python_accepts(pattern):
            reason += (
                " (back-references, look-arounds and \\Z are not supported: "
                "patterns run in linear time)"
            )
        raise errors.RegexSyntaxError(reason, error=error, value=pattern) from None


def _python_accepts(pattern: str) -> bool:
    try:
        re.compile(pattern)  # compiling only; nothing is matched with it
    except (re.error, RecursionError, OverflowError):
        return False
    return True


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = RE2_MAX_MEMORY
_RE2_OPTIONS.log_errors = False

_FREE_CONSTANTS = (
    ast.BooleanExpression,
    ast.DatetimeExpression,
    ast.FloatExpression,
    ast.NullExpression,
    ast.StringExpression,
    ast.TimedeltaExpression,
)
_METERED = {
    cls: _metered(cls)
    for cls in (
        ast.AddExpression,
        ast.ArithmeticComparisonExpression,
        ast.ArithmeticExpression,
        ast.ArrayExpression,
        ast.BitwiseExpression,
        ast.CoalesceExpression,
        ast.ComparisonExpression,
        ast.ComprehensionExpression,
        ast.ContainsExpression,
        ast.FunctionCallExpression,
        ast.FuzzyComparisonExpression,
        ast.GetAttributeExpression,
        ast.GetItemExpression,
        ast.GetSliceExpression,
        ast.LogicExpression,
        ast.MappingExpression,
        ast.SetExpression,
        ast.SubtractExpression,
        ast.SymbolExpression,
        ast.TernaryExpression,
        ast.UnaryExpression,
    )
}


def _bounded_range(start: Any, stop: Any = None, step: Any = None) -> tuple[int, ...]:
    """`$range`, charging its length to the meter before anything is allocated."""
    arguments = [argument for argument in (start, stop, step) if argument is not None]
    for number, argument in enumerate(arguments, start=1):
        if not isinstance(argument, decimal.Decimal) or not argument.is_finite():
            raise errors.FunctionCallError(f"argument #{number} must be an integer number")
        if argument.adjusted() > MAX_EXPONENT or not is_integer_number(argument):
            raise errors.FunctionCallError(f"argument #{number} must be an integer number")
    numbers = range(*(int(argument) for argument in arguments))
    try:
        count = len(numbers)
    except OverflowError:  # more than the machine can count
        count = MAX_SIZE + 1
    if count > MAX_SIZE:
        _current_meter().stop(
            Phrase(
                gettext_noop("Stopped: $range would make more than %(size)s numbers."),
                {"size": MAX_SIZE},
            )
        )
    _current_meter().charge(count)
    return tuple(numbers)
