//! Every line a service logs is written by its configured log output, from the first:
//! the log wires connect before the other inputs.

use harness_tests::{Service, free_port, kirk_secrets, kirk_yaml};

#[test]
fn every_line_is_in_the_console_wires_format() {
    // kirk's gRPC channel connects lazily, at once, before its console wire in field
    // order: its "connected" line is the first, and must already be JSON.
    let (port, scotty_port) = (free_port(), free_port());
    let yaml = format!(
        "{}console:\n  level: INFO\n  format: JSON\n",
        kirk_yaml(port, scotty_port)
    );
    let mut kirk = Service::start(
        "kirk",
        &[
            ("kirk.yaml", &yaml),
            ("secrets.yaml", &kirk_secrets("pw", 5432)),
        ],
        &["kirk.yaml", "--merge", "secrets.yaml"],
    );
    kirk.wait_listening(port);
    let exit = kirk.stop();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
    let lines: Vec<&str> = exit
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("input wire connected")),
        "{}",
        exit.stderr
    );
    for line in lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not a JSON line: {line:?}\n{}",
            exit.stderr
        );
    }
}
