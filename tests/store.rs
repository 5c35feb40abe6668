//! The store keeps the same records with the same rules in SQLite and in PostgreSQL: the
//! per-cluster lock, events in order, filtered history, launch tokens, the audit log.

use knit::store::{AuditEvent, NewRun, Store, WizardClaim};
use knit_shared::{
    PlannedHost, PlannedStep, RunEvent, RunEventBody, RunPlan, RunQuery, RunStatus, Stream,
    WizardLaunched,
};

use crate::harness::start_postgres;

fn plan() -> RunPlan {
    RunPlan {
        steps: vec![PlannedStep {
            name: "app.greet".to_owned(),
            finally: false,
            hosts: vec!["web-1".to_owned()],
        }],
        hosts: vec![PlannedHost {
            name: "web-1".to_owned(),
            machine: "web".to_owned(),
            address: "deploy@127.0.0.1:22".to_owned(),
        }],
        batches: Vec::new(),
        stamp: String::new(),
    }
}

/// No parameters, for runs that take none.
static NO_PARAMS: std::sync::LazyLock<std::collections::BTreeMap<String, String>> =
    std::sync::LazyLock::new(Default::default);

fn new_run<'a>(cluster: &'a str, scenario: &'a str, plan: &'a RunPlan) -> NewRun<'a> {
    NewRun {
        cluster,
        scenario,
        actor: "ada",
        plan,
        params: &NO_PARAMS,
        retry_of: None,
    }
}

fn line(seq: i64, text: &str) -> RunEvent {
    RunEvent {
        seq,
        at_ms: 1_700_000_000_000 + seq,
        body: RunEventBody::Line {
            step: 0,
            host: "web-1".to_owned(),
            stream: Stream::Stdout,
            text: text.to_owned(),
        },
    }
}

