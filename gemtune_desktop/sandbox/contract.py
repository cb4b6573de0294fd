"""Google's published Agent Platform contract, held against every request and answer of the Sandbox.

The contract is the subset of the ``aiplatform`` v1 and v1beta1 discovery documents in
``resources/aiplatform/contract.json`` (made by ``scripts/extract_aiplatform_contract.py``; a test
fails when it no longer matches the installed google-api-python-client), plus the protobuf numbers
of its enums in ``enum_numbers.json`` (from googleapis/googleapis).

* :func:`rules` turns a route module's ``{method id: handler}`` table into Werkzeug rules at the
  published paths (``flatPath``), for every version that has the method, so ``/v1/`` and
  ``/v1beta1/`` are served alike and no path exists that Google does not publish.
* :func:`enforced` wraps a handler: query parameters and the JSON body are checked (unknown
  names, wrong types, enum names or numbers) and refused with Google's wording; the handler reads
  the normalised body with :func:`request_body`; its answer is checked against the response
  schema (a Sandbox bug becomes a 500 that names the broken field), and enums are sent as numbers
  when the client asks with ``$alt=json;enum-encoding=int``.

Tuned models are served only on the ``us`` and ``eu`` multi-region hosts. The Sandbox has one
address, so it emulates the host with a path prefix: a client whose base URL is
``{sandbox}/aiplatform.us.rep.googleapis.com/`` is "on" that host (:data:`SERVING_HOSTS`).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import contract_check as check
from gemtune_desktop.sandbox.apierror import ApiError, bad_request
from gemtune_desktop.sandbox.http import body_json

log = logging.getLogger(__name__)

VERSIONS = ("v1", "v1beta1")
SERVING_HOSTS = ("aiplatform.us.rep.googleapis.com", "aiplatform.eu.rep.googleapis.com")
BODY_KEY = "gemtune.contract.body"
SYSTEM_PARAMETERS = frozenset({"alt", "$alt", "fields", "$fields", "key", "prettyPrint", "quotaUser", "$.xgafv",
                               "access_token", "callback", "oauth_token", "upload_protocol", "uploadType"})
# Discovery path placeholders → the keyword names the route handlers take.
PATH_NAMES = {"projectsId": "project", "locationsId": "location", "tuningJobsId": "job_id", "modelsId": "model_id",
              "endpointsId": "endpoint_id", "publishersId": "publisher", "operationsId": "operation_id",
              "metadataStoresId": "store", "contextsId": "context_id", "tensorboardsId": "tb",
              "experimentsId": "exp", "runsId": "run", "timeSeriesId": "series",
              "batchPredictionJobsId": "job_id"}

H = TypeVar("H", bound=Callable[..., Response])


@dataclass(frozen=True, slots=True)
class Method:
    id: str
    version: str
    http_method: str
    flat_path: str
    parameters: Mapping[str, Mapping[str, Any]]
    request: str | None
    response: str | None
    body_field: str

    @property
    def streams(self) -> bool:
        return self.id.endswith("streamGenerateContent")


class Contract:
    """The loaded subset: methods and schemas per version, enum numbers per ``Schema.property``."""

    def __init__(self, data: Mapping[str, Any], numbers: Mapping[str, Any]) -> None:
        self._schemas: dict[str, dict[str, Any]] = {}
        self._methods: dict[tuple[str, str], Method] = {}
        self._enums: dict[str, dict[str, Any]] = {}
        for version, sub in data["versions"].items():
            self._schemas[version] = dict(sub["schemas"])
            self._enums[version] = dict((numbers.get("versions") or {}).get(version) or {})
            for method_id, m in sub["methods"].items():
                self._methods[(version, method_id)] = Method(
                    method_id, version, m["httpMethod"], m["flatPath"], m.get("parameters") or {},
                    m.get("request"), m.get("response"), m.get("bodyField", ""))
        self.revisions = {v: str(s.get("revision", "")) for v, s in data["versions"].items()}

    def method(self, version: str, method_id: str) -> Method | None:
        return self._methods.get((version, method_id))

    def methods(self) -> list[Method]:
        return list(self._methods.values())

    def schema(self, version: str, name: str) -> Mapping[str, Any]:
        return self._schemas[version][name]

    def resolver(self, version: str) -> check.Resolver:
        return functools.partial(self.schema, version)

    def enum_info(self, version: str) -> check.EnumInfo:
        table = self._enums.get(version, {})

        def info(schema: str, prop: str) -> tuple[str, Mapping[str, int]] | None:
            entry = table.get(f"{schema}.{prop}")
            return (str(entry["type"]), entry["numbers"]) if entry else None

        return info


_lock = threading.Lock()
_loaded: Contract | None = None


def load() -> Contract:
    """The shipped contract (read once per process)."""
    global _loaded
    with _lock:
        if _loaded is None:
            from gemtune_desktop.resources import read_json

            _loaded = Contract(read_json("aiplatform", "contract.json"), read_json("aiplatform", "enum_numbers.json"))
        return _loaded


# -- routes ----------------------------------------------------------------------------------------
def _rule_path(flat_path: str) -> str:
    def placeholder(m: re.Match[str]) -> str:
        return f"<seg:{PATH_NAMES.get(m.group(1), m.group(1))}>"

    return "/" + re.sub(r"\{(\w+)\}", placeholder, flat_path)


def rules(owner: str, table: Mapping[str, str], serving_host: frozenset[str] = frozenset()) -> list[Rule]:
    """Rules for ``{method id: handler name}`` at the published paths of every version that has the method.

    Methods in ``serving_host`` are also served under the emulated ``us``/``eu`` host prefixes; their
    handlers get ``serving_host`` (None on the plain address).
    """
    contract = load()
    out = []
    for method_id, handler in table.items():
        for version in VERSIONS:
            method = contract.method(version, method_id)
            if method is None:
                continue
            path = _rule_path(method.flat_path)
            defaults: dict[str, Any] = {"method_id": method_id, "api_version": version}
            if method_id in serving_host:
                out.append(Rule(path, endpoint=f"{owner}.{handler}", methods=[method.http_method],
                                defaults={**defaults, "serving_host": None}))
                hosts = ", ".join(f'"{h}"' for h in SERVING_HOSTS)
                out.append(Rule(f"/<any({hosts}):serving_host>{path}", endpoint=f"{owner}.{handler}",
                                methods=[method.http_method], defaults=defaults))
            else:
                out.append(Rule(path, endpoint=f"{owner}.{handler}", methods=[method.http_method],
                                defaults=defaults))
    return out


# -- requests and answers ----------------------------------------------------------------------------
def invalid(violations: list[check.Violation]) -> ApiError:
    """The 400 Google answers for a body or query it cannot read, with ``BadRequest`` field violations."""
    message = "\n".join(v.description for v in violations)
    details = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": v.field, "description": v.description} for v in violations]}]
    return ApiError(400, message, details=details)


def _check_query(method: Method, request: Request) -> None:
    violations = []
    for name, values in request.args.lists():
        if name in SYSTEM_PARAMETERS:
            continue
        spec = method.parameters.get(name)
        if spec is None or spec.get("location") != "query":
            violations.append(check.Violation(name, f'Invalid JSON payload received. Unknown name "{name}": Cannot '
                                                    f"bind query parameter. Field '{name}' could not be found in "
                                                    "request message."))
            continue
        for value in values if spec.get("repeated") else values[-1:]:
            problem = _query_value(spec, value)
            if problem:
                violations.append(check.Violation(check.snake(name), f"Invalid value at '{check.snake(name)}' "
                                                                     f"({problem}), \"{value}\""))
    if violations:
        raise invalid(violations)


def _query_value(spec: Mapping[str, Any], value: str) -> str:
    kind, fmt = spec.get("type"), spec.get("format")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value.strip()):
        return f"TYPE_{str(fmt or 'int32').upper()}"
    if kind == "boolean" and value not in ("true", "false", "1", "0"):
        return "TYPE_BOOL"
    if "enum" in spec and value not in spec["enum"] and not re.fullmatch(r"\d+", value):
        return "TYPE_ENUM"
    return ""


def request_body(request: Request) -> dict[str, Any]:
    """The checked, normalised JSON body of the current request (``{}`` when it had none)."""
    body = request.environ.get(BODY_KEY)
    return dict(body) if isinstance(body, dict) else {}


def wants_int_enums(request: Request) -> bool:
    alt = request.args.get("$alt", "") or request.args.get("alt", "")
    return "enum-encoding=int" in alt.replace(" ", "")


def _finish(contract: Contract, method: Method, request: Request, response: Response) -> Response:
    if response.status_code != 200 or method.response is None or \
            not (response.content_type or "").startswith("application/json"):
        return response  # errors are google.rpc.Status; SSE streams are sent chunk by chunk
    data = json.loads(response.get_data() or b"{}")
    resolve, enums = contract.resolver(method.version), contract.enum_info(method.version)
    items = data if method.streams and isinstance(data, list) else [data]
    violations = [v for item in items for v in check.check_response(method.response, item, resolve, enums)]
    if violations:
        log.error("Sandbox answer to %s breaks the %s contract: %s", method.id, method.version,
                  "; ".join(v.description for v in violations[:5]))
        return ApiError(500, f"The Sandbox's answer to {method.id} does not follow Google's published "
                             f"{method.version} schema: {violations[0].description}").response()
    if not wants_int_enums(request):
        return response
    converted = [check.enums_to_numbers(method.response, item, resolve, enums) for item in items]
    out = Response(json.dumps(converted if method.streams and isinstance(data, list) else converted[0],
                              ensure_ascii=False), status=200, content_type="application/json; charset=UTF-8")
    for key, value in response.headers.items():
        if key.lower() not in ("content-length", "content-type"):
            out.headers[key] = value
    return out


def enforced(fn: H) -> H:
    """Hold a route handler to the contract (see the module docstring)."""

    @functools.wraps(fn)
    def handler(owner: Any, request: Request, *, method_id: str, api_version: str, **kwargs: Any) -> Response:
        contract = load()
        method = contract.method(api_version, method_id)
        if method is None:  # cannot happen for rules made by rules()
            raise bad_request(f"{method_id} is not part of {api_version}.")
        _check_query(method, request)
        if method.request is not None:
            raw = body_json(request)
            body, violations = check.check_request(method.request, raw, method.body_field,
                                                   contract.resolver(api_version), contract.enum_info(api_version))
            if violations:
                raise invalid(violations)
            request.environ[BODY_KEY] = body
        response = fn(owner, request, **kwargs)
        return _finish(contract, method, request, response)

    return handler  # type: ignore[return-value]
