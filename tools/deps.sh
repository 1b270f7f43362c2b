#!/usr/bin/env bash
# Installs the Debian packages noether-vk needs that are missing (with sudo
# when not root) and the Go modules. Does nothing when all are present.
set -euo pipefail

pkgs=(
  libvulkan1 libvulkan-dev          # Vulkan loader (runtime) and headers (build)
  mesa-vulkan-drivers               # lavapipe: Vulkan on the CPU when no GPU is present
  glslc spirv-tools                 # shader compiler and SPIR-V tools (make shaders, check-shaders)
  vulkan-validationlayers vulkan-tools
  libx11-dev libxrandr-dev libxinerama-dev libxcursor-dev libxi-dev libxxf86vm-dev libgl1-mesa-dev  # GLFW (live viewer)
  xvfb                              # a display for window tests on headless machines
  ffmpeg                            # decodes Physics 101's videos (svg/phys101)
  pkg-config gcc make               # cgo
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: missing ${missing[*]}; run as root or install sudo" >&2; exit 1; }
    sudo=sudo
  fi
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v go >/dev/null || { echo "deps: Go is not installed: install Go 1.26 or later (see README)" >&2; exit 1; }
go mod download
