"""A small renderer of the kustomizations under deploy/kubernetes, for the tests.

The `kustomize` binary is not packaged for this machine's registries, so the tests render the
subset of kustomize the manifests use: `resources` (files and directories with a
kustomization.yaml), `namespace`, `images` and `patches` with a `path` (a strategic merge in
which maps merge and lists are replaced, except lists of maps that all have a `name`, which
merge by name as kustomize does for containers, env and volumes). Anything else in a
kustomization is refused, so the renderer never silently differs from kustomize; where
`kubectl` is installed, tests/test_kubernetes.py also compares it with `kubectl kustomize`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
# Kinds that are not namespaced (of those a kustomization here might hold).
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass", "PriorityClass"}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def load_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(directory: Path) -> list[dict]:
    """The resources `kubectl kustomize directory` would print, in file order."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise ValueError(f"{directory}: kustomization fields this renderer does not know: {sorted(unknown)}")
    resources: list[dict] = []
    for entry in kustomization.get("resources", []):
        target = (directory / entry).resolve()
        resources += render(target) if target.is_dir() else load_documents(target)
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            raise ValueError(f"{directory}: only patches with a path are supported, not {patch}")
        for document in load_documents(directory / patch["path"]):
            _apply_patch(resources, document)
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    for image in kustomization.get("images", []):
        for container in all_containers(resources):
            _set_image(container, image)
    return resources


def pod_spec(resource: dict) -> dict | None:
    if resource["kind"] not in POD_TEMPLATE_KINDS:
        return None
    return resource["spec"]["template"]["spec"]


def all_containers(resources: list[dict]) -> list[dict]:
    containers = []
    for resource in resources:
        spec = pod_spec(resource)
        if spec is not None:
            containers += spec.get("initContainers", []) + spec.get("containers", [])
    return containers


def _apply_patch(resources: list[dict], patch: dict) -> None:
    key = (patch["kind"], patch["metadata"]["name"])
    for index, resource in enumerate(resources):
        if (resource["kind"], resource["metadata"]["name"]) == key:
            resources[index] = strategic_merge(resource, patch)
            return
    raise ValueError(f"the patch of {key} matches no resource")


def strategic_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for name, value in patch.items():
            merged[name] = strategic_merge(base[name], value) if name in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        merged = copy.deepcopy(base)
        positions = {item["name"]: i for i, item in enumerate(merged)}
        for item in patch:
            if item["name"] in positions:
                merged[positions[item["name"]]] = strategic_merge(merged[positions[item["name"]]], item)
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def _named(items: list) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def _set_image(container: dict, image: dict) -> None:
    name, _, tag = container["image"].partition(":")
    if name != image["name"]:
        return
    name = image.get("newName", name)
    tag = image.get("newTag", tag)
    container["image"] = f"{name}:{tag}" if tag else name
