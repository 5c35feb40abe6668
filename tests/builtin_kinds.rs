//! The built-in kinds as they are on real machines (sudo, systemd), which these machines cannot
//! run: every file they write for the example cluster is rendered and checked by its own daemon
//! (nginx -t, memcached, redis and pgbouncer started with theirs and asked what they took,
//! PostgreSQL reading its settings and pg_hba.conf), and their commands carry their settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use knit::clusters::{self, Command as Step, Definition, FoundHost, Library};
use knit::ssh::SshTarget;

use crate::harness::{ProcessGroup, start_postgres};

/// The example cluster, its database roles' files under `prefix` and their ports free ones,
/// everything else as written.
fn example(prefix: &Path, ports: &BTreeMap<&str, u16>) -> Definition {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clusters");
    let mut loaded = clusters::load_dir(&dir, Library::builtin());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let mut definition = loaded.definitions.remove(0);
    definition
        .read_secrets(secrets_folder().path())
        .expect("the example's password");
    let db = definition
        .file
        .machines
        .get_mut("db")
        .expect("db")
        .get_mut();
    for (role, settings) in [
        ("memcache", vec![("port", "memcached")]),
        ("redis", vec![("port", "redis")]),
        (
            "postgres",
            vec![("port", "postgres"), ("bouncer_port", "pgbouncer")],
        ),
    ] {
        let role = db.roles.get_mut(role).expect("role").get_mut();
        role.settings
            .insert("prefix".to_owned(), prefix.display().to_string().into());
        // The private address is not this machine's.
        role.settings
            .insert("listen".to_owned(), "127.0.0.1".into());
        for (setting, port) in settings {
            role.settings
                .insert(setting.to_owned(), i64::from(ports[port]).into());
        }
    }
    definition
}

/// The example's database password.
const PASSWORD: &str = "correct horse:battery@staple";

/// A secrets folder holding the example's `password_file`.
fn secrets_folder() -> tempfile::TempDir {
    let folder = tempfile::tempdir().expect("a folder");
    std::fs::write(
        folder.path().join("production.mysite-db"),
        format!("{PASSWORD}\n"),
    )
    .expect("written");
    folder
}

/// The example's instances: knit logs in at their public addresses, the frontend's private one
/// is 10.0.1.5 and the database's 10.0.2.7.
fn launched_hosts() -> knit::clusters::MachineHosts {
    let launched = |public: &str, private: &str| FoundHost {
        target: SshTarget::parse(public),
        private_ip: Some(private.to_owned()),
    };
    BTreeMap::from([
        (
            "frontend".to_owned(),
            vec![launched("deploy@203.0.113.10", "10.0.1.5")],
        ),
        (
            "db".to_owned(),
            vec![launched("deploy@203.0.113.7", "10.0.2.7")],
        ),
    ])
}

/// `scenario` of the example planned on its instances.
fn try_plan(
    definition: &Definition,
    scenario: &str,
) -> Result<knit::clusters::Plan, knit::clusters::PlanError> {
    plan_on(definition, scenario, &launched_hosts())
}

fn plan_on(
    definition: &Definition,
    scenario: &str,
    hosts: &knit::clusters::MachineHosts,
) -> Result<knit::clusters::Plan, knit::clusters::PlanError> {
    definition.plan(
        Library::builtin(),
        hosts,
        &knit_shared::StartRun::new(definition.name(), scenario),
        &knit::clusters::run_stamp(),
    )
}

/// The plan of `scenario` on the example's instances.
fn plan_of(definition: &Definition, scenario: &str) -> knit::clusters::Plan {
    try_plan(definition, scenario).unwrap_or_else(|error| panic!("{scenario}: {error}"))
}

/// Every command of `scenario` on the example.
fn commands(definition: &Definition, scenario: &str) -> Vec<Step> {
    plan_of(definition, scenario)
        .steps
        .into_iter()
        .flat_map(|step| step.jobs)
        .flat_map(|job| job.commands)
        .collect()
}

