"""Renders every overlay under deploy/kubernetes with `kubectl kustomize` (no cluster needed) and checks what a
cluster would run: each shard a StatefulSet with its own config, volume claim, Services, probes, limits and a
non-root, read-only security context, and the site's gateways split between the shards with no overlap and no gap.

Usage: kubernetes_manifests_test.py REPOSITORY_ROOT. Exit 77 (ctest: skipped) only when kubectl is not installed.
"""
import pathlib
import shutil
import subprocess
import sys
import tomllib
import unittest

import yaml

ROOT = pathlib.Path(sys.argv.pop(1) if len(sys.argv) > 1 else ".").resolve()
OVERLAYS = sorted(p for p in (ROOT / "deploy" / "kubernetes" / "overlays").iterdir() if p.is_dir())


def render(overlay: pathlib.Path) -> list:
    out = subprocess.run(["kubectl", "kustomize", str(overlay)], check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def of_kind(documents, kind):
    return [d for d in documents if d["kind"] == kind]


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


class Shard:
    """One StatefulSet with the resources that belong to it in a rendered overlay."""

    def __init__(self, documents, statefulset):
        self.statefulset = statefulset
        pod = statefulset["spec"]["template"]
        self.pod_labels = pod["metadata"]["labels"]
        self.pod_spec = pod["spec"]
        self.container = self.pod_spec["containers"][0]
        config_map_name = next(v["configMap"]["name"] for v in self.pod_spec["volumes"] if "configMap" in v)
        config_map = next(c for c in of_kind(documents, "ConfigMap") if c["metadata"]["name"] == config_map_name)
        self.config = tomllib.loads(config_map["data"]["creni-node.toml"])
        self.services = [s for s in of_kind(documents, "Service") if selects(s["spec"]["selector"], self.pod_labels)]
        self.budgets = [b for b in of_kind(documents, "PodDisruptionBudget")
                        if selects(b["spec"]["selector"]["matchLabels"], self.pod_labels)]

    def gateways(self) -> set:
        return {g["id"] for g in self.config.get("gateway", [])}

    def service_ports(self) -> set:
        return {p["port"] for s in self.services for p in s["spec"]["ports"]}


class EveryOverlay(unittest.TestCase):
    def test_there_are_overlays_to_check(self):
        self.assertIn("three-shards", [o.name for o in OVERLAYS])

    def test_each_shard_is_one_stateful_pod_with_its_own_volume_config_services_and_budget(self):
        for overlay in OVERLAYS:
            documents = render(overlay)
            statefulsets = of_kind(documents, "StatefulSet")
            self.assertTrue(statefulsets, overlay.name)
            for statefulset in statefulsets:
                with self.subTest(overlay=overlay.name, shard=statefulset["metadata"]["name"]):
                    shard = Shard(documents, statefulset)
                    # A shard's journal and spool belong to exactly one process.
                    self.assertEqual(statefulset["spec"]["replicas"], 1)
                    claims = statefulset["spec"]["volumeClaimTemplates"]
                    self.assertEqual([c["metadata"]["name"] for c in claims], ["data"])
                    mounts = {m["mountPath"]: m for m in shard.container["volumeMounts"]}
                    self.assertEqual(mounts["/data"]["name"], "data")
                    # Every folder the node writes lives on the shard's own claim.
                    for key in ("input_dir", "output_dir", "state_dir"):
                        self.assertTrue(shard.config["node"][key].startswith("/data/"), key)
                    # One Service for DICOM and one for HTTP, selecting this shard's pod only.
                    self.assertEqual(shard.service_ports(), {11112, 11180})
                    self.assertEqual(statefulset["spec"]["serviceName"],
                                     next(s["metadata"]["name"] for s in shard.services
                                          if s["spec"]["ports"][0]["port"] == 11112))
                    self.assertEqual(len(shard.budgets), 1)
                    # The drain on SIGTERM needs at least one job's time limit.
                    self.assertGreaterEqual(shard.pod_spec["terminationGracePeriodSeconds"], 60)

    def test_probes_resources_and_security_context_are_set_on_every_shard(self):
        for overlay in OVERLAYS:
            documents = render(overlay)
            for statefulset in of_kind(documents, "StatefulSet"):
                with self.subTest(overlay=overlay.name, shard=statefulset["metadata"]["name"]):
                    shard = Shard(documents, statefulset)
                    container = shard.container
                    self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
                    self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
                    for kind in ("requests", "limits"):
                        self.assertIn("cpu", container["resources"][kind])
                        self.assertIn("memory", container["resources"][kind])
                    self.assertTrue(shard.pod_spec["securityContext"]["runAsNonRoot"])
                    self.assertNotEqual(shard.pod_spec["securityContext"]["runAsUser"], 0)
                    self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
                    self.assertFalse(container["securityContext"]["allowPrivilegeEscalation"])
                    self.assertEqual(container["securityContext"]["capabilities"]["drop"], ["ALL"])
                    # The config comes from a ConfigMap, the API token and TLS keys from a Secret.
                    volumes = {v["name"]: v for v in shard.pod_spec["volumes"]}
                    self.assertIn("configMap", volumes["config"])
                    self.assertIn("secret", volumes["secrets"])
                    http = shard.config.get("http", {})
                    if not http.get("listen", "127.0.0.1").startswith("127."):
                        self.assertTrue(http.get("token_file", "").startswith("/etc/creni-node-secrets/"))

    def test_the_site_gateways_are_split_between_shards_without_overlap_or_gap(self):
        for overlay in OVERLAYS:
            documents = render(overlay)
            shards = [Shard(documents, s) for s in of_kind(documents, "StatefulSet")]
            with self.subTest(overlay=overlay.name):
                owned = [shard.gateways() for shard in shards]
                for shard, gateways in zip(shards, owned):
                    self.assertTrue(gateways, "a shard without gateways")
                    # A shard never takes a folder or a calling AE title that is not its own.
                    self.assertFalse(shard.config.get("input", {}).get("discover_gateways", True))
                    self.assertEqual(shard.config.get("scp", {}).get("default_gateway", "1"), "")
                everything = set().union(*owned)
                self.assertEqual(sum(len(g) for g in owned), len(everything), f"gateways on two shards: {owned}")
                annotation = shards[0].statefulset["metadata"].get("annotations", {}).get("creni.io/site-gateways")
                if len(shards) > 1:
                    self.assertEqual(everything, set(annotation.split(",")), "the site's gateways, all of them")
                titles = [t for shard in shards for g in shard.config["gateway"] for t in g["calling_ae_titles"]]
                self.assertEqual(len(titles), len(set(titles)), "a calling AE title on two shards")


if __name__ == "__main__":
    if shutil.which("kubectl") is None:
        print("SKIPPED: kubectl is not installed (scripts/install-deps.sh installs it where a package has it)")
        sys.exit(77)
    unittest.main(verbosity=2)
