//! The command line describes itself (and, being an integration test, makes cargo build
//! the `sablier` binary the black-box tests in `tests/` drive).

use std::process::Command;

#[test]
fn help_lists_the_subcommands() {
    let output = Command::new(env!("CARGO_BIN_EXE_sablier"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for subcommand in ["migrate", "demo"] {
        assert!(help.contains(subcommand), "{help}");
    }
    assert!(help.contains("DATABASE_URL"), "{help}");
}
