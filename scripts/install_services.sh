#!/usr/bin/env bash
# Install the system packages medeq's tests use for real: a single-node SLURM
# cluster (slurm-wlm + munge) and headless Chromium for the report's browser test.
# Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null || ! command -v chromium >/dev/null; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq slurm-wlm munge chromium >/dev/null
fi
echo "services installed: $(sbatch --version), chromium $(chromium --version 2>/dev/null | awk '{print $2}')"
