//! Black-box tests of the `sablier` and `sablier-replay` binaries.