/// The shell scripts among `commands`, one after the other.
fn scripts(commands: &[Step]) -> String {
    commands
        .iter()
        .filter_map(|command| match command {
            Step::Run { script, .. } => Some(script.as_str()),
            Step::Upload { .. } => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text written to the file whose path ends with `end`.
fn written(commands: &[Step], end: &str) -> (String, String) {
    commands
        .iter()
        .find_map(|command| match command {
            Step::Upload { to, content, .. } if to.ends_with(end) => {
                Some((to.clone(), content.clone()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("nothing is written to …{end}"))
}

fn put(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
    std::fs::write(path, text).expect("write");
}

fn free_port() -> u16 {
    knit::sandbox::free_port().expect("a free port")
}

fn running_as_root() -> bool {
    String::from_utf8_lossy(&Command::new("id").arg("-u").output().expect("id").stdout).trim()
        == "0"
}

/// Runs `program` until it answers `probe` (polled), or panics with its output.
fn daemon(
    mut command: Command,
    what: &str,
    probe: impl Fn() -> Option<String>,
) -> (ProcessGroup, String) {
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let process = ProcessGroup::spawn(command).unwrap_or_else(|error| panic!("{what}: {error}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(answer) = probe() {
            return (process, answer);
        }
        assert!(Instant::now() < deadline, "{what} did not answer in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let done = Command::new(program).args(args).output().ok()?;
    done.status
        .success()
        .then(|| String::from_utf8_lossy(&done.stdout).into_owned())
}

#[test]
fn nginx_accepts_the_proxy_and_maintenance_sites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ports = ports();
    let install = commands(&example(dir.path(), &ports), "install");
    let (to, site) = written(&install, "/sites-available/production.mysite");
    assert_eq!(to, "/etc/nginx/sites-available/production.mysite");
    for line in [
        "server 10.0.1.5:8000;",
        "listen 80 default_server;",
        "server_name mysite;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        // The Django app on the same host: its collected files and uploads, served by nginx.
        "location /static/ {",
        "alias /srv/mysite/shared/static/;",
        "location /media/ {",
        "alias /srv/mysite/shared/media/;",
        "expires 7d;",
    ] {
        assert!(site.contains(line), "{line:?} not in {site}");
    }
    let (_, maintenance) = written(&install, "/sites-available/production.mysite.maintenance");
    assert!(maintenance.contains("return 503;"), "{maintenance}");
    assert!(
        maintenance.contains("root /var/www/knit-maintenance;"),
        "{maintenance}"
    );

    for (name, text) in [("site.conf", &site), ("maintenance.conf", &maintenance)] {
        let folder = dir.path().join(name.replace('.', "-"));
        put(&folder.join(name), text);
        let main = folder.join("nginx.conf");
        put(
            &main,
            &format!(
                "pid {0}/nginx.pid;\nerror_log {0}/error.log;\nevents {{}}\nhttp {{\n\
                 include /etc/nginx/mime.types;\ninclude {0}/{name};\n}}\n",
                folder.display()
            ),
        );
        let checked = Command::new("/usr/sbin/nginx")
            .arg("-t")
            .arg("-c")
            .arg(&main)
            .arg("-e")
            .arg(folder.join("error.log"))
            .output()
            .expect("nginx runs");
        assert!(
            checked.status.success(),
            "nginx -t refused {name}: {}",
            String::from_utf8_lossy(&checked.stderr)
        );
    }
}

fn ports() -> BTreeMap<&'static str, u16> {
    ["memcached", "redis", "postgres", "pgbouncer"]
        .into_iter()
        .map(|name| (name, free_port()))
        .collect()
}

#[test]
fn memcached_and_redis_take_their_settings_from_the_written_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ports = ports();
    let install = commands(&example(dir.path(), &ports), "install");

    let (to, options) = written(&install, "/etc/memcached.conf");
    assert_eq!(PathBuf::from(&to), dir.path().join("etc/memcached.conf"));
    assert!(options.contains("\n-u memcache\n"), "{options}");
    let args: Vec<&str> = options
        .lines()
        .filter(|line| !line.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect();
    let mut memcached = Command::new("memcached");
    memcached.args(&args);
    if !running_as_root() {
        // Only root may change the account; any other runs it as itself.
        memcached.args(["-u", "nobody"]);
    }
    let port = ports["memcached"].to_string();
    let (_memcached, stats) = daemon(memcached, "memcached", || {
        use std::io::{BufRead, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", ports["memcached"])).ok()?;
        stream.write_all(b"stats settings\r\n").ok()?;
        let mut text = String::new();
        for line in std::io::BufReader::new(stream).lines() {
            let line = line.ok()?;
            if line == "END" {
                return Some(text);
            }
            text.push_str(&line);
            text.push('\n');
        }
        None
    });
    // The example gives memory_mb = 256.
    assert!(stats.contains("STAT maxbytes 268435456\n"), "{stats}");
    assert!(stats.contains(&format!("STAT tcpport {port}\n")), "{stats}");

    let (to, conf) = written(&install, "/etc/redis/redis.conf");
    for folder in ["var/lib/redis", "var/log/redis", "run/redis"] {
        std::fs::create_dir_all(dir.path().join(folder)).expect("folder");
    }
    put(Path::new(&to), &conf);
    assert!(conf.contains("supervised systemd"), "{conf}");
    let mut redis = Command::new("redis-server");
    redis.arg(&to);
    let port = ports["redis"].to_string();
    let (_redis, maxmemory) = daemon(redis, "redis-server", || {
        output("redis-cli", &["-p", &port, "config", "get", "maxmemory"])
            .filter(|answer| answer.starts_with("maxmemory"))
    });
    // The example gives maxmemory = "128mb".
    assert_eq!(maxmemory.lines().nth(1), Some("134217728"), "{maxmemory}");
}

#[test]
fn pgbouncer_and_postgresql_take_their_settings_from_the_written_files() {
    let postgres = start_postgres();
    let dir = tempfile::Builder::new()
        .prefix("knit-bouncer")
        .tempdir()
        .expect("temp dir");
    let mut ports = ports();
    ports.insert("postgres", postgres.port);
    let install = commands(&example(dir.path(), &ports), "install");

    // PostgreSQL reads the settings and the access rules without a complaint.
    let (_, settings) = written(&install, "/conf.d/knit.conf");
    let (_, rules) = written(&install, "/main/pg_hba.conf");
    std::fs::write(postgres.data.join("knit.conf"), &settings).expect("write");
    let conf = postgres.data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).expect("read");
    text.push_str("include 'knit.conf'\n");
    std::fs::write(&conf, text).expect("write");
    let psql = |sql: &str| {
        output(
            "psql",
            &[&postgres.url, "-X", "-q", "-t", "-A", "-F", "|", "-c", sql],
        )
        .unwrap_or_else(|| panic!("psql: {sql}"))
    };
    // A setting that needs a restart is read, and "could not be applied" until then.
    let read = psql(
        "select name || '=' || setting || '=' || case when error is null \
         or error = 'setting could not be applied' then 'read' else error end \
         from pg_file_settings where sourcefile like '%knit.conf' order by name",
    );
    assert!(read.contains("max_connections=4101=read"), "{read}");
    assert!(
        read.contains(&format!("port={}=read", postgres.port)),
        "{read}"
    );
    assert!(read.contains("listen_addresses=localhost=read"), "{read}");
    // pg_hba_file_rules reads the file as it is now; the test's own account stays trusted.
    std::fs::write(
        postgres.data.join("pg_hba.conf"),
        format!("host all knit 127.0.0.1/32 trust\n{rules}"),
    )
    .expect("write");
    let parsed = psql(
        "select coalesce(error, 'ok') || '=' || type || '=' || array_to_string(user_name, ',') \
         || '=' || auth_method from pg_hba_file_rules",
    );
    assert!(
        !parsed.lines().any(|line| !line.starts_with("ok=")),
        "{parsed}"
    );
    assert!(parsed.contains("ok=host=postgres=trust"), "{parsed}");
    assert!(parsed.contains("ok=host=all=scram-sha-256"), "{parsed}");
    assert!(parsed.contains("ok=local=postgres=peer"), "{parsed}");
    psql("select pg_reload_conf()");

    // The role gets the verifier pgbouncer keeps, as apply.sh gives it; neither file holds
    // the password.
    let (_, users) = written(&install, "pgbouncer/userlist.txt");
    assert!(!users.contains(PASSWORD), "{users}");
    let verifier = users
        .lines()
        .find_map(|line| line.strip_prefix("\"mysite\" \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("mysite's verifier");
    assert!(verifier.starts_with("SCRAM-SHA-256$4096:"), "{users}");
    psql(&format!("create role mysite login password '{verifier}'"));
    psql("create database mysite owner mysite");
    let (_, clients) = written(&install, "pgbouncer/pg_hba.conf");
    assert!(
        clients.contains("host all all 10.0.1.5/32 scram-sha-256"),
        "the frontend's private address: {clients}"
    );

    // pgbouncer starts with its three files and says what it took.
    for end in [
        "pgbouncer.ini",
        "pgbouncer/pg_hba.conf",
        "pgbouncer/userlist.txt",
    ] {
        let (to, text) = written(&install, end);
        put(Path::new(&to), &text);
    }
    let (ini, _) = written(&install, "pgbouncer.ini");
    let mut pgbouncer = Command::new("/usr/sbin/pgbouncer");
    if running_as_root() {
        // pgbouncer refuses root, as the systemd unit knows: it runs as postgres.
        let chowned = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(chowned.success());
        pgbouncer = Command::new("runuser");
        pgbouncer.args(["-u", "postgres", "--", "/usr/sbin/pgbouncer"]);
    }
    pgbouncer.arg(&ini);
    let port = ports["pgbouncer"].to_string();
    let through_pgbouncer = |password: &str, database: &str, sql: &str| {
        Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "mysite",
                "-d",
                database,
            ])
            .args(["-X", "-t", "-A", "-w", "-c", sql])
            .env("PGPASSWORD", password)
            .output()
            .expect("psql runs")
    };
    let (_pgbouncer, config) = daemon(pgbouncer, "pgbouncer", || {
        let shown = through_pgbouncer(PASSWORD, "pgbouncer", "SHOW CONFIG");
        shown
            .status
            .success()
            .then(|| String::from_utf8_lossy(&shown.stdout).into_owned())
    });
    for (key, value) in [
        ("max_client_conn", "8192"),
        ("max_db_connections", "4096"),
        ("auth_type", "hba"),
        ("listen_port", port.as_str()),
    ] {
        let line = format!("{key}|{value}|");
        assert!(config.contains(&line), "{line} not in {config}");
    }
    // The app's password gets through pgbouncer and on to PostgreSQL (which checks it again
    // by the same verifier); another is refused.
    let app = through_pgbouncer(PASSWORD, "mysite", "select current_user");
    assert_eq!(
        String::from_utf8_lossy(&app.stdout).trim(),
        "mysite",
        "{}",
        String::from_utf8_lossy(&app.stderr)
    );
    let wrong = through_pgbouncer("not the password", "mysite", "select current_user");
    assert!(!wrong.status.success());
    let said = String::from_utf8_lossy(&wrong.stderr);
    // pgbouncer's words for a proof that does not match.
    assert!(said.contains("SASL authentication failed"), "{said}");
}

/// The ports `example` gave the database machine's roles.
fn ports_of(definition: &Definition) -> BTreeMap<&'static str, i64> {
    let roles = &definition.file.machines["db"].get_ref().roles;
    let port = |role: &str, setting: &str| {
        roles[role].get_ref().settings[setting]
            .as_integer()
            .expect("a port")
    };
    BTreeMap::from([
        ("pgbouncer", port("postgres", "bouncer_port")),
        ("redis", port("redis", "port")),
        ("memcached", port("memcache", "port")),
    ])
}

#[test]
fn a_database_user_without_password_or_trust_is_refused_when_planned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut definition = example(dir.path(), &ports());
    let postgres = definition
        .file
        .machines
        .get_mut("db")
        .expect("db")
        .get_mut()
        .roles
        .get_mut("postgres")
        .expect("postgres")
        .get_mut();
    postgres.settings.remove("password");
    let refused = try_plan(&definition, "install").expect_err("nobody could log in");
    assert!(
        refused
            .to_string()
            .contains("mysite has no password and is not in trust_users"),
        "{refused}"
    );
}

#[test]
fn a_rolling_deploy_takes_each_frontend_out_of_every_nginx_and_puts_it_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let definition = example(dir.path(), &ports());
    let mut hosts = launched_hosts();
    hosts
        .get_mut("frontend")
        .expect("frontend")
        .push(FoundHost {
            target: SshTarget::parse("deploy@203.0.113.11"),
            private_ip: Some("10.0.1.6".to_owned()),
        });
    let plan = plan_on(&definition, "deploy", &hosts).expect("planned");
    let steps: Vec<&str> = plan.steps.iter().map(|step| step.name.as_str()).collect();
    assert_eq!(
        steps,
        [
            "ALL.drain (batch 1 out)",
            "ALL.drain (batch 2 out)",
            "django.prepare",
            "django.migrate",
            "django.static",
            "django.switch",
            "django.restart",
            "ALL.drain (batch 1 back)",
            "ALL.drain (batch 2 back)",
        ]
    );
    // Each nginx marks the batch's host down: the canary first, then the other.
    let site = |step: usize| {
        let commands: Vec<Step> = plan.steps[step]
            .jobs
            .iter()
            .flat_map(|job| job.commands.clone())
            .collect();
        assert_eq!(plan.steps[step].jobs.len(), 2, "on both frontends' nginx");
        written(&commands, "/sites-available/production.mysite").1
    };
    for (step, down, up) in [(0, "10.0.1.5", "10.0.1.6"), (1, "10.0.1.6", "10.0.1.5")] {
        let site = site(step);
        assert!(
            site.contains(&format!("server {down}:8000 down;")),
            "{site}"
        );
        assert!(site.contains(&format!("server {up}:8000;")), "{site}");
    }
    let back = site(7);
    assert!(!back.contains(" down;"), "{back}");
    // One batch (a single frontend) has nobody to serve meanwhile: no drain.
    let single = plan_of(&definition, "deploy");
    assert!(single.steps.iter().all(|step| step.drain.is_none()));
}

#[test]
fn commands_carry_their_settings_and_privilege() {
    let dir = tempfile::tempdir().expect("temp dir");
    let definition = example(dir.path(), &ports());
    let install = commands(&definition, "install");
    let all = scripts(&install);
    for expected in [
        // Package lists refreshed when stale, installs not interactive, and with sudo.
        "sudo apt-get update -q",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing",
        // Each value a quoted word.
        "for package in 'nginx' 'curl'; do",
        "for package in 'git' 'curl' 'python3-venv'; do",
        "for package in 'postgresql-15' 'pgbouncer'; do",
        // Services are systemd's.
        "sudo systemctl restart 'memcached'",
        "sudo systemctl restart 'postgresql@15-main'",
        "sudo systemctl enable --quiet 'postgresql'",
        "sudo rm /etc/nginx/sites-enabled/default",
        // The app's folder is the deploy user's; the unit runs the app as an account of its
        // own, which owns only the uploads.
        "sudo install -d -o \"$(id -un)\" -g \"$(id -gn)\" '/srv/mysite'",
        "sudo useradd --system --user-group --no-create-home --home-dir '/srv/mysite' --shell /usr/sbin/nologin 'app'",
        "sudo chown 'app': '/srv/mysite/shared/media'",
    ] {
        assert!(all.contains(expected), "{expected:?} not in the install");
    }
    assert!(!all.contains("|| true"), "an error is hidden: {all}");
    let (to, unit) = written(&install, "/etc/systemd/system/app.service");
    assert!(to.starts_with("/etc/systemd/system/"), "{to}");
    assert!(
        unit.contains("WorkingDirectory=/srv/mysite/current"),
        "{unit}"
    );
    let (_, env) = written(&install, "/srv/mysite/shared/knit.env");
    assert!(env.contains("WSGI_MODULE='mysite.wsgi'"), "{env}");
    assert!(
        env.contains("STATIC_ROOT='/srv/mysite/shared/static'"),
        "{env}"
    );
    assert!(
        env.contains("MEDIA_ROOT='/srv/mysite/shared/media'"),
        "{env}"
    );
    // The database and the caches at the db machine's private address, the password in the
    // URL and in no command.
    let ports = ports_of(&definition);
    for line in [
        format!(
            "DATABASE_URL='postgresql://mysite:correct%20horse%3Abattery%40staple@10.0.2.7:{}/mysite'",
            ports["pgbouncer"]
        ),
        format!("REDIS_URL='redis://10.0.2.7:{}'", ports["redis"]),
        format!("MEMCACHED_SERVERS='10.0.2.7:{}'", ports["memcached"]),
    ] {
        assert!(env.contains(&line), "{line} not in {env}");
    }
    assert!(
        !all.contains(PASSWORD) && !all.contains("SCRAM-SHA-256$"),
        "{all}"
    );

    let all = scripts(&commands(&definition, "deploy_offline"));
    for expected in [
        "git clone --quiet --mirror 'https://github.com/example/mysite.git' repo",
        // A virtualenv per requirements.txt, linked from the release.
        "venv=\"$APP_DIR/venvs/$(sha256sum requirements.txt | cut -c 1-16)\"",
        "\"$venv/bin/pip\" install -q -r requirements.txt gunicorn",
        "ln -sfn \"$venv\" venv",
        // Migrations and static files in the run's release, before it goes live.
        "for made in releases/",
        "venv/bin/python manage.py migrate --noinput",
        "venv/bin/python manage.py collectstatic --noinput",
        "sudo systemctl restart 'app'",
        "url=http://127.0.0.1:8000'/'",
        "sudo nginx -t -q",
        "sudo systemctl reload-or-restart nginx",
    ] {
        assert!(all.contains(expected), "{expected:?} not in the deploy");
    }

    // The built-in rollback takes the schema back first, once, then switches and restarts;
    // each restart records the schema its release runs with.
    let rollback = plan_of(&definition, "rollback");
    let steps: Vec<(&str, bool)> = rollback
        .steps
        .iter()
        .map(|step| (step.name.as_str(), step.once))
        .collect();
    assert_eq!(
        steps,
        [
            ("django.unmigrate", true),
            ("django.rollback", false),
            ("django.restart", false)
        ]
    );
    let all = scripts(&commands(&definition, "rollback"));
    for expected in [
        "venv/bin/python manage.py migrate --plan \"$app\" \"$to\" < /dev/null",
        "grep -q IRREVERSIBLE",
        "KNIT_MIGRATIONS='/srv/mysite'/releases/$target/.knit-migrations",
        "> '/srv/mysite'/current/.knit-migrations.new",
    ] {
        assert!(all.contains(expected), "{expected:?} not in the rollback");
    }
}
