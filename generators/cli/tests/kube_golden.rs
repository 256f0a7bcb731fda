//! `harness kube-gen` output pinned for the golden cases, byte for byte.
//!
//! After a deliberate change, rewrite the files with
//! `HARNESS_BLESS=1 cargo test -p harness-cli --test kube_golden`
//! and review the diff like code.

mod kube_common;

use std::fs;

use kube_common::{CASES, golden_dir, kube_gen};

#[test]
fn output_matches_the_golden_files() {
    let bless = std::env::var_os("HARNESS_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for case in CASES {
        let actual = kube_gen(case);
        let path = golden_dir().join(format!("{}.yaml", case.name));
        if bless {
            fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{}: {err}; run with HARNESS_BLESS=1", path.display()));
        if actual != expected {
            let line = actual
                .lines()
                .zip(expected.lines())
                .position(|(a, e)| a != e)
                .map_or_else(|| "length".to_owned(), |i| format!("line {}", i + 1));
            stale.push(format!("{} (first difference: {line})", case.name));
        }
    }
    assert!(
        stale.is_empty(),
        "kube-gen output differs from the golden files: {stale:?}\n\
         if the change is meant, run HARNESS_BLESS=1 cargo test -p harness-cli --test kube_golden and review the diff"
    );
}

#[test]
fn output_is_byte_identical_across_runs() {
    for case in CASES {
        let first = kube_gen(case);
        for _ in 0..3 {
            assert_eq!(kube_gen(case), first, "{}", case.name);
        }
    }
}
