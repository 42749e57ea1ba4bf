#!/bin/sh
# System packages the test suite needs: LibreOffice (recalculates the portable template, renders
# sheets to PDF) and poppler-utils (pdftoppm/pdftotext). Installs only what is missing.
# Needs root (or sudo) on Debian/Ubuntu.
set -eu
missing=""
command -v soffice >/dev/null 2>&1 || missing="$missing libreoffice-calc-nogui"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
soffice --version
