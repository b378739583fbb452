"""Every parameter a choice: an API's parameters read from its signature and documentation, a domain
of values drawn for each (booleans, dims within the input's rank, integers and floats around the
default, the enumerations its documentation quotes, optional tensors present or absent), and every
value validated through a backend during catalog generation: a value whose call fails is dropped
from the domain, with the reason.

Attributes a template already passes get their validated alternatives (`validated`); a keyword
parameter the template leaves out becomes `{"optional": [values]}`, left out by the default call so
that seeds keep decoding to the same call. The catalog document records each API's parameters and
whether the fuzzer varies them ("parameters") and the values dropped ("dropped").
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import select
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from nabla_atheris.catalog import AttrSlot, parse_template
from nabla_atheris.catalog.building import Timeout, check_template, time_limit

ABORTED = "aborts the process"  # why a value whose call ended the process before is dropped
REQUIRED = "<required>"  # the default of a parameter that has none
UNKNOWN = "<unknown>"  # a default the documentation does not spell as a literal
KINDS = ("tensor", "bool", "int", "float", "str", "dim", "dims", "unknown")
# Not parameters of the computation: names, output buffers, devices, dtypes, layouts, in-place flags.
NOT_PARAMETERS = frozenset(
    {"name", "out", "device", "layout", "pin_memory", "requires_grad", "generator", "memory_format", "inplace", "dtype",
     "preferred_element_type", "precision", "out_sharding", "sharding", "args", "kwargs"}
)  # fmt: skip
DIM_NAMES = frozenset({"dim", "dims", "axis", "axes", "dimension", "dimensions", "reduction_indices", "split_dim"})
MAX_VALUES = 6  # validated values kept per parameter
CALL_SECONDS = 20  # a value whose validation takes longer is dropped
VARIED = "varied"
# Parameter values the documentation calls misuse (BY-DESIGN findings of hand triage), as OpInfo
# declares per op what its samples must not do: (API pattern, "parameter=value" pattern, why). Such a
# value is never drawn; it is listed under "dropped" with the reason.
MISUSE: tuple[tuple[str, str, str], ...] = (
    (r"adaptive_(avg|max)_pool[123]d", r"^output_size=.*\b0\b", "misuse: an output size of 0 (documented: the output's size)"),
    (r"(batch|instance)_norm$", r"^momentum=", "misuse: momentum only sets the in-place update of running stats (training mode)"),
    (r"linalg\.qr$", r"^mode='r'$", "misuse: mode='r' computes no Q, and its backward is documented unsupported"),
    (r"(^|\.)embedding(_bag)?$", r"^sparse=True$", "misuse: sparse=True makes the weight's gradient sparse (documented)"),
    (
        r"(^|\.)logit_?$",
        r"^eps=(0\.[5-9]\d*|[1-9]\d*(\.\d*)?)$",
        "misuse: eps >= 0.5 clamps the input to [eps, 1 - eps], an empty interval (documented: the input clamp bound)",
    ),
)
# A tensor parameter whose documentation says its values are cast to an integer tensor (sparse_coo_tensor's
# indices): a floating tensor there is an index, not a differentiable input.
_CAST_TO_INTEGER = re.compile(r"cast to an? (:class:`)?(torch\.)?(Long|Int)Tensor", re.IGNORECASE)
_QUOTED = re.compile(r"""(?:``|`)?['"]([A-Za-z][\w\-]*)['"](?:``|`)?""")
# An array-like type (JAX's ArrayLike: a Union naming jax.Array, numpy.ndarray, numpy.bool, bool, int ...),
# not inside a container type (a sequence or tuple of arrays) nor naming str (interp's left: 'extrapolate').
_ARRAY_LIKE = re.compile(r"\b(arraylike|jax(lib\._jax)?\.array|numpy\.ndarray)\b")
_CONTAINER = re.compile(r"^(typing\.|collections\.abc\.)?(sequence|tuple|list|iterable)\[")
# Numbers a parameter's documentation spells as code next to quoted words ("`'fro'`, `'euclidean'`, `1`, `2`").
_CODE_NUMBER = re.compile(r"`(-?\d+(?:\.\d+)?)`")
# A dtype selector's documented choices: "An optional `tf.DType` from: `tf.int32, tf.int64`. Defaults to `tf.int64`."
_DTYPE_CHOICES = re.compile(r"`\w+\.DType` from: `([^`]+)`")
_DTYPE_DEFAULT = re.compile(r"Defaults to `\w+\.(\w+)`")


@dataclass(frozen=True)
class Parameter:
    """One parameter of an API: name, kind (one of KINDS), default (REQUIRED: none), how it may be passed."""

    name: str
    kind: str
    default: Any = REQUIRED
    positional: bool = True
    keyword: bool = True
    doc: str = ""


def doc_paragraph(doc: str, name: str) -> str:
    """The documentation of parameter `name` in a docstring (Google, NumPy or TensorFlow style): its
    line and the more indented lines below it."""
    lines = doc.splitlines()
    pattern = re.compile(rf"^(\s*)\**{re.escape(name)}\**\s*(\(|:)")
    for i, line in enumerate(lines):
        match = pattern.match(line)
        if match:
            indent, out = len(match.group(1)), [line.strip()]
            for following in lines[i + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                out.append(following.strip())
            return " ".join(out)
    return ""


def kind_of(name: str, default: Any, type_text: str) -> str:
    """A parameter's kind from its name, default and any type text (annotation, schema type, doc)."""
    text = type_text.lower()
    if name in DIM_NAMES:
        return "dims" if any(w in text for w in ("list", "tuple", "sequence", "[]", "ints")) else "dim"
    if _array_like(text):
        return "tensor"  # before the bool test: an array-like union names bool among its members
    if isinstance(default, bool) or re.search(r"\bbool", text):
        return "bool"
    if isinstance(default, str) and default not in (REQUIRED, UNKNOWN) or re.search(r"\bstr", text):
        return "str"
    if "tensor" in text or "array" in text:
        return "tensor"
    if isinstance(default, float) or re.search(r"\b(float|scalar|number)", text):
        return "float"
    if isinstance(default, int) or re.search(r"\bint", text):
        return "int"
    return "unknown"


