# Shared by scripts/demo, scripts/test and scripts/bench (sourced, not run): makes .venv
# with the project and the extras a command needs, and makes sure Graphviz's `dot` is
# there to render graphs.
#
# Two levels, each installed once per change of pyproject.toml: "demo" (the plots extra:
# numpy, matplotlib, graphviz, tqdm; under 150 MB) and "full" (the demo's packages plus
# the test, reference and bench extras: PyTorch, micrograd, numba, ...; over 1 GB). The
# full level holds the demo's, so a demo after a test run installs nothing; a test run
# after a demo adds its extras to the same .venv.
#
# .venv has neither pip nor setuptools of its own (together 25 MB, nothing the project
# runs): a pip in a throwaway virtual environment installs into it (`pip --python`).
# Packages go in without compiled bytecode; Python writes it for the modules a run
# imports. To add a package by hand: .venv/bin/python -m ensurepip, then .venv/bin/pip.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="$venv/bin/python"

setup_venv() {
    local level="${1:-}" extras tag stamp
    case "$level" in  # the extras each level installs; "full" holds "demo"'s
        demo) extras="plots" ;;
        full) extras="plots,test,reference,bench,lint" ;;
        *) echo "setup_venv needs a level, demo or full; got '$level'" >&2; return 1 ;;
    esac
    tag="$venv/.installed-$(sha256sum <"$root/pyproject.toml" | cut -c1-16)"
    stamp="$tag-$level"
    [ -f "$stamp" ] || [ -f "$tag-full" ] && return 0
    echo "Setting up $venv at the $level level: the project with its extras $extras..."
    [ -x "$python" ] || python3 -m venv --without-pip "$venv"
    local installer
    installer="$(mktemp -d)"
    # shellcheck disable=SC2064  # expand now: the folder is local to this function
    trap "rm -rf '$installer'" EXIT
    python3 -m venv "$installer"
    # --python (install into another environment) came with pip 22.3
    "$installer/bin/python" -m pip install --quiet --disable-pip-version-check "pip>=22.3"
    "$installer/bin/python" -m pip --python "$python" install --quiet --disable-pip-version-check \
        --no-compile -e "$root[$extras]"
    rm -rf "$installer"
    trap - EXIT
    rm -f "$venv"/.installed-*
    touch "$stamp"
}

setup_dot() {
    command -v dot >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Graphviz (its 'dot' program renders the graphs)..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
    else
        echo "Graphviz's 'dot' is missing, so graphs are written as .dot text only." >&2
        echo "Install it with 'sudo apt-get install graphviz' (Debian/Ubuntu) or 'brew install graphviz' (macOS)." >&2
    fi
}

setup_browser() {
    # The step-through page is tested in a real headless browser: Debian's chromium.
    command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing chromium and chromedriver (for the browser test)..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "The browser test needs chromium and chromedriver: sudo apt-get install chromium chromium-driver" >&2
    fi
}
