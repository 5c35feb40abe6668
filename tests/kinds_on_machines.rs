//! The built-in kinds as every user gets them (`sudo`, systemd units, packages from apt), on
//! the sandbox's real machines: `install` on fresh machines, `update` and `restart` after, then
//! each service is checked by what it answers: nginx on port 80, redis's PING, memcached's
//! stats, psql through pgbouncer.

use std::time::Duration;

use knit_shared::RunStatus;

use crate::harness::start_sandbox_with;

/// Packages come from Debian's mirror through the sandbox's proxy: a first run downloads them.
const INSTALL: Duration = Duration::from_secs(900);
const CHECK: Duration = Duration::from_secs(120);

const SERVICES: &str = r#"[cluster]
name = "services"
region = "us-east-1"
key_name = "knit-sandbox"
key_file = "{KEY_FILE}"
user = "admin"
connect = "private_ip"
host_keys = "console_output"

[machines.front]
ami = "ami-12c6146b"
instance_type = "t3.micro"
security_groups = ["services"]
[machines.front.roles.proxy]
kind = "nginx_proxy"
sites = ["shop.example"]
upstream = ["127.0.0.1:8000"]
[machines.front.roles.front_check]
kind = "front_check"

[machines.db]
ami = "ami-12c6146b"
instance_type = "t3.micro"
security_groups = ["services"]
[machines.db.roles.memcache]
kind = "memcache"
unix_socket = false
[machines.db.roles.redis]
kind = "redis"
[machines.db.roles.postgres]
kind = "bounced_postgres"
db_name = "shop"
user = "shop"
trust_users = ["postgres", "shop"]
[machines.db.roles.db_check]
kind = "db_check"

[kinds.front_check.tasks]
check = ["curl -s -o /dev/null -D - -H 'Host: shop.example' http://127.0.0.1/ | grep -i '^server: nginx' | tr -d '\r'"]

[kinds.db_check.tasks]
check = [
  "echo \"redis $(redis-cli -p 6379 ping)\"",
  '''echo "memcached $(bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211; printf "stats\r\nquit\r\n" >&3; grep -a -m1 -o "STAT pid" <&3')"''',
  "echo \"pgbouncer $(psql 'host=127.0.0.1 port=6432 dbname=shop user=shop' -Atc 'select 40 + 2')\"",
]

[scenarios.refresh]
steps = ["ALL.update", "proxy.reload", "memcache.restart", "redis.restart", "postgres.restart"]

[scenarios.check]
steps = ["front_check.check", "db_check.check"]

[firewall.services]
rules = [{ proto = "tcp", ports = "22", from = "198.51.100.0/24" }]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_kinds_install_with_their_defaults_on_fresh_machines_and_their_services_answer()
 {
    let dir = tempfile::tempdir().expect("a folder");
    let (_moto, server) = start_sandbox_with(dir.path(), &["--sandbox-machines", "on"]).await;
    server.add_sandbox_cluster("services.toml", SERVICES);

    let (launch, log) = server.run_to_end("services", "launch", CHECK).await;
    assert_eq!(launch.status, RunStatus::Ok, "{log}");
    let (install, log) = server.run_to_end("services", "install", INSTALL).await;
    assert_eq!(install.status, RunStatus::Ok, "{log}");
    let (refresh, log) = server.run_to_end("services", "refresh", CHECK).await;
    assert_eq!(refresh.status, RunStatus::Ok, "{log}");

    let (check, log) = server.run_to_end("services", "check", CHECK).await;
    assert_eq!(check.status, RunStatus::Ok, "{log}");
    let said: Vec<&str> = log
        .lines()
        .filter_map(|line| line.split(" stdout | ").nth(1))
        .collect();
    assert!(
        said.iter().any(|line| line.starts_with("Server: nginx/")),
        "{log}"
    );
    for answer in ["redis PONG", "memcached STAT pid", "pgbouncer 42"] {
        assert!(said.contains(&answer), "{answer} not in {log}");
    }
    server.stop();
}