def _array_like(text: str) -> bool:
    """Does a (lowercase) type text name an array-like type (see _ARRAY_LIKE)?"""
    return bool(_ARRAY_LIKE.search(text)) and not _CONTAINER.match(text.strip()) and not re.search(r"\bstr\b", text)


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return REQUIRED
    try:
        return ast.literal_eval(node)
    except ValueError:
        return UNKNOWN


def _from_signature(fn: Any) -> list[tuple[str, Any, str, bool, bool]] | None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    out = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = REQUIRED if p.default is p.empty else p.default
        default = default if isinstance(default, (bool, int, float, str, type(None), tuple, list)) else UNKNOWN
        annotation = "" if p.annotation is p.empty else str(p.annotation)
        out.append((p.name, default, annotation, p.kind is not p.KEYWORD_ONLY, p.kind is not p.POSITIONAL_ONLY))
    return out


def _from_doc_line(doc: str, short: str) -> list[tuple[str, Any, str, bool, bool]] | None:
    """The signature a docstring's first lines spell (`sum(input, dim, keepdim=False, *, dtype=None) -> Tensor`)."""
    for line in doc.strip().splitlines()[:6]:
        match = re.match(rf"^\s*(?:[\w.]+\.)?{re.escape(short)}\((.*)\)", line.strip())
        if not match:
            continue
        arguments = re.sub(r"\)\s*->.*$", "", match.group(1))
        try:
            tree = ast.parse(f"def f({arguments}): pass").body[0]
        except SyntaxError:
            continue
        assert isinstance(tree, ast.FunctionDef)
        a = tree.args
        positional = a.posonlyargs + a.args
        defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
        out = [(p.arg, _literal(d), "", True, True) for p, d in zip(positional, defaults)]
        return out + [(p.arg, _literal(d), "", False, True) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return None


def read_parameters(api: str, fn: Any, types: dict[str, str] | None = None) -> list[Parameter]:
    """An API's parameters from its signature (or its docstring's signature line), with kinds from
    `types` (a library's typed schema, by name), annotations, defaults and documentation; a method
    of a Tensor class takes the tensor as its first parameter."""
    doc = inspect.getdoc(fn) or ""
    short = api.rsplit(".", 1)[-1]
    found = _from_signature(fn) or _from_doc_line(doc, short) or []
    if ".Tensor." in api and (not found or found[0][0] not in ("self", "input")):
        found = [("self", REQUIRED, "Tensor", True, True)] + [f for f in found if f[0] != "self"]
    out = []
    for name, default, annotation, positional, keyword in found:
        paragraph = doc_paragraph(doc, name)
        kind = kind_of(name, default, (types or {}).get(name) or annotation or paragraph[:120])
        out.append(Parameter(name, kind, default, positional, keyword, paragraph))
    return out


def module_parameters(api: str, module_type: type) -> list[Parameter]:
    """A module class's parameters: its input, then its constructor's, as keyword parameters (keyword
    arguments construct a module, positional arguments are its inputs: `module_call` of the modes)."""
    constructor = read_parameters(api, module_type)
    return [Parameter("input", "tensor")] + [replace(p, positional=False) for p in constructor]


def _tensor_shapes(template: dict) -> list[list[Any]]:
    """Shapes an optional tensor may take: the first floating tensor's, its last and second dimension, a scalar."""
    slots = [s for s in [*template["args"], *template.get("kwargs", {}).values()] if isinstance(s, dict) and "tensor" in s]
    floating = [s["tensor"] for s in slots if "dtype" not in s]
    if not floating:
        return [[]]
    shape = floating[0]
    shapes = [shape, shape[-1:], shape[1:2], []]
    return [list(s) for s in dict.fromkeys(tuple(s) for s in shapes)]


def _rank(template: dict) -> int:
    first = next((s for s in template["args"] if isinstance(s, dict) and "tensor" in s), None)
    return len(first["tensor"]) if first else 0


def domain(parameter: Parameter, template: dict) -> list[Any]:
    """Candidate values of a parameter for one template (JSON slot specs or plain values), default excluded."""
    d, kind, rank = parameter.default, parameter.kind, _rank(template)
    dims = [i for i in (-1, 0, 1, rank - 1) if -rank <= i < rank] if rank else []
    dtypes = documented_dtypes(parameter.doc)
    if dtypes:
        values: list[Any] = dtypes
    elif kind == "bool":
        values = [not d] if isinstance(d, bool) else [True, False]
    elif kind == "dim":
        values = list(dims)
    elif kind == "dims":
        values = dims + [[i] for i in dims[:2]] + ([[0, 1], [0, -1]] if rank >= 2 else [])
    elif kind == "int":
        base = d if isinstance(d, int) and not isinstance(d, bool) else 0
        values = [base + 1, base - 1, 0, 1, 2, -1]
    elif kind == "float":
        base = d if isinstance(d, float) else 0.0
        values = [0.0, 0.5, 1.0, 2.0, -1.0, 1e-3, 2.0 * base]
    elif kind == "str":
        values = enumerated(parameter.doc)
    elif kind == "tensor":
        values = [{"tensor": s} for s in _tensor_shapes(template)]
    else:
        values = [True, 0, 1, 0.5] + enumerated(parameter.doc)
        values += [{"tensor": s} for s in _tensor_shapes(template)] if d is None else []
    return [v for v in _unique(values) if v != d or isinstance(v, dict)]


def enumerated(doc: str) -> list[Any]:
    """The values a parameter's documentation enumerates: its quoted words and, next to them, the
    numbers it spells as code (`ord`: 'fro', 'euclidean', 1, 2)."""
    words: list[Any] = list(dict.fromkeys(_QUOTED.findall(doc)))
    numbers = [float(n) if "." in n else int(n) for n in dict.fromkeys(_CODE_NUMBER.findall(doc))]
    return words + numbers if words else []


def documented_dtypes(doc: str) -> list[str]:
    """A dtype selector's documented choices other than its default, by name (TensorFlow's index and
    output types: "An optional `tf.DType` from: `tf.int32, tf.int64`"); [] for other parameters."""
    match = _DTYPE_CHOICES.search(doc)
    if not match:
        return []
    default = _DTYPE_DEFAULT.search(doc)
    names = [name.strip().rsplit(".", 1)[-1] for name in match.group(1).split(",")]
    return [name for name in names if name and not (default and name == default.group(1))]


def _unique(values: Iterable[Any]) -> list[Any]:
    seen, out = set(), []
    for v in values:
        key = repr((type(v).__name__, v))
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _spec(value: Any) -> dict:
    return value if isinstance(value, dict) else {"value": value, "validated": []}


Check = Callable[[str, dict], "str | None"]  # ("parameter=value", template) -> why its call is not valid, or None


def checker(
    library: str,
    api: str,
    backend: Any,
    isolated: bool = False,
    on_value: Callable[[str], None] = lambda key: None,
    aborted: frozenset[str] = frozenset(),
) -> Check:
    """How one value's call is validated: in a forked child (`isolated`: a native crash or hang drops
    the value) or in-process under a time limit; `on_value` is told each value first, and the values
    of `aborted` (which ended the process before) are dropped without a call."""

    def check(key: str, template: dict) -> str | None:
        if key in aborted:
            return ABORTED
        on_value(key)
        if isolated:
            outcome = in_child(lambda: [check_template(library, api, template, backend)], CALL_SECONDS)
            return outcome[0] if outcome else f"crashes the process or takes over {CALL_SECONDS} s"
        try:
            with time_limit(CALL_SECONDS):
                return check_template(library, api, template, backend)
        except Timeout:
            return f"takes over {CALL_SECONDS} s"

    return check


def misuse(api: str, key: str) -> str | None:
    """Why a "parameter=value" of the API is documented misuse (see MISUSE), or None."""
    return next((why for pattern, value, why in MISUSE if re.search(pattern, api) and re.search(value, key)), None)


def integer_indices(template: dict, parameters: list[Parameter]) -> dict | None:
    """The template with the floating tensor slots of parameters documented as cast to an integer
    tensor made int64 (values 0, in range of any non-empty dimension); None when no floating tensor
    argument is left (the call has nothing to differentiate)."""
    integer = {p.name for p in parameters if _CAST_TO_INTEGER.search(p.doc)}
    if not integer:
        return template
    positional = [p.name for p in parameters if p.positional]

    def cast(name: str, slot: Any) -> Any:
        if name in integer and isinstance(slot, dict) and "tensor" in slot and "dtype" not in slot:
            return {"tensor": slot["tensor"], "dtype": "int64", "range": [0, 1]}
        return slot

    args = [cast(positional[i] if i < len(positional) else f"#{i}", slot) for i, slot in enumerate(template["args"])]
    kwargs = {name: cast(name, slot) for name, slot in template.get("kwargs", {}).items()}
    if not any(_floating(slot) for slot in [*args, *kwargs.values()]):
        return None
    return {**template, "args": args, **({"kwargs": kwargs} if kwargs else {})}


def _floating(slot: Any) -> bool:
    """Whether a slot the default call passes holds a floating tensor (the template's dtype)."""
    if not isinstance(slot, dict):
        return False
    if "tensors" in slot:  # a list's items: shapes (of the template's dtype) or tensor slots
        return any(isinstance(item, list) or _floating(item) for item in slot["tensors"])
    return "tensor" in slot and "dtype" not in slot


def drop_misuse(api: str, template: dict, parameters: list[Parameter], dropped: dict[str, str]) -> dict:
    """The template without the drawn values that are misuse of the API (`dropped`: their reasons)."""
    positional = [p.name for p in parameters if p.positional]

    def clean(name: str, slot: Any) -> Any:
        if not isinstance(slot, dict) or not {"validated", "optional"} & set(slot):
            return slot
        field = "validated" if "validated" in slot else "optional"
        kept = []
        for value in slot[field]:
            key = f"{name}={value!r}"
            reason = misuse(api, key)
            if reason is None:
                kept.append(value)
            else:
                dropped.setdefault(key, reason)
        return {**slot, field: kept}

    args = [clean(positional[i] if i < len(positional) else f"#{i}", slot) for i, slot in enumerate(template["args"])]
    kwargs = {name: clean(name, slot) for name, slot in template.get("kwargs", {}).items()}
    kwargs = {name: slot for name, slot in kwargs.items() if slot != {"optional": []}}
    rest = {key: value for key, value in template.items() if key != "kwargs"}
    return {**rest, "args": args, **({"kwargs": kwargs} if kwargs else {})}


def vary_template(template: dict, parameters: list[Parameter], check: Check, dropped: dict[str, str]) -> dict:
    """The template with validated domains: explicit choices for the attributes it passes, optional
    keyword parameters for the ones it leaves out (`dropped`: "parameter=value" -> why its call failed)."""
    positional = [p for p in parameters if p.positional]
    by_position = {i: positional[i] for i in range(min(len(positional), len(template["args"])))}
    named = {p.name: p for p in parameters}
    args, kwargs = list(template["args"]), dict(template.get("kwargs", {}))

    def valid(name: str, value: Any, place: Callable[[dict], dict]) -> bool:
        key = f"{name}={value!r}"
        reason = check(key, place(_spec(value)))
        if reason is not None:
            dropped.setdefault(key, reason[:120])
        return reason is None

    for index, slot in enumerate(args):
        parameter = by_position.get(index) or Parameter(f"#{index}", "unknown")

        def place(spec: dict, index: int = index) -> dict:
            return {**template, "args": [*args[:index], spec, *args[index + 1 :]], "kwargs": kwargs}

        args[index] = _varied_slot(slot, parameter, template, valid, place)
    for name, slot in sorted(kwargs.items()):
        parameter = named.get(name) or Parameter(name, kind_of(name, slot.get("value"), ""))

        def place(spec: dict, name: str = name) -> dict:
            return {**template, "args": args, "kwargs": {**kwargs, name: spec}}

        kwargs[name] = _varied_slot(slot, parameter, template, valid, place)
    passed = {p.name for p in by_position.values()} | set(kwargs)
    for parameter in parameters:
        if parameter.name in passed or parameter.name in NOT_PARAMETERS or not parameter.keyword or unvaried(parameter):
            continue
        if parameter.default == REQUIRED:
            continue

        def place(spec: dict, name: str = parameter.name) -> dict:
            return {**template, "args": args, "kwargs": {**kwargs, name: spec}}

        kept = [v for v in domain(parameter, template) if valid(parameter.name, v, place)][:MAX_VALUES]
        if kept:
            kwargs[parameter.name] = {"optional": kept}
    out = {**template, "args": args}
    if kwargs:
        out["kwargs"] = dict(sorted(kwargs.items()))
    return out


def _varied_slot(slot: Any, parameter: Parameter, template: dict, valid: Callable, place: Callable) -> Any:
    """An attribute slot with its validated alternatives; a slot that draws values already (a rerun of
    the step) keeps those that the current rules validate; a tagged value (a library object) stays."""
    if not isinstance(slot, dict) or "choices" in slot or isinstance(slot.get("value"), dict):
        return slot
    drawn = next((field for field in ("validated", "optional") if field in slot), None)
    if drawn is not None:
        return {**slot, drawn: [v for v in slot[drawn] if valid(parameter.name, v, place)]}
    if "value" in slot:
        return {**slot, "validated": _kept(parameter, slot["value"], template, valid, place)}
    return slot


def deprecated(parameter: Parameter) -> bool:
    """Does the first sentence of its documentation call the parameter deprecated (it conflicts with its successor)?"""
    return "deprecated" in re.split(r"\.\s", parameter.doc, maxsplit=1)[0].lower()


def in_place(parameter: Parameter) -> bool:
    """Does its documentation say the parameter makes the call modify an input in place (embedding_bag's
    max_norm renormalizes the weight)? Derivatives of such a call are not the function's."""
    return bool(re.search(r"in-?place", parameter.doc, re.IGNORECASE))


def unvaried(parameter: Parameter) -> bool:
    """A parameter the step leaves alone (deprecated, or modifying an input in place)."""
    return deprecated(parameter) or in_place(parameter)


def _kept(parameter: Parameter, default: Any, template: dict, valid: Callable, place: Callable) -> list[Any]:
    """The validated alternatives of an attribute the template passes (its domain, and type-aware ones)."""
    typed = Parameter(parameter.name, parameter.kind, default, doc=parameter.doc)
    if parameter.kind == "unknown":
        typed = Parameter(parameter.name, kind_of(parameter.name, default, ""), default, doc=parameter.doc)
    candidates = [v for v in domain(typed, template) if not isinstance(v, dict)]
    candidates += [list(c) if isinstance(c, tuple) else c for c in AttrSlot(default).candidates()[1:]]
    return [v for v in _unique(candidates) if v != default and valid(parameter.name, v, place)][:MAX_VALUES]


def status(api_templates: list[dict], parameters: list[Parameter]) -> dict[str, str]:
    """Per parameter: "varied" when a template draws its value, else why not."""
    passed: set[str] = set()
    varied: set[str] = set()
    positional = [p.name for p in parameters if p.positional]
    for spec in api_templates:
        template = parse_template(spec)
        slots = [(positional[i] if i < len(positional) else f"#{i}", slot) for i, slot in enumerate(template.args)]
        for name, slot in slots + list(template.kwargs):
            passed.add(name)
            if _varies(slot):
                varied.add(name)
    statuses = {name: VARIED for name in sorted(varied)}
    for p in parameters:
        if p.name in varied or p.name in NOT_PARAMETERS:
            continue
        if deprecated(p):
            statuses[p.name] = "fixed: deprecated"
        elif in_place(p):
            statuses[p.name] = "fixed: modifies an input in place"
        elif p.name in passed:
            statuses[p.name] = "fixed: no valid alternative"
        elif p.default == REQUIRED:
            statuses[p.name] = "fixed: required, not passed by a template"
        elif not p.keyword:
            statuses[p.name] = "fixed: positional-only, not passed by a template"
        else:
            statuses[p.name] = "fixed: no valid value"
    return statuses


def _varies(slot: Any) -> bool:
    return not isinstance(slot, AttrSlot) or len(slot.candidates()) > 1


def vary_parameters(
    builder: Any,
    names: Iterable[str],
    reader: Callable[[str], list[Parameter]],
    on_api: Callable[[str], None] = lambda api: None,
    make_check: Callable[[str], Check] | None = None,
) -> None:
    """Give every template of the builder's APIs among `names` its validated domains, one API at a
    time (`on_api` is told first; `make_check(api)`: how its values are validated, by default
    in-process); the builder's `parameters` and `dropped` record each API's parameter statuses and
    the values dropped with their reasons."""
    for api in sorted(set(names) & set(builder.apis)):
        on_api(api)
        try:
            parameters = reader(api)
        except Exception:  # noqa: BLE001 - an API whose signature cannot be read keeps its templates' slots
            parameters = []
        dropped: dict[str, str] = dict(builder.dropped.get(api, {}))  # a rerun keeps the earlier reasons
        check = make_check(api) if make_check else checker(builder.library, api, builder.backend)
        typed = [t for t in (integer_indices(t, parameters) for t in builder.apis[api]) if t is not None]
        if not typed:
            builder.apis.pop(api)
            builder.failed[api] = "no floating tensor argument (its tensors are documented as cast to integers)"
            continue
        varied = [vary_template(t, parameters, check, dropped) for t in typed]
        builder.apis[api] = [drop_misuse(api, t, parameters, dropped) for t in varied]
        builder.parameters[api] = status(builder.apis[api], parameters)
        if dropped:
            builder.dropped[api] = dict(sorted(dropped.items()))


def in_child(fn: Callable[[], Any], seconds: float) -> Any:
    """`fn()` run in a forked child and its JSON result, or None when the child died or took longer
    than `seconds` (then it is killed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            with os.fdopen(write_end, "wb") as out:
                out.write(json.dumps(fn()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + seconds
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while select.select([pipe], [], [], max(deadline - time.monotonic(), 0))[0]:
            chunk = pipe.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
    _, code = os.waitpid(pid, 0)
    data = b"".join(chunks)
    return json.loads(data) if code == 0 and data else None


def share_varied(statuses: dict[str, dict[str, str]]) -> tuple[int, int]:
    """(API, parameter) pairs varied and in all."""
    pairs = [s for per_api in statuses.values() for s in per_api.values()]
    return sum(s == VARIED for s in pairs), len(pairs)