/// Everything the store promises, on the database at `url`.
async fn keeps_its_promises(url: &str) {
    let store = Store::open(url).await.expect("open");
    // Opening again finds the migrations applied.
    let store = {
        drop(store);
        Store::open(url).await.expect("open again")
    };
    let plan = plan();

    let first = store
        .start_run(&new_run("shop", "deploy", &plan))
        .await
        .expect("start")
        .expect("the cluster is free");
    let holder = store
        .start_run(&new_run("shop", "restart", &plan))
        .await
        .expect("start")
        .expect_err("the cluster is held");
    assert_eq!((holder.id, holder.scenario.as_str()), (first, "deploy"));
    let other = store
        .start_run(&new_run("blog", "deploy", &plan))
        .await
        .expect("start")
        .expect("another cluster is free");

    let events: Vec<RunEvent> = (1..=5).map(|n| line(n, &format!("line {n} é"))).collect();
    store
        .append_run_events(first, &events[..3])
        .await
        .expect("append");
    store
        .append_run_events(first, &events[3..])
        .await
        .expect("append");
    assert_eq!(store.run_events(first, 0, 100).await.expect("read"), events);
    assert_eq!(
        store.run_events(first, 2, 2).await.expect("read"),
        events[2..4].to_vec()
    );
    let duplicate = store.append_run_events(first, &events[3..]).await;
    assert!(duplicate.is_err(), "an event number is written once");
    // A batch is written whole or not at all, however many statements it takes.
    let mut late: Vec<RunEvent> = (6..=45).map(|n| line(n, "late")).collect();
    late.push(events[4].clone());
    let duplicate = store.append_run_events(first, &late).await;
    assert!(duplicate.is_err(), "an event number is written once");
    assert_eq!(
        store.run_events(first, 0, 100).await.expect("read").len(),
        5
    );
    // As many as the journal writes at once.
    let many: Vec<RunEvent> = (1..=512).map(|n| line(n, &format!("many {n}"))).collect();
    store
        .append_run_events(other, &many)
        .await
        .expect("append many");
    assert_eq!(store.run_events(other, 0, 1000).await.expect("read"), many);

    store
        .finish_run(first, RunStatus::Failed)
        .await
        .expect("finish");
    let (summary, stored_plan) = store.run(first).await.expect("read").expect("exists");
    assert_eq!(stored_plan, plan);
    assert_eq!(summary.status, RunStatus::Failed);
    let finished = summary.finished_at.as_deref().expect("a finish time");
    assert!(finished >= summary.started_at.as_str(), "{summary:?}");
    assert!(store.run(9_999).await.expect("read").is_none());

    let again = store
        .start_run(&new_run("shop", "restart", &plan))
        .await
        .expect("start")
        .expect("finishing released the cluster");
    let ids = |runs: Vec<knit_shared::RunSummary>| runs.iter().map(|r| r.id).collect::<Vec<_>>();
    let everything = RunQuery::default();
    assert_eq!(
        ids(store.runs(&everything, 10).await.expect("list")),
        vec![again, other, first]
    );
    assert_eq!(
        ids(store.runs(&everything, 2).await.expect("list")),
        vec![again, other]
    );
    let shop_running = RunQuery {
        cluster: Some("shop".to_owned()),
        status: Some("running".to_owned()),
        ..RunQuery::default()
    };
    assert_eq!(
        ids(store.runs(&shop_running, 10).await.expect("list")),
        vec![again]
    );
    let nobody = RunQuery {
        actor: Some("grace".to_owned()),
        ..RunQuery::default()
    };
    assert!(store.runs(&nobody, 10).await.expect("list").is_empty());

    // Runs waiting in line or for an approver are counted, and only those.
    assert_eq!(store.runs_waiting().await.expect("count"), 0);
    store
        .enqueue_run(&new_run("line", "deploy", &plan))
        .await
        .expect("queue");
    store
        .await_approval(&new_run("gate", "deploy", &plan))
        .await
        .expect("ask");
    assert_eq!(store.runs_waiting().await.expect("count"), 2);

    assert_eq!(
        store
            .claim_wizard_token("token-1", "ada", "eu-west-1")
            .await
            .expect("claim"),
        WizardClaim::New
    );
    assert_eq!(
        store
            .claim_wizard_token("token-1", "ada", "eu-west-1")
            .await
            .expect("claim"),
        WizardClaim::InFlight
    );
    let launched = WizardLaunched {
        instance_ids: vec!["i-1".to_owned(), "i-2".to_owned()],
        created: vec!["security group web (sg-1)".to_owned()],
        repeated: false,
        private_key: None,
    };
    store
        .finish_wizard_token("token-1", Some(&launched))
        .await
        .expect("finish launch");
    assert_eq!(
        store
            .claim_wizard_token("token-1", "ada", "eu-west-1")
            .await
            .expect("claim"),
        WizardClaim::Done(launched)
    );
    store
        .claim_wizard_token("token-2", "ada", "eu-west-1")
        .await
        .expect("claim");
    store
        .finish_wizard_token("token-2", None)
        .await
        .expect("forget");
    assert_eq!(
        store
            .claim_wizard_token("token-2", "ada", "eu-west-1")
            .await
            .expect("claim"),
        WizardClaim::New,
        "a launch that started nothing can be tried again"
    );

    for (action, address) in [
        ("instances.stop", None),
        ("instances.start", Some("10.1.2.3")),
    ] {
        store
            .record(&AuditEvent {
                actor: "ada".to_owned(),
                address: address.map(str::to_owned),
                action: action.to_owned(),
                target: "i-1".to_owned(),
                outcome: "1 ok, 0 failed".to_owned(),
            })
            .await
            .expect("audit");
    }
    let everything = knit_shared::AuditQuery::default();
    let audited = store.audit_events(&everything, 1).await.expect("audit log");
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].action, "instances.start");
    assert_eq!(audited[0].address.as_deref(), Some("10.1.2.3"));
    assert!(audited[0].at.starts_with("20"), "{:?}", audited[0].at);
    let stops = knit_shared::AuditQuery {
        action: Some("instances.st".to_owned()),
        actor: Some("ada".to_owned()),
    };
    let found = store.audit_events(&stops, 10).await.expect("audit log");
    assert_eq!(found.len(), 2, "a prefix of the action: {found:?}");
    let nobody = knit_shared::AuditQuery {
        actor: Some("grace".to_owned()),
        ..knit_shared::AuditQuery::default()
    };
    assert!(
        store
            .audit_events(&nobody, 10)
            .await
            .expect("audit log")
            .is_empty()
    );
}

/// Moves run `id` to another process, maybe on another machine, last alive `silent_ms` ago,
/// as only another knit process could.
async fn hand_over(url: &str, id: i64, pid: i64, hostname: Option<&str>, silent_ms: i64) {
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect");
    sqlx::query(
        "UPDATE runs SET pid = $1, hostname = COALESCE($2, hostname), alive_at_ms = $3 WHERE id = $4",
    )
    .bind(pid)
    .bind(hostname)
    .bind(knit::store::now_ms() - silent_ms)
    .bind(id)
    .execute(&mut connection)
    .await
    .expect("update");
}

