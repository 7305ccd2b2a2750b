#!/bin/sh
# Stand-ins for the official debian:bookworm and debian:bookworm-slim images, made from the
# Debian archive alone (Docker Hub is out of reach): a `debootstrap --variant=minbase` root
# file system imported into the engine named by DOCKER_HOST, with the settings the official
# images carry (debuerreotype's). Part of the recipe that tests/e2e/deploy_engine.sh hashes:
# change this file and the images are made again.
# usage: debian.sh WORKDIR LABEL   (WORKDIR: an empty scratch folder; LABEL: key=value added
#        to both images). Exit 0 ok, 1 failure.
set -eu
work=$1 label=$2
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$work/rootfs

# Two stages, so that dpkg already skips its fsync calls (force-unsafe-io, as in the official
# images) while the second one installs every package: a container layer is rebuilt, never
# repaired after a power loss.
if ! debootstrap --foreign --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
	tail -20 "$work/debootstrap.log" >&2
	exit 1
fi
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
if ! chroot "$root" /debootstrap/debootstrap --second-stage >>"$work/debootstrap.log" 2>&1; then
	tail -20 "$work/debootstrap.log" >&2
	exit 1
fi

# deb822 sources with updates and security, and apt settings for image layers: no package
# caches, compressed lists, no translations, autoremove not held back by Suggests.
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
conf=$root/etc/apt/apt.conf.d
printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' >"$conf/docker-clean"
printf 'Acquire::GzipIndexes "true";\n' >"$conf/docker-gzip-indexes"
printf 'Acquire::Languages "none";\n' >"$conf/docker-no-languages"
printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$conf/docker-autoremove-suggests"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
	"$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/etc/machine-id
: >"$root/etc/hostname"

tar -C "$root" --numeric-owner -cf - . |
	docker import --change 'CMD ["bash"]' --change "LABEL $label" - debian:bookworm >/dev/null

# -slim: the same without documentation, manual pages and translations, and dpkg told not to
# install them again (the official slim variant's rule).
find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
	"$root"/usr/share/groff/* "$root"/usr/share/lintian/*
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
