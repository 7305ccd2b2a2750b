#!/bin/sh
# Stand-ins for the official debian:bookworm and debian:bookworm-slim images, made from the
# Debian archive alone (Docker Hub is out of reach): a `debootstrap --variant=minbase` root
# file system imported into the engine named by DOCKER_HOST. Part of the recipe that
# tests/e2e/deploy_engine.sh hashes: change this file and the images are made again.
# usage: debian.sh WORKDIR LABEL   (WORKDIR: an empty scratch folder; LABEL: key=value added
#        to both images). Exit 0 ok, 1 failure.
set -eu
work=$1 label=$2
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$work/rootfs

debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
	tail -20 "$work/debootstrap.log" >&2
	exit 1
}

# What the official image differs by: deb822 sources with updates and security, no package
# lists or downloaded .debs, apt told to keep it that way.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
// a container image keeps no downloaded packages
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
APT
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log \
	"$root"/tmp/* "$root"/etc/machine-id
: >"$root/etc/hostname"

tar -C "$root" --numeric-owner -cf - . |
	docker import --change 'CMD ["bash"]' --change "LABEL $label" - debian:bookworm >/dev/null

# -slim: the same without documentation, manual pages and translations, and dpkg told not to
# install them again (the official slim variant's rule).
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
	"$root"/usr/share/locale/* "$root"/usr/share/groff/* "$root"/usr/share/lintian/*
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
DPKG
tar -C "$root" --numeric-owner -cf - . |
	docker import --change 'CMD ["bash"]' --change "LABEL $label" - debian:bookworm-slim >/dev/null
