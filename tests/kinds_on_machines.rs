//! The built-in kinds as every user gets them (`sudo`, systemd units, packages from apt), on
//! the sandbox's real machines: `install` on fresh machines, `update` and `restart` after, then
//! each service is checked by what it answers: nginx on port 80, redis's PING, memcached's
//! stats, psql through pgbouncer: from the frontend's private address with the database's
//! password (one it does not know is refused), not from an address outside `clients`.

use std::time::Duration;

use knit_shared::RunStatus;

use crate::harness::start_sandbox_with;

/// Packages come from Debian's mirror through the sandbox's proxy: a first run downloads them.
const INSTALL: Duration = Duration::from_secs(900);
const CHECK: Duration = Duration::from_secs(120);
/// The shop database's password, in the server's secrets folder as `password_file` names it.
const PASSWORD: &str = "shop:db pass@81c3";

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
password_file = "services-shop"
trust_users = ["postgres"]
[machines.db.roles.db_check]
kind = "db_check"

# The frontend counts as an app host (it has an app_port), so pgbouncer lets it in.
[kinds.front_check]
extends = "base"
[kinds.front_check.settings]
app_port = 8000
[kinds.front_check.tasks]
install = ["{{ knit.packages(['postgresql-client']) }}"]
check = [
  "curl -s -o /dev/null -D - -H 'Host: shop.example' http://127.0.0.1/ | grep -i '^server: nginx' | tr -d '\r'",
  "echo \"pgbouncer from the frontend $(psql {{ 'postgresql://shop:' ~ roles.postgres[0].password|url_part ~ '@' ~ roles.postgres[0].address ~ ':6432/shop' }} -w -Atc 'select 40 + 2')\"",
  "echo \"another password: $(PGPASSWORD=guessed psql -h {{ roles.postgres[0].address }} -p 6432 -U shop -d shop -w -Atc 'select 1' 2>&1 | grep -o 'SASL authentication failed')\"",
]

[kinds.db_check.tasks]
check = [
  "echo \"redis $(redis-cli -p 6379 ping)\"",
  '''echo "memcached $(bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211; printf "stats\r\nquit\r\n" >&3; grep -a -m1 -o "STAT pid" <&3')"''',
  # This machine's private address is not an app host's: pgbouncer refuses it, password or not.
  "echo \"not a client: $(PGPASSWORD={{ roles.postgres[0].password }} psql -h {{ address }} -p 6432 -U shop -d shop -w -Atc 'select 1' 2>&1 | grep -o 'login rejected')\"",
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
    let secrets = dir.path().join("data/secrets");
    std::fs::create_dir_all(&secrets).expect("the secrets folder");
    std::fs::write(secrets.join("services-shop"), PASSWORD).expect("written");

    let (launch, log) = server.run_to_end("services", "launch", CHECK).await;
    assert_eq!(launch.status, RunStatus::Ok, "{log}");
    let (install, install_log) = server.run_to_end("services", "install", INSTALL).await;
    assert_eq!(install.status, RunStatus::Ok, "{install_log}");
    assert!(
        install_log
            .contains("shop logs in to shop through pgbouncer on port 6432 with its password"),
        "{install_log}"
    );
    let (refresh, log) = server.run_to_end("services", "refresh", CHECK).await;
    assert_eq!(refresh.status, RunStatus::Ok, "{log}");

    let (check, log) = server.run_to_end("services", "check", CHECK).await;
    assert_eq!(check.status, RunStatus::Ok, "{log}");
    assert!(
        ![&install_log, &log]
            .iter()
            .any(|log| log.contains(PASSWORD)),
        "the password is in a run's log"
    );
    let said: Vec<&str> = log
        .lines()
        .filter_map(|line| line.split(" stdout | ").nth(1))
        .collect();
    assert!(
        said.iter().any(|line| line.starts_with("Server: nginx/")),
        "{log}"
    );
    for answer in [
        "redis PONG",
        "memcached STAT pid",
        "pgbouncer from the frontend 42",
        "another password: SASL authentication failed",
        "not a client: login rejected",
    ] {
        assert!(said.contains(&answer), "{answer} not in {log}");
    }
    server.stop();
}
