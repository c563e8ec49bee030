//! Query plans (exploration).
