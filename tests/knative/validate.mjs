// validate.mjs -- checks manifests (YAML files, several documents each)
// against Knative's and Kubernetes' published schemas (the
// @kubernetes-models packages: JSON Schemas generated from Knative's CRDs
// and Kubernetes' OpenAPI), then against the rules of Knative's webhook
// that no schema carries: the autoscaling annotations' keys and values,
// object names and label values. Prints one line per document; exits 1 when
// any document fails, a kind is unknown, or a file holds no document.
// Usage: node validate.mjs FILE...   (run through tests/knative/validate)
import fs from "node:fs";
import * as yaml from "js-yaml";
import { Service as KnService } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import { RuntimeClass } from "kubernetes-models/node.k8s.io/v1/RuntimeClass";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";

const models = {
  "serving.knative.dev/v1 Service": KnService,
  "node.k8s.io/v1 RuntimeClass": RuntimeClass,
  "apps/v1 Deployment": Deployment,
  "apps/v1 DaemonSet": DaemonSet,
  "v1 ConfigMap": ConfigMap,
  "v1 Namespace": Namespace,
  "v1 Service": Service,
};

const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const seconds = (v) => (/^[0-9]+s$/.test(v) ? Number(v.slice(0, -1)) : NaN);
const number = (v) => (/^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : NaN);
const integer = (v) => (/^[0-9]+$/.test(v) ? Number(v) : NaN);
const inRange = (x, lo, hi) => !Number.isNaN(x) && x >= lo && x <= hi;

// Knative Serving's per-revision autoscaling annotations and the values
// its webhook takes (serving's pkg/apis/autoscaling).
const autoscaling = {
  class: (v) => ["kpa.autoscaling.knative.dev", "hpa.autoscaling.knative.dev"].includes(v),
  metric: (v) => ["concurrency", "rps", "cpu", "memory"].includes(v),
  target: (v) => inRange(number(v), 0.01, Infinity),
  "target-utilization-percentage": (v) => inRange(number(v), 1, 100),
  window: (v) => inRange(seconds(v), 6, 3600),
  "panic-window-percentage": (v) => inRange(number(v), 1, 100),
  "panic-threshold-percentage": (v) => inRange(number(v), 110, 1000),
  "min-scale": (v) => inRange(integer(v), 0, Infinity),
  "max-scale": (v) => inRange(integer(v), 0, Infinity),
  "initial-scale": (v) => inRange(integer(v), 0, Infinity),
  "scale-down-delay": (v) => inRange(seconds(v), 0, 3600),
  "activation-scale": (v) => inRange(integer(v), 1, Infinity),
  "scale-to-zero-pod-retention-period": (v) => inRange(seconds(v), 0, 3600),
  "target-burst-capacity": (v) => v === "-1" || inRange(number(v), 0, Infinity),
};

function knativeRules(doc, problems) {
  const name = doc.metadata?.name ?? "";
  if (!dns1035.test(name) || name.length > 57)
    problems.push(`metadata.name '${name}' is not a DNS-1035 label of at most 57 characters`);
  const tmpl = doc.spec?.template ?? {};
  const ann = tmpl.metadata?.annotations ?? {};
  for (const [k, v] of Object.entries(ann)) {
    if (typeof v !== "string") problems.push(`annotation ${k} must be a string`);
    if (!k.startsWith("autoscaling.knative.dev/")) continue;
    const key = k.slice("autoscaling.knative.dev/".length);
    const check = autoscaling[key];
    if (!check) problems.push(`unknown autoscaling annotation ${k}`);
    else if (!check(v)) problems.push(`annotation ${k}: '${v}' is not a value Knative takes`);
  }
  const min = integer(ann["autoscaling.knative.dev/min-scale"] ?? "0");
  const max = integer(ann["autoscaling.knative.dev/max-scale"] ?? "0");
  if (max > 0 && min > max) problems.push(`min-scale ${min} is above max-scale ${max}`);
  const spec = tmpl.spec ?? {};
  if (spec.containerConcurrency !== undefined && !inRange(spec.containerConcurrency, 0, 1000))
    problems.push(`containerConcurrency ${spec.containerConcurrency} is outside 0 to 1000`);
  if (spec.runtimeClassName !== undefined && !dns1123.test(spec.runtimeClassName))
    problems.push(`runtimeClassName '${spec.runtimeClassName}' is not a DNS label`);
  const containers = spec.containers ?? [];
  if (containers.length !== 1) problems.push(`${containers.length} containers (Lumos writes one)`);
  for (const c of containers) {
    for (const p of c.ports ?? [])
      if (p.name && !["http1", "h2c"].includes(p.name))
        problems.push(`port name '${p.name}' (Knative takes http1 or h2c)`);
  }
}

function commonRules(doc, problems) {
  const name = doc.metadata?.name ?? "";
  if (!dns1123.test(name)) problems.push(`metadata.name '${name}' is not a DNS-1123 label`);
  for (const labels of [doc.metadata?.labels, doc.spec?.template?.metadata?.labels])
    for (const [k, v] of Object.entries(labels ?? {}))
      if (typeof v !== "string" || v.length > 63 || !labelValue.test(v))
        problems.push(`label ${k}: '${v}' is not a label value`);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE...");
  process.exit(2);
}
let failed = 0;
let checked = 0;
for (const file of files) {
  let docs;
  try {
    docs = yaml.loadAll(fs.readFileSync(file, "utf8")).filter((d) => d !== null);
  } catch (e) {
    console.log(`FAIL ${file}: not YAML: ${e.message}`);
    failed++;
    continue;
  }
  if (docs.length === 0) {
    console.log(`FAIL ${file}: no document`);
    failed++;
  }
  docs.forEach((doc, i) => {
    const what = `${file}[${i}] ${doc?.kind} ${doc?.metadata?.name}`;
    const Model = models[`${doc?.apiVersion} ${doc?.kind}`];
    const problems = [];
    if (!Model) problems.push(`no schema for apiVersion ${doc?.apiVersion} kind ${doc?.kind}`);
    else {
      try {
        new Model(doc).validate();
      } catch (e) {
        problems.push(`schema: ${e.message}`);
      }
      commonRules(doc, problems);
      if (Model === KnService) knativeRules(doc, problems);
    }
    checked++;
    if (problems.length) {
      failed++;
      console.log(`FAIL ${what}: ${problems.join("; ")}`);
    } else console.log(`ok   ${what}`);
  });
}
console.log(`${checked} documents checked, ${failed} failed`);
process.exit(failed ? 1 : 0);
