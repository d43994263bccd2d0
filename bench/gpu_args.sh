# Sourced by bench/gpu_check.sh and bench/gpu_pipeline_check.sh, from the repo root, with the script's
# arguments: sets PY (the project's venv where there is one, its bin/ first on PATH; else python3,
# as a GPU image may have no plain `python`) and SMOKE (1 with --cpu-smoke). --help prints the
# calling script's header, lines 2..HELP_END.
PY=python3
if [[ -x .venv/bin/python ]]; then PY=$PWD/.venv/bin/python; export PATH=$PWD/.venv/bin:$PATH
elif ! command -v python3 >/dev/null; then PY=python; fi

SMOKE=0
for arg in "$@"; do
    case "$arg" in
        --cpu-smoke) SMOKE=1 ;;
        -h|--help) sed -n "2,${HELP_END}p" "$0"; exit 0 ;;
        *) echo "$(basename "$0"): unknown argument $arg (use --cpu-smoke or nothing)" >&2; exit 2 ;;
    esac
done
