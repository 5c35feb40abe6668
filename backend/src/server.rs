//! Start-up and shutdown of `knit serve`: check the settings, start the sandbox, serve.
//!
//! Every check that can fail runs before the first request is served, and fails with one line
//! that says what to fix.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::accounts::{Accounts, SANDBOX_ADMIN};
use crate::app::App;
use crate::config::Settings;
use crate::ec2::{self, Ec2Hub, Ec2Target};
use crate::inventory::Inventory;
use crate::reach::Reach;
use crate::router::router;
use crate::runs::{Fleet, Runs};
use crate::sandbox::{SANDBOX_REGION, Sandbox};
use crate::ssh::KnownHosts;
use crate::store::{AuditEvent, Store, StoreError};
use crate::wizard::Wizard;

/// Runs the console until `shutdown` resolves, then stops the sandbox's processes, if any.
pub async fn serve(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    prepare_data_dir(&settings.data_dir)?;
    crate::web::WebConsole::choose(settings.web_dir.as_deref()).check()?;
    let listener = TcpListener::bind(settings.listen).await.with_context(|| {
        format!(
            "cannot listen on {}; choose another address with --listen or KNIT_LISTEN",
            settings.listen
        )
    })?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;

    let mut sandbox = if settings.sandbox {
        Some(Sandbox::start(&settings).await?)
    } else {
        None
    };
    let target = ec2_target(&settings, sandbox.as_ref());
    let (ec2, region) = ec2::connect(&target).await;
    ec2::probe(&ec2, &target).await?;
    let reach = Reach::for_endpoint(target.endpoint.as_deref());
    if let Some(sandbox) = &mut sandbox {
        sandbox.seed(&ec2).await?;
        sandbox.follow_instances(ec2.clone(), target.clone(), reach.clone());
        println!("knit: sandbox machines: {}", sandbox.machines_said);
    }

    let store = Store::open(&settings.database_url()).await?;
    let started = store
        .record(&AuditEvent {
            actor: "knit".to_owned(),
            address: None,
            action: "server.start".to_owned(),
            target: address.to_string(),
            outcome: if settings.sandbox {
                "ok (sandbox)"
            } else {
                "ok"
            }
            .to_owned(),
        })
        .await;
    match started {
        // Read-only views still work; every change is refused with the reason.
        Err(StoreError::Unwritable(error)) => {
            tracing::warn!(%error, "the database cannot be written: knit refuses every change");
        }
        other => other?,
    }

    let accounts = Arc::new(
        Accounts::new(store.clone(), Duration::from_secs(settings.session_seconds))
            .with_token_max_days(settings.token_max_days),
    );
    if settings.sandbox {
        let password = accounts.sandbox_admin().await?;
        println!("knit: sandbox sign-in: {SANDBOX_ADMIN} with password {password}");
        if let Some(sandbox) = &sandbox {
            println!("knit: sandbox site: {}", sandbox.info.site);
        }
    } else if store.users().await?.is_empty() {
        println!(
            "knit: no account exists yet; create the first admin with `knit user add NAME --role admin`"
        );
    }

    let hub = Arc::new(Ec2Hub::new(target, ec2, region).with_reach(reach));
    let inventory = Inventory::new(Arc::clone(&hub), settings.ec2_page_size);
    let wizard = Wizard::new(Arc::clone(&inventory));
    // `--clusters`, then the sandbox's demo folder.
    let cluster_dirs = settings
        .clusters
        .iter()
        .cloned()
        .chain(sandbox.as_ref().map(Sandbox::clusters_dir))
        .collect();
    let fleet = Fleet::new(cluster_dirs, hub, settings.secrets_dir());
    let runs = Runs::open(
        store.clone(),
        fleet,
        KnownHosts::new(settings.known_hosts()),
    )
    .await?;
    runs.cap_logs_at(settings.run_log_cap_mb * 1_000_000);
    if let Some(url) = &settings.public_url {
        runs.notifier().link_to(url);
    }
    let app = App {
        settings: Arc::new(settings),
        store,
        accounts,
        inventory,
        wizard,
        runs: Arc::clone(&runs),
        sandbox: sandbox.as_ref().map(|sandbox| sandbox.info.clone()),
        stopping: CancellationToken::new(),
    };
    let stopping = app.stopping.clone();
    crate::metrics::install();
    if let Some(address) = app.settings.metrics_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| {
                format!("cannot listen on {address} for metrics (--metrics-listen)")
            })?;
        let metrics = crate::router::metrics_router(app.clone());
        let until = stopping.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, metrics)
                .with_graceful_shutdown(until.cancelled_owned())
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the metrics listener stopped");
            }
        });
        println!("knit: metrics at http://{address}/metrics");
    }
    if let Some(days) = app.settings.keep_runs_days {
        tokio::spawn(crate::runs::retention::keep_for(
            app.store.clone(),
            days,
            stopping.clone(),
        ));
    }
    tokio::spawn(crate::runs::schedules::keep(
        Arc::clone(&app.runs),
        stopping.clone(),
    ));
    println!("knit: console at http://{address}/");
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        stopping.cancel();
    })
    .await
    .context("the server stopped with an error")?;
    // Runs still going are cancelled, finally steps included, and their ends recorded.
    runs.stop_all().await;
    if let Some(sandbox) = sandbox {
        sandbox.stop().await;
    }
    Ok(())
}

fn ec2_target(settings: &Settings, sandbox: Option<&Sandbox>) -> Ec2Target {
    let Some(sandbox) = sandbox else {
        return Ec2Target {
            profile: settings.profile.clone(),
            region: settings.region.clone(),
            endpoint: settings.ec2_endpoint.clone(),
            ..Ec2Target::default()
        };
    };
    Ec2Target {
        profile: None,
        region: Some(
            settings
                .region
                .clone()
                .unwrap_or_else(|| SANDBOX_REGION.to_owned()),
        ),
        endpoint: Some(sandbox.ec2_endpoint().to_owned()),
        dummy_credentials: true,
        ..Ec2Target::default()
    }
}

/// Creates the data dir and proves it writable, before anything is started.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    let fix = || {
        format!(
            "the data dir {} is not usable; choose another with --data-dir or KNIT_DATA_DIR",
            dir.display()
        )
    };
    std::fs::create_dir_all(dir).with_context(fix)?;
    let probe = dir.join(".write-check");
    std::fs::write(&probe, b"knit").with_context(fix)?;
    std::fs::remove_file(&probe).with_context(fix)?;
    Ok(())
}
