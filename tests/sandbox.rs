//! `knit serve --sandbox`: real sshd hosts with verified host keys, and a seeded EC2 server.

use knit::ssh::{self, Identity, KnownHosts, SshTarget};
use knit_shared::Health;

use crate::harness::{moto_client, start_sandbox};

#[tokio::test]
async fn sandbox_hosts_answer_over_ssh_with_verified_keys_and_ec2_is_seeded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (moto, server) = start_sandbox(dir.path()).await;

    let health: Health = server
        .get("/health")
        .await
        .expect("health answers")
        .json()
        .await
        .expect("health JSON");
    let sandbox = health.sandbox.expect("the health says sandbox");
    assert_eq!(sandbox.ec2_endpoint, moto.endpoint());
    let names: Vec<&str> = sandbox
        .hosts
        .iter()
        .map(|host| host.name.as_str())
        .collect();
    assert_eq!(names, ["web-1", "web-2", "db-1"]);

    // Each host is a real sshd that knit logs in to with its own key and known_hosts.
    let identity = Identity::isolated(
        server.data_dir.join("sandbox/client_ed25519"),
        KnownHosts::new(server.data_dir.join("known_hosts")),
    );
    for host in &sandbox.hosts {
        let session = ssh::connect(&SshTarget::parse(&host.address), &identity)
            .await
            .unwrap_or_else(|error| panic!("{}: {error}", host.name));
        let output = session
            .command("sh")
            .args(["-c", "echo $KNIT_SANDBOX_HOST"])
            .output()
            .await
            .expect("command runs");
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), host.name);
        session.close().await.expect("close");
    }

    // A host whose key is not the one trusted is refused, never silently accepted.
    let impostor = KnownHosts::new(dir.path().join("impostor_known_hosts"));
    let stranger = ssh::ensure_key_pair(&dir.path().join("stranger"), "stranger")
        .await
        .expect("key");
    let web1 = SshTarget::parse(&sandbox.hosts[0].address);
    impostor
        .trust(
            &ssh::host_pattern(&web1.host, web1.port),
            &stranger.public_key().await.expect("key"),
        )
        .await
        .expect("write");
    let refused = ssh::connect(
        &web1,
        &Identity {
            known_hosts: impostor,
            ..identity.clone()
        },
    )
    .await
    .expect_err("a wrong host key must be refused");
    assert!(
        refused.to_string().contains("Host key verification failed"),
        "{refused}"
    );

    // The EC2 server holds what the sandbox seeds.
    let ec2 = moto_client(&moto, "us-east-1").await;
    let keys = ec2.describe_key_pairs().send().await.expect("key pairs");
    assert!(
        keys.key_pairs()
            .iter()
            .any(|k| k.key_name() == Some("knit-sandbox"))
    );
    let groups = ec2.describe_security_groups().send().await.expect("groups");
    assert!(
        groups
            .security_groups()
            .iter()
            .any(|g| g.group_name() == Some("knit-sandbox-web"))
    );
    let images = ec2
        .describe_images()
        .owners("self")
        .send()
        .await
        .expect("images");
    assert_eq!(images.images().len(), 2);

    // The demo cluster written for these hosts is a valid definition that names them.
    let clusters = server.data_dir.join("sandbox/clusters");
    let loaded = knit::clusters::load_dir(&clusters, knit::clusters::Library::builtin());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let demo = loaded.definitions;
    assert_eq!(demo[0].name(), "sandbox.demo");
    let web_hosts = demo[0].file.machines["web"]
        .get_ref()
        .hosts
        .clone()
        .unwrap_or_default();
    assert_eq!(web_hosts.len(), 2);
    assert_eq!(*web_hosts[0].get_ref(), sandbox.hosts[0].address);

    // The sandbox's private key never shows in the server's log.
    let private_key =
        std::fs::read_to_string(identity.private_key.as_ref().expect("a key file")).expect("key");
    let secret_line = private_key.lines().nth(1).expect("key body");
    assert!(!server.log().contains(secret_line));

    // Stopping knit stops its sshd hosts too.
    let ports: Vec<u16> = sandbox
        .hosts
        .iter()
        .map(|h| SshTarget::parse(&h.address).port)
        .collect();
    let status = server.stop();
    assert!(status.success(), "knit exited with {status}");
    for port in ports {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "sshd on port {port} outlived knit"
        );
    }
    moto.stop().await;
}
