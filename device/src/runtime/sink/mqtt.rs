//! Alerts published to an MQTT broker with `rumqttc` at QoS 1: a delivery counts only when
//! the broker's PUBACK arrived. A broker that is down or silent makes the delivery fail
//! within the timeout; the session is then dropped and rebuilt on the next try (a duplicate
//! is possible, a loss is not: at-least-once, like the outbox).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};

use super::{AlertSink, SinkError};
use crate::alert::AlertRecord;

/// What the connection thread reports.
enum Note {
    ConnAck,
    PubAck,
    Error(String),
}

struct Session {
    client: Client,
    notes: Receiver<Note>,
    connected: bool,
}

/// Publishes each record to `topic` with QoS 1.
pub struct MqttSink {
    name: String,
    host: String,
    port: u16,
    topic: String,
    client_id: String,
    timeout: Duration,
    session: Option<Session>,
}

impl MqttSink {
    /// A sink for `host:port`; it connects on first delivery.
    pub fn new(name: &str, host: &str, port: u16, topic: &str, client_id: &str, timeout: Duration) -> Self {
        MqttSink {
            name: name.to_string(),
            host: host.to_string(),
            port,
            topic: topic.to_string(),
            client_id: client_id.to_string(),
            timeout,
            session: None,
        }
    }

    fn connect(&self) -> Session {
        let mut opts = MqttOptions::new(&self.client_id, &self.host, self.port);
        opts.set_keep_alive(Duration::from_secs(10));
        opts.set_clean_session(true);
        let (client, mut connection) = Client::new(opts, 16);
        let (tx, notes) = mpsc::channel();
        std::thread::Builder::new()
            .name("motus-mqtt".into())
            .spawn(move || {
                for ev in connection.iter() {
                    let note = match ev {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => Note::ConnAck,
                        Ok(Event::Incoming(Packet::PubAck(_))) => Note::PubAck,
                        Ok(_) => continue,
                        Err(rumqttc::ConnectionError::RequestsDone) => break,
                        Err(e) => {
                            let msg = e.to_string();
                            if tx.send(Note::Error(msg)).is_err() {
                                break;
                            }
                            // The event loop retries on the next poll: do not spin.
                            std::thread::sleep(Duration::from_millis(200));
                            continue;
                        }
                    };
                    if tx.send(note).is_err() {
                        break;
                    }
                }
            })
            .expect("spawning the MQTT connection thread");
        Session { client, notes, connected: false }
    }

    fn publish(&mut self, payload: Vec<u8>) -> Result<(), SinkError> {
        if self.session.is_none() {
            self.session = Some(self.connect());
        }
        let s = self.session.as_mut().expect("set above");
        let deadline = Instant::now() + self.timeout;
        // Wait for the connection first, so a PUBACK is never confused with a stale one.
        while !s.connected {
            let left = deadline.saturating_duration_since(Instant::now());
            match s.notes.recv_timeout(left) {
                Ok(Note::ConnAck) => s.connected = true,
                Ok(Note::Error(e)) => {
                    return Err(SinkError::new(&self.name, format!("connecting to {}:{}: {e}", self.host, self.port)))
                }
                Ok(Note::PubAck) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(SinkError::new(
                        &self.name,
                        format!("no CONNACK from {}:{} within {:?}", self.host, self.port, self.timeout),
                    ))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(SinkError::new(&self.name, "MQTT connection thread ended"))
                }
            }
        }
        s.client
            .publish(&self.topic, QoS::AtLeastOnce, false, payload)
            .map_err(|e| SinkError::new(&self.name, format!("publish: {e}")))?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match s.notes.recv_timeout(left) {
                Ok(Note::PubAck) => return Ok(()),
                Ok(Note::ConnAck) => {}
                Ok(Note::Error(e)) => {
                    return Err(SinkError::new(&self.name, format!("{}:{}: {e}", self.host, self.port)))
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(SinkError::new(&self.name, format!("no PUBACK within {:?}", self.timeout)))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(SinkError::new(&self.name, "MQTT connection thread ended"))
                }
            }
        }
    }
}

impl AlertSink for MqttSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn deliver(&mut self, record: &AlertRecord) -> Result<(), SinkError> {
        let payload = serde_json::to_vec(record).map_err(|e| SinkError::new(&self.name, e.to_string()))?;
        self.publish(payload).inspect_err(|_| {
            // Start a fresh session next time: the old one's state is unknown.
            if let Some(s) = self.session.take() {
                let _ = s.client.disconnect();
            }
        })
    }
}

impl Drop for MqttSink {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = s.client.disconnect();
        }
    }
}
