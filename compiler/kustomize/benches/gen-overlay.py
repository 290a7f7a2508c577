#!/usr/bin/env python3
"""Generate a synthetic kustomize overlay for benchmarking `kiln kustomize` against `kubectl kustomize`.

usage: gen-overlay.py OUT_DIR [N_RESOURCES=5000] [N_PATCHES=50]

OUT_DIR/base holds N resources (Deployments, Services, ConfigMaps in equal parts, spread over files of
100 objects); OUT_DIR/overlay adds a namespace, a name prefix, labels, an image override and
N_PATCHES strategic-merge patches each targeting one Deployment. Then time, for example:

  python3 gen-overlay.py /tmp/k5k 5000 50
  hyperfine 'kiln kustomize /tmp/k5k/overlay' 'kubectl kustomize /tmp/k5k/overlay'
"""
import os, sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
patches = int(sys.argv[3]) if len(sys.argv) > 3 else 50
base, overlay = os.path.join(out, "base"), os.path.join(out, "overlay")
os.makedirs(base, exist_ok=True)
os.makedirs(overlay, exist_ok=True)

def deployment(i):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  labels: {{app: app-{i}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: app-{i}}}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
      - name: main
        image: nginx:1.25
        envFrom:
        - configMapRef: {{name: cfg-{i}}}
"""

def service(i):
    return f"""apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  selector: {{app: app-{i}}}
  ports:
  - port: 80
"""

def configmap(i):
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg-{i}
data:
  key: value-{i}
"""

docs = []
for i in range(n):
    docs.append([deployment, service, configmap][i % 3](i // 3))
files = []
for f in range(0, len(docs), 100):
    name = f"res-{f // 100:04d}.yaml"
    with open(os.path.join(base, name), "w") as fh:
        fh.write("---\n".join(docs[f:f + 100]))
    files.append(name)
with open(os.path.join(base, "kustomization.yaml"), "w") as fh:
    fh.write("resources:\n" + "".join(f"- {x}\n" for x in files))

deployments = max(1, n // 3)
with open(os.path.join(overlay, "kustomization.yaml"), "w") as fh:
    fh.write("namespace: bench\nnamePrefix: prod-\nlabels:\n- pairs: {env: prod}\n  includeSelectors: true\n")
    fh.write("images:\n- name: nginx\n  newTag: '1.27'\nresources:\n- ../base\npatches:\n")
    for p in range(patches):
        i = (p * 7) % deployments
        fh.write(f"""- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: app-{i}
    spec:
      replicas: {p % 5 + 2}
""")
