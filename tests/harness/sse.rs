//! Reading a Server-Sent Events response one event at a time.

use serde::de::DeserializeOwned;

#[derive(Default)]
pub struct EventReader {
    buffer: String,
}

impl EventReader {
    /// The next event's data, parsed; `None` when the server ended the stream. Panics after
    /// 30 s without an event.
    pub async fn next<T: DeserializeOwned>(
        &mut self,
        response: &mut reqwest::Response,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return Some(serde_json::from_str(data).expect("event JSON"));
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, response.chunk())
                .await
                .expect("an event within 30 s")
                .expect("stream");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk?));
        }
    }
}
