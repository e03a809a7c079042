"""The Kubernetes manifests, as an operator would apply them.

Every kustomization (the base and each overlay) is rendered with
``kubectl kustomize``; every core object is validated against the Kubernetes
JSON schemas that kubernetes-validate ships (offline, strict: an unknown
field is an error). The two operator kinds it has no schema for
(``RabbitmqCluster``, CloudNativePG ``Cluster``) are checked field by field.
Then the promises of deploy/k8s/README.md: probes, resources, non-root,
PodDisruptionBudgets, the gateway's HPA, NetworkPolicies, no committed
Secret, replica counts per environment, pinned images.

Marked ``integration``: it runs kubectl (installed from the kubectl Debian
package on the project's machines).
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import socket
import subprocess
from pathlib import Path

import json

import jsonschema
import kubernetes_validate
import pytest
import yaml
from referencing import Registry, Resource

from tests.deploy.contract import SECRET_KEYS, SECRET_NAME

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
TARGETS = ["base", "overlays/dev", "overlays/prod"]
OVERLAYS = ["overlays/dev", "overlays/prod"]

# The oldest Kubernetes minor we support, and the newest the package knows.
K8S_VERSIONS = ["1.30", kubernetes_validate.latest_version()]

# Custom resources of the two operators: validated against tests/deploy/schemas.
CRD_SCHEMAS = Path(__file__).resolve().parent / "schemas"
CRD_KINDS = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"),
    ("postgresql.cnpg.io/v1", "Cluster"),
}
ESCALE_IMAGES = {"escale/gateway", "escale/booking", "escale/cli", "escale/notify", "escale/presence"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


@functools.cache
def _render(target: str) -> tuple[dict, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not installed (Debian package `kubectl`); it renders the manifests")
    proc = subprocess.run(
        [kubectl, "kustomize", str(K8S / target)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, f"kubectl kustomize {target} failed:\n{proc.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def render(target: str) -> list[dict]:
    """The objects of one kustomization (a deep copy: tests may mutate it)."""
    return copy.deepcopy(list(_render(target)))


def of_kind(objs: list[dict], kind: str) -> list[dict]:
    return [o for o in objs if o["kind"] == kind]


def named(objs: list[dict], kind: str, name: str) -> dict:
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def all_containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def selects(selector: dict, labels: dict) -> bool:
    """matchLabels / matchExpressions (In, NotIn, Exists, DoesNotExist)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEMORY = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
MEMORY_UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def cpu_millis(value) -> float:
    match = CPU.match(str(value))
    assert match, f"unreadable CPU quantity {value!r}"
    number = float(match.group(1))
    return number if match.group(2) else number * 1000


def memory_bytes(value) -> int:
    match = MEMORY.match(str(value))
    assert match, f"unreadable memory quantity {value!r}"
    return int(match.group(1)) * MEMORY_UNITS[match.group(2)]


