//! A child process in its own process group, killed with all it started when dropped.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct ProcessGroup {
    child: Child,
}

impl ProcessGroup {
    pub fn spawn(mut command: Command) -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        Ok(Self {
            child: command.spawn()?,
        })
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The leader's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Asks the leader to stop (SIGTERM) and waits up to `grace` for it to exit.
    pub fn terminate(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        signal(&self.child.id().to_string(), "TERM");
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // The whole group: Chromium under chromedriver, moto and sshd under knit.
        signal(&format!("-{}", self.child.id()), "KILL");
        let _ = self.child.wait();
    }
}

fn signal(target: &str, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), "--", target])
        .stderr(std::process::Stdio::null())
        .status();
}
