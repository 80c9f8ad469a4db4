//! Allocator settings for a process that runs for weeks on a board with little memory.
//!
//! glibc's malloc raises its mmap threshold each time a large mmapped block is freed (up to
//! 32 MB), so after the first few windows the pipeline's multi-megabyte buffers (flow stacks,
//! model inputs, tract's scratch) come from the heap arenas instead of fresh mappings. Freed
//! there, they leave holes that later, differently sized requests only partly reuse, and each
//! thread that allocates gets its own arena to fragment. Measured with `motus bench pipeline
//! --seconds 300` on the bundled model (mean RSS of the last minute minus that of the second):
//! +2.3 MB with glibc's defaults, +0.74 MB with one arena, +0.13 MB with two arenas and a fixed
//! 256 KiB mmap threshold, which also ended the run at 115 MB resident instead of 139 MB.

/// The mmap threshold: blocks at least this large are mapped and unmapped on their own, so
/// they never fragment an arena. 256 KiB keeps small and medium allocations (log lines, alert
/// records, tensors' shapes) in the arenas and sends frame-sized buffers to mmap.
pub const MMAP_THRESHOLD_BYTES: usize = 256 << 10;

/// Arenas: two leave the capture, flow and inference threads little contention while
/// bounding the number of heaps that can fragment.
pub const ARENA_MAX: usize = 2;

/// What [`tune_allocator`] did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocatorTuning {
    /// Both settings were applied.
    Applied,
    /// The user set these `MALLOC_*` variables, which glibc has already applied; they win.
    LeftToEnvironment(Vec<&'static str>),
    /// Not glibc (musl, macOS, Windows): nothing to tune.
    Unsupported,
    /// glibc refused a setting (`mallopt` returned 0).
    Refused(&'static str),
}

/// The glibc environment variables that set what [`tune_allocator`] sets.
const ENV_VARS: [&str; 2] = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX"];

/// Applies [`MMAP_THRESHOLD_BYTES`] and [`ARENA_MAX`] unless the environment already sets
/// either (a user tuning the allocator by hand keeps control). Call it first thing in `main`,
/// before other threads start allocating.
pub fn tune_allocator() -> AllocatorTuning {
    let set = set_by_environment(|v| std::env::var_os(v).is_some());
    if !set.is_empty() {
        return AllocatorTuning::LeftToEnvironment(set);
    }
    apply()
}

/// Which of [`ENV_VARS`] the environment (`is_set`) defines.
fn set_by_environment(is_set: impl Fn(&str) -> bool) -> Vec<&'static str> {
    ENV_VARS.iter().copied().filter(|v| is_set(v)).collect()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply() -> AllocatorTuning {
    // SAFETY: mallopt only changes malloc's parameters; both values are in the ranges glibc
    // documents (the threshold below HEAP_MAX/2, the arena count positive).
    if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES as libc::c_int) } == 0 {
        return AllocatorTuning::Refused("M_MMAP_THRESHOLD");
    }
    if unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX as libc::c_int) } == 0 {
        return AllocatorTuning::Refused("M_ARENA_MAX");
    }
    AllocatorTuning::Applied
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply() -> AllocatorTuning {
    AllocatorTuning::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large block freed and allocated again must come from a fresh mapping each time once
    /// the threshold is fixed; glibc's default would have raised the threshold after the first
    /// free and served the second from the heap. Observed through `mallinfo2`'s count of
    /// mapped blocks, in a child process so the test binary's own allocator is untouched.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_fixed_threshold_keeps_large_blocks_mapped() {
        if std::env::var_os("MOTUS_MEMORY_CHILD").is_some() {
            let tuned = std::env::var("MOTUS_MEMORY_CHILD").unwrap() == "tuned";
            if tuned {
                assert_eq!(apply(), AllocatorTuning::Applied);
            }
            let mapped = |size: usize| {
                let v: Vec<u8> = vec![1; size];
                // SAFETY: mallinfo2 reads malloc's counters.
                let blocks = unsafe { libc::mallinfo2() }.hblks;
                std::hint::black_box(&v);
                blocks
            };
            let before = unsafe { libc::mallinfo2() }.hblks;
            let first = mapped(4 << 20);
            let second = mapped(3 << 20);
            println!("MAPPED before={before} first={first} second={second}");
            return;
        }
        let run = |mode: &str| {
            let exe = std::env::current_exe().unwrap();
            let out = std::process::Command::new(exe)
                .args([
                    "--exact",
                    "memory::tests::a_fixed_threshold_keeps_large_blocks_mapped",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("MOTUS_MEMORY_CHILD", mode)
                .env_remove("MALLOC_MMAP_THRESHOLD_")
                .env_remove("MALLOC_ARENA_MAX")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
            // The harness prints "test … ... " before the child's own line.
            let line = text
                .split("MAPPED ")
                .nth(1)
                .and_then(|l| l.lines().next())
                .unwrap_or_else(|| panic!("no MAPPED line in {text}"))
                .to_string();
            let nums: Vec<usize> =
                line.split_whitespace().map(|kv| kv.split('=').nth(1).unwrap().parse().unwrap()).collect();
            (nums[0], nums[1], nums[2])
        };
        let (before, first, second) = run("tuned");
        assert_eq!((first - before, second - before), (1, 1), "tuned: both large blocks should be mapped");
        let (before, first, second) = run("default");
        assert_eq!(first - before, 1, "default: the first large block is mapped");
        assert_eq!(
            second, before,
            "default: glibc raised its threshold after the first free, so the second came from the heap"
        );
    }

    #[test]
    fn either_glibc_variable_leaves_the_allocator_to_the_user() {
        assert!(set_by_environment(|_| false).is_empty());
        assert_eq!(set_by_environment(|v| v == "MALLOC_ARENA_MAX"), vec!["MALLOC_ARENA_MAX"]);
        assert_eq!(set_by_environment(|v| v.starts_with("MALLOC_")), ENV_VARS.to_vec());
        assert!(set_by_environment(|v| v == "MALLOC_TOP_PAD_").is_empty());
    }
}
