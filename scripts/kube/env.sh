# Shared by scripts/kube-up and scripts/kube-down: versions, folders, addresses, ports.
K8S_VERSION=${K8S_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.17}
KUBE_ROUTER_VERSION=${KUBE_ROUTER_VERSION:-v2.1.0}
CACHE="${CORRAL_KUBE_CACHE:-/var/cache/corral-kube}/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kube-router-${KUBE_ROUTER_VERSION}"
STATE=${CORRAL_KUBE_STATE:-/var/lib/corral-kube}
RUN=/run/corral-kube
LOGS=/var/log/corral-kube
KCFG="$STATE/admin.kubeconfig"
NODE_NAME=corral-node
# Test-owned addresses, far from Docker's 172.17/16, Podman's 10.88/16 and 203.0.113.0/24 (never routed).
NODE_IP=10.245.0.1
NODE_LINK=corral-node0
POD_LINK=corral-cni0
CLUSTER_CIDR=10.244.0.0/16
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
API_PORT=16443
KUBELET_PORT=20250
ETCD_PORT=12379
ETCD_PEER_PORT=12380
PAUSE_IMAGE=localhost/corral-kube/pause:3.10
# The kubelet sets these whatever its flags say; saved at up, restored at down.
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward)

log() { printf '\033[1m[kube]\033[0m %s\n' "$*" >&2; }
cluster_ready() {
  [ -f "$KCFG" ] && [ -x "$CACHE/bin/kubectl" ] &&
    "$CACHE/bin/kubectl" --kubeconfig "$KCFG" --request-timeout 3s get node "$NODE_NAME" \
      -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}
