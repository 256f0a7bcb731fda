//! A second signal during the drain exits at once with 128 + signal.

use harness_tests::{
    Service, free_port, http_get, kirk_secrets, kirk_yaml, scotty_yaml, wait_sleeping_at_database,
};

#[tokio::test(flavor = "multi_thread")]
async fn second_signal_exits_at_once_with_128_plus_signal() {
    let (scotty_port, kirk_port) = (free_port(), free_port());
    let mut scotty = Service::start(
        "scotty",
        &[("scotty.yaml", &scotty_yaml(scotty_port, 5432))],
        &["scotty.yaml"],
    );
    let mut kirk = Service::start(
        "kirk",
        &[
            ("kirk.yaml", &kirk_yaml(kirk_port, scotty_port)),
            ("secrets.yaml", &kirk_secrets("s3cret", 5432)),
        ],
        &["kirk.yaml", "--merge", "secrets.yaml"],
    );
    scotty.wait_listening(scotty_port);
    kirk.wait_listening(kirk_port);

    let slow = std::thread::spawn(move || {
        http_get(kirk_port, "/beam/Chekov?delay_ms=20000", "kirk.acme.dev")
    });
    assert!(
        wait_sleeping_at_database(1).await,
        "the slow request never reached the database"
    );
    kirk.signal("TERM");
    // The first signal starts a drain that waits for the slow request.
    let mut draining = false;
    for _ in 0..400 {
        if kirk.stderr().contains("draining") {
            draining = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(draining, "{}", kirk.stderr());
    kirk.signal("INT");
    let exit = tokio::task::spawn_blocking(move || kirk.wait())
        .await
        .unwrap();
    assert_eq!(exit.code(), Some(128 + 2), "{}", exit.stderr);
    // The slow request was cut off with kirk; how it ended does not matter.
    let _ = slow.join();
    scotty.signal("TERM");
    let exit = tokio::task::spawn_blocking(move || scotty.wait())
        .await
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
}
