use super::*;

#[test]
fn sizes_read_as_people_write_them() {
    assert_eq!(parse_size("2G"), Ok(2 * 1024 * 1024 * 1024));
    assert_eq!(parse_size("512M"), Ok(512 * 1024 * 1024));
    assert_eq!(parse_size("1.5GiB"), Ok(1610612736));
    assert_eq!(parse_size("67108864"), Ok(64 * 1024 * 1024));
    for bad in ["", "lots", "2X", "-1G", "10K"] {
        assert!(parse_size(bad).is_err(), "{bad}");
    }
    assert_eq!(human(2 * 1024 * 1024 * 1024), "2G");
    assert_eq!(human(64 * 1024 * 1024), "64M");
    let bad_cpu = Limits {
        cpu: Some(0.0),
        ..Limits::default()
    };
    assert_eq!(bad_cpu.check(), Err(LimitError::BadCpu(0.0)));
}

#[test]
fn v1_directories_come_from_proc() {
    let cgroups = "4:memory:/process_api/abc\n8:pids:/\n0::/\n";
    let mounts = "33 25 0:29 / /sys/fs/cgroup/memory rw,relatime shared:1 - cgroup cgroup rw,memory\n\
                  34 25 0:30 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";
    assert_eq!(
        v1_dir(cgroups, mounts, "memory"),
        Some(PathBuf::from("/sys/fs/cgroup/memory/process_api/abc"))
    );
    assert_eq!(
        v1_dir(cgroups, mounts, "pids"),
        Some(PathBuf::from("/sys/fs/cgroup/pids"))
    );
    assert_eq!(v1_dir(cgroups, mounts, "cpu"), None);
}

#[test]
fn rlimits_are_the_fallback() {
    let limits = Limits {
        memory: Some("1G".into()),
        cpu: None,
        pids: Some(100),
    };
    let applied = Mechanism::Rlimit.prepare("x", &limits).unwrap();
    assert_eq!(
        applied.exec_args(),
        ["limits-exec", "--address-space", "1073741824", "--processes", "100"]
    );
}
