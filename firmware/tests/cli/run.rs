//! `motus run` and `motus demo` as a user runs them: SIGTERM stops cleanly with the alerts
//! delivered, a bad config or an absent model is refused with a clear message.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use motus_models::card::ModelCard;
use motus_models::onnx::{export, ExportOptions};
use motus_models::spec::{ArchSpec, C3d};

fn motus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_motus"))
}

/// A tiny random C3D over the synthetic classes (RGB only, so the test needs no flow).
fn write_model(path: &Path) {
    let spec = ArchSpec::C3d(C3d { num_classes: 12, clip_len: 4, input_size: 32, widths: vec![4, 8, 8], depth: 1 });
    let g = spec.lower().unwrap();
    let labels = motus_core::synth::class_names().iter().map(|s| s.to_string()).collect();
    let mut card = ModelCard::for_spec(&spec, &g, labels);
    card.input.resize_short = 32;
    std::fs::write(path, export(&g, &g.random_weights(5), &card, &ExportOptions::default()).unwrap()).unwrap();
}

#[test]
fn sigterm_stops_the_runtime_cleanly_and_alerts_reach_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.onnx");
    write_model(&model);
    // Every non-idle class above 1 % fires at once: a random model's scores guarantee alerts.
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, "[source]\nkind = \"synthetic\"\nwidth = 96\nheight = 64\n[alerts]\ndefault_threshold = 0.01\n[output]\noutbox_dir = \"ob\"\n").unwrap();
    let child = motus()
        .args(["run", "--config", cfg.to_str().unwrap(), "--model", model.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let t = Instant::now();
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(t.elapsed() < Duration::from_secs(10), "stop took {:?}", t.elapsed());
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("stopped after"), "{stderr}");
    // The start says what the model's card records (here: nothing measured).
    assert!(
        stderr.contains("model measured (its card): no accuracy recorded; no false-alert rate on footage recorded"),
        "{stderr}"
    );
    // A card without a frame rate runs as before, with one warning saying so.
    assert_eq!(stderr.matches("has no frame rate (fps)").count(), 1, "{stderr}");
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let alerts: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(alerts.len() >= 11, "{stdout}\n{stderr}");
    assert!(alerts.iter().all(|a| a["source"] == "synthetic:7" && a["model_sha256"].as_str().unwrap().len() == 64));
    // Delivered before exit: nothing left in the stdout queue of the outbox.
    let left = std::fs::read_dir(dir.path().join("ob/stdout"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(left, 0);
}

#[test]
fn bad_config_and_missing_model_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[window]\nstride = 0\n").unwrap();
    let out = motus().args(["run", "--config", cfg.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("window.stride"));
    let out =
        motus().args(["demo", "--seconds", "1"]).env("MOTUS_MODEL", dir.path().join("absent.onnx")).output().unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("absent.onnx") && e.contains("MOTUS_MODEL"), "{e}");
}

#[test]
fn check_validates_config_and_model_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.onnx");
    write_model(&model);
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, "[source]\nkind = \"synthetic\"\n[[alerts.rules]]\nclass = \"wave\"\nthreshold = 0.7\n[output]\noutbox_dir = \"ob\"\n").unwrap();
    let run = |extra: &[&str]| {
        let mut c = motus();
        c.args(["run", "--check", "--config", cfg.to_str().unwrap()]).args(extra);
        c.output().unwrap()
    };
    let out = run(&["--model", model.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(": ok;") && stdout.contains("synthetic:7") && stdout.contains("12 classes"), "{stdout}");
    assert!(!dir.path().join("ob").exists(), "--check must not create the outbox");

    // A model that is not ONNX is named.
    let broken = dir.path().join("broken.onnx");
    std::fs::write(&broken, &std::fs::read(&model).unwrap()[..200]).unwrap();
    let out = run(&["--model", broken.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.onnx"), "{}", String::from_utf8_lossy(&out.stderr));

    // A rule for a class the model lacks is refused before anything runs.
    std::fs::write(&cfg, "[[alerts.rules]]\nclass = \"juggle\"\nthreshold = 0.7\n").unwrap();
    let out = run(&["--model", model.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("juggle"), "{}", String::from_utf8_lossy(&out.stderr));

    // A camera kind this build lacks is refused at --check time, not at start-up on the board.
    // V4L2 is in the default build; nokhwa is not.
    #[cfg(not(feature = "nokhwa"))]
    {
        std::fs::write(&cfg, "[source]\nkind = \"nokhwa\"\n").unwrap();
        let out = run(&["--model", model.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--features nokhwa"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    #[cfg(feature = "v4l")]
    {
        std::fs::write(
            &cfg,
            "[source]\nkind = \"v4l2\"\ndevice = \"/dev/video-motus-test\"\n[output]\noutbox_dir = \"ob\"\n",
        )
        .unwrap();
        let out = run(&["--model", model.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "a V4L2 camera is accepted by the default build: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_service_manager_hears_ready_then_watchdog_pings_while_windows_complete_then_stopping() {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.onnx");
    write_model(&model);
    let cfg = dir.path().join("run.toml");
    std::fs::write(
        &cfg,
        "[source]\nkind = \"synthetic\"\nwidth = 96\nheight = 64\npace = \"fast\"\nframes = 400\n\
         [output]\noutbox_dir = \"ob\"\nstatus_line = false\n",
    )
    .unwrap();
    // The socket systemd would create for a Type=notify unit with WatchdogSec=0.4.
    let socket_path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // Read while motus runs, as systemd does (a socket's queue holds only a few datagrams).
    let reader = std::thread::spawn(move || {
        let mut messages = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(n) = socket.recv(&mut buf) {
            let m = String::from_utf8_lossy(&buf[..n]).into_owned();
            let last = m == "STOPPING=1";
            messages.push(m);
            if last {
                break;
            }
        }
        messages
    });
    let out = motus()
        .args(["run", "--config", cfg.to_str().unwrap(), "--model", model.to_str().unwrap()])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let messages = reader.join().unwrap();
    assert!(messages.first().is_some_and(|m| m.starts_with("READY=1\nSTATUS=classifying synthetic:7")), "{messages:?}");
    assert!(messages.iter().any(|m| m == "WATCHDOG=1"), "{messages:?}");
    assert_eq!(messages.last().map(String::as_str), Some("STOPPING=1"), "{messages:?}");
}

/// A local HTTP server for the credentials test: GET answers `video` (a camera stream),
/// POST answers 503 the first time (so the webhook's error, with its URL, is logged) and then
/// 200, keeping the body. Serves until the returned flag is set.
fn camera_and_webhook_server(
    video: Vec<u8>,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let (bodies, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
    let (b, s) = (bodies.clone(), stop.clone());
    let mut refused_once = false;
    std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            let Ok((conn, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            conn.set_nonblocking(false).unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let (mut head, mut line, mut len) = (String::new(), String::new(), 0usize);
            while r.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
                line.clear();
            }
            let mut w = conn;
            if head.starts_with("POST") {
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    continue;
                }
                if !refused_once {
                    refused_once = true;
                    let _ = w.write_all(b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    continue;
                }
                b.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
                let _ = w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            } else if head.starts_with("GET") {
                let _ = write!(w, "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", video.len());
                let _ = w.write_all(&video);
            }
        }
    });
    (port, bodies, stop)
}

/// Every byte a run leaves behind: its files (outbox, dead letters, snapshots, the alert log)
/// and what it printed.
fn everything_written(dir: &Path, printed: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> =
        printed.iter().enumerate().map(|(i, p)| (format!("output {i}"), p.to_vec())).collect();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(d) = folders.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                folders.push(p);
            } else {
                all.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    all
}

#[test]
fn credentials_in_the_camera_and_webhook_urls_appear_in_nothing_a_run_writes() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.onnx");
    write_model(&model);
    // A camera: a short synthetic clip served over HTTP (ffmpeg reads it as a stream).
    let clip = dir.path().join("clip.y4m");
    let cfg = motus_core::synth::SynthConfig { width: 96, height: 64, frames: 48, ..Default::default() };
    let frames =
        motus_core::media::VideoReader::read_all(&mut motus_core::synth::SynthVideo::new(&cfg, 9, 0).unwrap()).unwrap();
    let mut w = motus_core::media::create_video(&clip, 96, 64, 25.0).unwrap();
    for f in &frames {
        w.write_frame(f).unwrap();
    }
    w.finish().unwrap();
    let video = std::fs::read(&clip).unwrap();
    std::fs::remove_file(&clip).unwrap();
    let (port, hook_bodies, stop) = camera_and_webhook_server(video);
    let camera = format!("http://viewer:s3cretpass@127.0.0.1:{port}/cam.y4m?token=t0kenvalue");
    let hook = format!("http://alerts:s3cretpass@127.0.0.1:{port}/hook?key=t0kenvalue");
    let run_dir = dir.path().join("run");
    std::fs::create_dir(&run_dir).unwrap();
    let config = run_dir.join("run.toml");
    std::fs::write(
        &config,
        format!(
            "[source]\nkind = \"stream\"\nurl = \"{camera}\"\n[alerts]\ndefault_threshold = 0.01\n\
             [[sinks]]\nkind = \"stdout\"\n[[sinks]]\nkind = \"file\"\npath = \"alerts.jsonl\"\n\
             [[sinks]]\nkind = \"webhook\"\nurl = \"{hook}\"\n\
             [output]\noutbox_dir = \"ob\"\nsnapshot_dir = \"snaps\"\n"
        ),
    )
    .unwrap();
    let (m, c) = (model.to_str().unwrap(), config.to_str().unwrap());
    let check = motus().args(["run", "--check", "--config", c, "--model", m]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let run =
        motus().args(["run", "--config", c, "--model", m, "--seconds", "6"]).env("RUST_LOG", "debug").output().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    std::fs::remove_file(&config).unwrap(); // the one file that holds them on purpose
    let hooks = hook_bodies.lock().unwrap().join("\n");
    let written =
        everything_written(&run_dir, &[&check.stdout, &check.stderr, &run.stdout, &run.stderr, hooks.as_bytes()]);
    // Not vacuous: alerts were raised, logged, delivered and pictured, naming the camera.
    let log = std::fs::read_to_string(run_dir.join("alerts.jsonl")).unwrap();
    assert!(log.lines().count() >= 1 && !hooks.is_empty(), "no alerts: {}", String::from_utf8_lossy(&run.stderr));
    assert!(log.contains(&format!("http://viewer:***@127.0.0.1:{port}/cam.y4m?token=***")), "{log}");
    assert!(std::fs::read_dir(run_dir.join("snaps")).unwrap().count() >= 1);
    let (check_out, run_err) = (String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(check_out.contains(&format!("http://viewer:***@127.0.0.1:{port}/cam.y4m?token=***")), "{check_out}");
    assert!(run_err.contains(&format!("POST http://alerts:***@127.0.0.1:{port}/hook?key=***")), "{run_err}");
    for (name, bytes) in &written {
        for secret in ["s3cretpass", "t0kenvalue"] {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret} in {name}:\n{}", String::from_utf8_lossy(bytes));
        }
    }
}