/// A run is interrupted when its process is gone: judged by process id on this machine, and by
/// its heartbeat for other machines sharing the database.
async fn tells_live_runs_from_interrupted_ones(url: &str) {
    let store = Store::open(url).await.expect("open");
    let plan = plan();
    let dead_pid = 4_000_000; // above Linux's pid_max
    let ours = std::process::id().into();
    let run = store
        .start_run(&new_run("depot", "deploy", &plan))
        .await
        .expect("start")
        .expect("free");

    hand_over(url, run, ours, None, 0).await;
    assert!(
        store
            .mark_interrupted_runs()
            .await
            .expect("mark")
            .is_empty()
    );
    hand_over(url, run, dead_pid, Some("elsewhere"), 30_000).await;
    assert!(
        store
            .mark_interrupted_runs()
            .await
            .expect("mark")
            .is_empty(),
        "a pid of another machine means nothing here; it spoke recently"
    );

    hand_over(url, run, dead_pid, Some("elsewhere"), 10 * 60_000).await;
    let next = store
        .start_run(&new_run("depot", "restart", &plan))
        .await
        .expect("start")
        .expect("a silent holder does not keep the cluster");
    let (summary, _) = store.run(run).await.expect("read").expect("exists");
    assert_eq!(summary.status, RunStatus::Interrupted);
    let log = store.run_events(run, 0, 10).await.expect("read");
    assert!(matches!(
        log.last().map(|e| &e.body),
        Some(RunEventBody::RunFinished {
            status: RunStatus::Interrupted
        })
    ));

    store.heartbeat(next).await.expect("heartbeat");
    hand_over(url, next, dead_pid, None, 0).await;
    assert_eq!(
        store.mark_interrupted_runs().await.expect("mark"),
        vec![next],
        "on this machine a dead process is enough"
    );
}

#[tokio::test]
async fn the_store_keeps_its_promises_in_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("knit.db").display());
    keeps_its_promises(&url).await;
    tells_live_runs_from_interrupted_ones(&url).await;
}

#[tokio::test]
async fn the_store_keeps_its_promises_in_postgres() {
    let postgres = start_postgres();
    keeps_its_promises(&postgres.url).await;
    tells_live_runs_from_interrupted_ones(&postgres.url).await;
}

#[tokio::test]
async fn a_database_url_knit_cannot_use_is_refused_without_its_password() {
    let error = Store::open("mysql://knit:s3cret@db/knit")
        .await
        .expect_err("not supported")
        .to_string();
    assert!(
        error.contains("sqlite:PATH") && error.contains("postgres://"),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");

    let postgres = start_postgres();
    let wrong = postgres
        .url
        .replace("knit@", "knit:s3cret@")
        .replace("/postgres", "/nowhere");
    let error = Store::open(&wrong)
        .await
        .expect_err("no such database")
        .to_string();
    assert!(
        error.contains("nowhere") && !error.contains("s3cret"),
        "{error}"
    );
}

/// Two admins demote each other (or remove themselves) at the same moment, round after
/// round: one change wins, the other is refused, and an admin is always left.
async fn the_last_admin_stays_under_concurrent_changes(url: &str) {
    use knit::accounts::{AccountError, Accounts};
    use knit_shared::{NewUser, Role};

    let store = Store::open(url).await.expect("open");
    let accounts = std::sync::Arc::new(Accounts::new(store.clone(), std::time::Duration::ZERO));
    let operator = knit::store::Actor::named("test");
    for name in ["ann", "bob"] {
        let user = NewUser {
            name: name.to_owned(),
            role: Role::Admin,
            password: "a long enough password".to_owned(),
        };
        accounts.add_user(&operator, &user).await.expect("add");
    }
    for round in 0..10 {
        let change = |name: &'static str| {
            let (accounts, operator) = (accounts.clone(), operator.clone());
            tokio::spawn(async move {
                if round % 2 == 0 {
                    accounts.set_role(&operator, name, Role::Viewer).await
                } else {
                    accounts.remove_user(&operator, name).await
                }
            })
        };
        let (ann, bob) = tokio::join!(change("ann"), change("bob"));
        let outcomes = [ann.expect("task"), bob.expect("task")];
        let refused = outcomes
            .iter()
            .filter(|o| matches!(o, Err(AccountError::LastAdmin(_))))
            .count();
        assert_eq!(refused, 1, "round {round}: {outcomes:?}");
        let admins = store
            .users()
            .await
            .expect("users")
            .into_iter()
            .filter(|user| user.role == Role::Admin)
            .count();
        assert_eq!(admins, 1, "round {round}");
        // Both admins again for the next round.
        for name in ["ann", "bob"] {
            let user = NewUser {
                name: name.to_owned(),
                role: Role::Admin,
                password: "a long enough password".to_owned(),
            };
            match accounts.add_user(&operator, &user).await {
                Ok(()) | Err(AccountError::NameTaken(_)) => {}
                Err(error) => panic!("{error}"),
            }
            accounts
                .set_role(&operator, name, Role::Admin)
                .await
                .expect("admin again");
        }
    }
    let refusals = store
        .audit_events(&knit_shared::AuditQuery::default(), 100)
        .await
        .expect("audit")
        .into_iter()
        .filter(|event| event.outcome == "refused: the last admin")
        .count();
    assert_eq!(refusals, 10, "every refusal is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_stays_under_concurrent_changes_in_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("knit.db").display());
    the_last_admin_stays_under_concurrent_changes(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_stays_under_concurrent_changes_in_postgres() {
    let postgres = start_postgres();
    the_last_admin_stays_under_concurrent_changes(&postgres.url).await;
}
