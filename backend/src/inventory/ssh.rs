//! Whether each running instance answers SSH, as the instance list shows it. Tried in the
//! background, so no list waits on a machine that does not answer; an answer holds while the
//! instance runs at the same address. A silence is tried again every few seconds while the
//! instance may still be booting, then less and less often, so a fleet knit cannot reach
//! costs a connection per instance every few minutes at most.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use knit_shared::{Instance, InstanceState};
use tokio::sync::watch;
use tokio::time::Instant;

use super::lock;
use crate::ec2::Scope;
use crate::reach::Reach;

/// How long after an instance is first seen running a silence is taken for a boot.
const BOOTING: Duration = Duration::from_secs(3 * 60);
const BOOT_RETRY: Duration = Duration::from_secs(3);
const LAST_RETRY: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
pub struct SshWatch {
    reach: Reach,
    seen: Arc<Mutex<HashMap<Scope, HashMap<String, Seen>>>>,
    /// Bumped when an instance's answer changed: the live feeds then look again. A watch,
    /// not a notification, so an answer that comes while a feed is busy is not missed.
    news: Arc<watch::Sender<()>>,
}

/// What knit knows of one running instance's port 22.
#[derive(Debug)]
struct Seen {
    address: String,
    /// `None` until the first try ends.
    answered: Option<bool>,
    trying: bool,
    since: Instant,
    next_try: Instant,
    retry: Duration,
}

impl SshWatch {
    pub fn new(reach: Reach) -> Self {
        Self {
            reach,
            seen: Arc::default(),
            news: Arc::new(watch::Sender::new(())),
        }
    }

    /// Changes once each time an instance's answer changed.
    pub fn news(&self) -> watch::Receiver<()> {
        self.news.subscribe()
    }

    /// Sets each of `scope`'s instances' `ssh` from what is known now, and starts the tries
    /// that are due. Instances no longer listed are forgotten.
    pub fn mark(&self, scope: &Scope, instances: &mut [Instance]) {
        let mut all = lock(&self.seen);
        let seen = all.entry(scope.clone()).or_default();
        seen.retain(|id, _| instances.iter().any(|i| &i.id == id));
        let now = Instant::now();
        for instance in instances.iter_mut() {
            let address = instance.public_ip.as_ref().or(instance.private_ip.as_ref());
            let (InstanceState::Running, Some(address)) = (instance.state, address) else {
                seen.remove(&instance.id);
                instance.ssh = None;
                continue;
            };
            let known = seen
                .entry(instance.id.clone())
                .or_insert_with(|| Seen::new(address));
            if known.address != *address {
                *known = Seen::new(address);
            }
            if !self.reach.dials_ssh(address) {
                // Known without a try; a relay made later is tried at once.
                known.answered = Some(false);
                known.next_try = now;
            } else if known.answered != Some(true) && !known.trying && now >= known.next_try {
                known.trying = true;
                self.try_one(scope.clone(), instance.id.clone(), address.clone());
            }
            instance.ssh = known.answered;
        }
    }

    fn try_one(&self, scope: Scope, id: String, address: String) {
        let (reach, seen, news) = (
            self.reach.clone(),
            Arc::clone(&self.seen),
            Arc::clone(&self.news),
        );
        tokio::spawn(async move {
            let answered = reach.answers_ssh(&address).await;
            let mut all = lock(&seen);
            // Forgotten or moved meanwhile: this answer is about nothing listed.
            let Some(known) = all.get_mut(&scope).and_then(|seen| seen.get_mut(&id)) else {
                return;
            };
            if known.address != address {
                return;
            }
            let changed = known.answered != Some(answered);
            known.answered = Some(answered);
            known.trying = false;
            known.next_try = Instant::now() + known.next_retry();
            drop(all);
            if changed {
                news.send_replace(());
            }
        });
    }
}

impl Seen {
    fn new(address: &str) -> Self {
        let now = Instant::now();
        Self {
            address: address.to_owned(),
            answered: None,
            trying: false,
            since: now,
            next_try: now,
            retry: BOOT_RETRY,
        }
    }

    /// How long to wait before trying a silent instance again.
    fn next_retry(&mut self) -> Duration {
        if self.since.elapsed() >= BOOTING {
            self.retry = (self.retry * 2).min(LAST_RETRY);
        }
        self.retry
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use super::*;
    use crate::inventory::instance;

    /// Marks `instances` until the first one's answer is known (up to 10 s), and returns them.
    async fn settled(
        watch: &SshWatch,
        scope: &Scope,
        mut instances: Vec<Instance>,
    ) -> Vec<Instance> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            watch.mark(scope, &mut instances);
            if instances[0].ssh.is_some() || Instant::now() >= deadline {
                return instances;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_running_instance_says_whether_it_answers_ssh_and_a_stopped_one_says_nothing() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = tokio::io::AsyncWriteExt::write_all(&mut stream, b"SSH-2.0-test\r\n").await;
            }
        });
        let reach = Reach::for_endpoint(Some("http://127.0.0.1:5000"));
        reach.relay(
            IpAddr::from([10, 0, 0, 7]),
            22,
            SocketAddr::from(([127, 0, 0, 1], port)),
        );
        let watch = SshWatch::new(reach.clone());
        let news = watch.news();
        let scope = Scope {
            profile: None,
            region: "us-east-1".to_owned(),
        };

        // Not known at first: the list does not wait for the try, and the answer is news.
        let mut first = vec![instance("i-1", InstanceState::Running, "10.0.0.7")];
        watch.mark(&scope, &mut first);
        assert_eq!(first[0].ssh, None);
        let answered = settled(&watch, &scope, first).await;
        assert_eq!(answered[0].ssh, Some(true));
        assert!(news.has_changed().expect("the watch lives"));

        // A made-up address with no relay is silent at once, and tried as soon as one is made.
        let mut made_up = vec![instance("i-2", InstanceState::Running, "10.0.0.8")];
        watch.mark(&scope, &mut made_up);
        assert_eq!(made_up[0].ssh, Some(false));
        reach.relay(
            IpAddr::from([10, 0, 0, 8]),
            22,
            SocketAddr::from(([127, 0, 0, 1], port)),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while made_up[0].ssh != Some(true) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            watch.mark(&scope, &mut made_up);
        }
        assert_eq!(made_up[0].ssh, Some(true));

        // A stopped instance says nothing.
        let mut stopped = vec![instance("i-1", InstanceState::Stopped, "10.0.0.7")];
        watch.mark(&scope, &mut stopped);
        assert_eq!(stopped[0].ssh, None);
    }
}
