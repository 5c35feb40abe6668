//! The local EC2 API server: moto's server, from PyPI, on a free loopback port.

use std::path::Path;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::{SandboxError, free_port, process};

#[derive(Debug)]
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts `program` (moto_server) and waits until it accepts connections.
    pub async fn start(program: &Path, log: &Path) -> Result<Self, SandboxError> {
        let name = program.display().to_string();
        let port = free_port().map_err(|error| SandboxError::Start {
            program: name.clone(),
            detail: format!("no free port: {error}"),
        })?;
        let mut command = Command::new(program);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let mut child = process::spawn(command, &name, log)?;
        // Python imports all of moto's services before it listens: allow it a while.
        process::wait_until_listening(&mut child, &name, port, None, log, Duration::from_secs(60))
            .await?;
        Ok(Self { child, port })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn stop(self) {
        process::stop(self.child).await;
    }
}
