"""Check the security properties of the chart's rendered manifests.

Usage: check-rendered-manifests.py RENDERED.yaml RELEASE_NAMESPACE [VALUES.yaml]

`helm lint` checks that templates render, and this script checks what they render: the
Deployment's hardening and flags, and that RBAC grants Secret access only in the namespaces
the values select. VALUES.yaml is the same file passed to `helm template`, merged over the chart's
values.yaml here. Prints one line per violation and exits 1 when there is any.
"""

import os
import sys

import yaml

CHART_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Flags of `akguard run`. A flag the chart renders that is not listed here is a typo or a flag
# the binary does not have.
KNOWN_RUN_FLAGS = {
    "--namespaces",
    "--metrics-address",
    "--health-address",
    "--log-format",
    "--log-level",
    "--leader-election",
    "--lease-name",
    "--lease-namespace",
    "--lease-duration",
    "--max-concurrent-rotations",
    "--max-concurrent-rotations-per-namespace",
    "--cloud-rate-limit",
    "--step-poll-interval",
}

CLUSTER_SCOPED_KINDS = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"}


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a mapping with a repeated key.

    Two manifests without a `---` between them parse as one mapping, and the later keys
    silently replace the earlier ones. A repeated key is the only sign of that.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"repeated key {key!r} (is a --- document separator missing?)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def merge(base, override):
    """Merge Helm-style: maps merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base.get(key), value)
        return merged
    return override


def load_values(values_path):
    with open(os.path.join(CHART_DIR, "values.yaml"), encoding="utf-8") as source:
        values = yaml.safe_load(source)
    if values_path:
        with open(values_path, encoding="utf-8") as source:
            values = merge(values, yaml.safe_load(source) or {})
    return values


def watched_namespaces(values, release_namespace):
    """Mirror of the akguard.watchedNamespaces template: None means all namespaces."""
    if values["watch"]["allNamespaces"]:
        return None
    return sorted(set(values["watch"]["namespaces"] or [release_namespace]))


def grants_secrets(rules):
    return any(
        "" in rule.get("apiGroups", []) and ("secrets" in rule.get("resources", []) or "*" in rule.get("resources", []))
        for rule in rules
    )


class Checker:
    def __init__(self, objects, values, release_namespace):
        self.objects = objects
        self.values = values
        self.release_namespace = release_namespace
        self.violations = []

    def fail(self, message):
        self.violations.append(message)

    def of_kind(self, kind):
        return [item for item in self.objects if item["kind"] == kind]

    def check_namespaces_set(self):
        for item in self.objects:
            name = f'{item["kind"]}/{item["metadata"]["name"]}'
            has_namespace = "namespace" in item["metadata"]
            if item["kind"] in CLUSTER_SCOPED_KINDS and has_namespace:
                self.fail(f"{name}: cluster-scoped object has metadata.namespace")
            if item["kind"] not in CLUSTER_SCOPED_KINDS and not has_namespace:
                self.fail(f"{name}: namespaced object has no metadata.namespace")

    def check_no_wildcards(self):
        for item in self.of_kind("ClusterRole") + self.of_kind("Role"):
            for rule in item.get("rules", []):
                for field in ("apiGroups", "resources", "verbs"):
                    if "*" in rule.get(field, []):
                        self.fail(f'{item["kind"]}/{item["metadata"]["name"]}: wildcard in {field}')

    def check_secret_access(self):
        namespaces = watched_namespaces(self.values, self.release_namespace)
        secret_cluster_roles = {
            item["metadata"]["name"] for item in self.of_kind("ClusterRole") if grants_secrets(item.get("rules", []))
        }
        bound_cluster_roles = {item["roleRef"]["name"] for item in self.of_kind("ClusterRoleBinding")}
        if namespaces is not None and secret_cluster_roles:
            self.fail(f"ClusterRoles {sorted(secret_cluster_roles)} grant Secret access but watch.allNamespaces is false")
        if namespaces is None and not secret_cluster_roles & bound_cluster_roles:
            self.fail("watch.allNamespaces is true but no ClusterRoleBinding grants Secret access")

        secret_role_namespaces = sorted(
            item["metadata"]["namespace"]
            for item in self.of_kind("Role")
            if grants_secrets(item.get("rules", [])) and not item["metadata"]["name"].endswith("-cce-obs-secret")
        )
        expected = [] if namespaces is None else namespaces
        if secret_role_namespaces != expected:
            self.fail(f"Secret Roles in namespaces {secret_role_namespaces}, expected {expected}")

        for item in self.of_kind("Role"):
            if item["metadata"]["name"].endswith("-cce-obs-secret"):
                for rule in item["rules"]:
                    if rule.get("resourceNames") != ["paas.longaksk"] or rule.get("verbs") != ["get"]:
                        self.fail("the CCE OBS Secret Role grants more than get on kube-system/paas.longaksk")

    def check_cluster_wide_reads_only(self):
        """Without watch.allNamespaces, whatever is bound cluster-wide must be read-only."""
        if self.values["watch"]["allNamespaces"]:
            return
        cluster_roles = {item["metadata"]["name"]: item for item in self.of_kind("ClusterRole")}
        for binding in self.of_kind("ClusterRoleBinding"):
            role = cluster_roles.get(binding["roleRef"]["name"], {})
            for rule in role.get("rules", []):
                writes = set(rule.get("verbs", [])) - {"get", "list", "watch"}
                if writes:
                    self.fail(
                        f'ClusterRoleBinding/{binding["metadata"]["name"]} grants {sorted(writes)} on '
                        f'{rule.get("resources")} cluster-wide while watch.allNamespaces is false'
                    )

    def check_bindings(self):
        service_account = [
            {"kind": "ServiceAccount", "name": item["metadata"]["name"], "namespace": self.release_namespace}
            for item in self.of_kind("ServiceAccount")
        ]
        roles = {("ClusterRole", None, item["metadata"]["name"]) for item in self.of_kind("ClusterRole")}
        roles |= {("Role", item["metadata"]["namespace"], item["metadata"]["name"]) for item in self.of_kind("Role")}
        for item in self.of_kind("RoleBinding") + self.of_kind("ClusterRoleBinding"):
            name = f'{item["kind"]}/{item["metadata"]["name"]}'
            ref = item["roleRef"]
            namespace = item["metadata"].get("namespace") if ref["kind"] == "Role" else None
            if (ref["kind"], namespace, ref["name"]) not in roles:
                self.fail(f'{name}: roleRef {ref["kind"]}/{ref["name"]} is not rendered by the chart')
            if service_account and item.get("subjects") != service_account:
                self.fail(f"{name}: subjects are not exactly the chart's ServiceAccount")

    def check_leases(self):
        for item in self.of_kind("Role") + self.of_kind("ClusterRole"):
            for rule in item.get("rules", []):
                if "leases" in rule.get("resources", []) and item["metadata"].get("namespace") != self.release_namespace:
                    self.fail(f'{item["kind"]}/{item["metadata"]["name"]}: grants leases outside the release namespace')

    def check_deployment(self):
        deployments = self.of_kind("Deployment")
        if len(deployments) != 1:
            self.fail(f"expected one Deployment, found {len(deployments)}")
            return
        deployment = deployments[0]
        pod = deployment["spec"]["template"]["spec"]
        pod_security = pod.get("securityContext", {})
        if pod_security.get("runAsNonRoot") is not True:
            self.fail("pod securityContext.runAsNonRoot is not true")
        if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            self.fail("pod seccompProfile is not RuntimeDefault")
        if not pod.get("serviceAccountName"):
            self.fail("pod has no serviceAccountName")

        for container in pod["containers"]:
            self.check_container(container)

        replicas = deployment["spec"]["replicas"]
        args = pod["containers"][0]["args"]
        if replicas > 1 and "--leader-election=true" not in args:
            self.fail(f"{replicas} replicas without --leader-election=true")

    def check_container(self, container):
        name = container["name"]
        security = container.get("securityContext", {})
        expectations = {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "privileged": False,
        }
        for field, expected in expectations.items():
            if security.get(field) is not expected:
                self.fail(f"container {name}: securityContext.{field} is not {expected}")
        if security.get("capabilities", {}).get("drop") != ["ALL"]:
            self.fail(f"container {name}: capabilities.drop is not [ALL]")
        if security.get("runAsUser", 0) == 0:
            self.fail(f"container {name}: runAsUser is 0 or missing")
        if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            self.fail(f"container {name}: livenessProbe does not GET /healthz")
        if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            self.fail(f"container {name}: readinessProbe does not GET /readyz")

        downward = {
            env["name"]: env.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for env in container.get("env", [])
        }
        if downward.get("POD_NAMESPACE") != "metadata.namespace":
            self.fail(f"container {name}: POD_NAMESPACE does not come from metadata.namespace")

        args = container.get("args", [])
        if not args or args[0] != "run":
            self.fail(f"container {name}: first argument is not the run subcommand")
        extra_args = set(self.values["operator"]["extraArgs"])
        for arg in args[1:]:
            flag = arg.split("=", 1)[0]
            if arg not in extra_args and flag not in KNOWN_RUN_FLAGS:
                self.fail(f"container {name}: unknown flag {flag} for akguard run")

        namespaces = watched_namespaces(self.values, self.release_namespace)
        namespace_args = [arg for arg in args if arg.startswith("--namespaces=")]
        if namespaces is None and namespace_args:
            self.fail(f"container {name}: {namespace_args} while watch.allNamespaces is true")
        if namespaces is not None and namespace_args != ["--namespaces=" + ",".join(namespaces)]:
            self.fail(f"container {name}: {namespace_args}, expected --namespaces={','.join(namespaces)}")

    def check_prometheus_rule(self):
        rules = self.of_kind("PrometheusRule")
        if not self.values["prometheusRule"]["enabled"]:
            if rules:
                self.fail("PrometheusRule rendered while prometheusRule.enabled is false")
            return
        alerts = {rule["alert"] for item in rules for group in item["spec"]["groups"] for rule in group["rules"]}
        enabled = {
            "AkguardRotationFailed": "rotationFailed",
            "AkguardRotationOverdue": "rotationOverdue",
            "AkguardAccessKeyTooOld": "keyTooOld",
            "AkguardOldAccessKeyInUse": "oldKeyInUse",
            "AkguardRotationBlocked": "rotationBlocked",
            "AkguardOperatorDown": "operatorDown",
        }
        expected = {alert for alert, key in enabled.items() if self.values["prometheusRule"]["rules"][key]["enabled"]}
        if alerts != expected:
            self.fail(f"PrometheusRule alerts {sorted(alerts)}, expected {sorted(expected)}")

    def run(self):
        self.check_namespaces_set()
        self.check_no_wildcards()
        self.check_secret_access()
        self.check_bindings()
        self.check_cluster_wide_reads_only()
        self.check_leases()
        self.check_deployment()
        self.check_prometheus_rule()
        return self.violations


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    rendered_path, release_namespace = sys.argv[1], sys.argv[2]
    values_path = sys.argv[3] if len(sys.argv) == 4 else None
    try:
        with open(rendered_path, encoding="utf-8") as source:
            objects = [item for item in yaml.load_all(source, Loader=UniqueKeyLoader) if item]
    except yaml.YAMLError as error:
        sys.exit(f"{rendered_path}: invalid YAML: {error}")
    violations = Checker(objects, load_values(values_path), release_namespace).run()
    for violation in violations:
        print(f"{rendered_path}: {violation}")
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()
