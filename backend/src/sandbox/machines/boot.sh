# Boots a machine: $1 its cgroup (below each hierarchy's root), $2 its root folder, $3 its
# name, $4 its network namespace. The launcher first moves into a cgroup of its own (two
# machines in one collide), then into a mount namespace with its own /run/systemd (nspawn
# removes files there that the host's other machines use).
set -e
for hierarchy in systemd unified; do
  mkdir -p "/sys/fs/cgroup/$hierarchy/$1"
  echo $$ > "/sys/fs/cgroup/$hierarchy/$1/cgroup.procs"
done
exec unshare --mount --propagation private sh -c '
  mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd
  exec systemd-nspawn --quiet --boot --directory="$2" --machine="$3" --hostname="$3" \
    --network-namespace-path="$4" --private-network --register=no --keep-unit \
    --resolv-conf=off --timezone=off --link-journal=no --console=read-only' sh "$@"
