//! What the `kiln` binary sets up before it does anything: allocator options, as mimalloc itself
//! reports them (so a wrong option position in `allocator.rs` shows here by name).

use assert_cmd::Command;

fn mimalloc_report() -> String {
    let out = Command::cargo_bin("kiln")
        .unwrap()
        .env("MIMALLOC_VERBOSE", "1")
        .env_remove("MIMALLOC_PURGE_DELAY")
        .env_remove("MIMALLOC_ARENA_RESERVE")
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn allocator_keeps_freed_memory_and_reserves_a_small_first_arena() {
    let report = mimalloc_report();
    assert!(report.contains("option 'purge_delay': -1"), "{report}");
    assert!(
        report.contains("option 'arena_reserve': 65536 KiB"),
        "{report}"
    );
}

#[test]
fn allocator_environment_still_overrides_the_defaults() {
    let out = Command::cargo_bin("kiln")
        .unwrap()
        .env("MIMALLOC_VERBOSE", "1")
        .env("MIMALLOC_ARENA_RESERVE", "256M")
        .arg("--version")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        report.contains("option 'arena_reserve': 262144 KiB"),
        "{report}"
    );
}
