//! Fuzz target: any bytes as a job file, through the whole validation pipeline (YAML, schema,
//! semantic checks) and both renderers. It must never panic, hang or allocate without bound;
//! every input ends as diagnostics or a job.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let checked = reqprune::check::check_bytes(Path::new("fuzz/job.yaml"), data.to_vec());
    let mut out = Vec::new();
    let _ = checked.render_human(&mut out, false);
    let _ = checked.render_json();
});