# --- rendering and schemas ----------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
def test_every_kustomization_renders_uniquely_named_objects(target):
    objs = render(target)
    assert objs, f"{target} renders nothing"
    keys = [(o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
            for o in objs]
    duplicates = {k for k in keys if keys.count(k) > 1}
    assert not duplicates, f"{target}: objects defined twice: {duplicates}"


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_core_objects_are_valid_against_the_kubernetes_schemas(target, version):
    errors = []
    validated = 0
    for obj in render(target):
        if (obj["apiVersion"], obj["kind"]) in CRD_KINDS:
            continue
        name = f'{obj["kind"]}/{obj["metadata"]["name"]}'
        try:
            kubernetes_validate.validate(obj, version, strict=True)
            validated += 1
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{name}: no schema ({exc.message}); a typo in apiVersion or kind?")
    assert not errors, f"{target} against Kubernetes {version}:\n" + "\n".join(errors)
    assert validated >= 10


@functools.cache
def _crd_validator(api_version: str, kind: str, version: str):
    """The operator's schema, its Kubernetes core references resolved with
    kubernetes-validate's own (strict) definitions of that version."""
    group = api_version.replace("/", "_")
    schema = json.loads((CRD_SCHEMAS / f"{group}_{kind}.json").read_text())
    definitions = kubernetes_validate.utils.schema_contents(
        f"kubernetes-json-schema/v{_schema_version(version)}-local-strict/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _schema_version(version: str) -> str:
    wanted = kubernetes_validate.utils.major_minor(version)
    return [v for v in kubernetes_validate.utils.all_versions()
            if kubernetes_validate.utils.major_minor(v) <= wanted][-1]


def crd_errors(obj: dict, version: str) -> list[str]:
    validator = _crd_validator(obj["apiVersion"], obj["kind"], version)
    return [f'{obj["kind"]}/{obj["metadata"]["name"]}: {".".join(map(str, e.path))}: {e.message}'
            for e in validator.iter_errors(obj)]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_operator_resources_are_valid_against_their_operators_schemas(target, version):
    objs = [o for o in render(target) if (o["apiVersion"], o["kind"]) in CRD_KINDS]
    assert {(o["apiVersion"], o["kind"]) for o in objs} == CRD_KINDS
    errors = [e for obj in objs for e in crd_errors(obj, version)]
    assert not errors, f"{target} against the operators' schemas:\n" + "\n".join(errors)


@pytest.mark.parametrize("kind, path, value", [
    ("RabbitmqCluster", ("spec", "replica"), 3),  # misspelt field
    ("RabbitmqCluster", ("spec", "replicas"), -1),
    ("RabbitmqCluster", ("spec", "rabbitmq", "additionalConfig"), "x" * 2001),
    ("RabbitmqCluster", ("spec", "affinity", "podAntiAffinity", "preferred"), []),  # a core type
    ("Cluster", ("spec", "instances"), 0),
    ("Cluster", ("spec", "postgresql", "synchronous", "method"), "all"),
    ("Cluster", ("spec", "postgresql", "synchronous", "dataDurability"), "strict"),
    ("Cluster", ("spec", "bootstrap", "initdb", "postInitSql"), []),  # misspelt field
    ("Cluster", ("spec", "resources", "limit"), {"cpu": "2"}),  # a core type, misspelt
])
def test_operator_schemas_reject_what_the_operators_would(kind, path, value):
    """The vendored schemas are not vacuous: the API server would refuse these."""
    obj = copy.deepcopy(next(o for o in render("overlays/prod") if o["kind"] == kind))
    assert not crd_errors(obj, K8S_VERSIONS[-1])
    node = obj
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    assert crd_errors(obj, K8S_VERSIONS[-1]), f"{kind} {'.'.join(path)}={value!r} was accepted"


def test_the_gateway_autoscaler_is_validated_as_autoscaling_v2():
    hpa = named(render("overlays/prod"), "HorizontalPodAutoscaler", "escale-gateway")
    assert hpa["apiVersion"] == "autoscaling/v2"
    kubernetes_validate.validate(hpa, K8S_VERSIONS[0], strict=True)
    hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilisation"] = 70
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, K8S_VERSIONS[-1], strict=True)


def test_strict_validation_rejects_an_unknown_field():
    """The schema check is not vacuous: a misspelt field fails it."""
    deployment = named(render("base"), "Deployment", "escale-gateway")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


def test_schemas_are_read_offline(monkeypatch):
    """kubernetes-validate ships its schemas: validating opens no connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("kubernetes-validate tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for obj in render("overlays/prod"):
        if (obj["apiVersion"], obj["kind"]) not in CRD_KINDS:
            kubernetes_validate.validate(obj, K8S_VERSIONS[0], strict=True)


def test_the_base_is_namespace_agnostic_and_each_overlay_chooses_one():
    assert all("namespace" not in o["metadata"] for o in render("base"))
    for target, namespace in (("overlays/dev", "escale-dev"), ("overlays/prod", "escale")):
        objs = render(target)
        assert named(objs, "Namespace", namespace)
        other = {o["metadata"].get("namespace") for o in objs if o["kind"] != "Namespace"}
        assert other == {namespace}, f"{target}: objects outside {namespace}: {other}"


# --- the two operators' custom resources ----------------------------------------

@pytest.mark.parametrize("target", ["base", "overlays/prod"])
def test_rabbitmq_is_a_three_node_cluster_fit_for_quorum_queues(target):
    objs = render(target)
    clusters = [o for o in objs if o["kind"] == "RabbitmqCluster"]
    assert len(clusters) == 1
    rmq = clusters[0]
    assert rmq["apiVersion"] == "rabbitmq.com/v1beta1"
    assert rmq["metadata"]["name"] == "escale-rabbitmq"
    spec = rmq["spec"]
    # An odd count: a majority (2 of 3) survives the loss of one node.
    assert spec["replicas"] == 3
    config = spec["rabbitmq"]["additionalConfig"]
    partition = r"^\s*cluster_partition_handling\s*=\s*pause_minority\s*$"
    assert re.search(partition, config, re.MULTILINE)
    assert spec["persistence"]["storage"], "quorum queues need persistent storage"
    anti = spec["affinity"]["podAntiAffinity"]
    terms = [t.get("podAffinityTerm", t) for t in
             anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])
             + anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])]
    assert any(t["topologyKey"] == "kubernetes.io/hostname"
               and selects(t["labelSelector"], {"app.kubernetes.io/name": "escale-rabbitmq"})
               for t in terms), "RabbitMQ nodes should spread over Kubernetes nodes"
    assert {"requests", "limits"} <= set(spec["resources"])


@pytest.mark.parametrize("target", ["base", "overlays/prod"])
def test_postgresql_is_three_instances_with_both_databases_bootstrapped(target):
    objs = render(target)
    clusters = [o for o in objs if o["kind"] == "Cluster"]
    assert len(clusters) == 1
    pg = clusters[0]
    assert pg["apiVersion"] == "postgresql.cnpg.io/v1"
    assert pg["metadata"]["name"] == "escale-postgres"
    spec = pg["spec"]
    assert spec["instances"] == 3
    # The same major version as compose.yaml and the local test server.
    assert re.search(r"/postgresql:15(\.|$|-)", spec["imageName"])
    initdb = spec["bootstrap"]["initdb"]
    assert initdb["database"] == "escale_booking"
    assert initdb["owner"] == "escale"
    statements = [s.strip().rstrip(";") for s in initdb.get("postInitSQL", [])]
    assert "CREATE DATABASE escale_gateway OWNER escale" in statements
    assert "CREATE DATABASE escale_notify OWNER escale" in statements
    assert "CREATE DATABASE escale_presence OWNER escale" in statements
    # A committed booking is on a standby before the client hears "201".
    sync = spec["postgresql"]["synchronous"]
    assert sync["method"] in {"any", "first"}
    assert 1 <= sync["number"] < spec["instances"]
    assert sync.get("dataDurability", "required") == "required"
    assert spec["affinity"]["enablePodAntiAffinity"] is True
    assert spec["storage"]["size"]


@pytest.mark.parametrize("target", TARGETS)
def test_synchronous_replication_never_waits_for_a_standby_that_cannot_exist(target):
    pg = named(render(target), "Cluster", "escale-postgres")
    sync = pg["spec"].get("postgresql", {}).get("synchronous")
    if sync is not None:
        assert sync["number"] <= pg["spec"]["instances"] - 1


def test_dev_runs_single_instance_stores():
    objs = render("overlays/dev")
    assert named(objs, "RabbitmqCluster", "escale-rabbitmq")["spec"]["replicas"] == 1
    assert named(objs, "Cluster", "escale-postgres")["spec"]["instances"] == 1


# --- workloads ------------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
def test_every_deployment_has_both_probes_on_a_declared_port(target):
    deployments = of_kind(render(target), "Deployment")
    assert {d["metadata"]["name"] for d in deployments} >= {"escale-gateway", "escale-booking"}
    for deployment in deployments:
        for container in pod_spec(deployment)["containers"]:
            where = f'{deployment["metadata"]["name"]}/{container["name"]}'
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                assert probe in container, f"{where} has no {probe}"
                http = container[probe]["httpGet"]
                assert http["path"] == path, f"{where} {probe} should ask {path}"
                assert http["port"] in ports or http["port"] in ports.values(), (
                    f"{where} {probe} uses port {http['port']!r}, not one it declares")


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_has_requests_and_limits(target):
    for workload in [o for o in render(target) if o["kind"] in WORKLOAD_KINDS]:
        for container in all_containers(workload):
            where = f'{workload["kind"]}/{workload["metadata"]["name"]}/{container["name"]}'
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(part, {})), (
                    f"{where} lacks {part} for cpu and memory")
            requests, limits = resources["requests"], resources["limits"]
            assert cpu_millis(requests["cpu"]) <= cpu_millis(limits["cpu"]), where
            assert memory_bytes(requests["memory"]) <= memory_bytes(limits["memory"]), where


@pytest.mark.parametrize("target", TARGETS)
def test_every_workload_runs_as_non_root_on_a_read_only_file_system(target):
    for workload in [o for o in render(target) if o["kind"] in WORKLOAD_KINDS]:
        name = f'{workload["kind"]}/{workload["metadata"]["name"]}'
        spec = pod_spec(workload)
        pod_security = spec.get("securityContext", {})
        assert pod_security.get("runAsNonRoot") is True, f"{name}: runAsNonRoot"
        assert pod_security.get("runAsUser", 0) != 0, f"{name}: a non-zero runAsUser"
        assert pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        assert spec.get("automountServiceAccountToken") is False, (
            f"{name} talks to no Kubernetes API: no token")
        for container in all_containers(workload):
            security = container.get("securityContext", {})
            where = f'{name}/{container["name"]}'
            assert security.get("readOnlyRootFilesystem") is True, where
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("capabilities", {}).get("drop") == ["ALL"], where
            assert security.get("runAsUser", 1) != 0, where


@pytest.mark.parametrize("target", TARGETS)
def test_every_deployment_has_a_pod_disruption_budget(target):
    objs = render(target)
    budgets = of_kind(objs, "PodDisruptionBudget")
    for deployment in of_kind(objs, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets if selects(b["spec"]["selector"], labels)]
        assert len(covering) == 1, (
            f'{deployment["metadata"]["name"]}: {len(covering)} PodDisruptionBudgets select it')
        budget = covering[0]["spec"]
        # maxUnavailable keeps a one-replica install drainable.
        assert "maxUnavailable" in budget or "minAvailable" in budget


@pytest.mark.parametrize("target", TARGETS)
def test_the_gateway_is_scaled_by_an_hpa_that_owns_its_replica_count(target):
    objs = render(target)
    hpas = of_kind(objs, "HorizontalPodAutoscaler")
    gateway_hpas = [h for h in hpas if h["spec"]["scaleTargetRef"]["name"] == "escale-gateway"]
    assert len(gateway_hpas) == 1
    hpa = gateway_hpas[0]["spec"]
    assert hpa["scaleTargetRef"]["kind"] == "Deployment"
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    assert any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in hpa["metrics"])
    # With an HPA, spec.replicas would reset the count on every apply.
    assert "replicas" not in named(objs, "Deployment", "escale-gateway")["spec"]
    # CPU utilisation is relative to requests: the HPA needs them.
    gateway = named(objs, "Deployment", "escale-gateway")
    assert all("cpu" in c["resources"]["requests"] for c in pod_spec(gateway)["containers"])


def minimum_replicas(objs: list[dict], deployment: dict) -> int:
    for hpa in of_kind(objs, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        if ref["kind"] == "Deployment" and ref["name"] == deployment["metadata"]["name"]:
            return hpa["spec"].get("minReplicas", 1)
    return deployment["spec"].get("replicas", 1)


def test_prod_runs_at_least_two_replicas_of_every_process():
    objs = render("overlays/prod")
    for deployment in of_kind(objs, "Deployment"):
        assert minimum_replicas(objs, deployment) >= 2, deployment["metadata"]["name"]


def test_dev_runs_one_replica_of_every_process():
    objs = render("overlays/dev")
    for deployment in of_kind(objs, "Deployment"):
        assert minimum_replicas(objs, deployment) == 1, deployment["metadata"]["name"]


@pytest.mark.parametrize("target", TARGETS)
def test_services_and_ingress_point_at_real_pods_and_ports(target):
    objs = render(target)
    workloads = [o for o in objs if o["kind"] in WORKLOAD_KINDS]
    for service in of_kind(objs, "Service"):
        selected = [w for w in workloads
                    if selects({"matchLabels": service["spec"]["selector"]},
                               w["spec"]["template"]["metadata"]["labels"])]
        assert selected, f'Service {service["metadata"]["name"]} selects no pod'
        port_names = {p["name"] for w in selected for c in pod_spec(w)["containers"]
                      for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            target_port = port.get("targetPort", port["port"])
            if isinstance(target_port, str):
                assert target_port in port_names, (
                    f'Service {service["metadata"]["name"]}: no container port {target_port!r}')
    for ingress in of_kind(objs, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = named(objs, "Service", backend["name"])
                assert backend["port"].get("name") in {p["name"] for p in service["spec"]["ports"]}


# --- configuration and secrets ------------------------------------------------------

def documented_variables() -> set[str]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    return set(re.findall(r"`(ESCALE_[A-Z0-9_]+)`", text))


@pytest.mark.parametrize("target", TARGETS)
def test_no_secret_is_committed_and_every_reference_is_to_the_documented_secret(target):
    objs = render(target)
    assert not of_kind(objs, "Secret"), "a Secret is rendered: secrets are never committed"
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    referenced = set()
    for workload in [o for o in objs if o["kind"] in WORKLOAD_KINDS]:
        for container in all_containers(workload):
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, "secrets are referenced key by key"
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == SECRET_NAME
                    referenced.add(ref["key"])
    assert referenced == SECRET_KEYS
    for key in SECRET_KEYS:
        assert f"`{key}`" in readme, f"deploy/k8s/README.md does not document {key}"
    assert "make-secret.sh" in readme and "create secret generic escale-secrets" in readme


@pytest.mark.parametrize("target", TARGETS)
def test_configuration_holds_only_documented_non_secret_variables(target):
    objs = render(target)
    documented = documented_variables()
    configmaps = [c for c in of_kind(objs, "ConfigMap")
                  if c["metadata"]["name"].startswith("escale-config")]
    assert len(configmaps) == 1
    data = configmaps[0]["data"]
    assert set(data) <= documented, f"undocumented settings: {set(data) - documented}"
    assert not set(data) & SECRET_KEYS
    assert data["ESCALE_BOOKING_HTTP"].startswith("0.0.0.0:")
    assert data["ESCALE_GATEWAY_HOST"] == "0.0.0.0"
    for workload in [o for o in objs if o["kind"] in WORKLOAD_KINDS]:
        for container in all_containers(workload):
            for var in container.get("env", []):
                if var["name"].startswith("ESCALE_"):
                    assert var["name"] in documented, var["name"]
    # The ports the processes listen on are the ports the pods declare.
    booking = named(objs, "Deployment", "escale-booking")
    gateway = named(objs, "Deployment", "escale-gateway")
    assert int(data["ESCALE_BOOKING_HTTP"].rpartition(":")[2]) == \
        pod_spec(booking)["containers"][0]["ports"][0]["containerPort"]
    assert int(data["ESCALE_GATEWAY_PORT"]) == \
        pod_spec(gateway)["containers"][0]["ports"][0]["containerPort"]


# --- jobs and images -------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
def test_a_job_migrates_both_databases(target):
    job = named(render(target), "Job", "escale-db-upgrade")
    (container,) = pod_spec(job)["containers"]
    assert container["command"] == ["escale", "db", "upgrade"]
    # `escale db upgrade` migrates every service's database: the job needs each URL,
    # or the command falls back to a local default that does not exist in a cluster.
    env_names = {e["name"] for e in container.get("env", [])}
    for service in ("BOOKING", "GATEWAY", "PRESENCE", "NOTIFY"):
        assert f"ESCALE_{service}_DATABASE_URL" in env_names
    assert container["image"].split(":")[0].endswith("escale/cli")
    assert pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}


@pytest.mark.parametrize("target", TARGETS)
def test_the_job_that_declares_the_queues_and_the_services_share_the_queue_settings(target):
    """`escale db upgrade` declares every quorum queue; a service declaring
    one with other arguments (delivery limit) would be refused by RabbitMQ."""
    objs = render(target)
    config = next(o for o in of_kind(objs, "ConfigMap") if o["metadata"]["name"].startswith("escale-config"))
    assert {"ESCALE_AMQP_PREFETCH", "ESCALE_AMQP_DELIVERY_LIMIT"} <= set(config["data"])
    for kind, name in (("Job", "escale-db-upgrade"), ("Deployment", "escale-booking"),
                       ("Deployment", "escale-presence"), ("Deployment", "escale-notify")):
        for container in pod_spec(named(objs, kind, name))["containers"]:
            sources = [s["configMapRef"]["name"] for s in container.get("envFrom", []) if "configMapRef" in s]
            assert config["metadata"]["name"] in sources, f"{name} does not read {config['metadata']['name']}"
            names = {e["name"] for e in container.get("env", [])}
            assert not names & {"ESCALE_AMQP_PREFETCH", "ESCALE_AMQP_DELIVERY_LIMIT"}, name
            assert "ESCALE_AMQP_URI" in names


def test_dev_seeds_the_demo_after_migrating_and_prod_has_no_demo():
    dev = render("overlays/dev")
    seed = named(dev, "Job", "escale-demo-seed")
    spec = pod_spec(seed)
    assert [c["command"] for c in spec["initContainers"]] == [["escale", "db", "upgrade"]]
    assert [c["command"] for c in spec["containers"]] == [["escale", "demo", "seed"]]
    prod_text = yaml.safe_dump_all(render("overlays/prod"))
    assert "demo" not in prod_text


def image_parts(image: str) -> tuple[str, str | None, str | None]:
    name, _, digest = image.partition("@")
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        repo, tag = name, None
    return repo, tag, digest or None


def test_prod_images_are_pinned_to_a_release():
    objs = render("overlays/prod")
    escale = []
    for workload in [o for o in objs if o["kind"] in WORKLOAD_KINDS]:
        for container in all_containers(workload):
            repo, tag, digest = image_parts(container["image"])
            assert digest or (tag and tag != "latest"), f"{container['image']} is not pinned"
            if repo.split("/", 1)[-1] in ESCALE_IMAGES or repo in ESCALE_IMAGES:
                escale.append(repo)
                assert tag not in {"dev", "latest"}, container["image"]
    assert {r.rsplit("/", 2)[-2] + "/" + r.rsplit("/", 1)[-1] for r in escale} == ESCALE_IMAGES


def test_every_overlay_tags_every_image():
    for target in OVERLAYS:
        for workload in [o for o in render(target) if o["kind"] in WORKLOAD_KINDS]:
            for container in all_containers(workload):
                _repo, tag, digest = image_parts(container["image"])
                assert tag or digest, f"{target}: {container['image']} has no tag"


# --- network policies ----------------------------------------------------------

def pod_labels(objs: list[dict], kind: str, name: str) -> dict:
    return named(objs, kind, name)["spec"]["template"]["metadata"]["labels"]


def ingress_rules_for(objs: list[dict], labels: dict) -> list[dict]:
    rules = []
    for policy in of_kind(objs, "NetworkPolicy"):
        spec = policy["spec"]
        if "Ingress" in spec.get("policyTypes", []) and selects(spec["podSelector"], labels):
            rules.extend(spec.get("ingress", []))
    return rules


def egress_rules_for(objs: list[dict], labels: dict) -> list[dict]:
    rules = []
    for policy in of_kind(objs, "NetworkPolicy"):
        spec = policy["spec"]
        if "Egress" in spec.get("policyTypes", []) and selects(spec["podSelector"], labels):
            rules.extend(spec.get("egress", []))
    return rules


def namespaces_of(rule: dict) -> set[str]:
    return {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for peer in rule.get("from", rule.get("to", []))
            if "namespaceSelector" in peer and "podSelector" not in peer}


@pytest.mark.parametrize("target", TARGETS)
def test_ingress_is_denied_by_default(target):
    policies = of_kind(render(target), "NetworkPolicy")
    assert any(p["spec"]["podSelector"] == {} and p["spec"]["policyTypes"] == ["Ingress"]
               and not p["spec"].get("ingress") for p in policies)


@pytest.mark.parametrize("target", TARGETS)
def test_only_the_ingress_controller_and_monitoring_reach_the_gateway(target):
    objs = render(target)
    rules = ingress_rules_for(objs, pod_labels(objs, "Deployment", "escale-gateway"))
    assert rules
    for rule in rules:
        assert rule.get("from"), "a rule without `from` admits everyone"
        assert namespaces_of(rule) <= {"ingress-nginx", "monitoring"}
        assert len(namespaces_of(rule)) == len(rule["from"]), "only namespace peers"
        assert [p["port"] for p in rule["ports"]] == [8080]
    assert "ingress-nginx" in set().union(*(namespaces_of(r) for r in rules))


@pytest.mark.parametrize("target", TARGETS)
def test_booking_http_is_reachable_from_monitoring_only(target):
    objs = render(target)
    rules = ingress_rules_for(objs, pod_labels(objs, "Deployment", "escale-booking"))
    assert rules
    for rule in rules:
        assert rule.get("from") and namespaces_of(rule) == {"monitoring"}
        assert len(rule["from"]) == 1
        assert [p["port"] for p in rule["ports"]] == [8101]


@pytest.mark.parametrize("target", TARGETS)
def test_escale_pods_reach_only_dns_and_the_stores_they_use(target):
    objs = render(target)
    store_ports = {
        ("app.kubernetes.io/name", "escale-rabbitmq"): 5672,
        ("cnpg.io/cluster", "escale-postgres"): 5432,
        ("app.kubernetes.io/name", "escale-redis"): 6379,
    }
    expected = {
        ("Deployment", "escale-gateway"): {5672, 5432, 6379},
        ("Deployment", "escale-booking"): {5672, 5432},
        ("Deployment", "escale-presence"): {5672, 5432, 6379},
        ("Job", "escale-db-upgrade"): {5672, 5432},
    }
    for (kind, name), allowed in expected.items():
        rules = egress_rules_for(objs, pod_labels(objs, kind, name))
        assert rules, f"{name}: egress is not restricted"
        reached = set()
        for rule in rules:
            assert rule.get("to"), f"{name}: an egress rule without `to` allows everything"
            for peer in rule["to"]:
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    (label,) = peer["podSelector"]["matchLabels"].items()
                    port = store_ports[label]
                    assert [p["port"] for p in rule["ports"]] == [port]
                    reached.add(port)
                else:
                    assert namespaces_of({"to": [peer]}) == {"kube-system"}
                    assert {p["port"] for p in rule["ports"]} == {53}
        assert reached == allowed, f"{name} reaches {reached}, expected {allowed}"


@pytest.mark.parametrize("target", TARGETS)
def test_each_store_admits_its_clients(target):
    objs = render(target)
    redis_rules = ingress_rules_for(objs, pod_labels(objs, "StatefulSet", "escale-redis"))
    client_selectors = [p["podSelector"] for r in redis_rules for p in r["from"]]
    gateway = pod_labels(objs, "Deployment", "escale-gateway")
    booking = pod_labels(objs, "Deployment", "escale-booking")
    assert any(selects(s, gateway) for s in client_selectors)
    assert not any(selects(s, booking) for s in client_selectors)
    for store_labels, port in (({"app.kubernetes.io/name": "escale-rabbitmq"}, 5672),
                               ({"cnpg.io/cluster": "escale-postgres"}, 5432)):
        rules = ingress_rules_for(objs, store_labels)
        admitted = [r for r in rules if port in [p["port"] for p in r["ports"]]]
        for client in (gateway, booking):
            assert any(selects(p["podSelector"], client)
                       for r in admitted for p in r["from"] if "podSelector" in p)


@pytest.mark.parametrize("target", OVERLAYS)
def test_every_process_accepts_the_configuration_it_is_given(target):
    """A value a process refuses is a crash loop in production: each process's
    settings are read from what its pods get (config + secrets, secrets faked)."""
    from booking.settings import Settings as BookingSettings
    from gateway.settings import Settings as GatewaySettings
    from notify.settings import Settings as NotifySettings
    from presence.settings import Settings as PresenceSettings

    objs = render(target)
    config = next(c for c in of_kind(objs, "ConfigMap") if c["metadata"]["name"].startswith("escale-config"))
    secrets = {
        "ESCALE_AMQP_URI": "amqp://escale:s3cret-Value-0123456789@escale-rabbitmq:5672/",
        "ESCALE_REDIS_URL": "redis://:s3cret-Value-0123456789@escale-redis:6379/0",
        "ESCALE_OIDC_CLIENT_SECRET": "s3cret-Value-0123456789",
        **{f"ESCALE_{kind}_DATABASE_URL":
           f"postgresql://escale:s3cret-Value-0123456789@escale-postgres-rw:5432/escale_{kind.lower()}"
           for kind in ("BOOKING", "GATEWAY", "NOTIFY", "PRESENCE")},
    }
    env = {**config["data"], **secrets}
    gateway = GatewaySettings.from_env(env)
    assert gateway.env == config["data"]["ESCALE_ENV"]
    if "ESCALE_OIDC_ISSUER" in config["data"]:
        assert gateway.oidc.enabled
    BookingSettings.from_env(env)
    PresenceSettings.from_env(env)
    notify = NotifySettings.from_env(env)
    assert notify.public_url == config["data"].get("ESCALE_PUBLIC_URL", "").rstrip("/")
