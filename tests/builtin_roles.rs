//! Built-in roles failing as they should, on real sshd hosts and Debian's daemons: an nginx
//! configuration that nginx refuses leaves the running one serving; an app that does not come
//! up fails `restart` with the end of its log.

use std::path::Path;

use crate::harness::{TestHosts, said, start_hosts};
use crate::releases::origin;

/// Stops the daemons the roles started under the test's folder, however the test ends.
struct Daemons<'a>(&'a Path);

impl Drop for Daemons<'_> {
    fn drop(&mut self) {
        knit::sandbox::stop_services(self.0);
    }
}

fn port() -> u16 {
    knit::sandbox::free_port().expect("a free port")
}

fn proxy(listen: u16, upstream: &str) -> String {
    format!(
        r#"[machines.web]
hosts = ["{{HOST:web1}}"]
[machines.web.roles.proxy]
kind = "nginx_proxy"
sudo = ""
services = "user"
prefix = "{{WORK}}/web1"
sites = ["shop.test"]
listen = "127.0.0.1:{listen}"
upstream = ["{upstream}"]

[scenarios.update]
steps = ["proxy.update"]
"#
    )
}

async fn status(url: &str) -> u16 {
    reqwest::get(url)
        .await
        .expect("nginx answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_configuration_nginx_refuses_leaves_the_running_one_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts: TestHosts = start_hosts(data, &["web1"]).await;
    let _daemons = Daemons(&hosts.work);
    let (listen, nothing) = (port(), port());
    hosts.write_cluster("shop", &proxy(listen, &format!("127.0.0.1:{nothing}")));
    let installed = hosts.knit(data, &["shop", "install"]);
    assert!(installed.status.success(), "{}", said(&installed));
    // Nothing listens behind it: nginx itself answers, with 502.
    let url = format!("http://127.0.0.1:{listen}/");
    assert_eq!(status(&url).await, 502);

    // An upstream nginx cannot parse: the update fails at `nginx -t`, and the nginx that runs
    // keeps its configuration.
    hosts.write_cluster("shop", &proxy(listen, "127.0.0.1:1 weight=none"));
    let refused = hosts.knit(data, &["shop", "update"]);
    let said = said(&refused);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(said.contains("invalid parameter \"weight=none\""), "{said}");
    assert_eq!(status(&url).await, 502);
}

#[tokio::test]
async fn an_app_that_does_not_come_up_fails_restart_with_its_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    let _daemons = Daemons(&hosts.work);
    let origin = origin(data);
    hosts.write_cluster(
        "shop",
        &format!(
            r#"[machines.web]
hosts = ["{{HOST:web1}}"]
[machines.web.roles.app]
kind = "app"
sudo = ""
services = "user"
prefix = "{{WORK}}/web1"
app_dir = "{{WORK}}/web1/app"
repository = "file://{origin}"
app_port = {port}
start = "echo starting up; echo no database configured >&2; exit 3"
health_timeout = 2

[scenarios.deploy]
steps = ["app.update", "app.restart"]
"#,
            origin = origin.display(),
            port = port(),
        ),
    );
    let installed = hosts.knit(data, &["shop", "install"]);
    assert!(installed.status.success(), "{}", said(&installed));
    let deployed = hosts.knit(data, &["shop", "deploy"]);
    let said = said(&deployed);
    assert_eq!(deployed.status.code(), Some(1), "{said}");
    // Either it is seen gone at once, or it never answers on its port: the log says why.
    assert!(said.contains("; the end of "), "{said}");
    assert!(said.contains("web-1 | no database configured"), "{said}");
}
