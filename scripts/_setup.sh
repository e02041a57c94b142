# Shared by scripts/demo and scripts/test (sourced, not run): makes .venv with the
# project and its extras installed, once per change of pyproject.toml, and makes sure
# Graphviz's `dot` is there to render graphs.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="$venv/bin/python"

setup_venv() {
    local stamp
    stamp="$venv/.installed-$(cat "$root/pyproject.toml" | sha256sum | cut -c1-16)"
    [ -f "$stamp" ] && return 0
    echo "Setting up $venv (numpy, graphviz, tqdm; pytest, hypothesis, matplotlib; torch and micrograd as references)..."
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -e "$root[test,reference,bench,lint]"
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
