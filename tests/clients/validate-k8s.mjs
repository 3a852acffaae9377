// Validates Kubernetes manifests against the API's schemas (kubernetes-models, generated from the
// Kubernetes OpenAPI spec, and the prometheus-operator CRDs): field types, required fields, enums. Prints one line per object and
// exits 1 when any object is refused or of a kind it has no schema for.
//   node validate-k8s.mjs FILE.yaml...
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const models = {
  "v1/ConfigMap": () => import("kubernetes-models/v1/ConfigMap"),
  "v1/Service": () => import("kubernetes-models/v1/Service"),
  "v1/ServiceAccount": () => import("kubernetes-models/v1/ServiceAccount"),
  "apps/v1/Deployment": () => import("kubernetes-models/apps/v1/Deployment"),
  "apps/v1/StatefulSet": () => import("kubernetes-models/apps/v1/StatefulSet"),
  "networking.k8s.io/v1/NetworkPolicy": () => import("kubernetes-models/networking.k8s.io/v1/NetworkPolicy"),
  "rbac.authorization.k8s.io/v1/Role": () => import("kubernetes-models/rbac.authorization.k8s.io/v1/Role"),
  "rbac.authorization.k8s.io/v1/RoleBinding": () => import("kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding"),
  "monitoring.coreos.com/v1/PodMonitor": () => import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor"),
  "monitoring.coreos.com/v1/ServiceMonitor": () => import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor"),
};

let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) {
      console.log(`✗ ${file}: not YAML: ${doc.errors[0].message}`);
      failed++;
      continue;
    }
    const object = doc.toJS();
    if (object === null) continue;
    const key = `${object.apiVersion}/${object.kind}`;
    const name = `${file}: ${object.kind} ${object.metadata?.name ?? "(no name)"}`;
    if (!models[key]) {
      console.log(`✗ ${name}: no schema here for ${key}`);
      failed++;
      continue;
    }
    const module = await models[key]();
    try {
      new module[object.kind](object).validate();
      console.log(`✓ ${name}`);
    } catch (e) {
      console.log(`✗ ${name}: ${e.message}`);
      failed++;
    }
  }
}
process.exit(failed === 0 ? 0 : 1);
