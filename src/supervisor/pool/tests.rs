use super::*;

#[test]
fn failing_shells_back_off_then_stop_the_pool_and_one_that_comes_up_resets_it() {
    let mut pool = Pool {
        ready_within: Duration::from_millis(100),
        ..Pool::default()
    };
    pool.failed(Unhealthy::Silent);
    let first = pool.failures.retry_at.unwrap();
    pool.failed(Unhealthy::Exited);
    let second = pool.failures.retry_at.unwrap();
    assert!(second > first, "each failure waits longer");
    for _ in 2..MAX_FAILURES {
        pool.failed(Unhealthy::Silent);
    }
    let status = pool.status().into_inner();
    let given_up = status["given_up"].as_str().unwrap_or_default().to_string();
    assert!(given_up.contains("the pool stopped"), "{status:?}");
    assert!(given_up.contains("showed no prompt within 0.1 s"), "{given_up}");
    assert_eq!(status["failures"].as_u64(), Some(u64::from(MAX_FAILURES)));
    pool.came_up();
    let status = pool.status().into_inner();
    assert!(status["given_up"].is_null() && status["retry_in"].is_null());
    assert_eq!(status["failures"].as_u64(), Some(0));
}

#[test]
fn quoting_survives_the_shell() {
    for text in ["plain", "with space", "it's", "$(rm -rf /)", "`x`", "a\"b", "new\nline"] {
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("printf %s {}", quote(text))])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), text);
    }
}
