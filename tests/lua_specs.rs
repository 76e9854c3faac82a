//! Runs the Lua specs (`tests/lua/test_*.lua`) in a real Neovim against the
//! binary cargo just built. Set `NVIM_BIN` to pick the Neovim; it must be 0.10+.

use std::process::Command;

#[test]
fn lua_specs() {
    let nvim = std::env::var("NVIM_BIN").unwrap_or_else(|_| "nvim".to_string());
    let root = env!("CARGO_MANIFEST_DIR");
    let mut cmd = Command::new(&nvim);
    cmd.args(["--headless", "--clean", "-l", "tests/lua/run.lua"])
        .current_dir(root)
        .env("LULU_BIN", env!("CARGO_BIN_EXE_lulu"));
    if let Ok(filter) = std::env::var("LULU_TEST_FILTER") {
        cmd.arg(filter);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|err| panic!("cannot run {nvim} (install Neovim 0.10+ or set NVIM_BIN): {err}"));
    assert!(status.success(), "Lua specs failed (see the FAIL lines above)");
}
