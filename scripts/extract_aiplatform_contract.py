"""Extract the part of Google's published Agent Platform API contract that the Sandbox serves.

    .venv/bin/python scripts/extract_aiplatform_contract.py                      # refresh the schema subset
    .venv/bin/python scripts/extract_aiplatform_contract.py --googleapis DIR     # ...and the enum numbers

The ``aiplatform`` v1 and v1beta1 discovery documents ship inside google-api-python-client
(``googleapiclient/discovery_cache/documents/``). They are 3–4 MB each; the Sandbox needs only the
methods in :data:`METHODS` and the schemas those methods reach. This script writes that subset to
``resources/aiplatform/contract.json``: per version, each method's HTTP verb, path, parameters,
request and response schema, and the schemas (descriptions dropped). ``tests/sandbox/test_contract.py``
rebuilds the subset from the installed package with :func:`build_subset` and fails when the two differ,
so a new google-api-python-client release that changes the contract is noticed.

Discovery documents name enum values but not their protobuf numbers, which GAPIC clients send
(``?$alt=json;enum-encoding=int``). With ``--googleapis DIR`` (a checkout of
https://github.com/googleapis/googleapis) the numbers are read from the ``.proto`` files and written to
``resources/aiplatform/enum_numbers.json``, keyed by ``Schema.property``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "resources" / "aiplatform"
VERSIONS = ("v1", "v1beta1")

# Every Agent Platform method the Sandbox serves (ids without the ``aiplatform.`` prefix). A method
# missing from one version (``publishers.models.list`` has no v1) is simply not served there.
METHODS = (
    "publishers.models.get", "publishers.models.list",
    "publishers.models.generateContent", "publishers.models.streamGenerateContent",
    "publishers.models.countTokens",
    "projects.locations.publishers.models.generateContent",
    "projects.locations.publishers.models.streamGenerateContent",
    "projects.locations.publishers.models.countTokens",
    "projects.locations.tuningJobs.create", "projects.locations.tuningJobs.get",
    "projects.locations.tuningJobs.list", "projects.locations.tuningJobs.cancel",
    "projects.locations.tuningJobs.rebaseTunedModel",
    "projects.locations.models.get", "projects.locations.models.list", "projects.locations.models.patch",
    "projects.locations.models.delete",
    "projects.locations.endpoints.get", "projects.locations.endpoints.undeployModel",
    "projects.locations.endpoints.generateContent", "projects.locations.endpoints.streamGenerateContent",
    "projects.locations.endpoints.countTokens",
    "projects.locations.operations.get", "projects.locations.endpoints.operations.get",
    "projects.locations.metadataStores.contexts.get",
    "projects.locations.tensorboards.get", "projects.locations.tensorboards.batchRead",
    "projects.locations.tensorboards.experiments.get",
    "projects.locations.tensorboards.experiments.runs.list",
    "projects.locations.tensorboards.experiments.runs.timeSeries.list",
    "projects.locations.tensorboards.experiments.runs.timeSeries.read",
    "projects.locations.tensorboards.experiments.runs.timeSeries.exportTensorboardTimeSeries",
    "projects.locations.evaluateInstances",
    "projects.locations.batchPredictionJobs.create", "projects.locations.batchPredictionJobs.get",
    "projects.locations.batchPredictionJobs.list", "projects.locations.batchPredictionJobs.cancel",
    "projects.locations.batchPredictionJobs.delete",
)

SCHEMA_KEYS = ("type", "format", "properties", "items", "additionalProperties", "$ref", "enum")
PARAM_KEYS = ("type", "format", "location", "repeated", "enum")


# -- the schema subset ----------------------------------------------------------------------------
def discovery_document(version: str) -> dict[str, Any]:
    """The installed ``aiplatform.<version>.json`` discovery document."""
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / f"aiplatform.{version}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def find_method(doc: dict[str, Any], method_id: str) -> dict[str, Any] | None:
    node: dict[str, Any] = {"resources": doc["resources"]}
    *resources, name = method_id.split(".")
    for part in resources:
        node = node.get("resources", {}).get(part)
        if node is None:
            return None
    method = node.get("methods", {}).get(name)
    return method if isinstance(method, dict) else None


def _strip(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _strip(v) for k, v in schema.items() if k in SCHEMA_KEYS}
        if "properties" in out:
            out["properties"] = {k: _strip(v) for k, v in sorted(schema["properties"].items())}
        return out
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found += _refs(value)
        return found
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def body_field(request_schema: str, prefix: str) -> str:
    """The request message field the body maps to, as Google's errors name it ("" for ``body: "*"``).

    Methods whose body is the resource (``tuningJobs.create`` takes a TuningJob, ``models.patch`` a
    Model) put it in a field named after the resource in snake_case; ``...Request`` bodies are the
    whole request message.
    """
    short = request_schema.removeprefix(prefix)
    if short.endswith("Request"):
        return ""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", short).lower()


def build_subset(version: str, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    """The methods and schemas of one version that the Sandbox serves (deterministic)."""
    doc = doc or discovery_document(version)
    prefix = f"GoogleCloudAiplatform{version[0].upper()}{version[1:]}"
    methods: dict[str, Any] = {}
    roots: list[str] = []
    for method_id in METHODS:
        method = find_method(doc, method_id)
        if method is None:
            continue
        entry: dict[str, Any] = {
            "httpMethod": method["httpMethod"], "flatPath": method.get("flatPath") or method["path"],
            "parameters": {k: {p: v[p] for p in PARAM_KEYS if p in v}
                           for k, v in sorted((method.get("parameters") or {}).items())},
        }
        for key in ("request", "response"):
            if key in method:
                entry[key] = method[key]["$ref"]
                roots.append(method[key]["$ref"])
        if "request" in entry:
            entry["bodyField"] = body_field(entry["request"], prefix)
        methods[method_id] = entry
    schemas: dict[str, Any] = {}
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in schemas:
            continue
        schemas[name] = _strip(doc["schemas"][name])
        stack.extend(_refs(schemas[name]))
    return {"revision": str(doc.get("revision", "")), "methods": methods,
            "schemas": {k: schemas[k] for k in sorted(schemas)}}


def build_contract() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "source": f"aiplatform discovery documents shipped in google-api-python-client "
                  f"{version('google-api-python-client')}; "
                  "generated by scripts/extract_aiplatform_contract.py (do not edit by hand)",
        "versions": {v: build_subset(v) for v in VERSIONS},
    }


def dumps(data: dict[str, Any]) -> str:
    """One schema or method per line: small, and readable in a diff."""
    lines = ["{", f'"source": {json.dumps(data["source"])},', '"versions": {']
    for vi, (version, sub) in enumerate(data["versions"].items()):
        lines.append(f'{json.dumps(version)}: {{"revision": {json.dumps(sub["revision"])},')
        for key in ("methods", "schemas"):
            lines.append(f'"{key}": {{')
            items = list(sub[key].items())
            for i, (name, value) in enumerate(items):
                comma = "," if i < len(items) - 1 else ""
                lines.append(f"{json.dumps(name)}: {json.dumps(value, sort_keys=True, separators=(',', ':'))}{comma}")
            lines.append("}," if key == "methods" else "}")
        lines.append("}," if vi < len(data["versions"]) - 1 else "}")
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


# -- enum numbers from the .proto files -------------------------------------------------------------
_TOKEN = re.compile(
    r"(?P<open>\b(?P<kind>message|enum|oneof|service|extend)\s+(?P<name>[\w.]+)\s*\{)"
    r"|(?P<brace>\{)|(?P<close>\})"
    r"|(?P<field>\b(?:(?:repeated|optional)\s+)?(?P<type>map\s*<[^>]+>|[\w.]+)\s+(?P<fname>\w+)\s*=\s*(?P<fnum>\d+))"
    r"|(?P<value>\b(?P<vname>[A-Z][A-Z0-9_]*)\s*=\s*(?P<vnum>-?\d+)\s*[;\[])")


class ProtoIndex:
    """Messages (fields and their types) and enums (value numbers) of a set of .proto files."""

    def __init__(self) -> None:
        self.messages: dict[str, dict[str, str]] = {}  # full name → {field name: type as written}
        self.enums: dict[str, dict[str, int]] = {}  # full name → {value: number}

    def add_file(self, text: str) -> None:
        text = re.sub(r"//[^\n]*", "", text)
        text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
        package = (re.search(r"\bpackage\s+([\w.]+)\s*;", text) or [None, ""])[1]
        scope: list[tuple[str, str]] = []  # (kind, full name)
        for m in _TOKEN.finditer(text):
            current = scope[-1] if scope else ("file", package)
            if m.group("open"):
                kind, name = m.group("kind"), m.group("name")
                if kind in ("message", "enum"):
                    full = f"{self._container(scope, package)}.{name}"
                    (self.messages if kind == "message" else self.enums).setdefault(full, {})  # type: ignore[arg-type]
                    scope.append((kind, full))
                else:
                    scope.append((kind, current[1]))
            elif m.group("brace"):
                scope.append(("block", current[1]))
            elif m.group("close"):
                if scope:
                    scope.pop()
            elif m.group("field") and current[0] in ("message", "oneof"):
                owner = current[1]
                self.messages.setdefault(owner, {})[m.group("fname")] = re.sub(r"\s+", "", m.group("type"))
            elif m.group("value") and current[0] == "enum":
                self.enums[current[1]][m.group("vname")] = int(m.group("vnum"))

    @staticmethod
    def _container(scope: list[tuple[str, str]], package: str) -> str:
        for kind, full in reversed(scope):
            if kind == "message":
                return full
        return package

    def resolve_enum(self, type_name: str, message: str) -> str | None:
        """The full name of enum ``type_name`` as seen from inside ``message`` (protobuf scoping)."""
        if type_name.startswith("."):
            return type_name[1:] if type_name[1:] in self.enums else None
        scope = message
        while scope:
            candidate = f"{scope}.{type_name}"
            if candidate in self.enums:
                return candidate
            scope = scope.rpartition(".")[0]
        return type_name if type_name in self.enums else None


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _schema_messages(index: ProtoIndex, package: str) -> dict[str, str]:
    """Discovery schema suffix (nested names concatenated) → proto message full name."""
    out = {}
    for full in index.messages:
        if full.startswith(package + "."):
            out[full[len(package) + 1:].replace(".", "")] = full
    return out


def enum_numbers(subset: dict[str, Any], version: str, index: ProtoIndex) -> dict[str, Any]:
    """``{"Schema.property": {"type": proto enum, "numbers": {name: n}}}`` for every enum in the subset."""
    package = f"google.cloud.aiplatform.{version}"
    prefixes = {f"GoogleCloudAiplatform{version[0].upper()}{version[1:]}": package, "GoogleRpc": "google.rpc",
                "GoogleType": "google.type", "GoogleApi": "google.api"}
    lookup = {p: _schema_messages(index, pkg) for p, pkg in prefixes.items()}
    out: dict[str, Any] = {}
    for schema_name, schema in subset["schemas"].items():
        message = None
        for prefix, table in lookup.items():
            if schema_name.startswith(prefix):
                message = table.get(schema_name[len(prefix):])
        for prop, spec in (schema.get("properties") or {}).items():
            inner = spec.get("items") or spec.get("additionalProperties") or spec
            if "enum" not in inner or message is None:
                continue
            fields = {_camel(f): t for f, t in index.messages.get(message, {}).items()}
            type_name = fields.get(prop, "")
            if type_name.startswith("map<"):
                type_name = type_name[4:-1].split(",", 1)[1]
            full = index.resolve_enum(type_name, message) if type_name else None
            if full is None:
                continue
            numbers = {n: index.enums[full][n] for n in inner["enum"] if n in index.enums[full]}
            out[f"{schema_name}.{prop}"] = {"type": full, "numbers": numbers}
    return dict(sorted(out.items()))


def build_enum_numbers(googleapis: Path, contract: dict[str, Any]) -> dict[str, Any]:
    index = ProtoIndex()
    for path in sorted(googleapis.glob("google/**/*.proto")):
        index.add_file(path.read_text(encoding="utf-8"))
    return {"source": "enum values numbered as in the .proto files of https://github.com/googleapis/googleapis "
                      "(google/cloud/aiplatform/v1 and v1beta1, google/rpc, google/type); generated by "
                      "scripts/extract_aiplatform_contract.py --googleapis",
            "versions": {v: enum_numbers(sub, v, index) for v, sub in contract["versions"].items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--googleapis", type=Path, help="a googleapis/googleapis checkout, to refresh the enum numbers")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    contract = build_contract()
    (OUT_DIR / "contract.json").write_text(dumps(contract), encoding="utf-8")
    print(f"wrote {OUT_DIR / 'contract.json'}: "
          + ", ".join(f"{v} {len(s['methods'])} methods, {len(s['schemas'])} schemas"
                      for v, s in contract["versions"].items()))
    if args.googleapis:
        numbers = build_enum_numbers(args.googleapis, contract)
        (OUT_DIR / "enum_numbers.json").write_text(json.dumps(numbers, indent=0, sort_keys=True) + "\n",
                                                    encoding="utf-8")
        print(f"wrote {OUT_DIR / 'enum_numbers.json'}: "
              + ", ".join(f"{v} {len(n)} enum fields" for v, n in numbers["versions"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
