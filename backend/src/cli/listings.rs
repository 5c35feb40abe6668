//! What `knit <cluster> <action>` lists, printed alike for a run here and through a server:
//! one line per thing, its fields separated by tabs.

use knit_shared::{ClusterHost, ClusterList, HostRelease, LaunchChanges, RunDiff, RunSummary};

/// `knit clusters`: each cluster with its machines, scenarios and file; the mistakes of the
/// files that are none on standard error.
pub fn print_clusters(list: &ClusterList) {
    for cluster in &list.clusters {
        let scenarios: Vec<&str> = cluster.scenarios.iter().map(|s| s.name.as_str()).collect();
        println!(
            "{}\t{} machines\tscenarios: {}\t{}",
            cluster.name,
            cluster.machines.len(),
            scenarios.join(", "),
            cluster.file
        );
    }
    for error in &list.errors {
        eprintln!("{error}");
    }
}

/// What `launch` would change, or that it would change nothing.
pub fn print_launch_changes(cluster: &str, launch: &LaunchChanges) {
    if launch.changes.is_empty() {
        println!("EC2 matches {cluster}: launch would change nothing");
    }
    for change in &launch.changes {
        println!("{}", change.describe());
    }
}

/// What a run would change on each host: its roles' notes, then each file it would write,
/// changed ones with their diff.
pub fn print_diff(diff: &RunDiff) {
    for host in &diff.hosts {
        println!("== {}", host.host);
        for note in &host.notes {
            println!("  {note}");
        }
        for file in &host.files {
            println!("  [{}] {}: {}", file.role, file.path, file.change_said());
            for line in file.diff.lines() {
                println!("    {line}");
            }
        }
        if let Some(error) = &host.error {
            println!("  not asked: {error}");
        }
    }
}

pub fn print_hosts(hosts: &[ClusterHost]) {
    for host in hosts {
        println!(
            "{}\t{}\troles: {}",
            host.name,
            host.address,
            host.roles.join(", ")
        );
    }
}

/// `id  scenario  status  actor  started  [release=…]`, newest first.
pub fn print_runs(runs: &[RunSummary]) {
    for run in runs {
        let releases = match run.releases.as_slice() {
            [] => String::new(),
            releases => format!("\trelease={}", releases.join(",")),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}{releases}",
            run.id,
            run.scenario,
            run.status.as_str(),
            run.actor,
            run.started_at
        );
    }
}

/// What each host runs now, as it last reported: `host  name=value…  run N by who at when`.
pub fn print_releases(releases: &[HostRelease]) {
    for live in releases {
        let reported: Vec<String> = live
            .outputs
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        println!(
            "{}\t{}\trun {} by {} at {}",
            live.host,
            reported.join("\t"),
            live.run,
            live.actor,
            live.at
        );
    }
}
