//! Telling the service manager the device is alive, and dying loudly when it is not.
//!
//! A board on a wall is watched by systemd, not by a person. Two things make that work:
//!
//! - [`Notifier`]: the `sd_notify` protocol spoken directly over `$NOTIFY_SOCKET` (a Unix
//!   datagram socket; no libsystemd needed). `motus run` says `READY=1` once the model, the
//!   sinks and the source are set up, `WATCHDOG=1` only on progress (a window classified, or
//!   the capture thread trying its source again after a failure: a camera that is away is
//!   waited for, not restarted over), and `STOPPING=1` on the way out. With `Type=notify` and
//!   `WatchdogSec=` in the unit, a pipeline that stops making progress for any reason (a
//!   camera that hangs in the driver, a deadlock, a stuck model) is killed and restarted.
//! - [`exit_on_panic`]: a panic in any thread of the device process ends the process with
//!   [`PANIC_EXIT_CODE`], so the service manager restarts it instead of a half-dead process
//!   (say, a capture thread gone while the main loop waits for frames) running on.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// The exit status of a device process after a panic in any of its threads.
pub const PANIC_EXIT_CODE: i32 = 70;

/// Makes every later panic, in any thread, end the process with [`PANIC_EXIT_CODE`] after the
/// usual panic message. For the device process (`motus run`, `motus demo`) only: tools that
/// expect to catch a panic must not call it.
pub fn exit_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        log::error!("a thread panicked; exiting with status {PANIC_EXIT_CODE} so the service restarts");
        std::process::exit(PANIC_EXIT_CODE);
    }));
}

/// A connection to the service manager's notification socket, or nothing when the process
/// was not started by one (every method is then a no-op).
#[derive(Debug)]
pub struct Notifier {
    socket: Option<UnixDatagram>,
    /// Half the watchdog period the manager asked for (`$WATCHDOG_USEC`): pings closer than
    /// this are skipped. `None`: no watchdog, no pings.
    ping_every: Option<Duration>,
    last_ping: Option<Instant>,
}

impl Notifier {
    /// Connects to `$NOTIFY_SOCKET` when it is set (a path, or `@name` for an abstract
    /// socket). A socket that cannot be reached is logged once and ignored: notifications
    /// must never stop the device.
    pub fn from_env() -> Self {
        let ping_every = watchdog_period().map(|p| p / 2);
        let socket = std::env::var_os("NOTIFY_SOCKET").and_then(|path| match connect(&path) {
            Ok(s) => Some(s),
            Err(e) => {
                log::warn!("liveness: cannot reach NOTIFY_SOCKET {path:?}: {e}; no service notifications");
                None
            }
        });
        Notifier { socket, ping_every, last_ping: None }
    }

    /// Whether a service manager listens.
    pub fn is_connected(&self) -> bool {
        self.socket.is_some()
    }

