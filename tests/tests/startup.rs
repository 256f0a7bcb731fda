//! How a service starts, or fails to: one clear line and a non-zero exit, never a hang.

use std::net::TcpListener;

use harness_tests::{Service, free_port, http_get, kirk_secrets, kirk_yaml, scotty_yaml};

fn hello_yaml(port: u16) -> String {
    format!("greeting: Hello\nserver:\n  bind:\n    host: 127.0.0.1\n    port: {port}\n")
}

#[test]
fn optional_wire_absent_is_none_and_the_service_runs() {
    let port = free_port();
    let mut hello = Service::start(
        "hello",
        &[("hello.yaml", &hello_yaml(port))],
        &["hello.yaml"],
    );
    hello.wait_listening(port);
    let (status, body) = http_get(port, "/", "hello.acme.dev").unwrap();
    assert_eq!((status, body.as_str()), (200, "Hello!\n"));
    hello.signal("TERM");
    let exit = hello.wait();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
    assert!(
        exit.stderr.contains("optional input wire not configured"),
        "{}",
        exit.stderr
    );
}

#[test]
fn optional_wire_present_is_connected() {
    let port = free_port();
    let yaml = format!(
        "{}db:\n  value: postgres://postgres@127.0.0.1:5432/test\n  min_size: 2\n  max_size: 2\n",
        hello_yaml(port)
    );
    let mut hello = Service::start("hello", &[("hello.yaml", &yaml)], &["hello.yaml"]);
    hello.wait_listening(port);
    let (status, body) = http_get(port, "/", "hello.acme.dev").unwrap();
    assert_eq!(status, 200);
    assert!(body.starts_with("Hello! (PostgreSQL "), "{body}");
    hello.signal("INT");
    let exit = hello.wait();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
    assert!(exit.stderr.contains("input wire closed"), "{}", exit.stderr);
}

#[test]
fn required_wire_missing_exits_1_with_a_clear_error() {
    // kirk's database comes from --merge; without it the required `db` wire is missing.
    let kirk = Service::start(
        "kirk",
        &[("kirk.yaml", &kirk_yaml(free_port(), free_port()))],
        &["kirk.yaml"],
    );
    let exit = kirk.wait();
    assert_eq!(exit.code(), Some(1), "{}", exit.stderr);
    let line = exit.last_line();
    assert!(line.starts_with("error: "), "{}", exit.stderr);
    assert!(line.contains("db") && line.contains("required"), "{line}");
}

#[test]
fn merge_carries_the_password_and_it_is_never_printed() {
    // With the secrets merged in, kirk starts; PostgreSQL is made unreachable so that
    // the error names the database, and the password must not appear anywhere.
    let kirk = Service::start(
        "kirk",
        &[
            ("kirk.yaml", &kirk_yaml(free_port(), free_port())),
            ("secrets.yaml", &kirk_secrets("hunter2-secret", 1)),
        ],
        &["kirk.yaml", "--merge", "secrets.yaml"],
    );
    let exit = kirk.wait();
    assert_eq!(exit.code(), Some(1), "{}", exit.stderr);
    assert!(exit.last_line().contains("127.0.0.1:1"), "{}", exit.stderr);
    assert!(!exit.stderr.contains("hunter2"), "{}", exit.stderr);

    // And with the real database it serves.
    let port = free_port();
    let mut kirk = Service::start(
        "kirk",
        &[
            ("kirk.yaml", &kirk_yaml(port, free_port())),
            ("secrets.yaml", &kirk_secrets("hunter2-secret", 5432)),
        ],
        &["kirk.yaml", "--merge", "secrets.yaml"],
    );
    kirk.wait_listening(port);
    kirk.signal("TERM");
    let exit = kirk.wait();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
    assert!(!exit.stderr.contains("hunter2"), "{}", exit.stderr);
}

#[test]
fn postgres_unreachable_exits_non_zero_after_bounded_retries() {
    // Nothing listens on port 1.
    let scotty = Service::start(
        "scotty",
        &[("scotty.yaml", &scotty_yaml(free_port(), 1))],
        &["scotty.yaml"],
    );
    let exit = scotty.wait();
    assert_eq!(exit.code(), Some(1), "{}", exit.stderr);
    let line = exit.last_line();
    assert!(
        line.starts_with("error: input wire `db`: cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{line}"
    );
    assert!(line.contains("gave up after 5 attempts"), "{line}");
    assert!(!exit.stderr.contains("panicked"), "{}", exit.stderr);
}

#[test]
fn port_in_use_exits_non_zero() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let hello = Service::start(
        "hello",
        &[("hello.yaml", &hello_yaml(port))],
        &["hello.yaml"],
    );
    let exit = hello.wait();
    assert_eq!(exit.code(), Some(1), "{}", exit.stderr);
    let line = exit.last_line();
    assert!(
        line.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{line}"
    );
    assert!(line.contains("output wire `server`"), "{line}");
    drop(taken);
}

#[test]
fn invalid_value_names_file_position_and_path() {
    let yaml = "greeting: Hello\nserver:\n  bind:\n    host: 127.0.0.1\n    port: 80a\n";
    let hello = Service::start("hello", &[("hello.yaml", yaml)], &["hello.yaml"]);
    let exit = hello.wait();
    assert_eq!(exit.code(), Some(1), "{}", exit.stderr);
    assert!(exit.stderr.contains("hello.yaml:5:"), "{}", exit.stderr);
    assert!(exit.stderr.contains("server.bind.port"), "{}", exit.stderr);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let exit = Service::start("hello", &[], &[]).wait();
    assert_eq!(exit.code(), Some(2), "{}", exit.stderr);
    assert!(exit.stderr.contains("Usage: hello"), "{}", exit.stderr);
    let exit = Service::start("hello", &[], &["--help"]).wait();
    assert_eq!(exit.code(), Some(0));
    let exit = Service::start("hello", &[], &["missing.yaml"]).wait();
    assert_eq!(exit.code(), Some(1), "{}", exit.stderr);
    assert!(exit.last_line().contains("missing.yaml"), "{}", exit.stderr);
}
