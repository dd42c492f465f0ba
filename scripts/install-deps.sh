#!/usr/bin/env bash
# Installs the Debian 12 packages Lambent builds and tests with. Idempotent: when everything is
# present it only runs dpkg-query and returns in well under a second.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libssl-dev libarchive-dev libseccomp-dev
  libcli11-dev libfmt-dev libgtest-dev
  awscli python3-boto3 python3-cryptography zip unzip curl
  libnl-3-dev libnl-route-3-dev libnftables-dev libldns-dev  # the environments' network (src/net)
  libpugixml-dev zlib1g-dev  # S3: XML documents, CRC32 (src/services/s3, src/objects)
  iproute2 nftables  # the network tests make namespaces and test hosts (ip), read rules (nft)
  e2fsprogs  # mkfs.ext4: the environments' disk-backed /tmp (Debian installs it, minimal images may not)
  autoconf automake libtool  # aws-lambda-ric (npm, end-to-end tests) builds native code
  golang-go  # the Go function of the runtime tests (provided.al2023 bootstrap built by go build)
  ruby  # ruby3.2/3.3/3.4 functions run on Debian's Ruby (runtimes/ruby)
  openjdk-17-jdk-headless libjackson2-databind-java libjoda-time-java  # java17 (runtimes/java)
  mono-runtime mono-mcs libnewtonsoft-json5.0-cil  # dotnet8 functions: C# under Mono (runtimes/dotnet)
  chromium  # the web console's browser test (console/test, Playwright drives it headless)
)
# Node.js and npm for the runtime (nodejs*.x functions) and the JS tests; machines that already
# have a node (e.g. from NodeSource) keep it.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) != 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
