# Same entry points as `cargo xtask <task>`; `just` is optional.

# Bring up the example stack (installs what it needs first).
demo *ARGS:
    cargo xtask demo {{ARGS}}

# The whole test suite (installs what it needs first).
test *ARGS:
    cargo xtask test {{ARGS}}

# cargo fmt --check and clippy -D warnings.
lint:
    cargo xtask lint

# Benchmarks, side by side with the peers that are installed.
bench *ARGS:
    cargo xtask bench {{ARGS}}
