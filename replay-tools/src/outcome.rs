//! How a command ended, and the exit code that tells it.

use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every input was answered.
    Clean,
    /// Some input was refused; each refusal was reported.
    ProblemsFound,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::ProblemsFound => ExitCode::from(1),
        }
    }

    /// The command could not run at all (bad arguments, unreadable input).
    pub fn could_not_run() -> ExitCode {
        ExitCode::from(2)
    }
}