    /// Set-up is done: the service is up.
    pub fn ready(&mut self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    /// The pipeline made progress (a window classified, a reconnection attempted): it is
    /// alive. Rate-limited to half the watchdog period; nothing is sent without a watchdog.
    pub fn progress(&mut self) {
        let Some(every) = self.ping_every else { return };
        if self.last_ping.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last_ping = Some(Instant::now());
        self.send("WATCHDOG=1");
    }

    /// The process is shutting down on purpose.
    pub fn stopping(&mut self) {
        self.send("STOPPING=1");
    }

    fn send(&mut self, message: &str) {
        if let Some(s) = &self.socket {
            // Non-blocking: a service manager that does not read must never stall the
            // pipeline; a message it has no room for is dropped.
            if let Err(e) = s.send(message.as_bytes()) {
                log::warn!("liveness: notification {:?} not sent: {e}", message.lines().next().unwrap_or(""));
            }
        }
    }
}

/// The watchdog period from `$WATCHDOG_USEC`, when it is meant for this process
/// (`$WATCHDOG_PID` unset or ours).
fn watchdog_period() -> Option<Duration> {
    if let Some(pid) = std::env::var_os("WATCHDOG_PID") {
        if pid.to_str().and_then(|p| p.parse::<u32>().ok()) != Some(std::process::id()) {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

fn connect(path: &std::ffi::OsStr) -> io::Result<UnixDatagram> {
    let socket = UnixDatagram::unbound()?;
    socket.set_nonblocking(true)?;
    let bytes = path.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        socket.connect_addr(&addr)?;
    } else {
        socket.connect(path)?;
    }
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(dir: &std::path::Path) -> (UnixDatagram, std::path::PathBuf) {
        let path = dir.join("notify");
        let l = UnixDatagram::bind(&path).unwrap();
        l.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        (l, path)
    }

    fn recv(l: &UnixDatagram) -> String {
        let mut buf = [0u8; 256];
        let n = l.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn ready_pings_and_stopping_reach_the_socket_and_pings_are_rate_limited() {
        let dir = tempfile::tempdir().unwrap();
        let (l, path) = listener(dir.path());
        let mut n = Notifier {
            socket: Some(connect(path.as_os_str()).unwrap()),
            ping_every: Some(Duration::from_millis(200)),
            last_ping: None,
        };
        n.ready("model loaded");
        assert_eq!(recv(&l), "READY=1\nSTATUS=model loaded");
        for _ in 0..50 {
            n.progress();
        }
        assert_eq!(recv(&l), "WATCHDOG=1");
        std::thread::sleep(Duration::from_millis(250));
        n.progress();
        assert_eq!(recv(&l), "WATCHDOG=1");
        n.stopping();
        // The 49 pings within the period were skipped: the next message is STOPPING.
        assert_eq!(recv(&l), "STOPPING=1");
    }

    #[test]
    fn without_a_watchdog_no_ping_is_sent_and_without_a_socket_nothing_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (l, path) = listener(dir.path());
        let mut n = Notifier { socket: Some(connect(path.as_os_str()).unwrap()), ping_every: None, last_ping: None };
        n.progress();
        n.stopping();
        assert_eq!(recv(&l), "STOPPING=1");
        let mut none = Notifier { socket: None, ping_every: Some(Duration::ZERO), last_ping: None };
        none.ready("x");
        none.progress();
        assert!(!none.is_connected());
    }

    #[test]
    fn an_abstract_socket_name_is_reached() {
        let name = format!("motus-test-notify-{}", std::process::id());
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let l = UnixDatagram::bind_addr(&addr).unwrap();
        l.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut n = Notifier {
            socket: Some(connect(std::ffi::OsStr::new(&format!("@{name}"))).unwrap()),
            ping_every: None,
            last_ping: None,
        };
        n.ready("up");
        assert_eq!(recv(&l), "READY=1\nSTATUS=up");
    }

    /// Run only as the child of the test below: installs the hook, then panics in a thread
    /// other than the main one (where, without the hook, the process would live on).
    #[test]
    #[ignore = "the child process of a_panic_in_any_thread_ends_the_process_with_its_exit_code"]
    fn child_that_panics_in_a_worker_thread() {
        if std::env::var_os("MOTUS_PANIC_CHILD").is_none() {
            return;
        }
        exit_on_panic();
        let _ = std::thread::spawn(|| panic!("worker failed")).join();
        std::thread::sleep(Duration::from_secs(5));
    }

    #[test]
    fn a_panic_in_any_thread_ends_the_process_with_its_exit_code() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "runtime::liveness::tests::child_that_panics_in_a_worker_thread", "--ignored"])
            .args(["--nocapture", "--test-threads", "1"])
            .env("MOTUS_PANIC_CHILD", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(PANIC_EXIT_CODE), "{stderr}");
        assert!(stderr.contains("worker failed"), "the panic message is still printed: {stderr}");
    }
}
